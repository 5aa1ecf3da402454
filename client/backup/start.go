package backup

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/parleyhq/parley/client/localstore"
)

// Maker is what scheduled backups need of a client (the client facade).
type Maker interface {
	Backup(ctx context.Context, w io.Writer, key RecoveryKey) (Stats, error)
	Dir() string
	Account() localstore.Account
}

// Start makes the profile's scheduled backups to the server (SaveSchedule)
// while a long-running command runs, in a goroutine; the returned func
// stops it and waits for it, so no backup outlives the client.
func Start(ctx context.Context, m Maker, log *slog.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		RunSchedule(ctx, m.Dir(), time.Now, log, func(ctx context.Context, key RecoveryKey) error {
			var buf bytes.Buffer
			if _, err := m.Backup(ctx, &buf, key); err != nil {
				return err
			}
			return Upload(ctx, m.Account(), buf.Bytes())
		})
	}()
	return func() { cancel(); <-done }
}

// WriteFile writes a backup to path by a rename, so a reader never sees
// half a backup and a failed write leaves the old file.
func WriteFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".backup-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
