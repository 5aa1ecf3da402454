package content

import (
	"encoding/json"
	"fmt"

	"github.com/parleyhq/parley/attachment"
)

// Version is the version of the content carried inside MLS application
// messages. Later kinds (reply, reaction, …) add fields; a reader ignores
// fields it does not know and shows kinds it does not know as unsupported.
//
//	1: kind "text" (Text).
//	2: media kinds "image", "video", "voice", "document", "location" and
//	   "contact", each with an attachment.Descriptor in Media (for files:
//	   blob ID, capability, key, digests, size, type, thumbnail); Text is
//	   the caption. Fwd marks a forwarded message (any kind).
const Version = 2

// Body is the plaintext of an application message (JSON, see
// docs/protocol.md "Message content").
type Body struct {
	V        int                    `json:"v"`
	Kind     string                 `json:"kind"` // "text" or a media kind
	Text     string                 `json:"text,omitempty"`
	Media    *attachment.Descriptor `json:"media,omitempty"`
	Fwd      bool                   `json:"fwd,omitempty"`
	SentAt   int64                  `json:"sent_at"` // sender's clock, Unix milliseconds
	ClientID string                 `json:"client_id"`
	Ext      *Ext                   `json:"ext,omitempty"` // replies, mentions, reactions, edits, deletes, polls, business content
}

// Encode returns b's bytes at the current Version.
func Encode(b Body) []byte {
	b.V = Version
	data, _ := json.Marshal(b)
	return data
}

// Decode parses a received body. It fails only when data is not a body at
// all (not JSON, or no version); a body whose media or business content is
// missing, of another kind or invalid comes back as KindUnsupported, so a
// message is shown rather than the whole envelope failed. Media is kept for
// the media kinds only, business content for the business kinds only.
func Decode(data []byte) (Body, error) {
	var b Body
	if err := json.Unmarshal(data, &b); err != nil {
		return b, fmt.Errorf("message body: %w", err)
	}
	if b.V < 1 {
		return b, fmt.Errorf("message body: no version")
	}
	if b.Kind == "" {
		b.Kind = KindText
	}
	if b.Ext != nil { // status.go: a key only in its kind, a quote only when valid
		if b.Ext.StatusKey != nil && (b.Kind != KindStatusKey || !b.Ext.StatusKey.Valid()) {
			b.Ext.StatusKey = nil
		}
		if b.Ext.Status != nil && !b.Ext.Status.Valid() {
			b.Ext.Status = nil
		}
	}
	if IsMediaKind(b.Kind) {
		if b.Media == nil || string(b.Media.Kind) != b.Kind || b.Media.Validate() != nil {
			b.Kind, b.Media = KindUnsupported, nil
		}
	} else {
		b.Media = nil
	}
	checkBusinessBody(&b)
	return b, nil
}

// IsMediaKind reports whether kind is one of the attachment kinds.
func IsMediaKind(kind string) bool {
	switch attachment.Kind(kind) {
	case attachment.KindImage, attachment.KindVideo, attachment.KindVoice, attachment.KindDocument,
		attachment.KindLocation, attachment.KindContact:
		return true
	}
	return false
}

// RecordBody is the body of a message this device sends.
func RecordBody(m MessageRecord) Body {
	return Body{Kind: m.Kind, Text: m.Text, Media: m.Media, Fwd: m.Forwarded, SentAt: m.SentAt.UnixMilli(), ClientID: string(m.ClientID)}
}
