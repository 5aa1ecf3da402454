package attachment

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"

	"github.com/parleyhq/parley"
)

// The encryption scheme, recorded in every Descriptor.
//
// A file is split into chunks of ChunkSize plaintext bytes (the last one may
// be shorter; an empty file is one empty chunk). Chunk i is sealed with
// AES-256-GCM under the file's fresh 32-byte key with the 12-byte nonce
//
//	nonce[0:8]  = i, big-endian
//	nonce[8:11] = 0
//	nonce[11]   = 1 for the last chunk, 0 otherwise
//
// and no additional data. The ciphertext is the concatenation of the sealed
// chunks (each ChunkSize+TagSize bytes but the last), so chunk i starts at
// ciphertext offset i*(ChunkSize+TagSize): any chunk can be fetched with a
// Range request and verified on its own. Because the nonce binds the index
// and the last-chunk flag, reordered, duplicated, dropped or truncated chunks
// fail to open. Keys are never reused, so deterministic nonces are safe; and
// since encryption is deterministic, an interrupted upload can regenerate
// the ciphertext from any offset.
const (
	Scheme    = "aes256gcm-c64k-v1"
	ChunkSize = 64 << 10
	TagSize   = 16
	KeySize   = 32

	sealedChunk = ChunkSize + TagSize
)

// ErrTampered is returned (wrapped) when ciphertext fails authentication,
// is truncated or has trailing bytes, or when a digest does not match.
var ErrTampered = &parley.Error{Code: parley.CodeInvalid, Reason: ReasonTampered, Message: "attachment failed verification (corrupted or tampered)"}

// NewKey returns a fresh random file key.
func NewKey() []byte {
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		panic(err)
	}
	return k
}

// chunks returns the number of chunks of a plaintext of size bytes.
func chunks(size int64) int64 {
	if size <= 0 {
		return 1
	}
	return (size + ChunkSize - 1) / ChunkSize
}

