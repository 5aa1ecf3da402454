package client

import (
	"encoding/json"
	"fmt"

	"github.com/parleyhq/parley/attachment"
)

// bodyVersion is the version of the content carried inside MLS application
// messages. Later kinds (reply, reaction, …) add fields; a reader ignores
// fields it does not know and shows kinds it does not know as unsupported.
//
//	1: kind "text" (Text).
//	2: media kinds "image", "video", "voice", "document", "location" and
//	   "contact", each with an attachment.Descriptor in Media (for files:
//	   blob ID, capability, key, digests, size, type, thumbnail); Text is
//	   the caption. Fwd marks a forwarded message (any kind).
const bodyVersion = 2

// body is the plaintext of an application message.
type body struct {
	V        int                    `json:"v"`
	Kind     string                 `json:"kind"` // "text" or a media kind
	Text     string                 `json:"text,omitempty"`
	Media    *attachment.Descriptor `json:"media,omitempty"`
	Fwd      bool                   `json:"fwd,omitempty"`
	SentAt   int64                  `json:"sent_at"` // sender's clock, Unix milliseconds
	ClientID string                 `json:"client_id"`
	Ext      *kindExt               `json:"ext,omitempty"` // replies, mentions, reactions, edits, deletes, polls (kinds.go)
}

func encodeBody(b body) []byte {
	b.V = bodyVersion
	data, _ := json.Marshal(b)
	return data
}

func decodeBody(data []byte) (body, error) {
	var b body
	if err := json.Unmarshal(data, &b); err != nil {
		return b, fmt.Errorf("message body: %w", err)
	}
	if b.V < 1 {
		return b, fmt.Errorf("message body: no version")
	}
	if b.Kind == "" {
		b.Kind = "text"
	}
	if isMediaKind(b.Kind) {
		// A media message whose descriptor is missing, of another kind or
		// incomplete cannot be shown or fetched: keep it as unsupported
		// rather than fail the whole envelope.
		if b.Media == nil || string(b.Media.Kind) != b.Kind || b.Media.Validate() != nil {
			b.Kind, b.Media = KindUnsupported, nil
		}
	} else {
		b.Media = nil
	}
	checkBusinessBody(&b) // business.go
	return b, nil
}

// isMediaKind reports whether kind is one of the attachment kinds.
func isMediaKind(kind string) bool {
	switch attachment.Kind(kind) {
	case attachment.KindImage, attachment.KindVideo, attachment.KindVoice, attachment.KindDocument,
		attachment.KindLocation, attachment.KindContact:
		return true
	}
	return false
}

// recordBody is the body of a message this device sends.
func recordBody(m MessageRecord) body {
	return body{Kind: m.Kind, Text: m.Text, Media: m.Media, Fwd: m.Forwarded, SentAt: m.SentAt.UnixMilli(), ClientID: string(m.ClientID)}
}
