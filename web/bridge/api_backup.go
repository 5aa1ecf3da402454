package bridge

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/parleyhq/parley/client/backup"
)

// BackupStatus is api.ts BackupStatus: the browser's backup setting
// (docs/backup.md, "The browser").
type BackupStatus struct {
	Daily     bool   `json:"daily"`
	HasKey    bool   `json:"hasKey"`    // a recovery key is kept in this browser
	LastAt    int64  `json:"lastAt"`    // Unix ms of the last backup; 0: none
	LastBytes int    `json:"lastBytes"` // its size
	LastError string `json:"lastError"` // of the last scheduled attempt, if it failed
	// RecoveryKey is set only in the answer that made a new key, for the
	// page to show once.
	RecoveryKey string `json:"recoveryKey,omitempty"`
}

// BackupMade is api.ts BackupMade.
type BackupMade struct {
	BackupStatus
	Chats    int `json:"chats"`
	Messages int `json:"messages"`
	Contacts int `json:"contacts"`
}

// BackupRestored is api.ts BackupRestored.
type BackupRestored struct {
	CreatedAt    int64 `json:"createdAt"` // Unix ms: when the backup was made
	Chats        int   `json:"chats"`
	Messages     int   `json:"messages"`
	Contacts     int   `json:"contacts"`
	SkippedChats int   `json:"skippedChats"` // chats that could not be rejoined
}

// BackupOnServer is api.ts BackupOnServer.
type BackupOnServer struct {
	Exists bool  `json:"exists"`
	Bytes  int64 `json:"bytes"`
	At     int64 `json:"at"` // Unix ms of its upload
}

// backupMu serialises the backups of the page: one by hand and the
// schedule's never run at once, and each reads and writes the setting
// whole.
var backupMu sync.Mutex

// schedule is where the page keeps its backup setting; a bridge without
// one (tests that do not set API.Backups) keeps it in memory. The caller
// holds backupMu.
func (api *API) schedule() backup.ScheduleStore {
	if api.Backups == nil {
		api.Backups = &backup.MemSchedule{}
	}
	return api.Backups
}

func statusOf(s backup.Schedule) BackupStatus {
	return BackupStatus{Daily: s.Every > 0, HasKey: s.Key != "", LastAt: Millis(s.Last), LastBytes: s.LastBytes, LastError: s.LastError}
}

// keyOf returns the kept recovery key, or a new one (fresh) when none is.
func keyOf(s backup.Schedule) (key backup.RecoveryKey, fresh bool, err error) {
	if s.Key == "" {
		return backup.NewRecoveryKey(), true, nil
	}
	key, err = backup.ParseRecoveryKey(s.Key)
	return key, false, err
}

// RunBackups makes the page's daily backups while it is open: one at once
// when the last is a day old or more, then checking hourly, until ctx
// ends. web/wasm starts it.
func (api *API) RunBackups(ctx context.Context, log *slog.Logger) {
	for {
		api.runDue(ctx, log)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Hour):
		}
	}
}

// runDue makes a backup if the schedule is due and the device registered.
func (api *API) runDue(ctx context.Context, log *slog.Logger) bool {
	if !api.C.Account().Registered() {
		return false
	}
	backupMu.Lock()
	defer backupMu.Unlock()
	return backup.RunDue(ctx, api.schedule(), time.Now, log, backup.ScheduledToServer(api.C))
}

// backupMethods are the calls of the browser's backups (settings and the
// restore step of onboarding).
var backupMethods = map[string]handler{
	"backupStatus": func(ctx context.Context, api *API, a Args) (any, error) {
		backupMu.Lock()
		defer backupMu.Unlock()
		s, err := api.schedule().Load()
		return statusOf(s), err
	},
	// backupOnServer tells whether the account has a backup on the
	// server (onboarding offers a restore when it has).
	"backupOnServer": func(ctx context.Context, api *API, a Args) (any, error) {
		ok, n, at, err := backup.Info(ctx, api.C.Account())
		return BackupOnServer{Exists: ok, Bytes: n, At: Millis(at)}, err
	},
	// backupCreate backs up to the server now under the kept key, or a new
	// one (returned once in recoveryKey, and kept for later backups).
	"backupCreate": func(ctx context.Context, api *API, a Args) (any, error) {
		backupMu.Lock()
		defer backupMu.Unlock()
		st := api.schedule()
		s, err := st.Load()
		if err != nil {
			return nil, err
		}
		key, fresh, err := keyOf(s)
		if err != nil {
			return nil, err
		}
		stats, n, err := backup.ToServer(ctx, api.C, key)
		if err != nil {
			return nil, err // a new key is not kept: nobody saw it
		}
		s.Key, s.Last, s.LastBytes, s.LastError = key.String(), time.Now(), n, ""
		if err := st.Save(s); err != nil {
			return nil, err
		}
		out := BackupMade{BackupStatus: statusOf(s), Chats: stats.Chats, Messages: stats.Messages, Contacts: stats.Contacts}
		if fresh {
			out.RecoveryKey = key.String()
		}
		return out, nil
	},
	// backupSetDaily turns daily backups on or off. Turning them on
	// without a kept key makes one (returned once in recoveryKey); the
	// first backup follows at once (runDue), as the schedule is due.
	"backupSetDaily": func(ctx context.Context, api *API, a Args) (any, error) {
		var on bool
		if err := a.Decode(0, "on", &on); err != nil {
			return nil, err
		}
		backupMu.Lock()
		st := api.schedule()
		s, err := st.Load()
		if err != nil {
			backupMu.Unlock()
			return nil, err
		}
		var newKey string
		s.Every = 0
		if on {
			s.Every = 24 * time.Hour
			key, fresh, err := keyOf(s)
			if err != nil {
				backupMu.Unlock()
				return nil, err
			}
			if fresh {
				s.Key, newKey = key.String(), key.String()
			}
		}
		err = st.Save(s)
		backupMu.Unlock()
		if err != nil {
			return nil, err
		}
		if on {
			api.runDue(ctx, slog.New(slog.DiscardHandler))
			if s, err = st.Load(); err != nil {
				return nil, err
			}
		}
		out := statusOf(s)
		out.RecoveryKey = newKey
		return out, nil
	},
	// backupRestore brings back the server's backup of this account into
	// this freshly registered browser and rejoins its chats; the key is
	// kept for this browser's later backups.
	"backupRestore": str1("recoveryKey", func(ctx context.Context, api *API, text string) (any, error) {
		key, err := backup.ParseRecoveryKey(text)
		if err != nil {
			return nil, err
		}
		r, err := backup.Download(ctx, api.C.Account())
		if err != nil {
			return nil, err
		}
		defer r.Close()
		stats, err := api.C.RestoreBackup(ctx, r, key)
		if err != nil {
			return nil, err
		}
		backupMu.Lock()
		defer backupMu.Unlock()
		st := api.schedule()
		if s, err := st.Load(); err == nil && s.Key == "" {
			s.Key = key.String()
			_ = st.Save(s) // the restore succeeded; a lost key setting only means a new key later
		}
		return BackupRestored{CreatedAt: Millis(stats.CreatedAt), Chats: stats.Chats, Messages: stats.Messages, Contacts: stats.Contacts,
			SkippedChats: len(api.C.SkippedChats())}, nil
	}),
}
