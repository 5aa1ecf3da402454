// Package status is the server side of Status, WhatsApp's 24-hour
// stories, end-to-end encrypted: it stores each post once (a sealed post
// and at most one media blob), lets only the post's audience fetch it,
// records views for the poster alone to see, and deletes posts and their
// blobs when they expire or when the poster deletes them early.
//
// The service is crypto-blind. A post is sealed by the poster's client
// under the poster's status key, which reaches each audience member over
// their 1:1 MLS chat (package client/status,
// docs/decisions/0005-status.md); the media blob is ciphertext under a
// key inside the sealed post. What the server learns: who posted, the
// audience (user ids, needed to authorise fetches), sizes, times, and who
// viewed what (views are sent only by viewers who share them).
//
// HTTP interface (device-authenticated: Authorization: Parley id:secret):
//
//	POST   /v1/status                 a post (ContentType: length, Header JSON, media ciphertext) → 201 Created
//	GET    /v1/status[?after=T&wait=S] the caller's feed (Feed): posts shared with them and their own, newest first;
//	                                   with after, only those created after T, and with wait, waits up to S seconds
//	                                   (at most MaxWait) for one
//	GET    /v1/status/{id}/media      the post's media ciphertext (audience and poster only)
//	POST   /v1/status/{id}/views      record the caller's view (audience only) → 204
//	GET    /v1/status/{id}/views      the recorded views (Views; the poster only)
//	DELETE /v1/status/{id}            delete the post and its blob now (the poster only) → 204
//
// Guarantees:
//   - A post is stored once, whatever the audience's size: one row, one
//     blob, and one row per audience member (no copy of the ciphertext).
//   - A retried POST with the same client_id stores nothing new and
//     answers the first post.
//   - A post is served until ExpiresAt = CreatedAt + Config.Lifetime (24 h)
//     by the service's clock; Run deletes expired posts and their blobs
//     (every Config.PruneInterval), Prune does it once.
//   - A post not shared with the caller answers 404 status_not_found,
//     exactly as a missing one, so its existence is not revealed.
//   - Limits, each refused before anything is stored: the sealed post
//     (Config.MaxPostBytes, 413 status_too_large), the media
//     (Config.MaxMediaBytes, 413 status_media_too_large), the audience
//     (1 to Config.MaxAudience, 400 status_audience_empty /
//     status_audience_too_large), posts per poster in 24 hours
//     (Config.MaxPostsPerDay, 429 status_too_many).
//   - A waiting GET wakes as soon as a post for the caller is stored on
//     this node; a post stored on another node of a cluster is seen at
//     the end of the wait at the latest.
package status

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/httperr"
)

// Path is the route of the status service.
const Path = "/v1/status"

// Defaults of Config.
const (
	DefaultLifetime       = 24 * time.Hour
	DefaultMaxPostBytes   = 64 << 10 // text, a thumbnail and the media key, sealed
	DefaultMaxMediaBytes  = 32 << 20 // a 30-second video, encrypted
	DefaultMaxAudience    = 20_000
	DefaultMaxPostsPerDay = 50
	DefaultPruneInterval  = time.Minute
	// MaxWait bounds a waiting GET.
	MaxWait = 30 * time.Second
	// MaxFeed bounds the posts of one feed answer (the newest).
	MaxFeed = 500
)

// Reasons this package returns.
const (
	ReasonStatusBadPost          = "status_bad_post"           // CodeInvalid: the status upload is malformed
	ReasonStatusTooLarge         = "status_too_large"          // CodeTooLarge: the sealed status post is larger than the server allows
	ReasonStatusMediaTooLarge    = "status_media_too_large"    // CodeTooLarge: the status media is larger than the server allows
	ReasonStatusAudienceEmpty    = "status_audience_empty"     // CodeInvalid: a status post needs at least one viewer
	ReasonStatusAudienceTooLarge = "status_audience_too_large" // CodeInvalid: the status audience is larger than the server allows
	ReasonStatusTooMany          = "status_too_many"           // CodeRateLimited: too many status posts in 24 hours
	ReasonStatusNotPoster        = "status_not_poster"         // CodeForbidden: only the poster may list the views of or delete a status post
	ReasonStatusNoMedia          = "status_no_media"           // CodeNotFound: the status post has no media
)

