package accounts_test

import (
	"bytes"
	"image"
	"image/jpeg"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/accounts"
)

// FuzzCheckPhoto: CheckPhoto decodes the header of untrusted bytes; it
// never panics and only ever answers nil or a photo reason.
func FuzzCheckPhoto(f *testing.F) {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, image.NewGray(image.Rect(0, 0, 16, 9)), nil); err != nil {
		f.Fatal(err)
	}
	f.Add(b.Bytes())
	f.Add([]byte("\xff\xd8\xff\xc0\x00\x11\x08\xff\xff\xff\xff"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, photo []byte) {
		err := accounts.CheckPhoto(photo)
		if err == nil {
			return
		}
		switch parley.ErrorReason(err) {
		case accounts.ReasonPhotoInvalid, accounts.ReasonPhotoTooLarge:
		default:
			t.Fatalf("CheckPhoto: %v", err)
		}
	})
}
