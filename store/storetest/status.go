package storetest

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley"
)

// testStatusPosts: a post is stored once per client id with its audience;
// the feed shows a viewer the unexpired posts shared with them and their
// own, newest first, with their view state; a view is recorded only for an
// audience member, the first one kept; only expired posts are listed for
// pruning; deletion removes the post, its audience and views.
func testStatusPosts(t *testing.T, s parley.Store) {
	ctx := t.Context()
	alice, bob, carol := MustUser(t, s).ID, MustUser(t, s).ID, MustUser(t, s).ID
	day := 24 * time.Hour
	audience := []parley.UserID{bob}
	for i := range 1200 { // more than one INSERT batch
		audience = append(audience, parley.UserID(1_000_000+i))
	}
	p1 := parley.StatusPost{ID: parley.NewStatusID(), Poster: alice, PosterDevice: 7, ClientID: "c1", KeyID: "k1",
		Ciphertext: []byte("sealed one"), Media: parley.NewBlobID(), MediaSize: 4096, Audience: audience, CreatedAt: t0, ExpiresAt: t0.Add(day)}
	got, created, err := s.CreateStatusPost(ctx, p1)
	must(t, err)
	if !created || got.ID != p1.ID {
		t.Fatalf("create: %v %+v", created, got)
	}
	again := p1
	again.ID, again.Ciphertext = parley.NewStatusID(), []byte("retry")
	got, created, err = s.CreateStatusPost(ctx, again)
	must(t, err)
	if created || got.ID != p1.ID || !bytes.Equal(got.Ciphertext, p1.Ciphertext) || !got.CreatedAt.Equal(t0) {
		t.Fatalf("a retried post: created %v, %+v", created, got)
	}
	p2 := parley.StatusPost{ID: parley.NewStatusID(), Poster: alice, PosterDevice: 7, ClientID: "c2", KeyID: "k2",
		Ciphertext: []byte("sealed two"), Audience: []parley.UserID{bob, carol}, CreatedAt: t0.Add(time.Hour), ExpiresAt: t0.Add(time.Hour + day)}
	_, _, err = s.CreateStatusPost(ctx, p2)
	must(t, err)

	stored, err := s.StatusPost(ctx, p1.ID)
	must(t, err)
	aud, err := s.StatusAudience(ctx, p1.ID)
	must(t, err)
	in, err := s.InStatusAudience(ctx, p1.ID, bob)
	must(t, err)
	out, err := s.InStatusAudience(ctx, p1.ID, carol)
	must(t, err)
	if len(aud) != len(audience) || !slices.Contains(aud, bob) || !in || out || len(stored.Audience) != 0 || stored.Media != p1.Media || stored.MediaSize != 4096 || !stored.ExpiresAt.Equal(p1.ExpiresAt) {
		t.Fatalf("stored post: %d in audience, %+v", len(stored.Audience), stored.ID)
	}
	if _, err := s.StatusPost(ctx, parley.NewStatusID()); parley.ErrorReason(err) != parley.ReasonStatusNotFound {
		t.Fatalf("a missing post: %v", err)
	}

	now := t0.Add(2 * time.Hour)
	ids := func(items []parley.StatusFeedItem) []parley.StatusID {
		var out []parley.StatusID
		for _, it := range items {
			out = append(out, it.ID)
		}
		return out
	}
	feed, err := s.StatusFeed(ctx, bob, now, 100)
	must(t, err)
	if !slices.Equal(ids(feed), []parley.StatusID{p2.ID, p1.ID}) || feed[0].Mine || !feed[0].ViewedAt.IsZero() || len(feed[0].Audience) != 0 {
		t.Fatalf("bob's feed: %+v", feed)
	}
	if feed, _ := s.StatusFeed(ctx, carol, now, 100); !slices.Equal(ids(feed), []parley.StatusID{p2.ID}) {
		t.Fatalf("carol's feed: %v", ids(feed))
	}
	if feed, _ := s.StatusFeed(ctx, bob, now, 1); !slices.Equal(ids(feed), []parley.StatusID{p2.ID}) {
		t.Fatalf("bob's feed limited to one post: %v", ids(feed))
	}

	if err := s.MarkStatusViewed(ctx, p1.ID, carol, now); parley.ErrorReason(err) != parley.ReasonStatusNotFound {
		t.Fatalf("a view by someone outside the audience: %v", err)
	}
	must(t, s.MarkStatusViewed(ctx, p1.ID, bob, now))
	must(t, s.MarkStatusViewed(ctx, p1.ID, bob, now.Add(time.Minute)))
	views, err := s.StatusViews(ctx, p1.ID)
	must(t, err)
	if len(views) != 1 || views[0].User != bob || !views[0].At.Equal(now) {
		t.Fatalf("views: %+v", views)
	}
	feed, _ = s.StatusFeed(ctx, bob, now, 100)
	if !feed[1].ViewedAt.Equal(now) {
		t.Fatalf("bob's view is not in his feed: %+v", feed[1])
	}
	mine, err := s.StatusFeed(ctx, alice, now, 100)
	must(t, err)
	if !slices.Equal(ids(mine), []parley.StatusID{p2.ID, p1.ID}) || !mine[1].Mine || mine[1].Views != 1 || mine[0].Views != 0 {
		t.Fatalf("alice's own posts: %+v", mine)
	}
	if n, err := s.CountStatusPosts(ctx, alice, t0); err != nil || n != 2 {
		t.Fatalf("count: %d, %v", n, err)
	}

	// p1 expires first.
	later := t0.Add(day)
	if feed, _ := s.StatusFeed(ctx, bob, later, 100); !slices.Equal(ids(feed), []parley.StatusID{p2.ID}) {
		t.Fatalf("bob's feed after p1 expired: %v", ids(feed))
	}
	exp, err := s.ExpiredStatusPosts(ctx, later, 10)
	must(t, err)
	if len(exp) != 1 || exp[0].ID != p1.ID || exp[0].Media != p1.Media {
		t.Fatalf("expired: %+v", exp)
	}
	must(t, s.DeleteStatusPost(ctx, p1.ID))
	must(t, s.DeleteStatusPost(ctx, p1.ID))
	if _, err := s.StatusPost(ctx, p1.ID); !parley.IsCode(err, parley.CodeNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	if aud, _ := s.StatusAudience(ctx, p1.ID); len(aud) != 0 {
		t.Fatalf("audience of a deleted post: %v", aud)
	}
	if views, _ := s.StatusViews(ctx, p1.ID); len(views) != 0 {
		t.Fatalf("views of a deleted post: %+v", views)
	}
	if exp, _ := s.ExpiredStatusPosts(ctx, later, 10); len(exp) != 0 {
		t.Fatalf("expired after delete: %+v", exp)
	}
}
