package hosted

import (
	"testing"

	"github.com/parleyhq/parley"
)

// FuzzDecodeForward: a forwarded request from another node decodes or is
// refused with ReasonBadForward, never panics; what decodes is complete.
func FuzzDecodeForward(f *testing.F) {
	f.Add([]byte(`{"op":"send","business":5,"out":{"Customer":7,"To":"+1555","Text":"hi"}}`))
	f.Add([]byte(`{"op":"read","business":5,"message_id":"wamid.c1.4"}`))
	f.Add([]byte(`{"op":"typing","business":-1}`))
	f.Add([]byte(`{"op":"send","business":5}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := decodeForward(data)
		if err != nil {
			if parley.ErrorReason(err) != ReasonBadForward {
				t.Fatalf("refusal %v, want %s", err, ReasonBadForward)
			}
			return
		}
		if r.Business <= 0 || (r.Op == opSend && r.Out == nil) || (r.Op != opSend && r.Op != opRead && r.Op != opTyping) {
			t.Fatalf("decoded an incomplete request %+v", r)
		}
	})
}
