package status

import (
	"bytes"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/content"
)

// FuzzOpen feeds arbitrary sealed posts and bodies (from the server and
// the poster: untrusted) to the decoders: they never panic, fail only
// with ReasonStatusUnreadable, and a body they accept keeps to its kind's
// rules.
func FuzzOpen(f *testing.F) {
	key := content.StatusKey{ID: "k1", Key: bytes.Repeat([]byte{7}, 32)}
	text, _ := Seal(key, 5, Body{Kind: KindText, Text: "hi", Background: "#000000", Font: "serif"})
	f.Add(text, false)
	_, m, _ := EncryptMedia([]byte("image bytes"))
	img, _ := Seal(key, 5, Body{Kind: KindImage, Media: m})
	f.Add(img, false)
	f.Add([]byte(`{"v":1,"kind":"video","media":{"key":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","size":3,"sha256":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}}`), true)
	f.Add([]byte(`{"v":1,"kind":"text","text":""}`), true)
	f.Fuzz(func(t *testing.T, data []byte, plain bool) {
		var b Body
		var err error
		if plain {
			b, err = ParseBody(data)
		} else {
			b, err = Open(key, 5, data)
		}
		if err != nil {
			if parley.ErrorReason(err) != ReasonStatusUnreadable {
				t.Fatalf("an error without its reason: %v", err)
			}
			return
		}
		switch b.Kind {
		case KindText:
			if b.Text == "" || b.Media != nil {
				t.Fatalf("accepted a text post %+v", b)
			}
		case KindImage, KindVideo, KindVoice:
			if b.Media == nil || len(b.Media.Key) != 32 {
				t.Fatalf("accepted a media post %+v", b)
			}
			_, _ = DecryptMedia(b.Media, data)
		default:
			t.Fatalf("accepted kind %q", b.Kind)
		}
	})
}

// TestSealBinding: a post opens only under its key, for its poster.
func TestSealBinding(t *testing.T) {
	key := content.StatusKey{ID: "k1", Key: bytes.Repeat([]byte{7}, 32)}
	sealed, err := Seal(key, 5, Body{Kind: KindText, Text: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	if b, err := Open(key, 5, sealed); err != nil || b.Text != "hi" {
		t.Fatalf("open: %+v, %v", b, err)
	}
	other := key
	other.ID = "k2"
	for name, try := range map[string]func() error{
		"another poster": func() error { _, err := Open(key, 6, sealed); return err },
		"another key id": func() error { _, err := Open(other, 5, sealed); return err },
		"a flipped bit": func() error {
			bad := bytes.Clone(sealed)
			bad[len(bad)-1] ^= 1
			_, err := Open(key, 5, bad)
			return err
		},
	} {
		if err := try(); parley.ErrorReason(err) != ReasonStatusUnreadable {
			t.Errorf("%s: %v", name, err)
		}
	}
	ct, m, err := EncryptMedia([]byte("media"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := DecryptMedia(m, ct); err != nil || string(got) != "media" {
		t.Fatalf("media: %q, %v", got, err)
	}
	m.SHA256[0] ^= 1
	if _, err := DecryptMedia(m, ct); parley.ErrorReason(err) != ReasonStatusUnreadable {
		t.Fatalf("a wrong digest: %v", err)
	}
}
