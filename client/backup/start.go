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

// Source is what making a backup needs of a client (the client facade).
type Source interface {
	Backup(ctx context.Context, w io.Writer, key RecoveryKey) (Stats, error)
	Account() localstore.Account
}

// Maker is what the CLI's scheduled backups need of a client.
type Maker interface {
	Source
	Dir() string
}

// ToServer makes a backup of src under key and uploads it to the server,
// replacing the one there; it returns what it holds and its size.
func ToServer(ctx context.Context, src Source, key RecoveryKey) (Stats, int, error) {
	var buf bytes.Buffer
	st, err := src.Backup(ctx, &buf, key)
	if err != nil {
		return st, 0, err
	}
	return st, buf.Len(), Upload(ctx, src.Account(), buf.Bytes())
}

// ScheduledToServer is the MakeFunc of scheduled backups of src to the
// server.
func ScheduledToServer(src Source) MakeFunc {
	return func(ctx context.Context, key RecoveryKey) (int, error) {
		_, n, err := ToServer(ctx, src, key)
		return n, err
	}
}

// Start makes the profile's scheduled backups to the server (its
// DirSchedule), checking hourly, while a long-running command runs, in a
// goroutine; the returned func stops it and waits for it, so no backup
// outlives the client.
func Start(ctx context.Context, m Maker, log *slog.Logger) (stop func()) {
	return StartWith(ctx, m, DirSchedule(m.Dir()), log)
}

// StartWith is Start with the schedule in st (the browser keeps it in the
// page's storage).
func StartWith(ctx context.Context, src Source, st ScheduleStore, log *slog.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		RunSchedule(ctx, st, time.Hour, time.Now, log, ScheduledToServer(src))
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
