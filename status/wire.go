package status

import (
	"encoding/binary"
	"encoding/json"
	"time"

	"github.com/parleyhq/parley"
)

// ContentType is the media type of a post's upload: a 4-byte big-endian
// length, that many bytes of the JSON Header, then the media ciphertext
// (none for a post without media) to the end of the body.
const ContentType = "application/vnd.parley.status"

// MaxHeaderBytes bounds the JSON header of an upload: the sealed post plus
// an audience of 20,000 user ids fit well within it.
const MaxHeaderBytes = 1 << 20

// Header describes a post being uploaded.
type Header struct {
	ClientID   string          `json:"client_id"`  // the poster's id for the post: a retry is stored once
	KeyID      string          `json:"key_id"`     // the status key that sealed it
	Audience   []parley.UserID `json:"audience"`   // who may fetch it
	Ciphertext []byte          `json:"ciphertext"` // the sealed post (base64 in JSON)
}

// Limits of a Header's fields.
const (
	MaxClientIDLen = 64
	MaxKeyIDLen    = 64
)

// ParseHeader decodes and checks the JSON header of an upload (untrusted
// bytes). Errors are CodeInvalid ReasonStatusBadPost.
func ParseHeader(data []byte) (Header, error) {
	var h Header
	if err := json.Unmarshal(data, &h); err != nil {
		return h, bad("status header: %v", err)
	}
	switch {
	case h.ClientID == "" || len(h.ClientID) > MaxClientIDLen:
		return h, bad("client_id must be 1 to %d bytes", MaxClientIDLen)
	case h.KeyID == "" || len(h.KeyID) > MaxKeyIDLen:
		return h, bad("key_id must be 1 to %d bytes", MaxKeyIDLen)
	case len(h.Ciphertext) == 0:
		return h, bad("the post's ciphertext is empty")
	}
	for _, u := range h.Audience {
		if u <= 0 {
			return h, bad("audience: %d is not a user id", u)
		}
	}
	return h, nil
}

// headerLen reads the header length from the first 4 bytes of an upload.
func headerLen(prefix []byte) (int, error) {
	if len(prefix) < 4 {
		return 0, bad("the upload is shorter than its length prefix")
	}
	n := binary.BigEndian.Uint32(prefix)
	if n == 0 || n > MaxHeaderBytes {
		return 0, bad("the header must be 1 to %d bytes", MaxHeaderBytes)
	}
	return int(n), nil
}

// EncodeUpload returns the bytes before the media ciphertext of an upload
// of h (its length prefix and JSON header).
func EncodeUpload(h Header) []byte {
	js, _ := json.Marshal(h)
	out := binary.BigEndian.AppendUint32(nil, uint32(len(js)))
	return append(out, js...)
}

func bad(format string, args ...any) error {
	return parley.Errorf(parley.CodeInvalid, ReasonStatusBadPost, format, args...)
}

// Post is a post as the HTTP interface returns it (JSON).
type Post struct {
	ID           parley.StatusID `json:"id"`
	Poster       parley.UserID   `json:"poster"`
	PosterDevice parley.DeviceID `json:"poster_device"`
	ClientID     string          `json:"client_id"`
	KeyID        string          `json:"key_id"`
	Ciphertext   []byte          `json:"ciphertext"`
	MediaSize    int64           `json:"media_size,omitempty"` // 0: no media
	CreatedAt    time.Time       `json:"created_at"`
	ExpiresAt    time.Time       `json:"expires_at"`
	Mine         bool            `json:"mine,omitempty"`
	ViewedAt     *time.Time      `json:"viewed_at,omitempty"` // when the caller recorded a view
	Views        int             `json:"views,omitempty"`     // the views of the caller's own post
}

// Feed is the answer of GET Path.
type Feed struct {
	Posts []Post `json:"posts"`
	// Now is the server's clock: posts expire by it, and a client asks
	// for newer posts with ?after=Now.
	Now time.Time `json:"now"`
}

// Views is the answer of GET Path/{id}/views.
type Views struct {
	Views []View `json:"views"`
}

// View is one viewer's recorded view.
type View struct {
	User parley.UserID `json:"user"`
	At   time.Time     `json:"at"`
}

// Created is the answer of POST Path.
type Created struct {
	ID        parley.StatusID `json:"id"`
	CreatedAt time.Time       `json:"created_at"`
	ExpiresAt time.Time       `json:"expires_at"`
}

func toPost(it parley.StatusFeedItem) Post {
	p := Post{ID: it.ID, Poster: it.Poster, PosterDevice: it.PosterDevice, ClientID: it.ClientID, KeyID: it.KeyID,
		Ciphertext: it.Ciphertext, MediaSize: it.MediaSize, CreatedAt: it.CreatedAt, ExpiresAt: it.ExpiresAt,
		Mine: it.Mine, Views: it.Views}
	if !it.ViewedAt.IsZero() {
		at := it.ViewedAt
		p.ViewedAt = &at
	}
	return p
}
