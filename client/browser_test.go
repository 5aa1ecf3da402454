package client_test

import (
	"bytes"
	"crypto/rand"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/attachment"
	"github.com/parleyhq/parley/client"
)

// The client additions the browser needs, tested natively against a real
// server: SendMedia from a reader with chunked upload progress, chat flags,
// on-device search and the extras event.

func mustRegisterConfig(t *testing.T, ts *testServer, phone, name string, cfg client.Config) *user {
	t.Helper()
	ctx := ctxT(t)
	cfg.Dir, cfg.Events, cfg.DeviceName = t.TempDir(), true, name
	cfg.Logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	c, err := client.Open(ctx, withTestStore(t, cfg))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := c.Register(ctx, ts.URL, phone, name); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Verify(ctx, ts.Codes.MustCode(t, phone), ""); err != nil {
		t.Fatal(err)
	}
	return &user{Client: c, phone: phone}
}

func TestSendMediaProgress(t *testing.T) {
	ts := mustServer(t)
	ctx := ctxT(t)
	const chunk = 64 << 10
	alice := mustRegisterConfig(t, ts, phone(801), "Alice", client.Config{UploadChunk: chunk})
	bob := mustRegister(t, ts, phone(802), "Bob")

	data := make([]byte, 300<<10)
	rand.Read(data)
	var mu sync.Mutex
	var calls [][2]int64
	sent, err := alice.SendMedia(ctx, bob.phone, "notes.webm", bytes.NewReader(data), int64(len(data)),
		client.SendMediaOptions{Kind: client.KindVoice, Caption: "listen", MIME: "audio/webm", Duration: 3 * time.Second},
		func(s, total int64) {
			mu.Lock()
			calls = append(calls, [2]int64{s, total})
			mu.Unlock()
		})
	if err != nil {
		t.Fatal(err)
	}
	if sent.Kind != client.KindVoice || sent.Text != "listen" || sent.Media.MIME != "audio/webm" || sent.Media.Duration != 3*time.Second || sent.Media.FileName != "notes.webm" {
		t.Fatalf("sent %+v media %+v", sent, sent.Media)
	}
	total := attachment.EncryptedSize(int64(len(data)))
	if len(calls) < 5 {
		t.Fatalf("progress calls %v: want one per %d-byte chunk", calls, chunk)
	}
	for i, c := range calls {
		if c[1] != total || (i > 0 && c[0] <= calls[i-1][0]) || c[0]-func() int64 {
			if i == 0 {
				return 0
			}
			return calls[i-1][0]
		}() > chunk {
			t.Fatalf("progress %v: not increasing by at most a chunk to %d", calls, total)
		}
	}
	if last := calls[len(calls)-1]; last[0] != total {
		t.Fatalf("last progress %v, want %d", last, total)
	}
	ev := mustEvent(t, bob.Client, "voice note", func(ev client.Event) bool {
		return ev.Kind == client.EventMessage && ev.Message.Kind == client.KindVoice
	})
	var out bytes.Buffer
	if _, err := bob.DownloadMedia(ctx, ev.Message.ID(), &out); err != nil || !bytes.Equal(out.Bytes(), data) {
		t.Fatalf("download: %v (%d bytes)", err, out.Len())
	}

	// A kind that is not a file kind is refused before anything is sent.
	_, err = alice.SendMedia(ctx, bob.phone, "x", bytes.NewReader(data), 10, client.SendMediaOptions{Kind: "poll"}, nil)
	wantCode(t, "send as poll", err, parley.CodeInvalid, "bad_media_kind")
}

func TestChatFlagsAndSearch(t *testing.T) {
	ts := mustServer(t)
	ctx := ctxT(t)
	alice := mustRegister(t, ts, phone(811), "Alice")
	bob := mustRegister(t, ts, phone(812), "Bob")
	carol := mustRegister(t, ts, phone(813), "Carol")
	for _, text := range []string{"Lunch on Friday?", "the Ünïcode Café", "nothing here"} {
		if _, err := alice.Send(ctx, bob.phone, text); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := carol.Send(ctx, bob.phone, "friday works for me"); err != nil {
		t.Fatal(err)
	}
	mustEvent(t, bob.Client, "carol's message", isMessage("friday works for me"))
	mustSynced(t, ctx, bob)

	hits, err := bob.Search(ctx, "FRIDAY", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 2 || hits[0].Text != "friday works for me" || hits[1].Text != "Lunch on Friday?" {
		t.Fatalf("search friday: %+v", hits)
	}
	hits, err = bob.Search(ctx, "friday", alice.phone, 0)
	if err != nil || len(hits) != 1 || hits[0].Sender != alice.Account().User {
		t.Fatalf("search friday with alice: %+v %v", hits, err)
	}
	if hits, _ := bob.Search(ctx, "ünïcode café", "", 0); len(hits) != 1 {
		t.Fatalf("unicode search: %+v", hits)
	}
	_, err = bob.Search(ctx, "  ", "", 0)
	wantCode(t, "empty search", err, parley.CodeInvalid, "empty_query")
	_, err = bob.Search(ctx, "x", "+19999999999", 0)
	if err == nil {
		t.Fatal("search in an unknown chat succeeded")
	}

	yes, no := true, false
	ch, err := bob.SetChatFlags(ctx, alice.phone, client.ChatFlags{Pinned: &yes, Muted: &yes})
	if err != nil || !ch.Pinned || !ch.Muted || ch.Archived {
		t.Fatalf("set flags: %+v %v", ch, err)
	}
	ch, err = bob.SetChatFlags(ctx, alice.phone, client.ChatFlags{Muted: &no, Archived: &yes})
	if err != nil || !ch.Pinned || ch.Muted || !ch.Archived {
		t.Fatalf("change flags: %+v %v", ch, err)
	}
	// A new message keeps the flags.
	if _, err := alice.Send(ctx, bob.phone, "still there?"); err != nil {
		t.Fatal(err)
	}
	mustEvent(t, bob.Client, "new message", isMessage("still there?"))
	chats, err := bob.Chats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(chats, func(c client.Chat) bool { return c.Peer == alice.Account().User })
	if i < 0 || !chats[i].Pinned || !chats[i].Archived || chats[i].Muted || chats[i].Unread != 4 {
		t.Fatalf("chats: %+v", chats)
	}
	// The other side's flags are its own.
	ch, err = alice.Chat(ctx, bob.phone)
	if err != nil || ch.Pinned || ch.Archived {
		t.Fatalf("alice's chat: %+v %v", ch, err)
	}
}

func TestExtrasEvent(t *testing.T) {
	ts := mustServer(t)
	ctx := ctxT(t)
	alice := mustRegister(t, ts, phone(821), "Alice")
	bob := mustRegister(t, ts, phone(822), "Bob")
	m, err := alice.Send(ctx, bob.phone, "react to me")
	if err != nil {
		t.Fatal(err)
	}
	mustEvent(t, bob.Client, "message", isMessage("react to me"))
	if err := bob.React(ctx, m.ID(), "👍"); err != nil {
		t.Fatal(err)
	}
	ev := mustEvent(t, alice.Client, "extras", func(ev client.Event) bool {
		return ev.Kind == client.EventExtras && ev.Conversation == m.Conversation && ev.Target == m.Seq
	})
	ex, err := alice.Extras(ctx, ev.Conversation, ev.Target)
	if err != nil || ex.Reactions[bob.Account().User] != "👍" {
		t.Fatalf("extras after the event: %+v %v", ex, err)
	}
}
