package sframe_test

import (
	"bytes"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/sframe"
)

// FuzzOpen feeds arbitrary bytes to the header decoder and a Receiver that
// holds two keys. Nothing may panic; every failure is a *parley.Error with
// CodeInvalid; a header that parses re-encodes to one that parses the same;
// and nothing but a genuine frame decrypts.
func FuzzOpen(f *testing.F) {
	k1 := mustKey(f, 1, "fuzz key one....")
	k2 := mustKey(f, 0x123, "fuzz key two....")
	f.Add(k1.Seal(nil, 0, nil, []byte("audio frame")))
	f.Add(k2.Seal(nil, 0x4567, nil, []byte("video frame with a longer body")))
	f.Add([]byte{0x99, 0x01})
	f.Add([]byte{0xff})
	f.Fuzz(func(t *testing.T, frame []byte) {
		h, n, err := sframe.ParseHeader(frame)
		if err != nil {
			if parley.ErrorCode(err) != parley.CodeInvalid {
				t.Fatalf("ParseHeader: %v", err)
			}
		} else {
			if n < 1 || n > len(frame) {
				t.Fatalf("header length %d of %d", n, len(frame))
			}
			h2, n2, err := sframe.ParseHeader(sframe.AppendHeader(nil, h))
			if err != nil || h2 != h || n2 > n {
				t.Fatalf("re-encoded %+v: %+v %d %v", h, h2, n2, err)
			}
		}
		r := sframe.NewReceiver()
		r.Add(k1)
		r.Add(k2)
		before := bytes.Clone(frame)
		pt, _, err := r.Open(nil, frame, nil)
		if !bytes.Equal(before, frame) {
			t.Fatal("Open modified its input")
		}
		if err != nil {
			if parley.ErrorCode(err) != parley.CodeInvalid {
				t.Fatalf("Open: %v", err)
			}
			return
		}
		// It decrypted, so it must be what one of the keys seals.
		for _, k := range []*sframe.Key{k1, k2} {
			if h.KID == k.KID() && bytes.Equal(k.Seal(nil, h.CTR, nil, pt), frame) {
				return
			}
		}
		t.Fatalf("%x decrypted to %x but no key seals it", frame, pt)
	})
}