// Config configures a Service. Store, Blobs and Authenticate are required.
type Config struct {
	Store parley.StatusStore
	Blobs parley.BlobStore
	// Authenticate returns the device a request is made by.
	Authenticate   func(r *http.Request) (parley.Device, error)
	Clock          parley.Clock
	Logger         *slog.Logger
	Lifetime       time.Duration // default DefaultLifetime
	MaxPostBytes   int           // default DefaultMaxPostBytes
	MaxMediaBytes  int64         // default DefaultMaxMediaBytes
	MaxAudience    int           // default DefaultMaxAudience
	MaxPostsPerDay int           // default DefaultMaxPostsPerDay
	PruneInterval  time.Duration // default DefaultPruneInterval
}

// Service serves Path.
type Service struct {
	cfg Config
	log *slog.Logger

	mu      sync.Mutex
	waiters map[parley.UserID]map[*waiter]struct{}
}

// New returns a Service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Blobs == nil || cfg.Authenticate == nil {
		return nil, errors.New("status: Store, Blobs and Authenticate are required")
	}
	if cfg.Clock == nil {
		cfg.Clock = parley.SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&cfg.MaxPostBytes, DefaultMaxPostBytes)
	def(&cfg.MaxAudience, DefaultMaxAudience)
	def(&cfg.MaxPostsPerDay, DefaultMaxPostsPerDay)
	if cfg.MaxMediaBytes <= 0 {
		cfg.MaxMediaBytes = DefaultMaxMediaBytes
	}
	if cfg.Lifetime <= 0 {
		cfg.Lifetime = DefaultLifetime
	}
	if cfg.PruneInterval <= 0 {
		cfg.PruneInterval = DefaultPruneInterval
	}
	return &Service{cfg: cfg, log: cfg.Logger, waiters: map[parley.UserID]map[*waiter]struct{}{}}, nil
}

// Register mounts the service on mux.
func (s *Service) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST "+Path, s.handle(s.post))
	mux.HandleFunc("GET "+Path, s.handle(s.feed))
	mux.HandleFunc("GET "+Path+"/{id}/media", s.handle(s.media))
	mux.HandleFunc("POST "+Path+"/{id}/views", s.handle(s.view))
	mux.HandleFunc("GET "+Path+"/{id}/views", s.handle(s.views))
	mux.HandleFunc("DELETE "+Path+"/{id}", s.handle(s.delete))
}

type handler func(ctx context.Context, w http.ResponseWriter, r *http.Request, dev parley.Device) error

