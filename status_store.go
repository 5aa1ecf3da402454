package parley

import (
	"context"
	"time"
)

// StatusID identifies a status post ("s" followed by 26 base32 characters:
// 128 random bits), assigned by the server.
type StatusID string

// NewStatusID returns a fresh random status ID.
func NewStatusID() StatusID {
	return StatusID(randomID("s"))
}

// Valid reports whether id has the shape NewStatusID produces: "s"
// followed by 8 to 64 characters from [a-z0-9].
func (id StatusID) Valid() bool {
	return validID(string(id), 's', "")
}

// StatusPost is a status post (a 24-hour story) as the server keeps it.
// The server is crypto-blind: Ciphertext is sealed by the poster's client
// under a status key the server never sees (docs/decisions/0005-status.md),
// and the media blob, if any, holds ciphertext under a key carried inside
// Ciphertext. What the server knows is the metadata it needs to authorise
// and expire: the poster, the audience (user ids), sizes and times.
type StatusPost struct {
	ID           StatusID
	Poster       UserID
	PosterDevice DeviceID
	ClientID     string // the poster's id for the post: a retried post is stored once
	KeyID        string // which of the poster's status keys sealed it (opaque to the server)
	Ciphertext   []byte
	Media        BlobID // "" for a post without media
	MediaSize    int64
	Audience     []UserID // who may fetch it; empty in StatusFeed's items
	CreatedAt    time.Time
	ExpiresAt    time.Time
}

// StatusFeedItem is a post as one viewer's feed shows it.
type StatusFeedItem struct {
	StatusPost
	// Mine is set for the viewer's own posts (from any of its devices).
	Mine bool
	// ViewedAt is when the viewer recorded a view; zero if never (and
	// always zero for Mine).
	ViewedAt time.Time
	// Views counts the recorded views of a Mine post (0 for others').
	Views int
}

// StatusView is one viewer's recorded view of a post.
type StatusView struct {
	User UserID
	At   time.Time
}

// ReasonStatusNotFound: no such post, expired, or not shared with the caller.
const ReasonStatusNotFound = "status_not_found" // CodeNotFound: no such status post, it expired, or it was not shared with you

// StatusStore keeps status posts, their audiences and views. The
// guarantees of Store hold (atomic, durable, CodeNotFound).
type StatusStore interface {
	// CreateStatusPost stores p and its audience. If the poster already
	// stored a post with p.ClientID, that post is returned with
	// created=false and nothing changes (a retried post is stored once).
	CreateStatusPost(ctx context.Context, p StatusPost) (stored StatusPost, created bool, err error)
	// StatusPost returns the post, expired or not, without its audience;
	// CodeNotFound ReasonStatusNotFound if there is none.
	StatusPost(ctx context.Context, id StatusID) (StatusPost, error)
	// StatusAudience returns the post's audience, by user id.
	StatusAudience(ctx context.Context, id StatusID) ([]UserID, error)
	// InStatusAudience reports whether user is in the post's audience.
	InStatusAudience(ctx context.Context, id StatusID, user UserID) (bool, error)
	// StatusFeed returns the newest limit posts not expired at now that
	// viewer may see (in their audience) or posted, newest first, without
	// audiences.
	StatusFeed(ctx context.Context, viewer UserID, now time.Time, limit int) ([]StatusFeedItem, error)
	// CountStatusPosts counts poster's posts created at or after since,
	// deleted ones excepted.
	CountStatusPosts(ctx context.Context, poster UserID, since time.Time) (int, error)
	// MarkStatusViewed records viewer's view of post id at at (the first
	// one is kept). CodeNotFound ReasonStatusNotFound unless viewer is in
	// the post's audience.
	MarkStatusViewed(ctx context.Context, id StatusID, viewer UserID, at time.Time) error
	// StatusViews returns the recorded views of post id, earliest first.
	StatusViews(ctx context.Context, id StatusID) ([]StatusView, error)
	// DeleteStatusPost deletes the post, its audience and views (no
	// error if there is none).
	DeleteStatusPost(ctx context.Context, id StatusID) error
	// ExpiredStatusPosts returns up to limit posts whose ExpiresAt is at or
	// before now, oldest first, without audiences.
	ExpiredStatusPosts(ctx context.Context, now time.Time, limit int) ([]StatusPost, error)
}
