package backup_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/attachment"
	"github.com/parleyhq/parley/client/backup"
	"github.com/parleyhq/parley/client/localstore"
	"github.com/parleyhq/parley/content"
)

// stores opens each implementation of localstore.Store: the backup of
// one restores into the other.
func stores(t *testing.T) map[string]func() localstore.Store {
	ctx := context.Background()
	return map[string]func() localstore.Store{
		"sqlite": func() localstore.Store {
			st, err := localstore.OpenSQLite(ctx, filepath.Join(t.TempDir(), "parley.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		},
		"kv": func() localstore.Store {
			st, err := localstore.OpenKV(ctx, localstore.NewMemKV())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		},
	}
}

func mustAccount(t *testing.T, st localstore.Store, user parley.UserID, device parley.DeviceID) {
	t.Helper()
	if err := st.PutAccount(context.Background(), localstore.Account{ServerURL: "http://127.0.0.1:1", User: user, Device: device, Secret: []byte("s"), Phone: "+14155550100"}); err != nil {
		t.Fatal(err)
	}
}

// TestExportImport: chats with their flags and timers, sent and received
// messages with their media descriptors and contacts come back; pending
// messages and MLS state do not; an import is idempotent and refuses
// another account's backup.
func TestExportImport(t *testing.T) {
	ctx := context.Background()
	for fromName, from := range stores(t) {
		for toName, to := range stores(t) {
			t.Run(fromName+"→"+toName, func(t *testing.T) {
				src := from()
				mustAccount(t, src, 7, 70)
				conv := parley.NewConversationID()
				at := time.UnixMilli(1_765_000_000_000).UTC()
				must := func(err error) {
					t.Helper()
					if err != nil {
						t.Fatal(err)
					}
				}
				must(src.Apply(ctx, localstore.Applied{Conversation: conv, Seq: 5, Group: []byte("MLS SECRET STATE"), Epoch: 3,
					Chat: &localstore.Chat{ID: conv, Kind: parley.KindDirect, Peer: 8, Title: "Bob"}}))
				yes := true
				_, err := src.SetChatFlags(ctx, conv, localstore.ChatFlags{Archived: &yes})
				must(err)
				must(src.SetTimer(ctx, conv, 24*time.Hour))
				msgs := []content.MessageRecord{
					{Conversation: conv, Seq: 1, ClientID: "c1", Sender: 7, SenderDevice: 70, Outgoing: true, Kind: "text", Text: "hello", SentAt: at, StoredAt: at, Status: content.StatusRead},
					{Conversation: conv, Seq: 2, ClientID: "c2", Sender: 8, SenderDevice: 80, Kind: "document", Text: "the file", SentAt: at, StoredAt: at, Status: content.StatusReceived,
						Media: &attachment.Descriptor{Blob: "b1", Key: []byte("media key"), Size: 9, MIME: "text/plain"}},
					{Conversation: conv, ClientID: "c3", Sender: 7, SenderDevice: 70, Outgoing: true, Kind: "text", Text: "pending", SentAt: at, StoredAt: at, Status: content.StatusPending, Payload: []byte("ct"), Epoch: 3},
				}
				for i := range msgs {
					must(src.Apply(ctx, localstore.Applied{Conversation: conv, Message: &msgs[i]}))
				}
				must(src.PutContact(ctx, localstore.Contact{User: 8, Name: "Bob", Phone: "+14155550101", Contact: true}))
				// The kinds: bob replied to "hello" and reacted to it; alice edited it.
				must(src.PutExtras(ctx, conv, 80, "c2", content.Ext{ReplyTo: 1}))
				must(src.React(ctx, conv, 1, 8, "👍", 3))
				must(src.Edit(ctx, conv, 1, "hello!", at, 4))

				key := backup.NewRecoveryKey()
				var buf bytes.Buffer
				stats, err := backup.Export(ctx, src, &buf, key, at)
				must(err)
				if stats.Chats != 1 || stats.Messages != 2 || stats.Contacts != 1 {
					t.Fatalf("export stats %+v", stats)
				}
				if bytes.Contains(buf.Bytes(), []byte("MLS SECRET")) || bytes.Contains(buf.Bytes(), []byte("hello!")) {
					t.Fatal("the backup shows plaintext")
				}

				other := to()
				mustAccount(t, other, 9, 90)
				if _, err := backup.Import(ctx, other, bytes.NewReader(buf.Bytes()), key); parley.ErrorReason(err) != backup.ReasonOtherAccount {
					t.Fatalf("import into another account: %v", err)
				}

				dst := to()
				mustAccount(t, dst, 7, 71) // the same user, a new device
				for range 2 {              // idempotent
					got, err := backup.Import(ctx, dst, bytes.NewReader(buf.Bytes()), key)
					must(err)
					if got.Messages != 2 || !got.CreatedAt.Equal(at) {
						t.Fatalf("import stats %+v", got)
					}
				}
				chat, err := dst.Chat(ctx, conv)
				must(err)
				if chat.Title != "Bob" || chat.Peer != 8 || chat.Kind != parley.KindDirect || !chat.Archived || chat.Cursor != 5 || chat.Unread != 1 {
					t.Fatalf("restored chat %+v", chat)
				}
				if _, err := dst.Group(ctx, conv); !parley.IsCode(err, parley.CodeNotFound) {
					t.Fatalf("the MLS state came back: %v", err)
				}
				timers, err := dst.Timers(ctx)
				must(err)
				if timers[conv] != 24*time.Hour {
					t.Fatalf("timers %v", timers)
				}
				hist, err := dst.Messages(ctx, conv, 0)
				must(err)
				if len(hist) != 2 || hist[0].Text != "hello!" || hist[0].Status != content.StatusRead || hist[1].Media == nil ||
					!bytes.Equal(hist[1].Media.Key, []byte("media key")) || hist[1].Media.Blob != "b1" {
					t.Fatalf("restored messages %+v", hist)
				}
				ex, err := dst.Extras(ctx, conv, []parley.Seq{1, 2})
				must(err)
				if ex[1].Reactions[8] != "👍" || !ex[1].Edited || ex[2].ReplyTo != 1 {
					t.Fatalf("restored extras %+v", ex)
				}
				ct, err := dst.Contact(ctx, 8)
				must(err)
				if ct.Name != "Bob" || !ct.Contact {
					t.Fatalf("restored contact %+v", ct)
				}
			})
		}
	}
}

// FuzzImport: the records inside a backup are authenticated, but a client
// with a bug (or a user's edited file sealed again) can still write any
// bytes there: importing them never panics.
func FuzzImport(f *testing.F) {
	f.Add([]byte(`{"meta":{"user":7,"phone":"+1"}}` + "\n" + `{"chat":{"ID":"c1","Kind":"direct"}}` + "\n" + `{"message":{"Conversation":"c1","Seq":1,"ClientID":"x"},"extras":{"Reactions":{"8":"x"}}}`))
	f.Add([]byte(`{"meta":{"user":7}}{"message":{}}`))
	f.Add([]byte(`{"extras":{}}`))
	var key backup.RecoveryKey
	f.Fuzz(func(t *testing.T, plain []byte) {
		ctx := context.Background()
		st, err := localstore.OpenKV(ctx, localstore.NewMemKV())
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		mustAccount(t, st, 7, 70)
		_, _ = backup.Import(ctx, st, bytes.NewReader(mustSeal(t, key, plain)), key)
	})
}
