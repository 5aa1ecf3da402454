package client

import (
	"encoding/json"
	"fmt"
)

// bodyVersion is the version of the content carried inside MLS application
// messages. Later kinds (reply, reaction, …) add fields; a reader ignores
// fields it does not know and shows kinds it does not know as unsupported.
const bodyVersion = 1

// body is the plaintext of an application message.
type body struct {
	V        int    `json:"v"`
	Kind     string `json:"kind"` // "text"
	Text     string `json:"text,omitempty"`
	SentAt   int64  `json:"sent_at"` // sender's clock, Unix milliseconds
	ClientID string `json:"client_id"`
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
	return b, nil
}
