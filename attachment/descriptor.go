// Package attachment is the client side of Parley media: it encrypts files
// before they leave the device, describes them (kind, dimensions, duration,
// waveform, thumbnail, page count) for the recipient, uploads the
// ciphertext with the tus resumable-upload protocol and downloads, decrypts
// and verifies it.
//
// The server sees only ciphertext and its size. Everything a recipient needs
// to fetch and open the file — blob ID, download capability, key, digests,
// type, thumbnail — is in the Descriptor, which the sender puts inside the
// MLS-encrypted message. Forwarding re-sends the Descriptor (after Link), so
// the ciphertext is never uploaded twice.
//
// Thumbnails and waveforms are computed here, on the client, with the
// standard library and golang.org/x/image (no cgo).
package attachment

import (
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/parleyhq/parley"
)

// Kind is what an attachment is, which decides how a client shows it.
type Kind string

// The kinds.
const (
	KindImage    Kind = "image"    // Width, Height, Thumbnail
	KindVideo    Kind = "video"    // Duration, Width, Height where cheap; Thumbnail if the sender supplies one
	KindVoice    Kind = "voice"    // Duration, Waveform
	KindDocument Kind = "document" // FileName, Pages for PDFs where cheap; any other file too
	KindLocation Kind = "location" // Location; no blob
	KindContact  Kind = "contact"  // VCard; no blob
)

// Location is a point on Earth (WGS 84) with an optional place name.
type Location struct {
	Lat  float64 `json:"lat"`
	Lon  float64 `json:"lon"`
	Name string  `json:"name,omitempty"`
}

// Descriptor is everything a recipient needs to show, fetch, decrypt and
// verify an attachment. It travels only inside MLS-encrypted messages: it
// holds the file key and the download capability.
type Descriptor struct {
	Kind    Kind   `json:"kind"`
	MIME    string `json:"mime,omitempty"`
	Caption string `json:"caption,omitempty"`

	// The encrypted file, for kinds with a blob.
	Blob          parley.BlobID `json:"blob,omitempty"`
	Capability    []byte        `json:"cap,omitempty"`    // presented to download; the server keeps only its SHA-256
	Key           []byte        `json:"key,omitempty"`    // AES-256 key of Scheme
	Scheme        string        `json:"scheme,omitempty"` // Scheme
	Size          int64         `json:"size,omitempty"`   // plaintext bytes
	EncryptedSize int64         `json:"enc_size,omitempty"`
	PlainSHA256   []byte        `json:"sha256,omitempty"` // of the plaintext; chunk tags authenticate the ciphertext

	FileName  string        `json:"name,omitempty"`
	Width     int           `json:"w,omitempty"`
	Height    int           `json:"h,omitempty"`
	Duration  time.Duration `json:"dur,omitempty"`
	Waveform  []byte        `json:"wave,omitempty"` // WaveformBars levels 0–255
	Pages     int           `json:"pages,omitempty"`
	Thumbnail []byte        `json:"thumb,omitempty"` // JPEG, at most ThumbnailMax pixels a side

	Location *Location `json:"loc,omitempty"`
	VCard    string    `json:"vcard,omitempty"`
}

// HasBlob reports whether the kind carries an uploaded file.
func (d Descriptor) HasBlob() bool { return d.Kind != KindLocation && d.Kind != KindContact }

// Marshal encodes d for a message body.
func (d Descriptor) Marshal() ([]byte, error) { return json.Marshal(d) }

// Unmarshal decodes and validates a Descriptor from a message body.
func Unmarshal(b []byte) (Descriptor, error) {
	var d Descriptor
	if err := json.Unmarshal(b, &d); err != nil {
		return d, parley.Errorf(parley.CodeInvalid, ReasonBadDescriptor, "attachment descriptor: %v", err)
	}
	return d, d.Validate()
}

// Validate checks that d is complete for its kind.
func (d Descriptor) Validate() error {
	bad := func(format string, args ...any) error {
		return parley.Errorf(parley.CodeInvalid, ReasonBadDescriptor, "attachment: "+format, args...)
	}
	switch d.Kind {
	case KindImage, KindVideo, KindVoice, KindDocument:
		if !d.Blob.Valid() || len(d.Capability) == 0 || len(d.Key) != KeySize {
			return bad("%s without blob, capability or key", d.Kind)
		}
		if d.Scheme != Scheme {
			return bad("unknown scheme %q", d.Scheme)
		}
		if d.Size < 0 || d.EncryptedSize != EncryptedSize(d.Size) {
			return bad("sizes %d/%d do not match", d.Size, d.EncryptedSize)
		}
		if len(d.PlainSHA256) != 32 {
			return bad("missing digest")
		}
	case KindLocation:
		if d.Location == nil {
			return bad("location without coordinates")
		}
		return validLocation(d.Location.Lat, d.Location.Lon)
	case KindContact:
		if _, err := ParseVCard(d.VCard); err != nil {
			return err
		}
	default:
		return bad("unknown kind %q", d.Kind)
	}
	return nil
}

func validLocation(lat, lon float64) error {
	if math.IsNaN(lat) || math.IsNaN(lon) || lat < -90 || lat > 90 || lon < -180 || lon > 180 {
		return parley.Errorf(parley.CodeInvalid, ReasonBadLocation, "coordinates %v,%v out of range", lat, lon)
	}
	return nil
}

// String is a one-line summary for people (no key material).
func (d Descriptor) String() string {
	switch d.Kind {
	case KindLocation:
		if d.Location != nil {
			return fmt.Sprintf("location %.6f,%.6f %s", d.Location.Lat, d.Location.Lon, d.Location.Name)
		}
	case KindContact:
		if c, err := ParseVCard(d.VCard); err == nil {
			return "contact " + c.Name
		}
	}
	s := fmt.Sprintf("%s %s (%d bytes)", d.Kind, d.MIME, d.Size)
	if d.FileName != "" {
		s += " " + d.FileName
	}
	return s
}
