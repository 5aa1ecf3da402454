package backup

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"
)

// ScheduleFile is the name, in a profile's directory, of its backup
// schedule (SaveSchedule, RunSchedule).
const ScheduleFile = "backup-schedule.json"

// Schedule is a profile's setting for automatic backups to the server.
// It holds the recovery key, so that a backup can be made without the
// user: the file is written with mode 0600 in the profile, which already
// holds every message in the clear and the device's secrets, so keeping
// the key beside them gives an attacker of the device nothing more.
type Schedule struct {
	Every time.Duration `json:"every"` // 0: off
	Key   string        `json:"key,omitempty"`
	// Last is when the last automatic backup succeeded; LastError is the
	// error of the last attempt, if it failed.
	Last      time.Time `json:"last,omitzero"`
	LastError string    `json:"last_error,omitempty"`
}

// Due reports whether a backup is due at now.
func (s Schedule) Due(now time.Time) bool { return s.Every > 0 && now.Sub(s.Last) >= s.Every }

// LoadSchedule reads the schedule of the profile in dir; a profile without
// one has the zero Schedule (off).
func LoadSchedule(dir string) (Schedule, error) {
	var s Schedule
	b, err := os.ReadFile(filepath.Join(dir, ScheduleFile))
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, err
	}
	return s, json.Unmarshal(b, &s)
}

// SaveSchedule writes the schedule of the profile in dir (mode 0600, by a
// rename, so a reader sees the old or the new one).
func SaveSchedule(dir string, s Schedule) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".backup-schedule-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(dir, ScheduleFile))
}

// RunSchedule makes a backup with make whenever the schedule of the
// profile in dir is due, until ctx ends: at once if one is due, then at
// least hourly. The schedule is read again each time, so a change made by
// another command takes effect without a restart. A failed backup is
// recorded in LastError and logged, and tried again at the next check.
func RunSchedule(ctx context.Context, dir string, now func() time.Time, log *slog.Logger, make func(ctx context.Context, key RecoveryKey) error) {
	const check = time.Hour
	for {
		RunDue(ctx, dir, now, log, make)
		select {
		case <-ctx.Done():
			return
		case <-time.After(check):
		}
	}
}

// RunDue is one check of RunSchedule: it makes a backup if one is due and
// records the outcome, and reports whether it tried.
func RunDue(ctx context.Context, dir string, now func() time.Time, log *slog.Logger, make func(ctx context.Context, key RecoveryKey) error) bool {
	s, err := LoadSchedule(dir)
	if err != nil {
		log.Warn("read the backup schedule", "err", err)
		return false
	}
	if !s.Due(now()) {
		return false
	}
	key, err := ParseRecoveryKey(s.Key)
	if err == nil {
		err = make(ctx, key)
	}
	if ctx.Err() != nil {
		return true // stopped part-way: tried again at the next start
	}
	if err != nil {
		s.LastError = err.Error()
		log.Warn("scheduled backup failed", "err", err)
	} else {
		s.Last, s.LastError = now(), ""
		log.Info("scheduled backup made")
	}
	if err := SaveSchedule(dir, s); err != nil {
		log.Warn("write the backup schedule", "err", err)
	}
	return true
}
