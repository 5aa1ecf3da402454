package backup

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"io"
	"time"

	"github.com/parleyhq/parley"
)

// The container, byte by byte (integers big-endian):
//
//	header   "PARLEYBK" (8) | version (1) = 1 | created, Unix ms (8) |
//	         chunk size (4) | salt (32) | key check (32)
//	chunk*   length n (4) | nonce (12) | AES-256-GCM ciphertext and tag (n-12)
//
// The encryption key and the key check are HKDF-SHA256 of the recovery
// key's 32 bytes with the salt, under two different labels. The recovery
// key is already 256 bits of randomness, so it needs no password
// stretching: a slow KDF protects guessable secrets, and a random 256-bit
// key cannot be guessed. The key check lets a wrong key be told apart from
// a damaged file; it is one-way, so it reveals nothing about the key.
//
// Every chunk holds at most chunk size bytes of plaintext, sealed with a
// fresh random nonce and, as associated data, the whole header, the
// chunk's index (8) and a final flag (1): the last chunk, and only it, has
// the flag set. So a chunk cannot be altered, moved, dropped, or taken
// from another backup, and a backup cut short is refused rather than read
// as a shorter one. Memory use is one chunk, whatever the backup's size.
const (
	magic = "PARLEYBK"
	// Version is the format version this package writes and reads.
	Version = 1
	// DefaultChunkSize is the plaintext size of a chunk NewWriter writes.
	DefaultChunkSize = 64 << 10
	// MaxChunkSize bounds the chunk size a reader accepts.
	MaxChunkSize = 1 << 20

	saltSize   = 32
	checkSize  = 32
	nonceSize  = 12
	tagSize    = 16
	headerSize = len(magic) + 1 + 8 + 4 + saltSize + checkSize
)

// Header is what a backup says about itself, authenticated by every chunk.
type Header struct {
	Version   int
	CreatedAt time.Time
	ChunkSize int
}

func corrupt(format string, args ...any) error {
	return parley.Errorf(parley.CodeInvalid, ReasonBackupCorrupt, format, args...)
}

func deriveKeys(k RecoveryKey, salt []byte) (cipher.AEAD, []byte, error) {
	enc, err := hkdf.Key(sha256.New, k[:], salt, "parley client backup v1: encryption", 32)
	if err != nil {
		return nil, nil, err
	}
	check, err := hkdf.Key(sha256.New, k[:], salt, "parley client backup v1: key check", checkSize)
	if err != nil {
		return nil, nil, err
	}
	block, err := aes.NewCipher(enc)
	if err != nil {
		return nil, nil, err
	}
	aead, err := cipher.NewGCM(block)
	return aead, check, err
}

func chunkAD(header []byte, index uint64, final bool) []byte {
	ad := make([]byte, 0, len(header)+9)
	ad = append(ad, header...)
	ad = binary.BigEndian.AppendUint64(ad, index)
	if final {
		return append(ad, 1)
	}
	return append(ad, 0)
}

// Writer encrypts a backup as it is written. Close writes the final chunk:
// a backup not closed is refused when read.
type Writer struct {
	w      io.Writer
	aead   cipher.AEAD
	header []byte
	buf    []byte
	size   int
	index  uint64
	err    error
}

// NewWriter writes a backup's header to w and returns a Writer of its
// content, encrypted under key, dated created.
func NewWriter(w io.Writer, key RecoveryKey, created time.Time) (*Writer, error) {
	salt := make([]byte, saltSize)
	_, _ = rand.Read(salt)
	aead, check, err := deriveKeys(key, salt)
	if err != nil {
		return nil, err
	}
	h := make([]byte, 0, headerSize)
	h = append(h, magic...)
	h = append(h, Version)
	h = binary.BigEndian.AppendUint64(h, uint64(created.UnixMilli()))
	h = binary.BigEndian.AppendUint32(h, DefaultChunkSize)
	h = append(h, salt...)
	h = append(h, check...)
	if _, err := w.Write(h); err != nil {
		return nil, err
	}
	return &Writer{w: w, aead: aead, header: h, size: DefaultChunkSize}, nil
}

// Write encrypts p, a whole chunk at a time.
func (w *Writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	w.buf = append(w.buf, p...)
	// Keep the last bytes back: only Close knows which chunk is final.
	for len(w.buf) > w.size {
		if err := w.seal(w.buf[:w.size], false); err != nil {
			return 0, err
		}
		w.buf = append(w.buf[:0], w.buf[w.size:]...)
	}
	return len(p), nil
}

