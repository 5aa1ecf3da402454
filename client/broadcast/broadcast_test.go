package broadcast

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/attachment"
	"github.com/parleyhq/parley/client/files"
	"github.com/parleyhq/parley/client/localstore"
	"github.com/parleyhq/parley/content"
)

// testCore is a client core over a real local store (the browser's KV
// store in memory) whose directory knows the users "+1555000NNNN" (user
// NNNN+1, in this user's contacts unless NNNN >= 9000) and whose sends are
// recorded. The end-to-end path (server, MLS, consent) is tested in
// e2e/broadcast_test.go; this tests the lists' own rules.
type testCore struct {
	st      localstore.Store
	lookups int
	sent    map[parley.ConversationID][]content.MessageRecord
	uploads int
	links   int
}

func newTestCore(t *testing.T) *testCore {
	st, err := localstore.OpenKV(context.Background(), localstore.NewMemKV())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &testCore{st: st, sent: map[parley.ConversationID][]content.MessageRecord{}}
}

func phone(n int) string { return fmt.Sprintf("+1555000%04d", n) }

func (c *testCore) Store() localstore.Store        { return c.st }
func (c *testCore) Sync(ctx context.Context) error { return nil }
func (c *testCore) Me() parley.UserID              { return 1 }
func (c *testCore) Now() time.Time                 { return time.UnixMilli(1_700_000_000_000) }
func (c *testCore) Resolve(ctx context.Context, who string) (localstore.Contact, error) {
	c.lookups++
	n, err := strconv.Atoi(strings.TrimPrefix(who, "+1555000"))
	if err != nil || !strings.HasPrefix(who, "+1555000") {
		return localstore.Contact{}, parley.Errorf(parley.CodeNotFound, "user_not_found", "no such user")
	}
	ct := localstore.Contact{User: parley.UserID(n + 1), Phone: who, Name: fmt.Sprintf("user%d", n), Contact: n < 9000,
		Devices: []localstore.DeviceKey{{Device: 1, User: parley.UserID(n + 1), IdentityKey: []byte("key")}}}
	return ct, c.st.PutContact(ctx, ct)
}
func (c *testCore) DirectChat(ctx context.Context, ct localstore.Contact) (parley.ConversationID, error) {
	return parley.ConversationID(fmt.Sprintf("c%012d", ct.User)), nil
}
func (c *testCore) SendCopy(ctx context.Context, conv parley.ConversationID, m content.MessageRecord) (content.MessageRecord, error) {
	m.Conversation, m.ClientID = conv, CopyID()
	c.sent[conv] = append(c.sent[conv], m)
	return m, nil
}
func (c *testCore) Upload(ctx context.Context, conv parley.ConversationID, path string, opt files.SendFileOptions) (attachment.Descriptor, error) {
	c.uploads++
	return attachment.Descriptor{Kind: attachment.Kind(content.KindDocument), Caption: opt.Caption}, nil
}
func (c *testCore) Link(ctx context.Context, d attachment.Descriptor, conv parley.ConversationID) error {
	c.links++
	return nil
}

func phones(from, n int) []string {
	var out []string
	for i := range n {
		out = append(out, phone(from+i))
	}
	return out
}

// TestLimit: 256 recipients work, 257 are refused with broadcast_too_many
// before any lookup; an edit past 256 is refused too.
func TestLimit(t *testing.T) {
	ctx := context.Background()
	c := newTestCore(t)
	l := New(c)

	_, err := l.CreateBroadcast(ctx, "too many", phones(1, MaxRecipients+1))
	if !parley.IsCode(err, parley.CodeInvalid) || parley.ErrorReason(err) != ReasonBroadcastTooMany || c.lookups != 0 {
		t.Fatalf("257 recipients: %v after %d lookups", err, c.lookups)
	}
	list, err := l.CreateBroadcast(ctx, "everyone", phones(1, MaxRecipients))
	if err != nil || len(list.Recipients) != MaxRecipients {
		t.Fatalf("256 recipients: %d, %v", len(list.Recipients), err)
	}
	// Repeats count once; contacts known on the device cost no lookup.
	before := c.lookups
	if _, err := l.CreateBroadcast(ctx, "twice", append(phones(1, MaxRecipients), phones(1, 10)...)); err != nil || c.lookups != before {
		t.Fatalf("256 recipients, some twice: %v, %d lookups", err, c.lookups-before)
	}
	if _, err := l.EditBroadcast(ctx, "everyone", EditOptions{Add: []string{phone(500)}}); parley.ErrorReason(err) != ReasonBroadcastTooMany {
		t.Fatalf("the 257th by edit: %v", err)
	}
	if _, err := l.EditBroadcast(ctx, "everyone", EditOptions{Add: []string{phone(500)}, Remove: []string{phone(1)}}); err != nil {
		t.Fatalf("swap one: %v", err)
	}

	sent, err := l.SendBroadcast(ctx, "everyone", "hello all")
	if err != nil || len(sent.Copies) != MaxRecipients || len(sent.Failed) != 0 || len(c.sent) != MaxRecipients {
		t.Fatalf("send to 256: %d copies, %d failed, %d chats, %v", len(sent.Copies), len(sent.Failed), len(c.sent), err)
	}
	for conv, ms := range c.sent {
		if len(ms) != 1 || ms[0].Text != "hello all" || !IsCopy(ms[0].ClientID) {
			t.Fatalf("chat %s got %+v", conv, ms)
		}
	}
}

