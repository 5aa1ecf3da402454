package client_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/mls"
)

// Out-of-band trees are tested with a tiny threshold: groups of more than
// two members keep the tree out of band, and a commit adds one device.
// (Each test registers few users: the server allows 10 unauthenticated
// account requests in a burst.)
const (
	testInlineTree = 2
	testMaxAdds    = 1
)

// mustRegisterSmall registers a user whose client keeps the ratchet tree
// out of band above testInlineTree members and adds testMaxAdds devices a
// commit.
func mustRegisterSmall(t *testing.T, serverURL string, codes *codeBook, phone, name string) *user {
	t.Helper()
	return mustRegisterCfg(t, serverURL, codes, phone, name, client.Config{InlineTreeMembers: testInlineTree, MaxAddsPerCommit: testMaxAdds})
}

// mustRegisterCfg registers a user whose client has cfg's large-group
// settings.
func mustRegisterCfg(t *testing.T, serverURL string, codes *codeBook, phone, name string, cfg client.Config) *user {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := client.Open(context.Background(), client.Config{Dir: t.TempDir(), Events: true, DeviceName: name,
		InlineTreeMembers: cfg.InlineTreeMembers, MaxAddsPerCommit: cfg.MaxAddsPerCommit, MaxInlineCommitBytes: cfg.MaxInlineCommitBytes,
		CipherSuite: cfg.CipherSuite,
		Logger:      slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := c.Register(ctx, serverURL, phone, name); err != nil {
		t.Fatalf("register %s: %v", phone, err)
	}
	if _, err := c.Verify(ctx, codes.MustCode(t, phone), ""); err != nil {
		t.Fatalf("verify %s: %v", phone, err)
	}
	return &user{Client: c, phone: phone}
}

// treeHTTP makes a tree request as u's device.
func treeHTTP(t *testing.T, ts *testServer, u *user, method, path string, body io.Reader) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	acct := u.Account()
	req.Header.Set("Authorization", fmt.Sprintf("Parley %d:%s", acct.Device, base64.StdEncoding.EncodeToString(acct.Secret)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestTreeOutOfBand(t *testing.T) {
	ts := mustServer(t)
	ctx := ctxT(t)
	admin := mustRegisterSmall(t, ts.URL, ts.Codes, phone(2001), "Admin")
	var members []*user
	var refs []string
	for i := range 3 {
		u := mustRegisterSmall(t, ts.URL, ts.Codes, phone(2002+i), fmt.Sprintf("M%d", i))
		members = append(members, u)
		refs = append(refs, u.phone)
	}
	// Creation adds one device with the tree inline (epoch 1); the other
	// two come in two batched commits with the tree out of band.
	res, err := admin.CreateGroup(ctx, "Big", refs, client.GroupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	id := res.Group.ID
	if len(res.Added) != 3 || len(res.Group.Members) != 4 {
		t.Fatalf("created %+v", res)
	}
	conv, err := ts.store.Conversation(ctx, id)
	if err != nil || conv.Epoch != 3 {
		t.Fatalf("conversation after batched adds: epoch %d, %v; want 3 (create + 2 batches)", conv.Epoch, err)
	}
	if _, err := ts.store.RatchetTreeAt(ctx, id, 1); parley.ErrorReason(err) != "tree_not_found" {
		t.Fatalf("epoch 1 (inline tree) has a stored tree: %v", err)
	}
	for _, e := range []parley.Epoch{2, 3} {
		if _, err := ts.store.RatchetTreeAt(ctx, id, e); err != nil {
			t.Fatalf("tree of epoch %d: %v", e, err)
		}
	}
	// Every member joined by Welcome (members 1 and 2 from a Welcome
	// without the tree) and messages flow both ways.
	mustSynced(t, ctx, members...)
	mustGroupMessage(t, ctx, admin, id, "hello everyone", members...)
	mustGroupMessage(t, ctx, members[2], id, "hello from the last batch", admin, members[0])

	// Joining by link: an external commit from a GroupInfo without the
	// tree, itself committed out of band.
	link, err := admin.CreateInviteLink(ctx, string(id), client.LinkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	joiner := mustRegisterSmall(t, ts.URL, ts.Codes, phone(2010), "Joiner")
	if jr, err := joiner.JoinByLink(ctx, link.Link); err != nil || jr.Pending {
		t.Fatalf("join by link: %+v, %v", jr, err)
	}
	conv, _ = ts.store.Conversation(ctx, id)
	if _, err := ts.store.RatchetTreeAt(ctx, id, conv.Epoch); err != nil || conv.Epoch != 4 {
		t.Fatalf("the joiner's epoch %d has no tree: %v", conv.Epoch, err)
	}
	mustSynced(t, ctx, admin, members[0])
	mustGroupMessage(t, ctx, joiner, id, "thanks for the link", admin, members[0])
	mustGroupMessage(t, ctx, admin, id, "welcome joiner", joiner, members[1])

	// A linked device joins by external commit (default threshold: it
	// fetches the tree, then commits with the tree inline).
	linked := mustLink(t, ts, members[2])
	mustEvent(t, linked.Client, "linked device joins the group", func(ev client.Event) bool {
		return ev.Kind == client.EventConversation && ev.Conversation == id
	})
	mustSynced(t, ctx, admin)
	mustGroupMessage(t, ctx, admin, id, "hello linked device", linked)
	mustGroupMessage(t, ctx, linked, id, "linked device here", admin, joiner)

}

// A deployment configured for the post-quantum hybrid suite creates its
// groups on it (batched adds with the tree out of band included), and
// messages flow.
func TestTreeOutOfBandPostQuantum(t *testing.T) {
	ts := mustServer(t)
	ctx := ctxT(t)
	cfg := client.Config{InlineTreeMembers: testInlineTree, MaxAddsPerCommit: testMaxAdds,
		CipherSuite: mls.MLS_128_MLKEM768X25519_AES128GCM_SHA256_Ed25519}
	admin := mustRegisterCfg(t, ts.URL, ts.Codes, phone(2101), "Admin", cfg)
	var members []*user
	var refs []string
	for i := range 3 {
		u := mustRegisterCfg(t, ts.URL, ts.Codes, phone(2102+i), fmt.Sprintf("M%d", i), cfg)
		members = append(members, u)
		refs = append(refs, u.phone)
	}
	res, err := admin.CreateGroup(ctx, "Big and post-quantum", refs, client.GroupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	conv, err := ts.store.Conversation(ctx, res.Group.ID)
	if err != nil {
		t.Fatal(err)
	}
	var gi mls.MLSMessage
	if err := gi.Unmarshal(conv.GroupInfo); err != nil || gi.GroupInfo == nil {
		t.Fatalf("stored GroupInfo: %v", err)
	}
	if cs := gi.GroupInfo.GroupContext.CipherSuite; cs != mls.MLS_128_MLKEM768X25519_AES128GCM_SHA256_Ed25519 {
		t.Fatalf("group created on %v", cs)
	}
	mustSynced(t, ctx, members...)
	mustGroupMessage(t, ctx, admin, res.Group.ID, "hello, quantum-safe", members...)
	mustGroupMessage(t, ctx, members[2], res.Group.ID, "from the last batch", admin, members[0])
}

// TestTreeTampered: a server that alters the tree it hands out cannot get
// a joiner to accept it.
func TestTreeTampered(t *testing.T) {
	ts := mustServer(t)
	ctx := ctxT(t)
	// A proxy in front of the real server flips one byte of every tree.
	target, _ := url.Parse(ts.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	tampered := 0
	proxy.ModifyResponse = func(resp *http.Response) error {
		if resp.Request.Method != http.MethodGet || !strings.HasPrefix(resp.Request.URL.Path, "/mls/v1/trees/") || resp.StatusCode != http.StatusOK {
			return nil
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		b[len(b)/2] ^= 0x01
		tampered++
		resp.Body = io.NopCloser(bytes.NewReader(b))
		return nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ps := &http.Server{Handler: proxy}
	go func() { _ = ps.Serve(ln) }()
	t.Cleanup(func() { _ = ps.Close() })
	proxyURL := "http://" + ln.Addr().String()

	admin := mustRegisterSmall(t, ts.URL, ts.Codes, phone(2101), "Admin")
	m1 := mustRegisterSmall(t, ts.URL, ts.Codes, phone(2102), "M1")
	m2 := mustRegisterSmall(t, ts.URL, ts.Codes, phone(2103), "M2")
	res, err := admin.CreateGroup(ctx, "Guarded", []string{m1.phone, m2.phone}, client.GroupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	link, err := admin.CreateInviteLink(ctx, string(res.Group.ID), client.LinkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	victim := mustRegisterSmall(t, proxyURL, ts.Codes, phone(2104), "Victim")
	_, err = victim.JoinByLink(ctx, link.Link)
	if err == nil || tampered == 0 {
		t.Fatalf("join with a tampered tree: err %v after %d tampered trees; want refused", err, tampered)
	}
	t.Logf("refused: %v", err)
	if !strings.Contains(err.Error(), "external join") {
		t.Fatalf("join with a tampered tree failed for another reason: %v", err)
	}
	id := res.Group.ID
	g, err := admin.Group(ctx, string(id))
	if err != nil || g.IsMember(victim.Account().User) {
		t.Fatalf("victim is a member after a refused join: %v", err)
	}

	// A non-member cannot read or upload a tree: the victim, once the
	// link is revoked and its invitation (from redeeming it) declined.
	outsider := victim
	if err := admin.RevokeInviteLink(ctx, string(id), link.Link); err != nil {
		t.Fatal(err)
	}
	if err := outsider.DeclineGroupInvitation(ctx, string(id)); err != nil && !parley.IsCode(err, parley.CodeNotFound) {
		t.Fatal(err)
	}
	conv, err := ts.store.Conversation(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	treePath := fmt.Sprintf("/mls/v1/trees/%s/%d", id, conv.Epoch)
	if code, body := treeHTTP(t, ts, outsider, http.MethodGet, treePath, nil); code != http.StatusNotFound || !strings.Contains(body, `"code":"not_found"`) {
		t.Fatalf("outsider fetches a tree: %d %s", code, body)
	}
	if code, body := treeHTTP(t, ts, outsider, http.MethodPut, "/mls/v1/trees?conversation="+string(id), strings.NewReader("x")); code != http.StatusNotFound {
		t.Fatalf("outsider uploads a tree: %d %s", code, body)
	}
	if code, _ := treeHTTP(t, ts, m1, http.MethodGet, treePath, nil); code != http.StatusOK {
		t.Fatalf("member fetches the tree: %d", code)
	}
	// An oversized upload is refused (sent without a length, so the
	// server has to count).
	big := io.MultiReader(bytes.NewReader(make([]byte, 4<<20)), strings.NewReader("!"))
	if code, body := treeHTTP(t, ts, admin, http.MethodPut, "/mls/v1/trees?conversation="+string(id), big); code != http.StatusRequestEntityTooLarge || !strings.Contains(body, "tree_too_large") {
		t.Fatalf("oversized upload: %d %s", code, body)
	}
	code, body := treeHTTP(t, ts, admin, http.MethodPut, "/mls/v1/trees?conversation="+string(id), strings.NewReader("admin's tree"))
	if code != http.StatusCreated || !strings.Contains(body, string(parley.TreeRefOf([]byte("admin's tree")))) {
		t.Fatalf("upload: %d %s", code, body)
	}
}

// TestCommitOutOfBand: with MaxInlineCommitBytes 1 every commit goes out of
// band (as removals and external joins must in large groups whose members
// have not committed yet): members fetch it and messages still flow.
func TestCommitOutOfBand(t *testing.T) {
	ts := mustServer(t)
	ctx := ctxT(t)
	cfg := client.Config{InlineTreeMembers: testInlineTree, MaxAddsPerCommit: testMaxAdds, MaxInlineCommitBytes: 1}
	admin := mustRegisterCfg(t, ts.URL, ts.Codes, phone(2201), "Admin", cfg)
	m1 := mustRegisterCfg(t, ts.URL, ts.Codes, phone(2202), "M1", cfg)
	m2 := mustRegisterCfg(t, ts.URL, ts.Codes, phone(2203), "M2", cfg)
	res, err := admin.CreateGroup(ctx, "Heavy", []string{m1.phone, m2.phone}, client.GroupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	id := res.Group.ID
	// The batch adding m2 (epoch 1 -> 2) went out of band; m1 processed it.
	if _, err := ts.store.LargeCommitAt(ctx, id, 1); err != nil {
		t.Fatalf("the batch commit is not out of band: %v", err)
	}
	mustSynced(t, ctx, m1, m2)
	mustGroupMessage(t, ctx, admin, id, "heavy hello", m1, m2)

	// An external commit out of band.
	link, err := admin.CreateInviteLink(ctx, string(id), client.LinkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	joiner := mustRegisterCfg(t, ts.URL, ts.Codes, phone(2204), "Joiner", cfg)
	if _, err := joiner.JoinByLink(ctx, link.Link); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.store.LargeCommitAt(ctx, id, 2); err != nil {
		t.Fatalf("the external commit is not out of band: %v", err)
	}
	mustSynced(t, ctx, admin, m1, m2)
	mustGroupMessage(t, ctx, joiner, id, "joined heavily", admin, m1, m2)

	// A removal out of band: m2 can no longer read the group.
	if err := admin.RemoveGroupMember(ctx, string(id), m2.phone); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.store.LargeCommitAt(ctx, id, 3); err != nil {
		t.Fatalf("the removal is not out of band: %v", err)
	}
	mustSynced(t, ctx, m1, joiner)
	mustGroupMessage(t, ctx, m1, id, "after the removal", admin, joiner)
	if _, err := m2.Send(ctx, string(id), "still here?"); err == nil {
		t.Fatal("a removed member sent to the group")
	}
}