func (s *Service) handle(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		dev, err := s.cfg.Authenticate(r)
		if err == nil {
			err = h(r.Context(), w, r, dev)
		}
		if err != nil {
			if httperr.StatusOf(err) >= 500 {
				s.log.Error("status request failed", "method", r.Method, "path", r.URL.Path, "err", err)
			}
			httperr.Write(w, r, 0, err)
		}
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

func (s *Service) post(ctx context.Context, w http.ResponseWriter, r *http.Request, dev parley.Device) error {
	var prefix [4]byte
	if _, err := io.ReadFull(r.Body, prefix[:]); err != nil {
		return bad("read the upload: %v", err)
	}
	n, err := headerLen(prefix[:])
	if err != nil {
		return err
	}
	hdr := make([]byte, n)
	if _, err := io.ReadFull(r.Body, hdr); err != nil {
		return bad("read the header: %v", err)
	}
	h, err := ParseHeader(hdr)
	if err != nil {
		return err
	}
	switch {
	case len(h.Ciphertext) > s.cfg.MaxPostBytes:
		return parley.Errorf(parley.CodeTooLarge, ReasonStatusTooLarge, "a sealed status post may be at most %d bytes", s.cfg.MaxPostBytes)
	case len(h.Audience) == 0:
		return parley.Errorf(parley.CodeInvalid, ReasonStatusAudienceEmpty, "a status post needs at least one viewer")
	case len(h.Audience) > s.cfg.MaxAudience:
		return parley.Errorf(parley.CodeInvalid, ReasonStatusAudienceTooLarge, "a status post may be shared with at most %d people", s.cfg.MaxAudience)
	}
	mediaSize := int64(-1)
	if r.ContentLength >= 0 {
		mediaSize = r.ContentLength - 4 - int64(n)
		if mediaSize > s.cfg.MaxMediaBytes {
			return s.mediaTooLarge()
		}
	}
	now := s.cfg.Clock.Now()
	count, err := s.cfg.Store.CountStatusPosts(ctx, dev.User, now.Add(-24*time.Hour))
	if err != nil {
		return err
	}
	if count >= s.cfg.MaxPostsPerDay {
		return parley.Errorf(parley.CodeRateLimited, ReasonStatusTooMany, "at most %d status posts in 24 hours", s.cfg.MaxPostsPerDay)
	}
	p := parley.StatusPost{ID: parley.NewStatusID(), Poster: dev.User, PosterDevice: dev.ID, ClientID: h.ClientID, KeyID: h.KeyID,
		Ciphertext: h.Ciphertext, Audience: dedupe(h.Audience, dev.User), CreatedAt: now, ExpiresAt: now.Add(s.cfg.Lifetime)}
	if len(p.Audience) == 0 {
		return parley.Errorf(parley.CodeInvalid, ReasonStatusAudienceEmpty, "a status post needs at least one viewer other than you")
	}
	if mediaSize != 0 {
		if p.Media, p.MediaSize, err = s.putMedia(ctx, w, r, mediaSize); err != nil {
			return err
		}
	}
	stored, created, err := s.cfg.Store.CreateStatusPost(ctx, p)
	if (err != nil || !created) && p.Media != "" {
		s.deleteBlob(ctx, p.Media)
	}
	if err != nil {
		return err
	}
	if created {
		s.log.InfoContext(ctx, "status posted", "post", p.ID, "user", dev.User, "audience", len(p.Audience), "media_bytes", p.MediaSize)
		it := parley.StatusFeedItem{StatusPost: p}
		it.Audience = nil
		s.wake(p.Audience, it)
		it.Mine = true
		s.wake([]parley.UserID{dev.User}, it)
	}
	return writeJSON(w, http.StatusCreated, Created{ID: stored.ID, CreatedAt: stored.CreatedAt, ExpiresAt: stored.ExpiresAt})
}

func (s *Service) mediaTooLarge() error {
	return parley.Errorf(parley.CodeTooLarge, ReasonStatusMediaTooLarge, "status media may be at most %d bytes", s.cfg.MaxMediaBytes)
}

// putMedia stores the rest of the body as a new blob. size is the
// declared size, or -1 when the body is chunked (then read into memory,
// bounded by MaxMediaBytes, to learn it).
func (s *Service) putMedia(ctx context.Context, w http.ResponseWriter, r *http.Request, size int64) (parley.BlobID, int64, error) {
	body := io.Reader(http.MaxBytesReader(w, r.Body, s.cfg.MaxMediaBytes))
	if size < 0 {
		data, err := io.ReadAll(body)
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return "", 0, s.mediaTooLarge()
		}
		if err != nil {
			return "", 0, bad("read the media: %v", err)
		}
		if len(data) == 0 {
			return "", 0, nil
		}
		size = int64(len(data))
		body = bytes.NewReader(data)
	}
	id := parley.NewBlobID()
	if err := s.cfg.Blobs.Put(ctx, id, body, size); err != nil {
		return "", 0, err
	}
	return id, size, nil
}

// dedupe returns audience without duplicates and without the poster.
func dedupe(audience []parley.UserID, poster parley.UserID) []parley.UserID {
	seen := make(map[parley.UserID]bool, len(audience))
	out := make([]parley.UserID, 0, len(audience))
	for _, u := range audience {
		if u != poster && !seen[u] {
			seen[u] = true
			out = append(out, u)
		}
	}
	return out
}

