package status_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/blob/disk"
	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/client/status"
	"github.com/parleyhq/parley/media"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/server"
)

type env struct {
	t     testing.TB
	srv   *parleytest.Server
	clock *parleytest.Clock
	blobs string
	n     int
}

func start(t testing.TB) *env {
	dir := t.TempDir()
	blobs, err := disk.Open(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, clock: parleytest.NewClock(time.Now().UTC()), blobs: filepath.Join(dir, "blobs")}
	e.srv = parleytest.Start(t, func(c *server.Config) {
		c.Clock = e.clock
		c.Media = &media.Config{Blobs: blobs, StagingDir: filepath.Join(dir, "uploads")}
	})
	return e
}

func (e *env) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	e.t.Cleanup(cancel)
	return ctx
}

type user struct {
	c     *client.Client
	s     *status.Status
	phone string
	id    parley.UserID
}

func (e *env) user(name string) *user {
	t := e.t
	e.n++
	phone := fmt.Sprintf("+1415558%04d", e.n)
	c, err := client.Open(e.ctx(), client.Config{Dir: t.TempDir(), ServerURL: e.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := c.Register(e.ctx(), e.srv.URL, phone, name); err != nil {
		t.Fatal(err)
	}
	acct, err := c.Verify(e.ctx(), e.srv.Codes.Code(phone), "")
	if err != nil {
		t.Fatal(err)
	}
	return &user{c: c, s: status.New(c, e.clock.Now), phone: phone, id: acct.User}
}

func (e *env) blobCount() int {
	n := 0
	filepath.WalkDir(e.blobs, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func ids(ps []status.Post) []parley.StatusID {
	var out []parley.StatusID
	for _, p := range ps {
		out = append(out, p.ID)
	}
	return out
}

// TestStatusStory: issue 16's status story through real clients and a
// real server. A post to "only bob" reaches bob and not carol, who is in
// alice's contacts; a post to all contacts (an image) reaches both, its
// media stored once; leaving carol out again starts a new key she never
// gets; views are listed for alice, except carol's, whose receipts are
// off; bob's private reply lands in the 1:1 chat quoting the post; a
// muted poster's posts are hidden; an early delete removes a post and its
// blob; after 24 hours every post is gone from the feeds, and the prune
// removes them and their blobs from the server.
func TestStatusStory(t *testing.T) {
	e := start(t)
	ctx := e.ctx()
	alice, bob, carol := e.user("alice"), e.user("bob"), e.user("carol")
	for _, u := range []*user{bob, carol} {
		_, err := alice.c.AddContact(ctx, u.phone)
		must(t, err)
		_, err = u.c.AddContact(ctx, alice.phone)
		must(t, err)
	}

	only, err := status.ParseAudience("only:" + bob.phone)
	must(t, err)
	p1, err := alice.s.Post(ctx, status.PostOptions{Text: "status-marker: only for bob", Background: "#112233", Font: "serif", Audience: &only})
	must(t, err)
	e.clock.Advance(time.Minute)
	if p1.Audience != 1 || !p1.Rotated || p1.KeysSent != 1 {
		t.Fatalf("the first post: %+v", p1)
	}
	bl, err := bob.s.List(ctx, false)
	must(t, err)
	if len(bl) != 1 || bl[0].Text != "status-marker: only for bob" || bl[0].Background != "#112233" || bl[0].Font != "serif" || bl[0].Seen || bl[0].PosterName == "" {
		t.Fatalf("bob's list: %+v", bl)
	}
	if cl, err := carol.s.List(ctx, false); err != nil || len(cl) != 0 {
		t.Fatalf("carol's list: %+v, %v", cl, err)
	}

	// An image to all contacts: the key goes to carol now, the image is
	// stored once.
	img := filepath.Join(t.TempDir(), "crag.png")
	m := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for i := range m.Pix {
		m.Pix[i] = byte(i * 7)
	}
	m.Set(1, 1, color.RGBA{255, 0, 0, 255})
	var buf bytes.Buffer
	must(t, png.Encode(&buf, m))
	must(t, os.WriteFile(img, buf.Bytes(), 0o600))
	before := e.blobCount()
	all := status.Audience{Mode: status.AudienceContacts}
	p2, err := alice.s.Post(ctx, status.PostOptions{File: img, Text: "the crag", Audience: &all})
	must(t, err)
	e.clock.Advance(time.Minute)
	if p2.Rotated || p2.KeysSent != 1 || p2.Audience != 2 {
		t.Fatalf("the image post: %+v", p2)
	}
	if n := e.blobCount() - before; n != 1 {
		t.Fatalf("the image was stored %d times", n)
	}
	must(t, carol.s.SetShareViews(ctx, false))
	cv, err := carol.s.View(ctx, alice.phone)
	must(t, err)
	if len(cv) != 1 || cv[0].Kind != status.KindImage || cv[0].Text != "the crag" || cv[0].MediaType != "image/png" || !cv[0].Seen || len(cv[0].Thumb) == 0 {
		t.Fatalf("carol's view: %+v", cv)
	}
	got, err := carol.s.Media(ctx, cv[0])
	must(t, err)
	if !bytes.Equal(got, buf.Bytes()) {
		t.Fatal("carol's copy of the image differs")
	}
	bv, err := bob.s.View(ctx, alice.phone)
	must(t, err)
	if !slices.Equal(ids(bv), []parley.StatusID{p1.ID, p2.ID}) {
		t.Fatalf("bob's view, oldest first: %v", ids(bv))
	}
	if bl, _ := bob.s.List(ctx, false); !bl[0].Seen || !bl[1].Seen {
		t.Fatalf("bob's posts are not seen after viewing: %+v", bl)
	}

	// Only the views shared are listed, and only to the poster.
	vs, err := alice.s.Viewers(ctx, p2.ID)
	must(t, err)
	if len(vs) != 1 || vs[0].User != bob.id {
		t.Fatalf("viewers of the image: %+v", vs)
	}
	if _, err := bob.s.Viewers(ctx, p2.ID); !parley.IsCode(err, parley.CodeForbidden) {
		t.Fatalf("bob lists the viewers: %v", err)
	}
	mine, err := alice.s.List(ctx, false)
	must(t, err)
	if !slices.Equal(ids(mine), []parley.StatusID{p2.ID, p1.ID}) || !mine[0].Mine || mine[0].Views != 1 || mine[0].Kind != status.KindImage {
		t.Fatalf("alice's own posts: %+v", mine)
	}

	// Carol left out again: a new key, which she never receives.
	p3, err := alice.s.Post(ctx, status.PostOptions{Text: "status-marker: carol must not read this", Audience: &only})
	must(t, err)
	e.clock.Advance(time.Minute)
	if !p3.Rotated || p3.KeysSent != 1 || p3.KeyID == p2.KeyID {
		t.Fatalf("the post leaving carol out: %+v", p3)
	}
	must(t, carol.c.Sync(ctx))
	if _, err := carol.c.StatusStore().StatusKey(ctx, alice.id, p3.KeyID); !parley.IsCode(err, parley.CodeNotFound) {
		t.Fatalf("carol holds the new key: %v", err)
	}
	if cl, _ := carol.s.List(ctx, false); !slices.Equal(ids(cl), []parley.StatusID{p2.ID}) {
		t.Fatalf("carol's list: %v", ids(cl))
	}
	// The key message is never a message of the chat.
	_, h, err := carol.c.History(ctx, alice.phone, 100)
	must(t, err)
	if len(h) != 0 {
		t.Fatalf("carol's chat with alice shows %+v", h)
	}

	// A private reply, quoting the post, in the 1:1 chat.
	r, err := bob.s.Reply(ctx, p2.ID, "status-reply-marker: great crag")
	must(t, err)
	if _, err := bob.s.Reply(ctx, "snonexistent0000", "x"); !parley.IsCode(err, parley.CodeNotFound) {
		t.Fatalf("a reply to a missing post: %v", err)
	}
	if _, err := alice.s.Reply(ctx, p2.ID, "x"); parley.ErrorReason(err) != status.ReasonStatusMine {
		t.Fatalf("a reply to one's own post: %v", err)
	}
	must(t, alice.c.Sync(ctx))
	_, ah, err := alice.c.History(ctx, bob.phone, 100)
	must(t, err)
	var reply *client.MessageRecord
	for i := range ah {
		if ah[i].Text == "status-reply-marker: great crag" {
			reply = &ah[i]
		}
	}
	if reply == nil || reply.Conversation != r.Conversation {
		t.Fatalf("alice's chat with bob: %+v", ah)
	}
	ex, err := alice.c.Extras(ctx, reply.Conversation, reply.Seq)
	must(t, err)
	if ex.Status == nil || ex.Status.ID != string(p2.ID) || ex.Status.Poster != alice.id || ex.Status.Kind != status.KindImage || ex.Status.Preview != "the crag" || len(ex.Status.Thumb) == 0 {
		t.Fatalf("the reply's quote: %+v", ex.Status)
	}

	// Mute.
	_, err = bob.s.Mute(ctx, alice.phone)
	must(t, err)
	if bl, _ := bob.s.List(ctx, false); len(bl) != 0 {
		t.Fatalf("a muted poster's posts: %v", ids(bl))
	}
	if bl, _ := bob.s.List(ctx, true); len(bl) != 3 || !bl[0].Muted {
		t.Fatalf("with the muted: %+v", bl)
	}
	_, err = bob.s.Unmute(ctx, alice.phone)
	must(t, err)

	// An early delete, by the poster alone.
	if err := bob.s.Delete(ctx, p2.ID); !parley.IsCode(err, parley.CodeForbidden) {
		t.Fatalf("bob deletes alice's post: %v", err)
	}
	must(t, alice.s.Delete(ctx, p2.ID))
	if n := e.blobCount() - before; n != 0 {
		t.Fatalf("%d blobs after the delete", n)
	}
	if bl, _ := bob.s.List(ctx, false); !slices.Equal(ids(bl), []parley.StatusID{p3.ID, p1.ID}) {
		t.Fatalf("bob's list after the delete: %v", ids(bl))
	}

	// 24 hours later.
	p4, err := alice.s.Post(ctx, status.PostOptions{File: img, Audience: &only})
	must(t, err)
	e.clock.Advance(24*time.Hour + time.Second)
	for _, u := range []*user{alice, bob, carol} {
		if l, err := u.s.List(ctx, true); err != nil || len(l) != 0 {
			t.Fatalf("a list after 24 h: %+v, %v", l, err)
		}
	}
	n, err := e.srv.Server.Status.Prune(ctx)
	must(t, err)
	if n != 3 || e.blobCount()-before != 0 {
		t.Fatalf("pruned %d posts, %d blobs left", n, e.blobCount()-before)
	}
	if _, err := e.srv.Store.StatusPost(ctx, p4.ID); !parley.IsCode(err, parley.CodeNotFound) {
		t.Fatalf("the expired post is still stored: %v", err)
	}
}

// TestAudienceRules: audiences parse and resolve from the contacts only.
func TestAudienceRules(t *testing.T) {
	for _, bad := range []string{"", "everyone", "only:", "contacts:+1"} {
		if _, err := status.ParseAudience(bad); parley.ErrorReason(err) != status.ReasonStatusAudience {
			t.Errorf("%q: %v", bad, err)
		}
	}
	for _, good := range []string{"contacts", "except:", "except:+1,@b", "only:+1, 42"} {
		if a, err := status.ParseAudience(good); err != nil {
			t.Errorf("%q: %v", good, err)
		} else if again, err := status.ParseAudience(a.String()); err != nil || again.String() != a.String() {
			t.Errorf("%q round trip: %v %v", good, again, err)
		}
	}
	e := start(t)
	ctx := e.ctx()
	alice, bob, dave := e.user("alice"), e.user("bob"), e.user("dave")
	if _, err := alice.s.Post(ctx, status.PostOptions{Text: "hi"}); parley.ErrorReason(err) != status.ReasonStatusNoAudience {
		t.Fatalf("no contacts: %v", err)
	}
	_, err := alice.c.AddContact(ctx, bob.phone)
	must(t, err)
	only, _ := status.ParseAudience("only:" + dave.phone)
	if _, err := alice.s.Post(ctx, status.PostOptions{Text: "hi", Audience: &only}); parley.ErrorReason(err) != status.ReasonStatusNotContact {
		t.Fatalf("someone outside the contacts: %v", err)
	}
	except, _ := status.ParseAudience("except:" + bob.phone)
	if _, err := alice.s.Post(ctx, status.PostOptions{Text: "hi", Audience: &except}); parley.ErrorReason(err) != status.ReasonStatusNoAudience {
		t.Fatalf("everyone excepted: %v", err)
	}
	for name, opt := range map[string]status.PostOptions{
		status.ReasonStatusEmpty: {},
		status.ReasonStatusText:  {Text: string(bytes.Repeat([]byte("x"), status.MaxTextLen+1))},
		status.ReasonStatusStyle: {Text: "x", Background: "red"},
	} {
		if _, err := alice.s.Post(ctx, opt); parley.ErrorReason(err) != name {
			t.Errorf("%s: %v", name, err)
		}
	}
	// The default audience changes later posts only.
	must(t, alice.s.SetDefaultAudience(ctx, except))
	if a, _ := alice.s.DefaultAudience(ctx); a.String() != except.String() {
		t.Fatalf("default audience: %v", a)
	}
}

// BenchmarkKeyDistribution measures what a status key costs its poster:
// each iteration shrinks the audience to one contact (a new key, sent to
// that one) and widens it again to every contact, which sends the new key
// to the other contacts over their 1:1 MLS chats (created before the
// timer starts). Reported: ms per key message, and ms per key message
// with its 1:1 chat created first (the very first post to a contact).
//
//	go test -run '^$' -bench KeyDistribution -benchtime 5x ./client/status/
func BenchmarkKeyDistribution(b *testing.B) {
	const contacts = 20
	e := start(b)
	ctx := e.ctx()
	alice := e.user("alice")
	var first string
	for i := range contacts {
		u := e.user(fmt.Sprintf("viewer%d", i))
		if _, err := alice.c.AddContact(ctx, u.phone); err != nil {
			b.Fatal(err)
		}
		if i == 0 {
			first = u.phone
		}
	}
	only, _ := status.ParseAudience("only:" + first)
	all := status.Audience{Mode: status.AudienceContacts}
	t0 := time.Now()
	warm, err := alice.s.Post(ctx, status.PostOptions{Text: "warm-up: every 1:1 chat is created", Audience: &all})
	if err != nil {
		b.Fatal(err)
	}
	firstMs := float64(time.Since(t0).Milliseconds()) / float64(warm.KeysSent)
	sent := 0
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		if _, err := alice.s.Post(ctx, status.PostOptions{Text: "for one", Audience: &only}); err != nil {
			b.Fatal(err)
		}
		e.clock.Advance(time.Minute)
		b.StartTimer()
		p, err := alice.s.Post(ctx, status.PostOptions{Text: "for all", Audience: &all})
		if err != nil {
			b.Fatal(err)
		}
		sent += p.KeysSent
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(sent), "ms/key")
	b.ReportMetric(firstMs, "ms/key+new-chat") // ResetTimer drops metrics reported before it
}