// EncryptedSize returns the ciphertext size of a plaintext of size bytes.
func EncryptedSize(size int64) int64 { return size + chunks(size)*TagSize }

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != KeySize {
		return nil, parley.Errorf(parley.CodeInvalid, ReasonBadKey, "attachment key must be %d bytes", KeySize)
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

func nonce(dst *[12]byte, i int64, last bool) []byte {
	binary.BigEndian.PutUint64(dst[:8], uint64(i))
	dst[8], dst[9], dst[10] = 0, 0, 0
	dst[11] = 0
	if last {
		dst[11] = 1
	}
	return dst[:]
}

// Encryptor produces the ciphertext of a plaintext it reads through an
// io.ReaderAt, from any offset, and the SHA-256 digest of the plaintext. It
// is not safe for concurrent use: use one Reader at a time.
//
// There is no digest of the ciphertext: every chunk's GCM tag authenticates
// it, and the nonces bind chunk order and the end of the file, so once
// every chunk opened the ciphertext is exactly what was sealed. A second
// SHA-256 pass would only halve throughput.
type Encryptor struct {
	aead    cipher.AEAD
	src     io.ReaderAt
	size    int64
	nchunks int64

	hashed int64 // chunks hashed so far (in order)
	plainH hash.Hash
	pt, ct []byte
	n      [12]byte
}

// NewEncryptor encrypts size bytes of src under key.
func NewEncryptor(key []byte, src io.ReaderAt, size int64) (*Encryptor, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	return &Encryptor{
		aead: aead, src: src, size: size, nchunks: chunks(size),
		plainH: sha256.New(),
		pt:     make([]byte, ChunkSize), ct: make([]byte, 0, sealedChunk),
	}, nil
}

// Size returns the ciphertext size.
func (e *Encryptor) Size() int64 { return EncryptedSize(e.size) }

// seal encrypts chunk i into e.ct and hashes it if it is the next in order.
func (e *Encryptor) seal(i int64) ([]byte, error) {
	off := i * ChunkSize
	n := min(int64(ChunkSize), e.size-off)
	pt := e.pt[:n]
	if _, err := e.src.ReadAt(pt, off); err != nil && !(errors.Is(err, io.EOF) && n == 0) {
		return nil, fmt.Errorf("read plaintext at %d: %w", off, err)
	}
	ct := e.aead.Seal(e.ct[:0], nonce(&e.n, i, i == e.nchunks-1), pt, nil)
	if i == e.hashed {
		e.plainH.Write(pt)
		e.hashed++
	}
	return ct, nil
}

// catchUp hashes every chunk before chunk i not hashed yet (after a resume
// from a later offset), without encrypting it.
func (e *Encryptor) catchUp(i int64) error {
	for e.hashed < i {
		off := e.hashed * ChunkSize
		pt := e.pt[:min(int64(ChunkSize), e.size-off)]
		if _, err := e.src.ReadAt(pt, off); err != nil && !(errors.Is(err, io.EOF) && len(pt) == 0) {
			return fmt.Errorf("read plaintext at %d: %w", off, err)
		}
		e.plainH.Write(pt)
		e.hashed++
	}
	return nil
}

// Reader returns the ciphertext from offset to the end.
func (e *Encryptor) Reader(offset int64) io.Reader {
	return &encReader{e: e, pos: offset}
}

type encReader struct {
	e   *Encryptor
	pos int64
	buf []byte // the rest of the current sealed chunk
}

func (r *encReader) Read(p []byte) (int, error) {
	if len(r.buf) == 0 {
		if r.pos >= r.e.Size() {
			return 0, io.EOF
		}
		i := r.pos / sealedChunk
		if err := r.e.catchUp(i); err != nil {
			return 0, err
		}
		ct, err := r.e.seal(i)
		if err != nil {
			return 0, err
		}
		r.buf = ct[r.pos-i*sealedChunk:]
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	r.pos += int64(n)
	return n, nil
}

// Digest returns the SHA-256 of the plaintext, reading whatever part of
// the file no Reader has produced yet.
func (e *Encryptor) Digest() ([]byte, error) {
	if err := e.catchUp(e.nchunks); err != nil {
		return nil, err
	}
	return e.plainH.Sum(nil), nil
}

// Decryptor opens a ciphertext stream chunk by chunk.
type Decryptor struct {
	aead    cipher.AEAD
	r       io.Reader
	size    int64 // plaintext size of the whole file
	nchunks int64
	next    int64 // index of the next chunk to open
	end     int64 // open chunks up to (excluding) end
	plainH  hash.Hash
	ct      []byte
	pt      []byte
	buf     []byte
	n       [12]byte
	err     error
}

// NewDecryptor returns a reader of the plaintext of the whole file whose
// ciphertext r yields. size is the plaintext size from the Descriptor. Read
// fails with ErrTampered as soon as a chunk does not verify, and at the end
// if the ciphertext is truncated or longer than expected.
func NewDecryptor(key []byte, r io.Reader, size int64) (*Decryptor, error) {
	return NewChunkDecryptor(key, r, size, 0, chunks(size))
}

// NewChunkDecryptor opens chunks [first, end) of a file of size plaintext
// bytes; r yields their ciphertext, starting at ChunkOffset(first).
func NewChunkDecryptor(key []byte, r io.Reader, size int64, first, end int64) (*Decryptor, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	nc := chunks(size)
	if first < 0 || end > nc || first > end {
		return nil, parley.Errorf(parley.CodeInvalid, parley.ReasonBadRange, "chunks [%d,%d) outside a file of %d chunks", first, end, nc)
	}
	d := &Decryptor{aead: aead, r: r, size: size, nchunks: nc, next: first, end: end,
		ct: make([]byte, sealedChunk), pt: make([]byte, 0, ChunkSize)}
	if first == 0 && end == nc {
		d.plainH = sha256.New()
	}
	return d, nil
}

// ChunkOffset returns the ciphertext offset of chunk i.
func ChunkOffset(i int64) int64 { return i * sealedChunk }

func (d *Decryptor) Read(p []byte) (int, error) {
	for len(d.buf) == 0 {
		if d.err != nil {
			return 0, d.err
		}
		if d.next == d.end {
			// Every expected chunk opened: the stream must end here.
			var one [1]byte
			if d.end < d.nchunks {
				d.err = io.EOF
			} else if n, _ := io.ReadFull(d.r, one[:]); n > 0 {
				d.err = fmt.Errorf("trailing bytes after the last chunk: %w", ErrTampered)
			} else {
				d.err = io.EOF
			}
			continue
		}
		i := d.next
		want := int64(sealedChunk)
		if i == d.nchunks-1 {
			want = d.size - i*ChunkSize + TagSize
		}
		ct := d.ct[:want]
		if _, err := io.ReadFull(d.r, ct); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				d.err = fmt.Errorf("ciphertext truncated in chunk %d: %w", i, ErrTampered)
			} else {
				d.err = err
			}
			continue
		}
		pt, err := d.aead.Open(d.pt[:0], nonce(&d.n, i, i == d.nchunks-1), ct, nil)
		if err != nil {
			d.err = fmt.Errorf("chunk %d: %w", i, ErrTampered)
			continue
		}
		if d.plainH != nil {
			d.plainH.Write(pt)
		}
		d.buf = pt
		d.next++
	}
	n := copy(p, d.buf)
	d.buf = d.buf[n:]
	return n, nil
}

// Verify checks the plaintext digest of a whole-file Decryptor that has
// been read to io.EOF against the Descriptor's.
func (d *Decryptor) Verify(plainSHA256 []byte) error {
	if d.plainH == nil || d.err != io.EOF {
		return parley.Errorf(parley.CodeInvalid, ReasonIncomplete, "attachment not read to the end")
	}
	if !equal(d.plainH.Sum(nil), plainSHA256) {
		return fmt.Errorf("plaintext digest: %w", ErrTampered)
	}
	return nil
}

func equal(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	var v byte
	for i := range a {
		v |= a[i] ^ b[i]
	}
	return v == 0
}