func (s *Service) feed(ctx context.Context, w http.ResponseWriter, r *http.Request, dev parley.Device) error {
	q := r.URL.Query()
	var after time.Time
	var wait time.Duration
	if v := q.Get("after"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return bad("after: %v", err)
		}
		after = t
		if secs, err := strconv.ParseFloat(q.Get("wait"), 64); err == nil && secs > 0 {
			wait = min(time.Duration(secs*float64(time.Second)), MaxWait)
		}
	}
	var deadline <-chan time.Time
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		deadline = t.C
	}
	answer := func(items []parley.StatusFeedItem, now time.Time) error {
		f := Feed{Posts: make([]Post, 0, len(items)), Now: now}
		for _, it := range items {
			if it.CreatedAt.After(after) {
				f.Posts = append(f.Posts, toPost(it))
			}
		}
		return writeJSON(w, http.StatusOK, f)
	}
	for {
		// Registered before the read: a post stored after the read wakes it.
		wt := s.waiter(dev.User)
		now := s.cfg.Clock.Now()
		items, err := s.cfg.Store.StatusFeed(ctx, dev.User, now, MaxFeed)
		if err != nil || deadline == nil || len(items) > 0 && items[0].CreatedAt.After(after) {
			s.unwait(dev.User, wt)
			if err != nil {
				return err
			}
			return answer(items, now)
		}
		select {
		case <-wt.ch:
			// The posts come with the wake: thousands of viewers woken
			// by one post do not each read the store again.
			if got := s.unwait(dev.User, wt); len(got) > 0 {
				slices.SortFunc(got, func(a, b parley.StatusFeedItem) int { return b.CreatedAt.Compare(a.CreatedAt) })
				return answer(got, s.cfg.Clock.Now())
			}
		case <-deadline:
			deadline = nil // answer what there is
			s.unwait(dev.User, wt)
		case <-ctx.Done():
			s.unwait(dev.User, wt)
			return ctx.Err()
		}
	}
}

// waiter is a waiting feed request: ch is closed by the first wake, and
// items (under Service.mu) are the posts it was woken with.
type waiter struct {
	ch    chan struct{}
	woke  bool
	items []parley.StatusFeedItem
}

// waiter registers a waiter for user's next posts.
func (s *Service) waiter(user parley.UserID) *waiter {
	wt := &waiter{ch: make(chan struct{})}
	s.mu.Lock()
	m := s.waiters[user]
	if m == nil {
		m = map[*waiter]struct{}{}
		s.waiters[user] = m
	}
	m[wt] = struct{}{}
	s.mu.Unlock()
	return wt
}

// unwait removes wt and returns the posts it was woken with.
func (s *Service) unwait(user parley.UserID, wt *waiter) []parley.StatusFeedItem {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.waiters[user]; m != nil {
		delete(m, wt)
		if len(m) == 0 {
			delete(s.waiters, user)
		}
	}
	return wt.items
}

// wake hands the new post (it) to the waiters of users and wakes them.
func (s *Service) wake(users []parley.UserID, it parley.StatusFeedItem) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range users {
		for wt := range s.waiters[u] {
			wt.items = append(wt.items, it)
			if !wt.woke {
				wt.woke = true
				close(wt.ch)
			}
		}
	}
}

// visible returns post id if dev's user may see it now: the poster, or an
// audience member of an unexpired post. Others get status_not_found.
func (s *Service) visible(ctx context.Context, r *http.Request, dev parley.Device) (parley.StatusPost, error) {
	id := parley.StatusID(r.PathValue("id"))
	if !id.Valid() {
		return parley.StatusPost{}, notFound()
	}
	p, err := s.cfg.Store.StatusPost(ctx, id)
	if err != nil {
		return p, err
	}
	if !p.ExpiresAt.After(s.cfg.Clock.Now()) {
		return p, notFound()
	}
	if p.Poster == dev.User {
		return p, nil
	}
	in, err := s.cfg.Store.InStatusAudience(ctx, id, dev.User)
	if err != nil {
		return p, err
	}
	if !in {
		return p, notFound()
	}
	return p, nil
}

