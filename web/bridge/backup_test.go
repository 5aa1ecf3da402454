package bridge_test

import (
	"context"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client/backup"
	"github.com/parleyhq/parley/web/bridge"
)

// TestBackupShapesMatchAPI: the backup calls' shapes have exactly the
// fields api.ts declares (BackupMade with BackupStatus's, which it
// extends).
func TestBackupShapesMatchAPI(t *testing.T) {
	ts := tsInterfaces(t)
	for _, s := range []any{bridge.BackupStatus{}, bridge.BackupMade{}, bridge.BackupRestored{}, bridge.BackupOnServer{}} {
		typ := reflect.TypeOf(s)
		var got []string
		for i := range typ.NumField() {
			if f := typ.Field(i); f.Anonymous {
				got = append(got, jsonNames(f.Type)...)
			} else {
				tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
				got = append(got, tag)
			}
		}
		want := ts[typ.Name()]
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: Go fields %v, api.ts fields %v", typ.Name(), got, want)
		}
	}
}

func texts(h any) []string {
	var out []string
	for _, m := range field(h, "messages").([]any) {
		out = append(out, field(m, "text").(string))
	}
	return out
}

// TestBridgeBackup: the browser's backup calls against a real server. A
// first backup makes a recovery key, shown once; later ones reuse it.
// Turning daily backups on with a recent backup makes none; a fresh
// browser registering the same number restores the server's backup with
// the key (a wrong key is refused by name), has the history, sends in the
// old chat, and its own daily schedule backs up at once (none made yet).
func TestBridgeBackup(t *testing.T) {
	url, cb := startServer(t)
	alice, bob := newBrowser(t, url), newBrowser(t, url)
	register(t, alice, cb, "+14155550191", "Alice")
	register(t, bob, cb, "+14155550192", "Bob")
	m := alice.must(t, "send", "+14155550192", "before the move")
	chat := field(m, "chat").(string)
	bob.waitEvent(t, "message", func(ev bridge.Event) bool { return ev.Kind == "message" && ev.Message.Text == "before the move" })
	bob.must(t, "sendText", chat, "welcome back")
	alice.waitEvent(t, "reply", func(ev bridge.Event) bool { return ev.Kind == "message" && ev.Message.Text == "welcome back" })

	if on := alice.must(t, "backupOnServer"); field(on, "exists") != false {
		t.Fatalf("a backup on the server before any: %v", on)
	}
	if st := alice.must(t, "backupStatus"); field(st, "hasKey") != false || field(st, "lastAt").(float64) != 0 || field(st, "daily") != false {
		t.Fatalf("status before any backup: %v", st)
	}
	made := alice.must(t, "backupCreate")
	key, _ := field(made, "recoveryKey").(string)
	if len(strings.ReplaceAll(key, " ", "")) != 64 || field(made, "messages").(float64) != 2 || field(made, "lastBytes").(float64) <= 0 ||
		field(made, "lastAt").(float64) <= 0 || field(made, "hasKey") != true {
		t.Fatalf("first backup: %v", made)
	}
	again := alice.must(t, "backupCreate")
	if field(again, "recoveryKey") != nil || field(again, "messages").(float64) != 2 {
		t.Fatalf("second backup: %v (a new key, or another count)", again)
	}
	daily := alice.must(t, "backupSetDaily", true)
	if field(daily, "daily") != true || field(daily, "recoveryKey") != nil || field(daily, "lastAt") != field(again, "lastAt") {
		t.Fatalf("daily on after a backup: %v (want no new key and no new backup)", daily)
	}

	// A new primary device: the same number registered in a fresh browser.
	alice2 := newBrowser(t, url)
	register(t, alice2, cb, "+14155550191", "Alice")
	if on := alice2.must(t, "backupOnServer"); field(on, "exists") != true || field(on, "bytes") != field(again, "lastBytes") || field(on, "at").(float64) <= 0 {
		t.Fatalf("the new browser sees no backup on the server: %v", on)
	}
	if _, err := alice2.call(t, "backupRestore", strings.Repeat("ab", 32)); parley.ErrorReason(err) != "backup_wrong_key" {
		t.Fatalf("restore with a wrong key: %v", err)
	}
	if _, err := alice2.call(t, "backupRestore", "not a key"); parley.ErrorReason(err) != "bad_recovery_key" {
		t.Fatalf("restore with a malformed key: %v", err)
	}
	r := alice2.must(t, "backupRestore", strings.ToUpper(key))
	if field(r, "messages").(float64) != 2 || field(r, "chats").(float64) != 1 || field(r, "skippedChats").(float64) != 0 || field(r, "createdAt").(float64) <= 0 {
		t.Fatalf("restore: %v", r)
	}
	if got := texts(alice2.must(t, "history", chat, 0)); !slices.Equal(got, []string{"before the move", "welcome back"}) {
		t.Fatalf("history after the restore: %v", got)
	}
	alice2.must(t, "sendText", chat, "new browser, same chat")
	bob.waitEvent(t, "message from the new browser", func(ev bridge.Event) bool {
		return ev.Kind == "message" && ev.Message.Text == "new browser, same chat"
	})

	// The restored key is kept: daily backups start at once, under it.
	d2 := alice2.must(t, "backupSetDaily", true)
	if field(d2, "recoveryKey") != nil || field(d2, "lastAt").(float64) <= 0 || field(d2, "lastError") != "" {
		t.Fatalf("daily on after a restore: %v (want the kept key and a backup at once)", d2)
	}
	if off := alice2.must(t, "backupSetDaily", false); field(off, "daily") != false || field(off, "hasKey") != true {
		t.Fatalf("daily off: %v", off)
	}
}

// TestRunBackupsOnStart: a page opened when its last backup is more than
// a day old makes one at once (RunBackups, which web/wasm starts), and
// one whose last backup is recent makes none.
func TestRunBackupsOnStart(t *testing.T) {
	url, cb := startServer(t)
	b := newBrowser(t, url)
	register(t, b, cb, "+14155550193", "Olga")
	key := backup.NewRecoveryKey()
	for _, tc := range []struct {
		name string
		age  time.Duration
		made bool
	}{{"recent", time.Hour, false}, {"a day old", 25 * time.Hour, true}} {
		last := time.Now().Add(-tc.age).Truncate(time.Second)
		sched := &backup.MemSchedule{}
		_ = sched.Save(backup.Schedule{Every: 24 * time.Hour, Key: key.String(), Last: last, LastBytes: 1})
		b.api.Backups = sched
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); b.api.RunBackups(ctx, slog.New(slog.DiscardHandler)) }()
		// The first check runs at once; the status call waits for it (one
		// backup at a time).
		st := b.must(t, "backupStatus")
		for deadline := time.Now().Add(20 * time.Second); tc.made && field(st, "lastAt").(float64) == float64(last.UnixMilli()); st = b.must(t, "backupStatus") {
			if time.Now().After(deadline) {
				t.Fatalf("%s: no backup on start: %v", tc.name, st)
			}
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
		<-done
		s, _ := sched.Load()
		if made := !s.Last.Equal(last); made != tc.made || (made && (s.LastBytes <= 1 || s.LastError != "")) {
			t.Fatalf("%s: after start the schedule is %+v, want a backup made: %v", tc.name, s, tc.made)
		}
	}
	if _, err := backup.Download(context.Background(), b.api.C.Account()); err != nil {
		t.Fatalf("the backup made on start is not on the server: %v", err)
	}
}
