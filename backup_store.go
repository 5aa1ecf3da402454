package parley

import (
	"context"
	"time"
)

// ClientBackup is an account's end-to-end encrypted backup as the server
// keeps it: ciphertext made by a client (client/backup) under a key the
// server never sees. The server stores and returns the bytes unchanged.
type ClientBackup struct {
	User      UserID
	Device    DeviceID // the device that uploaded it
	Data      []byte
	CreatedAt time.Time
}

// ReasonBackupNotFound: the account has no backup on the server.
const ReasonBackupNotFound = "backup_not_found" // CodeNotFound: this account has no backup on the server

// BackupStore keeps one client backup per account.
type BackupStore interface {
	// PutClientBackup creates or replaces b.User's backup atomically: a
	// reader sees the old backup or the new one, never a mix.
	PutClientBackup(ctx context.Context, b ClientBackup) error
	// ClientBackup returns user's backup; CodeNotFound
	// ReasonBackupNotFound when there is none.
	ClientBackup(ctx context.Context, user UserID) (ClientBackup, error)
	// DeleteClientBackup removes user's backup (no error if none).
	DeleteClientBackup(ctx context.Context, user UserID) error
}