func notFound() error {
	return parley.Errorf(parley.CodeNotFound, parley.ReasonStatusNotFound, "no such status post")
}

func (s *Service) media(ctx context.Context, w http.ResponseWriter, r *http.Request, dev parley.Device) error {
	p, err := s.visible(ctx, r, dev)
	if err != nil {
		return err
	}
	if p.Media == "" {
		return parley.Errorf(parley.CodeNotFound, ReasonStatusNoMedia, "this status post has no media")
	}
	rc, err := s.cfg.Blobs.Get(ctx, p.Media, 0, -1)
	if err != nil {
		return err
	}
	defer rc.Close()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.FormatInt(p.MediaSize, 10))
	_, _ = io.Copy(w, rc)
	return nil
}

func (s *Service) view(ctx context.Context, w http.ResponseWriter, r *http.Request, dev parley.Device) error {
	p, err := s.visible(ctx, r, dev)
	if err != nil {
		return err
	}
	if p.Poster != dev.User {
		if err := s.cfg.Store.MarkStatusViewed(ctx, p.ID, dev.User, s.cfg.Clock.Now()); err != nil {
			return err
		}
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Service) own(ctx context.Context, r *http.Request, dev parley.Device) (parley.StatusPost, error) {
	p, err := s.visible(ctx, r, dev)
	if err == nil && p.Poster != dev.User {
		err = parley.Errorf(parley.CodeForbidden, ReasonStatusNotPoster, "only the poster may do this")
	}
	return p, err
}

func (s *Service) views(ctx context.Context, w http.ResponseWriter, r *http.Request, dev parley.Device) error {
	p, err := s.own(ctx, r, dev)
	if err != nil {
		return err
	}
	vs, err := s.cfg.Store.StatusViews(ctx, p.ID)
	if err != nil {
		return err
	}
	out := Views{Views: make([]View, 0, len(vs))}
	for _, v := range vs {
		out.Views = append(out.Views, View{User: v.User, At: v.At})
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Service) delete(ctx context.Context, w http.ResponseWriter, r *http.Request, dev parley.Device) error {
	p, err := s.own(ctx, r, dev)
	if err != nil {
		return err
	}
	if err := s.remove(ctx, p); err != nil {
		return err
	}
	s.log.InfoContext(ctx, "status deleted by its poster", "post", p.ID, "user", dev.User)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// remove deletes p's blob, then p: a failure between the two leaves a
// post whose blob is gone, which the next Prune (or delete) finishes.
func (s *Service) remove(ctx context.Context, p parley.StatusPost) error {
	if p.Media != "" {
		if err := s.cfg.Blobs.Delete(ctx, p.Media); err != nil && !parley.IsCode(err, parley.CodeNotFound) {
			return err
		}
	}
	return s.cfg.Store.DeleteStatusPost(ctx, p.ID)
}

func (s *Service) deleteBlob(ctx context.Context, id parley.BlobID) {
	if err := s.cfg.Blobs.Delete(context.WithoutCancel(ctx), id); err != nil && !parley.IsCode(err, parley.CodeNotFound) {
		s.log.Warn("delete an unused status blob", "blob", id, "err", err)
	}
}

// Prune deletes every post expired by the service's clock, with its blob,
// and returns how many.
func (s *Service) Prune(ctx context.Context) (int, error) {
	n := 0
	for {
		ps, err := s.cfg.Store.ExpiredStatusPosts(ctx, s.cfg.Clock.Now(), 100)
		if err != nil || len(ps) == 0 {
			return n, err
		}
		for _, p := range ps {
			if err := s.remove(ctx, p); err != nil {
				return n, err
			}
			n++
		}
	}
}

// Run prunes expired posts every Config.PruneInterval until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	return parley.SweepEvery(ctx, s.cfg.PruneInterval, s.log, "expired status posts prune", s.Prune)
}
