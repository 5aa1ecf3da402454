package backup_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/parleyhq/parley/client/backup"
)

// TestRunDue: a due schedule makes a backup with its key and records
// when; a failure is recorded and leaves Last as it was, so the next check
// tries again; a schedule not due, or off, makes none.
func TestRunDue(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	key := backup.NewRecoveryKey()
	now := time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	log := slog.New(slog.DiscardHandler)
	if err := backup.SaveSchedule(dir, backup.Schedule{Every: 24 * time.Hour, Key: key.String()}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dir, backup.ScheduleFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("schedule file: %v %v", fi, err)
	}
	made := 0
	var fail error
	mk := func(_ context.Context, k backup.RecoveryKey) (int, error) {
		if k != key {
			t.Errorf("a backup with another key")
		}
		made++
		return 1000 + made, fail
	}
	st := backup.DirSchedule(dir)
	load := func() backup.Schedule {
		s, err := backup.LoadSchedule(dir)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	fail = errors.New("server unreachable")
	if !backup.RunDue(ctx, st, clock, log, mk) || made != 1 {
		t.Fatal("a due schedule made no backup")
	}
	if s := load(); !s.Last.IsZero() || s.LastError != "server unreachable" {
		t.Fatalf("after a failure: %+v", s)
	}
	fail = nil
	if !backup.RunDue(ctx, st, clock, log, mk) || made != 2 {
		t.Fatal("a failed backup is not tried again")
	}
	if s := load(); !s.Last.Equal(now) || s.LastBytes != 1002 || s.LastError != "" {
		t.Fatalf("after a success: %+v", s)
	}
	now = now.Add(23 * time.Hour)
	if backup.RunDue(ctx, st, clock, log, mk) || made != 2 {
		t.Fatal("a backup before the day is over")
	}
	now = now.Add(time.Hour)
	if !backup.RunDue(ctx, st, clock, log, mk) || made != 3 {
		t.Fatal("no backup a day later")
	}
	s := load()
	s.Every = 0
	if err := backup.SaveSchedule(dir, s); err != nil {
		t.Fatal(err)
	}
	now = now.Add(48 * time.Hour)
	if backup.RunDue(ctx, st, clock, log, mk) || made != 3 {
		t.Fatal("a backup while the schedule is off")
	}
}
