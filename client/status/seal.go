package status

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/content"
)

// The sealed post: AES-256-GCM under the poster's status key, a random
// 96-bit nonce before the ciphertext, and as additional data the scheme,
// the poster and the key id, so a post cannot be passed off as another
// poster's or as sealed under another key. Inside is the JSON body below.
// A post's media is encrypted once, under a fresh key of its own carried in
// the body (AES-256-GCM, zero nonce: the key seals one message only), and
// checked against its SHA-256 after decryption.

const sealScheme = "parley-status-v1"

// Limits of a post's body.
const (
	MaxTextLen  = 700 // bytes of a text post or a caption (WhatsApp's status text limit is 700 characters)
	MaxThumbLen = 8 << 10
	maxNameLen  = 255
)

// Body is a post's plaintext (sealed by Seal, opened by Open).
type Body struct {
	V          int        `json:"v"`
	Kind       string     `json:"kind"` // KindText, KindImage, KindVideo, KindVoice
	Text       string     `json:"text,omitempty"`
	Background string     `json:"bg,omitempty"`   // a text post's background colour, "#rrggbb"
	Font       string     `json:"font,omitempty"` // a text post's font (one of Fonts)
	Media      *MediaInfo `json:"media,omitempty"`
	SentAt     int64      `json:"sent_at"` // the poster's clock, Unix ms
}

// MediaInfo is what a viewer needs to fetch and check a post's media.
type MediaInfo struct {
	Key    []byte `json:"key"`
	Size   int64  `json:"size"` // of the plaintext
	SHA256 []byte `json:"sha256"`
	Type   string `json:"type,omitempty"` // MIME type
	Name   string `json:"name,omitempty"`
	Thumb  []byte `json:"thumb,omitempty"` // a small JPEG for previews and reply quotes
}

// The post kinds.
const (
	KindText  = "text"
	KindImage = "image"
	KindVideo = "video"
	KindVoice = "voice"
)

// Fonts are the fonts a text post may name (WhatsApp offers a handful).
var Fonts = []string{"sans", "serif", "mono", "script", "bold"}

func aad(poster parley.UserID, keyID string) []byte {
	return []byte(sealScheme + "\x00" + strconv.FormatInt(int64(poster), 10) + "\x00" + keyID)
}

func gcm(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// Seal encrypts b under key for poster (b.V is set).
func Seal(key content.StatusKey, poster parley.UserID, b Body) ([]byte, error) {
	g, err := gcm(key.Key)
	if err != nil {
		return nil, err
	}
	b.V = 1
	plain, err := json.Marshal(b)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, g.NonceSize(), g.NonceSize()+len(plain)+g.Overhead())
	_, _ = rand.Read(nonce)
	return g.Seal(nonce, nonce, plain, aad(poster, key.ID)), nil
}

// Open decrypts and checks a sealed post (untrusted bytes from the
// server). Errors are CodeInvalid ReasonStatusUnreadable.
func Open(key content.StatusKey, poster parley.UserID, sealed []byte) (Body, error) {
	g, err := gcm(key.Key)
	if err != nil {
		return Body{}, unreadable("status key: %v", err)
	}
	if len(sealed) < g.NonceSize()+g.Overhead() {
		return Body{}, unreadable("a sealed post of %d bytes", len(sealed))
	}
	plain, err := g.Open(nil, sealed[:g.NonceSize()], sealed[g.NonceSize():], aad(poster, key.ID))
	if err != nil {
		return Body{}, unreadable("the post does not open under its key")
	}
	return ParseBody(plain)
}

// ParseBody decodes and checks a post's plaintext.
func ParseBody(plain []byte) (Body, error) {
	var b Body
	if err := json.Unmarshal(plain, &b); err != nil {
		return b, unreadable("post body: %v", err)
	}
	if b.V < 1 {
		return b, unreadable("post body: no version")
	}
	if len(b.Text) > MaxTextLen || !utf8.ValidString(b.Text) || len(b.Background) > 16 || len(b.Font) > 16 {
		return b, unreadable("post body: a field is too long")
	}
	switch b.Kind {
	case KindText:
		if b.Media != nil || b.Text == "" {
			return b, unreadable("a text post has text and no media")
		}
	case KindImage, KindVideo, KindVoice:
		m := b.Media
		if m == nil || len(m.Key) != 32 || m.Size < 0 || len(m.SHA256) != sha256.Size || len(m.Thumb) > MaxThumbLen ||
			len(m.Type) > 128 || len(m.Name) > maxNameLen || !utf8.ValidString(m.Name) {
			return b, unreadable("a media post's media is missing or invalid")
		}
	default:
		return b, unreadable("unknown post kind %q", b.Kind)
	}
	return b, nil
}

// EncryptMedia encrypts data under a fresh key and describes it.
func EncryptMedia(data []byte) ([]byte, *MediaInfo, error) {
	m := &MediaInfo{Key: make([]byte, 32), Size: int64(len(data))}
	_, _ = rand.Read(m.Key)
	sum := sha256.Sum256(data)
	m.SHA256 = sum[:]
	g, err := gcm(m.Key)
	if err != nil {
		return nil, nil, err
	}
	return g.Seal(nil, make([]byte, g.NonceSize()), data, []byte(sealScheme)), m, nil
}

// DecryptMedia decrypts and checks a post's media ciphertext.
func DecryptMedia(m *MediaInfo, ct []byte) ([]byte, error) {
	g, err := gcm(m.Key)
	if err != nil {
		return nil, unreadable("media key: %v", err)
	}
	data, err := g.Open(nil, make([]byte, g.NonceSize()), ct, []byte(sealScheme))
	if err != nil {
		return nil, unreadable("the media does not open under its key")
	}
	sum := sha256.Sum256(data)
	if int64(len(data)) != m.Size || subtle.ConstantTimeCompare(sum[:], m.SHA256) != 1 {
		return nil, unreadable("the media does not match its digest")
	}
	return data, nil
}

func unreadable(format string, args ...any) error {
	return parley.Errorf(parley.CodeInvalid, ReasonStatusUnreadable, format, args...)
}
