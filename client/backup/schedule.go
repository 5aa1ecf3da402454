package backup

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// ScheduleFile is the name, in a profile's directory, of its backup
// schedule (SaveSchedule, DirSchedule).
const ScheduleFile = "backup-schedule.json"

// ScheduleStore keeps a profile's Schedule: a file in the profile's
// directory for the CLI (DirSchedule), the page's storage in the browser
// (web/wasm). A store without a schedule loads the zero Schedule (off).
type ScheduleStore interface {
	Load() (Schedule, error)
	Save(Schedule) error
}

// DirSchedule is the schedule of the profile in the directory it names,
// in ScheduleFile.
type DirSchedule string

// Load is LoadSchedule.
func (d DirSchedule) Load() (Schedule, error) { return LoadSchedule(string(d)) }

// Save is SaveSchedule.
func (d DirSchedule) Save(s Schedule) error { return SaveSchedule(string(d), s) }

// Schedule is a profile's setting for automatic backups to the server.
// It holds the recovery key, so that a backup can be made without the
// user: the file is written with mode 0600 in the profile, which already
// holds every message in the clear and the device's secrets, so keeping
// the key beside them gives an attacker of the device nothing more.
type Schedule struct {
	Every time.Duration `json:"every"` // 0: off
	Key   string        `json:"key,omitempty"`
	// Last is when the last automatic backup succeeded (in the browser,
	// also the last one made by hand), LastBytes its size; LastError is
	// the error of the last attempt, if it failed.
	Last      time.Time `json:"last,omitzero"`
	LastBytes int       `json:"last_bytes,omitempty"`
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

// MakeFunc makes one backup under key and returns its size in bytes.
type MakeFunc func(ctx context.Context, key RecoveryKey) (int, error)

// RunSchedule makes a backup with make whenever the schedule in st is
// due, until ctx ends: at once if one is due, then at least every check
// (an hour in the clients). The schedule is read again each time, so a
// change made meanwhile (by another command, or the settings page) takes
// effect without a restart. A failed backup is recorded in LastError and
// logged, and tried again at the next check.
func RunSchedule(ctx context.Context, st ScheduleStore, check time.Duration, now func() time.Time, log *slog.Logger, make MakeFunc) {
	for {
		RunDue(ctx, st, now, log, make)
		select {
		case <-ctx.Done():
			return
		case <-time.After(check):
		}
	}
}

// RunDue is one check of RunSchedule: it makes a backup if one is due and
// records the outcome (when and how large, or the error), and reports
// whether it tried.
func RunDue(ctx context.Context, st ScheduleStore, now func() time.Time, log *slog.Logger, make MakeFunc) bool {
	s, err := st.Load()
	if err != nil {
		log.Warn("read the backup schedule", "err", err)
		return false
	}
	if !s.Due(now()) {
		return false
	}
	key, err := ParseRecoveryKey(s.Key)
	n := 0
	if err == nil {
		n, err = make(ctx, key)
	}
	if ctx.Err() != nil {
		return true // stopped part-way: tried again at the next start
	}
	// Read again: the user may have changed the setting meanwhile (only
	// the outcome is this function's to write).
	if cur, lerr := st.Load(); lerr == nil {
		s = cur
	}
	if err != nil {
		s.LastError = err.Error()
		log.Warn("scheduled backup failed", "err", err)
	} else {
		s.Last, s.LastBytes, s.LastError = now(), n, ""
		log.Info("scheduled backup made", "bytes", n)
	}
	if err := st.Save(s); err != nil {
		log.Warn("write the backup schedule", "err", err)
	}
	return true
}

// MemSchedule is a ScheduleStore in memory, for tests and for a client
// with nowhere durable to keep it. The zero MemSchedule is off.
type MemSchedule struct {
	mu sync.Mutex
	s  Schedule
}

// Load returns the schedule.
func (m *MemSchedule) Load() (Schedule, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.s, nil
}

// Save replaces it.
func (m *MemSchedule) Save(s Schedule) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.s = s
	return nil
}