// TestListRules: names, contacts, self, rename, delete, files uploaded once.
func TestListRules(t *testing.T) {
	ctx := context.Background()
	c := newTestCore(t)
	l := New(c)
	for _, tc := range []struct {
		name   string
		to     []string
		reason string
	}{
		{"", []string{phone(1)}, ReasonBroadcastName},
		{strings.Repeat("x", MaxNameLen+1), []string{phone(1)}, ReasonBroadcastName},
		{"bidi\u202e", []string{phone(1)}, parley.ReasonNameUnsafe},
		{"empty", nil, ReasonBroadcastEmpty},
		{"stranger", []string{phone(9001)}, ReasonBroadcastNotContact},
		{"me", []string{phone(0)}, ReasonBroadcastSelf},
	} {
		if _, err := l.CreateBroadcast(ctx, tc.name, tc.to); parley.ErrorReason(err) != tc.reason {
			t.Errorf("create %q %v: %v, want %s", tc.name, tc.to, err, tc.reason)
		}
	}
	if _, err := l.CreateBroadcast(ctx, "a", []string{phone(1), phone(2)}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.CreateBroadcast(ctx, "b", []string{phone(3)}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.CreateBroadcast(ctx, "a", []string{phone(3)}); parley.ErrorReason(err) != ReasonBroadcastNameUsed {
		t.Fatalf("a second list a: %v", err)
	}
	if _, err := l.EditBroadcast(ctx, "b", EditOptions{Rename: "a"}); parley.ErrorReason(err) != ReasonBroadcastNameUsed {
		t.Fatalf("rename b to a: %v", err)
	}
	if _, err := l.EditBroadcast(ctx, "b", EditOptions{Remove: []string{phone(3)}}); parley.ErrorReason(err) != ReasonBroadcastEmpty {
		t.Fatalf("remove the last: %v", err)
	}
	got, err := l.EditBroadcast(ctx, "b", EditOptions{Rename: "c", Add: []string{"99999"}})
	if err == nil || got.Name != "" {
		// Not a contact on this device: looked up by the directory, which knows only phones here.
		t.Fatalf("add by an unknown id: %+v, %v", got, err)
	}
	got, err = l.EditBroadcast(ctx, "b", EditOptions{Rename: "c", Add: []string{phone(4)}})
	if err != nil || got.Name != "c" || len(got.Recipients) != 2 || got.Recipients[1].Title != "user4" {
		t.Fatalf("rename and add: %+v, %v", got, err)
	}
	if _, err := l.Broadcast(ctx, "b"); parley.ErrorReason(err) != ReasonBroadcastNotFound {
		t.Fatalf("the old name: %v", err)
	}

	sent, err := l.SendBroadcastFile(ctx, "a", "topo.pdf", files.SendFileOptions{Caption: "topo"})
	if err != nil || len(sent.Copies) != 2 || c.uploads != 1 || c.links != 1 {
		t.Fatalf("file to 2: %+v, %d uploads, %d links, %v", sent, c.uploads, c.links, err)
	}
	if _, err := l.SendBroadcast(ctx, "a", "  "); parley.ErrorReason(err) != parley.ReasonEmptyMessage {
		t.Fatalf("empty text: %v", err)
	}

	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(l.DeleteBroadcast(ctx, "a"))
	if err := l.DeleteBroadcast(ctx, "a"); parley.ErrorReason(err) != ReasonBroadcastNotFound {
		t.Fatalf("delete again: %v", err)
	}
	ls, err := l.Broadcasts(ctx)
	must(err)
	if len(ls) != 1 || ls[0].Name != "c" {
		t.Fatalf("lists: %+v", ls)
	}
}
