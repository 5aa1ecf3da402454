package e2e

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestClientBackupLostPhone runs the lost phone through the real CLI and
// server: alice backs up to the server, registers her number again on a
// new profile, restores with her recovery key (a wrong one is refused by
// name), sees the old history and writes in the old chat; bob reads it.
// The server's data directory never holds the message text.
func TestClientBackupLostPhone(t *testing.T) {
	s := mustServe(t)
	alice := newDevice(t, "alice", "+14155550181")
	bob := newDevice(t, "bob", "+14155550182")
	alice.mustRegister(s, "Alice")
	bob.mustRegister(s, "Bob")
	const marker = "e2e-marker-5521 meet at noon"
	chat := alice.must("send", "--to", bob.phone, marker).lines()[0]["chat"].(string)
	bob.must("send", "--to", alice.phone, "see you there")
	if got := texts(alice.must("history", chat).lines()); !slices.Equal(got, []string{marker, "see you there"}) {
		t.Fatalf("alice's history before the backup: %v", got)
	}

	out := alice.must("backup", "create").lines()
	if len(out) != 1 || out[0]["event"] != "backup_created" || out[0]["messages"].(float64) != 2 {
		t.Fatalf("backup create printed %v", out)
	}
	key, _ := out[0]["recovery_key"].(string)
	if len(strings.ReplaceAll(key, " ", "")) != 64 {
		t.Fatalf("recovery key %q", key)
	}
	// A second backup with the same key to a file, for the restore below.
	file := filepath.Join(t.TempDir(), "alice.parleybackup")
	if r := alice.must("backup", "create", "--file", file, "--recovery-key", key).lines(); r[0]["recovery_key"] != nil {
		t.Fatalf("a backup with a given key printed a new one: %v", r)
	}

	err := filepath.WalkDir(s.data, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err == nil && bytes.Contains(b, []byte("e2e-marker-5521")) {
			t.Errorf("the server's %s holds the message text", path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	// The phone is lost: the number is registered again on a new profile.
	phone2 := newDevice(t, "alice-new", alice.phone)
	phone2.mustRegister(s, "Alice")
	wrong := strings.Repeat("0", 64)
	if r := phone2.mustFail(exitForbidden, "backup", "restore", "--recovery-key", wrong); !strings.Contains(r.stderr, "backup_wrong_key") {
		t.Fatalf("restore with a wrong key: %s", r.stderr)
	}
	if r := phone2.must("backup", "restore", "--recovery-key", key).lines(); r[0]["messages"].(float64) != 2 || r[0]["skipped_chats"].(float64) != 0 {
		t.Fatalf("restore printed %v", r)
	}
	// Restoring the file copy as well changes nothing (idempotent).
	phone2.must("backup", "restore", "--file", file, "--recovery-key", key)
	if got := texts(phone2.must("history", chat).lines()); !slices.Equal(got, []string{marker, "see you there"}) {
		t.Fatalf("history on the new phone: %v", got)
	}
	phone2.must("send", "--to", chat, "new phone, same chat")
	if got := texts(bob.must("history", chat).lines()); !slices.Contains(got, "new phone, same chat") {
		t.Fatalf("bob's history: %v", got)
	}
	bob.must("send", "--to", chat, "got it")
	if got := texts(phone2.must("history", chat).lines()); !slices.Contains(got, "got it") {
		t.Fatalf("the new phone's history: %v", got)
	}

	// Scheduled backups: bob turns on daily backups (a new key, printed
	// once); a running listen makes the first one at once.
	sched := bob.must("backup", "schedule", "daily").lines()
	if sched[0]["schedule"] != "daily" || sched[0]["recovery_key"] == nil {
		t.Fatalf("backup schedule printed %v", sched)
	}
	bob.must("listen", "--for", "10s")
	if st := bob.must("backup", "schedule").lines(); st[0]["last"] == nil || st[0]["last_error"] != nil {
		t.Fatalf("after a listen the schedule is %v", st)
	}
}