// Close writes the final chunk. It does not close the underlying writer.
func (w *Writer) Close() error {
	if w.err != nil {
		return w.err
	}
	if err := w.seal(w.buf, true); err != nil {
		return err
	}
	w.err = errors.New("backup writer closed")
	return nil
}

func (w *Writer) seal(plain []byte, final bool) error {
	nonce := make([]byte, nonceSize)
	_, _ = rand.Read(nonce)
	out := make([]byte, 4, 4+nonceSize+len(plain)+tagSize)
	binary.BigEndian.PutUint32(out, uint32(nonceSize+len(plain)+tagSize))
	out = append(out, nonce...)
	out = w.aead.Seal(out, nonce, plain, chunkAD(w.header, w.index, final))
	w.index++
	if _, err := w.w.Write(out); err != nil {
		w.err = err
		return err
	}
	return nil
}

// Reader decrypts a backup as it is read. Read returns io.EOF only after
// the final chunk has been authenticated; any damage, truncation or
// trailing data is CodeInvalid, ReasonBackupCorrupt.
type Reader struct {
	r      io.Reader
	aead   cipher.AEAD
	header []byte
	hdr    Header
	buf    []byte
	index  uint64
	done   bool
	err    error
}

// NewReader reads a backup's header from r and checks key against it: a
// backup made with another key is CodeForbidden, ReasonBackupWrongKey; one
// of a newer format ReasonBackupVersion; anything that is not a backup
// ReasonBackupCorrupt.
func NewReader(r io.Reader, key RecoveryKey) (*Reader, error) {
	h := make([]byte, headerSize)
	if _, err := io.ReadFull(r, h); errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, corrupt("not a Parley backup: too short")
	} else if err != nil {
		return nil, err
	}
	if !bytes.Equal(h[:len(magic)], []byte(magic)) {
		return nil, corrupt("not a Parley backup")
	}
	p := h[len(magic):]
	if v := p[0]; v != Version {
		return nil, parley.Errorf(parley.CodeInvalid, ReasonBackupVersion, "the backup has format version %d; this client reads version %d", v, Version)
	}
	created := int64(binary.BigEndian.Uint64(p[1:9]))
	size := binary.BigEndian.Uint32(p[9:13])
	if size == 0 || size > MaxChunkSize {
		return nil, corrupt("chunk size %d out of range", size)
	}
	salt, check := p[13:13+saltSize], p[13+saltSize:]
	aead, want, err := deriveKeys(key, salt)
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare(check, want) != 1 {
		return nil, parley.Errorf(parley.CodeForbidden, ReasonBackupWrongKey, "this backup was made with another recovery key")
	}
	return &Reader{r: r, aead: aead, header: h,
		hdr: Header{Version: Version, CreatedAt: time.UnixMilli(created).UTC(), ChunkSize: int(size)}}, nil
}

// Header returns the backup's header.
func (r *Reader) Header() Header { return r.hdr }

// Read reads decrypted content.
func (r *Reader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		if r.done {
			return 0, io.EOF
		}
		r.err = r.next()
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// next reads and opens one chunk into buf.
func (r *Reader) next() error {
	var l [4]byte
	if _, err := io.ReadFull(r.r, l[:]); errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return corrupt("the backup is cut short after chunk %d", r.index)
	} else if err != nil {
		return err
	}
	n := int(binary.BigEndian.Uint32(l[:]))
	if n < nonceSize+tagSize || n > nonceSize+r.hdr.ChunkSize+tagSize {
		return corrupt("chunk %d has a bad length %d", r.index, n)
	}
	c := make([]byte, n)
	if _, err := io.ReadFull(r.r, c); errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return corrupt("the backup is cut short in chunk %d", r.index)
	} else if err != nil {
		return err
	}
	nonce, sealed := c[:nonceSize], c[nonceSize:]
	final := false
	plain, err := r.aead.Open(sealed[:0:0], nonce, sealed, chunkAD(r.header, r.index, false))
	if err != nil {
		final = true
		if plain, err = r.aead.Open(sealed[:0:0], nonce, sealed, chunkAD(r.header, r.index, true)); err != nil {
			return corrupt("chunk %d fails authentication", r.index)
		}
	}
	if !final && len(plain) != r.hdr.ChunkSize {
		return corrupt("chunk %d is short but not final", r.index)
	}
	r.index++
	r.buf = plain
	if final {
		r.done = true
		var one [1]byte
		if n, _ := io.ReadFull(r.r, one[:]); n != 0 {
			return corrupt("data after the final chunk")
		}
	}
	return nil
}
