package content

import (
	"unicode/utf8"

	"github.com/parleyhq/parley"
)

// Status (24-hour stories) in the 1:1 chats: a poster's status key reaches
// each member of the audience as a control message of KindStatusKey in
// their direct chat, and a private reply to a post is an ordinary message
// quoting it (Ext.Status). The posts themselves are not MLS messages:
// client/status seals them under the status key
// (docs/decisions/0005-status.md).

// StatusKeyLen is the length of a status key (AES-256).
const StatusKeyLen = 32

// Limits of the status fields carried in messages.
const (
	MaxStatusKeyIDLen   = 64
	MaxStatusPreviewLen = 200 // bytes of a quote's preview text
	MaxStatusThumbLen   = 8 << 10
)

// StatusKey is one of a poster's status keys: the posts sealed under it
// name it by ID.
type StatusKey struct {
	ID  string `json:"id"`
	Key []byte `json:"key"`
}

// Valid reports whether k has an ID of 1 to MaxStatusKeyIDLen bytes and a
// key of StatusKeyLen bytes.
func (k StatusKey) Valid() bool {
	return k.ID != "" && len(k.ID) <= MaxStatusKeyIDLen && len(k.Key) == StatusKeyLen
}

// StatusQuote is the status post a private reply quotes: its id, poster,
// kind and a short preview (the text, or a media post's caption), and for
// a media post a small thumbnail.
type StatusQuote struct {
	ID      string        `json:"id"`
	Poster  parley.UserID `json:"poster"`
	Kind    string        `json:"kind"`
	Preview string        `json:"preview,omitempty"`
	Thumb   []byte        `json:"thumb,omitempty"`
}

// Valid reports whether q names a post and keeps within the limits.
func (q StatusQuote) Valid() bool {
	return q.ID != "" && len(q.ID) <= 80 && q.Poster > 0 && len(q.Kind) <= 16 &&
		len(q.Preview) <= MaxStatusPreviewLen && utf8.ValidString(q.Preview) && len(q.Thumb) <= MaxStatusThumbLen
}
