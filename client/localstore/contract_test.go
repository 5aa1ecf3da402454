package localstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/attachment"
	"github.com/parleyhq/parley/content"
)

// storeImpl opens (and reopens) one kind of local store.
type storeImpl struct {
	name string
	// open returns a function that opens the same store again each time.
	open func(t *testing.T) func() Store
}

// storeImpls are the implementations the contract runs against (SQLite
// joins them where it builds: contract_sqlite_test.go).
var storeImpls = []storeImpl{
	{"kv", func(t *testing.T) func() Store {
		kv := NewMemKV()
		return func() Store {
			s, err := OpenKV(context.Background(), kv)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
	}},
}

// forEachStore runs f against every local store implementation: the same
// contract for SQLite (native) and the KV store (the browser's).
func forEachStore(t *testing.T, f func(t *testing.T, reopen func() Store)) {
	for _, impl := range storeImpls {
		t.Run(impl.name, func(t *testing.T) {
			open := impl.open(t)
			var cur Store
			reopen := func() Store {
				if cur != nil {
					cur.Close()
				}
				cur = open()
				return cur
			}
			t.Cleanup(func() {
				if cur != nil {
					cur.Close()
				}
			})
			f(t, reopen)
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

const convA = parley.ConversationID("caaaaaaaaaaaa")
const convB = parley.ConversationID("cbbbbbbbbbbbb")

func msg(conv parley.ConversationID, seq parley.Seq, client string, out bool, text string, status content.Status, at time.Time) *content.MessageRecord {
	return &content.MessageRecord{Conversation: conv, Seq: seq, ClientID: parley.ClientMessageID(client), Sender: 7, SenderDevice: 70,
		Outgoing: out, Kind: content.KindText, Text: text, SentAt: at, StoredAt: at, Status: status}
}

func texts(ms []content.MessageRecord) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Text)
	}
	return out
}

func TestStoreContract(t *testing.T) {
	forEachStore(t, func(t *testing.T, reopen func() Store) {
		ctx := context.Background()
		s := reopen()
		if _, err := s.Account(ctx); !parley.IsCode(err, parley.CodeNotFound) {
			t.Fatalf("account of an empty store: %v, want not_found", err)
		}
		acct := Account{ServerURL: "http://127.0.0.1:1", User: 7, Device: 70, Secret: []byte("s"), Phone: "+15550000007", Name: "Seven", Primary: true}
		must(t, s.PutAccount(ctx, acct))
		must(t, s.PutKeyPackages(ctx, []KeyPackageSecret{{Ref: []byte{1}, Private: []byte("p1")}, {Ref: []byte{2}, Private: []byte("p2"), LastResort: true}}))

		base := time.UnixMilli(1_700_000_000_000)
		must(t, s.Apply(ctx, Applied{Conversation: convA, Group: []byte("g1"), Epoch: 1, Chat: &Chat{Kind: parley.KindDirect, Peer: 8, Title: "Eight"}, UsedKeyPackage: []byte{1}}))
		must(t, s.Apply(ctx, Applied{Conversation: convA, UsedKeyPackage: []byte{2}})) // last resort: kept
		for i := 1; i <= 5; i++ {
			m := msg(convA, parley.Seq(i), "in"+string(rune('0'+i)), false, "hello "+string(rune('0'+i)), content.StatusReceived, base.Add(time.Duration(i)*time.Second))
			m.Sender, m.SenderDevice = 8, 80
			must(t, s.Apply(ctx, Applied{Conversation: convA, Seq: parley.Seq(i), Message: m}))
		}
		// Applying the same message again changes nothing.
		dup := msg(convA, 5, "in5", false, "changed", content.StatusReceived, base)
		dup.Sender, dup.SenderDevice = 8, 80
		must(t, s.Apply(ctx, Applied{Conversation: convA, Seq: 5, Message: dup}))
		// An outgoing pending message, then one more, then the first sent.
		p1 := msg(convA, 0, "out1", true, "pending one", content.StatusPending, base.Add(10*time.Second))
		p1.Payload, p1.Epoch = []byte("cipher"), 1
		must(t, s.Apply(ctx, Applied{Conversation: convA, Message: p1}))
		p2 := msg(convA, 0, "out2", true, "pending two", content.StatusPending, base.Add(11*time.Second))
		must(t, s.Apply(ctx, Applied{Conversation: convA, Message: p2}))
		pend, err := s.PendingMessages(ctx)
		must(t, err)
		if got := texts(pend); !slices.Equal(got, []string{"pending one", "pending two"}) || string(pend[0].Payload) != "cipher" {
			t.Fatalf("pending = %q", got)
		}
		must(t, s.MarkSent(ctx, convA, "out1", 6))

		check := func(s Store) {
			t.Helper()
			a, err := s.Account(ctx)
			must(t, err)
			if a.Phone != acct.Phone || a.Device != 70 || string(a.Secret) != "s" {
				t.Fatalf("account = %+v", a)
			}
			kps, err := s.KeyPackages(ctx)
			must(t, err)
			if len(kps) != 1 || kps[0].Ref[0] != 2 || !kps[0].LastResort {
				t.Fatalf("key packages = %+v, want only the last resort one", kps)
			}
			g, err := s.Group(ctx, convA)
			must(t, err)
			if string(g) != "g1" {
				t.Fatalf("group = %q", g)
			}
			ch, err := s.Chat(ctx, convA)
			must(t, err)
			if ch.Title != "Eight" || ch.Peer != 8 || ch.Cursor != 5 || ch.Epoch != 1 || ch.Unread != 5 || ch.LastText != "pending one" {
				t.Fatalf("chat = %+v", ch)
			}
			ms, err := s.Messages(ctx, convA, 0)
			must(t, err)
			want := []string{"hello 1", "hello 2", "hello 3", "hello 4", "hello 5", "pending one", "pending two"}
			if got := texts(ms); !slices.Equal(got, want) {
				t.Fatalf("messages = %q, want %q", got, want)
			}
			if ms[5].Seq != 6 || ms[5].Status != content.StatusSent || ms[5].Payload != nil {
				t.Fatalf("sent message = %+v", ms[5])
			}
			if !ms[0].SentAt.Equal(base.Add(time.Second)) {
				t.Fatalf("sent at = %v, want %v", ms[0].SentAt, base.Add(time.Second))
			}
			ms, err = s.Messages(ctx, convA, 3)
			must(t, err)
			if got := texts(ms); !slices.Equal(got, []string{"hello 5", "pending one", "pending two"}) {
				t.Fatalf("last 3 = %q", got)
			}
			m, err := s.Message(ctx, convA, 3)
			must(t, err)
			if m.Text != "hello 3" || m.Sender != 8 {
				t.Fatalf("message 3 = %+v", m)
			}
			for _, seq := range []parley.Seq{0, 99} {
				if _, err := s.Message(ctx, convA, seq); !parley.IsCode(err, parley.CodeNotFound) {
					t.Fatalf("message %d: %v, want not_found", seq, err)
				}
			}
		}
		check(s)
		s = reopen()
		check(s)

		// Receipts and reading.
		up, err := s.RaiseStatus(ctx, convA, 6, content.StatusDelivered)
		must(t, err)
		if len(up) != 1 || up[0].Seq != 6 || up[0].Status != content.StatusDelivered {
			t.Fatalf("raised = %+v", up)
		}
		if up, _ := s.RaiseStatus(ctx, convA, 6, content.StatusDelivered); len(up) != 0 {
			t.Fatalf("raised again = %+v", up)
		}
		up, err = s.RaiseStatus(ctx, convA, 6, content.StatusRead)
		must(t, err)
		if len(up) != 1 || up[0].Status != content.StatusRead {
			t.Fatalf("raised to read = %+v", up)
		}
		if up, _ := s.RaiseStatus(ctx, convA, 6, content.StatusDelivered); len(up) != 0 {
			t.Fatalf("lowered = %+v", up)
		}
		must(t, s.MarkRead(ctx, convA, 3))
		s = reopen()
		ch, err := s.Chat(ctx, convA)
		must(t, err)
		if ch.Unread != 2 {
			t.Fatalf("unread = %d, want 2", ch.Unread)
		}
		m, _ := s.Message(ctx, convA, 6)
		if m.Status != content.StatusRead {
			t.Fatalf("status after reopen = %s", m.Status)
		}

		// A second chat with media, contacts, chat order.
		time.Sleep(2 * time.Millisecond)
		must(t, s.Apply(ctx, Applied{Conversation: convB, Group: []byte("gb"), Epoch: 3, Chat: &Chat{Kind: parley.KindGroup, Title: "Band"}}))
		img := msg(convB, 1, "img", false, "look", content.StatusReceived, base)
		img.Kind, img.Media = content.KindImage, &attachment.Descriptor{Kind: attachment.KindImage, MIME: "image/png", FileName: "Sunset.PNG", Size: 10, Width: 4}
		must(t, s.Apply(ctx, Applied{Conversation: convB, Seq: 1, Message: img}))
		must(t, s.PutContact(ctx, Contact{User: 9, Name: "Nine", Devices: []DeviceKey{{Device: 90, User: 9}}}))
		must(t, s.PutContact(ctx, Contact{User: 8, Name: "Eight"}))
		if _, err := s.Contact(ctx, 10); !parley.IsCode(err, parley.CodeNotFound) {
			t.Fatalf("missing contact: %v", err)
		}
		must(t, s.DeleteGroup(ctx, convB))
		s = reopen()
		chats, err := s.Chats(ctx)
		must(t, err)
		if len(chats) != 2 || chats[0].ID != convB || chats[0].LastText != "[image] look" || chats[0].Epoch != 3 {
			t.Fatalf("chats = %+v", chats)
		}
		if _, err := s.Group(ctx, convB); !parley.IsCode(err, parley.CodeNotFound) {
			t.Fatalf("deleted group: %v", err)
		}
		ms, _ := s.Messages(ctx, convB, 0)
		if len(ms) != 1 || ms[0].Media == nil || ms[0].Media.FileName != "Sunset.PNG" || ms[0].Media.Width != 4 {
			t.Fatalf("media message = %+v", ms)
		}
		cts, err := s.Contacts(ctx)
		must(t, err)
		if len(cts) != 2 || cts[0].User != 8 || cts[1].Name != "Nine" || len(cts[1].Devices) != 1 {
			t.Fatalf("contacts = %+v", cts)
		}

		// Chat flags survive reopening and later metadata changes.
		yes := true
		ch, err = s.SetChatFlags(ctx, convA, ChatFlags{Muted: &yes, Archived: &yes})
		must(t, err)
		if !ch.Muted || ch.Pinned || !ch.Archived || ch.Title != "Eight" {
			t.Fatalf("flags = %+v", ch)
		}
		must(t, s.Apply(ctx, Applied{Conversation: convA, Chat: &Chat{Kind: parley.KindDirect, Peer: 8, Title: "Eight!"}}))
		s = reopen()
		ch, _ = s.Chat(ctx, convA)
		if !ch.Muted || ch.Pinned || !ch.Archived || ch.Title != "Eight!" || ch.Cursor != 5 {
			t.Fatalf("flags after update and reopen = %+v", ch)
		}
		if _, err := s.SetChatFlags(ctx, "cnosuchchat", ChatFlags{Muted: &yes}); !parley.IsCode(err, parley.CodeNotFound) {
			t.Fatalf("flags of a missing chat: %v", err)
		}

		// Search.
		hits, err := s.Search(ctx, "hello", "", 0)
		must(t, err)
		if got := texts(hits); !slices.Equal(got, []string{"hello 5", "hello 4", "hello 3", "hello 2", "hello 1"}) {
			t.Fatalf("search hello = %q", got)
		}
		hits, _ = s.Search(ctx, "sunset", "", 0)
		if len(hits) != 1 || hits[0].Conversation != convB {
			t.Fatalf("search by file name = %+v", hits)
		}
		hits, _ = s.Search(ctx, "hello", convB, 0)
		if len(hits) != 0 {
			t.Fatalf("search in another chat = %+v", hits)
		}
		hits, _ = s.Search(ctx, "hello", convA, 2)
		if len(hits) != 2 {
			t.Fatalf("search limit = %d hits", len(hits))
		}
	})
}

// TestStoreContractSearch: full-text search — word prefixes, every word,
// case and diacritics ignored, newest first — kept in step with edits,
// deletes, expiry and sending, and across reopening.
func TestStoreContractSearch(t *testing.T) {
	forEachStore(t, func(t *testing.T, reopen func() Store) {
		ctx := context.Background()
		s := reopen()
		base := time.UnixMilli(1_700_000_000_000)
		must(t, s.Apply(ctx, Applied{Conversation: convA, Chat: &Chat{Kind: parley.KindDirect, Peer: 8, Title: "Eight"}}))
		must(t, s.Apply(ctx, Applied{Conversation: convB, Chat: &Chat{Kind: parley.KindDirect, Peer: 9, Title: "Nine"}}))
		for i, text := range []string{"Crème brûlée in Zürich?", "Meet at the CAFÉ, 10:30", "cafeteria is closed", "ZURICH-bound train"} {
			conv := convA
			if i == 3 {
				conv = convB
			}
			must(t, s.Apply(ctx, Applied{Conversation: conv, Seq: parley.Seq(i + 1),
				Message: msg(conv, parley.Seq(i+1), fmt.Sprintf("s%d", i), false, text, content.StatusReceived, base.Add(time.Duration(i)*time.Minute))}))
		}
		doc := msg(convB, 5, "doc", false, "", content.StatusReceived, base.Add(5*time.Minute))
		doc.Kind, doc.Media = content.KindDocument, &attachment.Descriptor{Kind: attachment.KindDocument, FileName: "Résumé_2026.pdf"}
		must(t, s.Apply(ctx, Applied{Conversation: convB, Seq: 5, Message: doc}))
		pending := msg(convA, 0, "pending", true, "cafe draft not sent", content.StatusPending, base.Add(9*time.Minute))
		must(t, s.Apply(ctx, Applied{Conversation: convA, Message: pending}))

		find := func(query string, conv parley.ConversationID) []string {
			t.Helper()
			hits, err := s.Search(ctx, query, conv, 0)
			must(t, err)
			return texts(hits)
		}
		for _, c := range []struct {
			query string
			conv  parley.ConversationID
			want  []string
		}{
			{"cafe", "", []string{"cafeteria is closed", "Meet at the CAFÉ, 10:30"}}, // prefixes, any case and accent; newest first; not the pending one
			{"Café", "", []string{"cafeteria is closed", "Meet at the CAFÉ, 10:30"}},
			{"zur", "", []string{"ZURICH-bound train", "Crème brûlée in Zürich?"}},
			{"zur", convA, []string{"Crème brûlée in Zürich?"}},
			{"creme brul", "", []string{"Crème brûlée in Zürich?"}}, // every word must match
			{"creme train", "", nil},
			{"rich", "", nil}, // inside a word: no
			{"10 30", "", []string{"Meet at the CAFÉ, 10:30"}},
			{"resume 2026", "", []string{""}}, // the document, by its file name
			{"  ?! ", "", nil},                // no words
		} {
			if got := find(c.query, c.conv); !slices.Equal(got, c.want) {
				t.Errorf("search %q in %q = %q, want %q", c.query, c.conv, got, c.want)
			}
		}

		// Sent: the pending message becomes a hit once it has its seq.
		must(t, s.Apply(ctx, Applied{Conversation: convA, Seq: 6, Message: &content.MessageRecord{Conversation: convA, Seq: 6, ClientID: "pending",
			SenderDevice: 70, Outgoing: true, Kind: content.KindText, Text: "cafe draft not sent", SentAt: base.Add(9 * time.Minute),
			StoredAt: base.Add(9 * time.Minute), Status: content.StatusSent}}))
		if got := find("draft", ""); !slices.Equal(got, []string{"cafe draft not sent"}) {
			t.Errorf("after sending: %q", got)
		}
		// An edit is found by its new words only; a message deleted for
		// everyone, deleted for me or expired is not found at all.
		must(t, s.Edit(ctx, convA, 2, "Meet at the bakery", base.Add(20*time.Minute), 30))
		if got := find("cafe", ""); !slices.Equal(got, []string{"cafe draft not sent", "cafeteria is closed"}) {
			t.Errorf("after the edit, cafe = %q", got)
		}
		if got := find("bakery", ""); !slices.Equal(got, []string{"Meet at the bakery"}) {
			t.Errorf("after the edit, bakery = %q", got)
		}
		must(t, s.DeleteMessage(ctx, convA, 3, 8, false))
		must(t, s.DeleteForMe(ctx, convA, 6))
		if got := find("cafe", ""); len(got) != 0 {
			t.Errorf("after deletes, cafe = %q", got)
		}
		if _, err := s.Expire(ctx, convB, base.Add(4*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if got := find("zurich", ""); !slices.Equal(got, []string{"Crème brûlée in Zürich?"}) {
			t.Errorf("after expiry, zurich = %q", got)
		}
		s = reopen()
		if got := find("zur bru", ""); !slices.Equal(got, []string{"Crème brûlée in Zürich?"}) {
			t.Errorf("after reopening = %q", got)
		}
		if got := find("bakery", convA); !slices.Equal(got, []string{"Meet at the bakery"}) {
			t.Errorf("edit after reopening = %q", got)
		}
	})
}

// TestSearchWords: what search compares.
func TestSearchWords(t *testing.T) {
	for in, want := range map[string][]string{
		"Crème Brûlée, à Zürich!": {"creme", "brulee", "a", "zurich"},
		"e\u0301te\u0301 ÉTÉ":     {"ete", "ete"},
		"10:30 — naïve_coöp":      {"10", "30", "naive", "coop"},
		"Ολα ΚΑΛΆ 日本語":            {"ολα", "καλά", "日本語"},
		"":                        nil,
	} {
		if got := SearchWords(in); !slices.Equal(got, want) {
			t.Errorf("SearchWords(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStoreContractKinds(t *testing.T) {
	forEachStore(t, func(t *testing.T, reopen func() Store) {
		ctx := context.Background()
		s := reopen()
		base := time.UnixMilli(1_700_000_000_000)
		must(t, s.Apply(ctx, Applied{Conversation: convA, Group: []byte("g"), Chat: &Chat{Kind: parley.KindGroup, Title: "G"}}))
		for i := 1; i <= 4; i++ {
			m := msg(convA, parley.Seq(i), "m"+string(rune('0'+i)), false, "text", content.StatusReceived, base.Add(time.Duration(i)*time.Hour))
			must(t, s.Apply(ctx, Applied{Conversation: convA, Seq: parley.Seq(i), Message: m}))
		}
		must(t, s.PutExtras(ctx, convA, 70, "m2", content.Ext{ReplyTo: 1, Mentions: []parley.UserID{8}}))
		must(t, s.PutExtras(ctx, convA, 70, "m2", content.Ext{ReplyTo: 3})) // idempotent: first wins
		must(t, s.PutExtras(ctx, convA, 70, "m3", content.Ext{Poll: &content.PollSpec{Question: "Q?", Options: []string{"a", "b"}, Multi: true}}))
		must(t, s.React(ctx, convA, 1, 8, "👍", 10))
		must(t, s.React(ctx, convA, 1, 9, "🎉", 11))
		must(t, s.React(ctx, convA, 1, 8, "❤", 9)) // older: ignored
		must(t, s.React(ctx, convA, 1, 9, "", 12)) // removed
		must(t, s.Edit(ctx, convA, 1, "edited twice", base.Add(2*time.Minute), 14))
		must(t, s.Edit(ctx, convA, 1, "edited once", base.Add(time.Minute), 13)) // older: ignored
		must(t, s.Vote(ctx, convA, 3, 8, []int{0, 1}, 15))
		must(t, s.Vote(ctx, convA, 3, 9, []int{1}, 16))
		must(t, s.Vote(ctx, convA, 3, 9, nil, 17)) // retracted
		must(t, s.React(ctx, convA, 4, 8, "x", 18))
		must(t, s.DeleteMessage(ctx, convA, 4, 9, true))
		must(t, s.SetTimer(ctx, convA, time.Hour))

		check := func(s Store) {
			t.Helper()
			ex, err := s.Extras(ctx, convA, []parley.Seq{1, 2, 3, 4, 99})
			must(t, err)
			if _, ok := ex[99]; ok {
				t.Fatal("extras for a missing message")
			}
			if e := ex[1]; !e.Edited || !e.EditedAt.Equal(base.Add(2*time.Minute)) || len(e.Reactions) != 1 || e.Reactions[8] != "👍" {
				t.Fatalf("extras 1 = %+v", e)
			}
			if e := ex[2]; e.ReplyTo != 1 || !slices.Equal(e.Mentions, []parley.UserID{8}) {
				t.Fatalf("extras 2 = %+v", e)
			}
			if e := ex[3]; e.Poll == nil || e.Poll.Question != "Q?" || !e.Poll.Multi || !slices.Equal(e.Poll.Tallies, []int{1, 1}) || len(e.Poll.Votes) != 1 {
				t.Fatalf("extras 3 = %+v", e)
			}
			if e := ex[4]; !e.Deleted || !e.DeletedByAdmin || len(e.Reactions) != 0 {
				t.Fatalf("extras 4 = %+v", e)
			}
			m, _ := s.Message(ctx, convA, 1)
			if m.Text != "edited twice" {
				t.Fatalf("edited text = %q", m.Text)
			}
			m, _ = s.Message(ctx, convA, 4)
			if m.Kind != content.KindDeleted || m.Text != "" {
				t.Fatalf("deleted message = %+v", m)
			}
			tm, err := s.Timers(ctx)
			must(t, err)
			if tm[convA] != time.Hour || len(tm) != 1 {
				t.Fatalf("timers = %v", tm)
			}
		}
		check(s)
		s = reopen()
		check(s)

		// Expire everything sent before message 3.
		n, err := s.Expire(ctx, convA, base.Add(3*time.Hour))
		must(t, err)
		if n != 2 {
			t.Fatalf("expired %d, want 2", n)
		}
		s = reopen()
		ms, _ := s.Messages(ctx, convA, 0)
		if len(ms) != 2 || ms[0].Seq != 3 {
			t.Fatalf("after expiry: %+v", ms)
		}
		ex, _ := s.Extras(ctx, convA, []parley.Seq{1, 2})
		if len(ex) != 0 {
			t.Fatalf("extras of expired messages = %+v", ex)
		}
		must(t, s.SetTimer(ctx, convA, 0))
		if tm, _ := s.Timers(ctx); len(tm) != 0 {
			t.Fatalf("timers after off = %v", tm)
		}
	})
}

// A failed commit changes neither the KV nor what the store reports: a
// closed tab never leaves half a step.
func TestKVStoreFailedCommit(t *testing.T) {
	ctx := context.Background()
	kv := NewMemKV()
	s, err := OpenKV(ctx, kv)
	must(t, err)
	must(t, s.Apply(ctx, Applied{Conversation: convA, Group: []byte("g"), Epoch: 1, Chat: &Chat{Kind: parley.KindDirect, Title: "A"}}))
	before, _ := kv.Load(ctx)
	kv.FailCommit = errors.New("disk full")
	err = s.Apply(ctx, Applied{Conversation: convA, Seq: 1, Group: []byte("g2"), Epoch: 2,
		Message: msg(convA, 1, "c1", false, "lost", content.StatusReceived, time.Now())})
	if err == nil {
		t.Fatal("apply with a failing KV succeeded")
	}
	after, _ := kv.Load(ctx)
	if len(after) != len(before) {
		t.Fatalf("KV changed by a failed commit: %d keys, was %d", len(after), len(before))
	}
	g, _ := s.Group(ctx, convA)
	ch, _ := s.Chat(ctx, convA)
	ms, _ := s.Messages(ctx, convA, 0)
	if string(g) != "g" || ch.Cursor != 0 || ch.Epoch != 1 || len(ms) != 0 {
		t.Fatalf("memory ran ahead of the KV: group %q chat %+v messages %d", g, ch, len(ms))
	}
	kv.FailCommit = nil
	must(t, s.Apply(ctx, Applied{Conversation: convA, Seq: 1, Message: msg(convA, 1, "c1", false, "kept", content.StatusReceived, time.Now())}))
	if kv.Commits() != 2 {
		t.Fatalf("commits = %d, want 2 (one per step)", kv.Commits())
	}
}

// Records are stored whole, so a field the KV store does not know (added by
// a later version) survives a load and a rewrite.
func TestKVStoreKeepsRecordsWhole(t *testing.T) {
	ctx := context.Background()
	kv := NewMemKV()
	must(t, kv.Commit(ctx, map[string][]byte{
		"c/" + string(convA): []byte(`{"ID":"` + string(convA) + `","Kind":"direct","Title":"T"}`),
		"zz/unknown":         []byte(`kept`),
	}, nil))
	s, err := OpenKV(ctx, kv)
	must(t, err)
	ch, err := s.Chat(ctx, convA)
	must(t, err)
	if ch.Title != "T" {
		t.Fatalf("chat = %+v", ch)
	}
	data, _ := kv.Load(ctx)
	if string(data["zz/unknown"]) != "kept" {
		t.Fatal("an unknown key was dropped")
	}
}

// After reopening, each kind of access sees the same messages whatever
// was read before it (the KV store decodes messages only as needed).
func TestStoreContractReopenAccessOrder(t *testing.T) {
	forEachStore(t, func(t *testing.T, reopen func() Store) {
		ctx := context.Background()
		s := reopen()
		base := time.UnixMilli(1_700_000_000_000)
		must(t, s.Apply(ctx, Applied{Conversation: convA, Group: []byte("g"), Chat: &Chat{Kind: parley.KindDirect, Title: "A"}}))
		for i := 1; i <= 20; i++ {
			m := msg(convA, parley.Seq(i), fmt.Sprintf("m%02d", i), i%3 == 0, fmt.Sprintf("text %02d", i), content.StatusReceived, base.Add(time.Duration(i)*time.Second))
			if m.Outgoing {
				m.Status = content.StatusSent
			}
			must(t, s.Apply(ctx, Applied{Conversation: convA, Seq: parley.Seq(i), Message: m}))
		}
		must(t, s.Apply(ctx, Applied{Conversation: convA, Message: msg(convA, 0, "p1", true, "pending", content.StatusPending, base.Add(time.Minute))}))

		// The last 3 first: the pending one is newest.
		s = reopen()
		ms, err := s.Messages(ctx, convA, 3)
		must(t, err)
		if got := texts(ms); !slices.Equal(got, []string{"text 19", "text 20", "pending"}) {
			t.Fatalf("last 3 = %q", got)
		}
		// Without a pending one, the last 3 by seq.
		must(t, s.MarkSent(ctx, convA, "p1", 21))
		s = reopen()
		ms, err = s.Messages(ctx, convA, 3)
		must(t, err)
		if got := texts(ms); !slices.Equal(got, []string{"text 19", "text 20", "pending"}) || ms[2].Seq != 21 {
			t.Fatalf("last 3 after sent = %q", got)
		}
		// An edit of a message not read since reopening.
		must(t, s.Edit(ctx, convA, 5, "edited 05", base, 30))
		must(t, s.DeleteMessage(ctx, convA, 7, 7, false))
		must(t, s.MarkRead(ctx, convA, 10))
		s = reopen()
		ch, err := s.Chat(ctx, convA)
		must(t, err)
		// Incoming: 20 minus every third (6) = 14; read up to 10: 7 of them.
		if ch.Unread != 7 || ch.LastText != "pending" {
			t.Fatalf("chat = %+v", ch)
		}
		m, err := s.Message(ctx, convA, 5)
		must(t, err)
		if m.Text != "edited 05" {
			t.Fatalf("edited = %+v", m)
		}
		if m, _ := s.Message(ctx, convA, 7); m.Kind != content.KindDeleted {
			t.Fatalf("deleted = %+v", m)
		}
		all, err := s.Messages(ctx, convA, 0)
		must(t, err)
		if len(all) != 21 || all[4].Text != "edited 05" || all[9].Status != content.StatusRead || all[10].Status != content.StatusReceived {
			t.Fatalf("all = %q", texts(all))
		}
		if p, _ := s.PendingMessages(ctx); len(p) != 0 {
			t.Fatalf("pending after sent: %+v", p)
		}
	})
}
