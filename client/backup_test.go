package client_test

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/backups"
	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/client/backup"
)

// TestBackupRestoreOnNewPhone is the lost phone: alice chats with bob,
// backs up to the server, re-registers her number on a new profile,
// restores with her recovery key, sees the old history (and can still
// download the old attachment), and sends in the old chat; bob receives
// it. A wrong key is refused by name, and the server's storage never holds
// the text of a message in the clear.
func TestBackupRestoreOnNewPhone(t *testing.T) {
	ts := mustServer(t)
	ctx := ctxT(t)
	alice := mustRegister(t, ts, phone(1801), "Alice")
	bob := mustRegister(t, ts, phone(1802), "Bob")

	const marker = "zebra-marker-41c7 the plan for Tuesday"
	m, err := alice.Send(ctx, bob.phone, marker)
	if err != nil {
		t.Fatal(err)
	}
	mustEvent(t, bob.Client, "bob receives", isMessage(marker))
	if _, err := bob.Send(ctx, alice.phone, "sounds good"); err != nil {
		t.Fatal(err)
	}
	mustEvent(t, alice.Client, "alice receives", isMessage("sounds good"))
	doc := filepath.Join(t.TempDir(), "notes.txt")
	docBytes := []byte("attachment kept on the server")
	if err := os.WriteFile(doc, docBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	file, err := alice.SendFile(ctx, bob.phone, doc, client.SendFileOptions{Caption: "notes"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := alice.CreateGroup(ctx, "Hikers", []string{bob.phone}, client.GroupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	group := res.Group.ID
	if _, err := alice.Send(ctx, string(group), "group before the loss"); err != nil {
		t.Fatal(err)
	}
	mustEvent(t, bob.Client, "bob receives in the group", isMessage("group before the loss"))
	pin := true
	if _, err := alice.SetChatFlags(ctx, string(m.Conversation), client.ChatFlags{Pinned: &pin}); err != nil {
		t.Fatal(err)
	}

	key := backup.NewRecoveryKey()
	var buf bytes.Buffer
	stats, err := alice.Backup(ctx, &buf, key)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Chats != 2 || stats.Messages < 4 {
		t.Fatalf("backup stats %+v, want 2 chats and at least 4 messages", stats)
	}
	if err := backup.Upload(ctx, alice.Account(), buf.Bytes()); err != nil {
		t.Fatal(err)
	}

	// The server holds ciphertext only: no trace of the message's text in
	// its database (and its WAL) or anywhere in its data directory.
	err = filepath.WalkDir(ts.Dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte("zebra-marker-41c7")) {
			t.Errorf("the server's %s holds the message's text", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	stored, err := ts.Store.ClientBackup(ctx, alice.Account().User)
	if err != nil || !bytes.Equal(stored.Data, buf.Bytes()) {
		t.Fatalf("the server's copy: %v", err)
	}

	// The phone is lost: alice registers her number again on a new profile.
	if err := alice.Close(); err != nil {
		t.Fatal(err)
	}
	phone2 := mustOpen(t, t.TempDir())
	if _, err := phone2.Register(ctx, ts.URL, alice.phone, "Alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := phone2.Verify(ctx, ts.Codes.MustCode(t, alice.phone), ""); err != nil {
		t.Fatal(err)
	}

	rc, err := backup.Download(ctx, phone2.Account())
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, err := phone2.RestoreBackup(ctx, bytes.NewReader(buf.Bytes()), backup.NewRecoveryKey()); parley.ErrorReason(err) != backup.ReasonBackupWrongKey {
		t.Fatalf("restore with a wrong key: %v, want %s", err, backup.ReasonBackupWrongKey)
	}
	got, err := phone2.RestoreBackup(ctx, rc, key)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("skipped %v", phone2.SkippedChats())
	if got.Messages != stats.Messages || got.Chats != 2 || len(phone2.SkippedChats()) != 0 {
		t.Fatalf("restored %+v", got)
	}

	chat, hist, err := phone2.History(ctx, string(m.Conversation), 0)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, h := range hist {
		texts = append(texts, h.Text)
	}
	if len(hist) < 3 || hist[0].Text != marker || !hist[0].Outgoing || hist[1].Text != "sounds good" || hist[1].Outgoing || !chat.Pinned {
		t.Fatalf("restored history %q (pinned %v)", texts, chat.Pinned)
	}

	// The new phone is in the chat again: it sends, and bob reads it.
	if _, err := phone2.Send(ctx, string(m.Conversation), "new phone, same chat"); err != nil {
		t.Fatal(err)
	}
	mustEvent(t, bob.Client, "bob receives from the new phone", isMessage("new phone, same chat"))
	if _, err := bob.Send(ctx, alice.phone, "welcome back"); err != nil {
		t.Fatal(err)
	}
	mustEvent(t, phone2, "the new phone receives", isMessage("welcome back"))
	// And in the group.
	if _, gh, err := phone2.History(ctx, string(group), 0); err != nil || len(gh) == 0 {
		t.Fatalf("restored group history %v: %v", gh, err)
	}
	if _, err := phone2.Send(ctx, string(group), "back in the group"); err != nil {
		t.Fatal(err)
	}
	mustEvent(t, bob.Client, "bob receives in the group from the new phone", isMessage("back in the group"))
	var out bytes.Buffer
	if _, err := phone2.DownloadMedia(ctx, file.ID(), &out); err != nil || !bytes.Equal(out.Bytes(), docBytes) {
		t.Fatalf("download the old attachment: %v (%q)", err, out.String())
	}
}

// TestBackupQuota: a backup larger than the server's quota is refused by
// name and leaves the stored one as it was.
func TestBackupQuota(t *testing.T) {
	ts := mustServer(t)
	ctx := ctxT(t)
	alice := mustRegister(t, ts, phone(1803), "Alice")
	if _, err := backup.Download(ctx, alice.Account()); parley.ErrorReason(err) != parley.ReasonBackupNotFound {
		t.Fatalf("download before any backup: %v", err)
	}
	if ok, _, _, err := backup.Info(ctx, alice.Account()); ok || err != nil {
		t.Fatalf("info before any backup: %v %v", ok, err)
	}
	if err := backup.Upload(ctx, alice.Account(), []byte("small")); err != nil {
		t.Fatal(err)
	}
	if ok, size, at, err := backup.Info(ctx, alice.Account()); !ok || size != 5 || at.IsZero() || err != nil {
		t.Fatalf("info of a 5-byte backup: %v %d %v %v", ok, size, at, err)
	}
	big := strings.Repeat("x", backups.DefaultQuota+1)
	if err := backup.Upload(ctx, alice.Account(), []byte(big)); parley.ErrorReason(err) != backups.ReasonBackupQuota || !parley.IsCode(err, parley.CodeTooLarge) {
		t.Fatalf("upload over the quota: %v", err)
	}
	stored, err := ts.Store.ClientBackup(context.Background(), alice.Account().User)
	if err != nil || string(stored.Data) != "small" {
		t.Fatalf("after a refused upload the server keeps %q, %v", stored.Data, err)
	}
	// Only the account's devices: a wrong secret is refused, and another
	// account sees its own (none), never alice's.
	forged := alice.Account()
	forged.Secret = []byte("not the secret")
	if _, err := backup.Download(ctx, forged); !parley.IsCode(err, parley.CodeUnauthenticated) {
		t.Fatalf("download with a wrong secret: %v", err)
	}
	if _, _, _, err := backup.Info(ctx, forged); !parley.IsCode(err, parley.CodeUnauthenticated) {
		t.Fatalf("info with a wrong secret: %v", err)
	}
	bob := mustRegister(t, ts, phone(1804), "Bob")
	if _, err := backup.Download(ctx, bob.Account()); parley.ErrorReason(err) != parley.ReasonBackupNotFound {
		t.Fatalf("another account's download: %v", err)
	}
}
