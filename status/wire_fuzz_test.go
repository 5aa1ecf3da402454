package status

import (
	"bytes"
	"testing"

	"github.com/parleyhq/parley"
)

// FuzzParseUpload feeds arbitrary upload prefixes and headers (a device's
// bytes, untrusted) to the decoders: they never panic, and a header they
// accept has every field within its limits.
func FuzzParseUpload(f *testing.F) {
	f.Add(EncodeUpload(Header{ClientID: "c1", KeyID: "k1", Audience: []parley.UserID{2, 3}, Ciphertext: []byte("sealed")}))
	f.Add([]byte{0, 0, 0, 2, '{', '}'})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Add([]byte(`{"client_id":"x","key_id":"k","audience":[-1],"ciphertext":"AA=="}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if n, err := headerLen(data); err == nil && (n <= 0 || n > MaxHeaderBytes) {
			t.Fatalf("header length %d accepted", n)
		}
		h, err := ParseHeader(data)
		if len(data) > 4 {
			if _, err := ParseHeader(data[4:]); err != nil && parley.ErrorReason(err) != ReasonStatusBadPost {
				t.Fatalf("an error without its reason: %v", err)
			}
		}
		if err != nil {
			if parley.ErrorReason(err) != ReasonStatusBadPost {
				t.Fatalf("an error without its reason: %v", err)
			}
			return
		}
		if h.ClientID == "" || len(h.ClientID) > MaxClientIDLen || h.KeyID == "" || len(h.KeyID) > MaxKeyIDLen || len(h.Ciphertext) == 0 {
			t.Fatalf("accepted %+v", h)
		}
		for _, u := range h.Audience {
			if u <= 0 {
				t.Fatalf("accepted user %d", u)
			}
		}
		again, err := ParseHeader(EncodeUpload(h)[4:])
		if err != nil || again.ClientID != h.ClientID || !bytes.Equal(again.Ciphertext, h.Ciphertext) {
			t.Fatalf("round trip: %+v, %v", again, err)
		}
	})
}
