package client

import (
	"context"
	"io"
	"time"

	"github.com/parleyhq/parley/client/backup"
)

// Backup writes an end-to-end encrypted backup of this profile's chats,
// messages and contacts to w under key (package client/backup,
// docs/backup.md); upload it with backup.Upload.
func (c *Client) Backup(ctx context.Context, w io.Writer, key backup.RecoveryKey) (backup.Stats, error) {
	return backup.Export(ctx, c.store, w, key, time.Now())
}

// RestoreBackup reads a backup of this account into this registered
// profile, then rejoins by external commit every conversation it is not
// in, as a newly linked device does: the old history shows, and messages
// from then on are readable and can be sent.
func (c *Client) RestoreBackup(ctx context.Context, r io.Reader, key backup.RecoveryKey) (backup.Stats, error) {
	st, err := backup.Import(ctx, c.store, r, key)
	if err == nil {
		err = c.joinMissing(ctx)
	}
	return st, err
}
