package hosted

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/parleyhq/parley"
)

// Sealed files: a 6-byte magic "prlyf1", a 16-byte random file salt, then
// chunks of at most chunkSize plaintext bytes, each AES-256-GCM sealed with
// nonce = 4 zero bytes || 8-byte big-endian chunk index, additional data =
// the file id || salt || index || last-chunk flag. The key is
// SHA-256(operator key || salt), so nonces never repeat across files; a
// truncated, reordered or swapped file fails to open.

const (
	fileMagic = "prlyf1"
	chunkSize = 64 << 10
)

func fileAEAD(key, salt []byte) (cipher.AEAD, error) {
	k := sha256.Sum256(append(append([]byte{}, key...), salt...))
	block, err := aes.NewCipher(k[:])
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func chunkNonce(i uint64) []byte {
	n := make([]byte, 12)
	binary.BigEndian.PutUint64(n[4:], i)
	return n
}

func chunkAD(id string, salt []byte, i uint64, last bool) []byte {
	ad := append([]byte(id), salt...)
	ad = binary.BigEndian.AppendUint64(ad, i)
	if last {
		return append(ad, 1)
	}
	return append(ad, 0)
}

// sealFile writes r (at most max bytes, else CodeTooLarge) sealed to path
// and returns the plaintext size and hex SHA-256.
func sealFile(key []byte, path, id string, r io.Reader, max int64) (int64, string, error) {
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	aead, err := fileAEAD(key, salt)
	if err != nil {
		return 0, "", err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o600)
	if err != nil {
		return 0, "", err
	}
	fail := func(err error) (int64, string, error) {
		f.Close()
		os.Remove(path)
		return 0, "", err
	}
	if _, err := f.Write(append([]byte(fileMagic), salt...)); err != nil {
		return fail(err)
	}
	h := sha256.New()
	var total int64
	cur := make([]byte, chunkSize)
	next := make([]byte, chunkSize)
	n, err := io.ReadFull(r, cur)
	var out []byte
	for i := uint64(0); ; i++ {
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
			return fail(err)
		}
		last := err != nil
		var m int
		var nerr error
		if !last {
			m, nerr = io.ReadFull(r, next)
			if m == 0 && (errors.Is(nerr, io.EOF) || errors.Is(nerr, io.ErrUnexpectedEOF)) {
				last = true
			}
		}
		total += int64(n)
		if total > max {
			return fail(parley.Errorf(parley.CodeTooLarge, parley.ReasonFileTooLarge, "the file is larger than %d bytes", max))
		}
		h.Write(cur[:n])
		out = aead.Seal(out[:0], chunkNonce(i), cur[:n], chunkAD(id, salt, i, last))
		if _, err := f.Write(out); err != nil {
			return fail(err)
		}
		if last {
			break
		}
		cur, next = next, cur
		n, err = m, nerr
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return 0, "", err
	}
	return total, hex.EncodeToString(h.Sum(nil)), nil
}

// sealedReader decrypts a sealed file chunk by chunk.
type sealedReader struct {
	f    *os.File
	id   string
	salt []byte
	aead cipher.AEAD
	i    uint64
	buf  []byte // decrypted, not yet read
	cur  []byte // ciphertext of the current chunk
	next []byte // ciphertext read ahead
	nn   int
	done bool
}

func openSealedFile(key []byte, path, id string) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	head := make([]byte, len(fileMagic)+16)
	if _, err := io.ReadFull(f, head); err != nil || string(head[:len(fileMagic)]) != fileMagic {
		f.Close()
		return nil, fmt.Errorf("media %s: not a sealed file", id)
	}
	salt := head[len(fileMagic):]
	aead, err := fileAEAD(key, salt)
	if err != nil {
		f.Close()
		return nil, err
	}
	sr := &sealedReader{f: f, id: id, salt: salt, aead: aead, cur: make([]byte, chunkSize+aead.Overhead()), next: make([]byte, chunkSize+aead.Overhead())}
	sr.nn, err = io.ReadFull(f, sr.next)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		f.Close()
		return nil, err
	}
	return sr, nil
}

func (s *sealedReader) Read(p []byte) (int, error) {
	for len(s.buf) == 0 {
		if s.done {
			return 0, io.EOF
		}
		if s.nn == 0 {
			return 0, fmt.Errorf("media %s: truncated", s.id)
		}
		s.cur, s.next = s.next, s.cur
		n := s.nn
		m, err := io.ReadFull(s.f, s.next)
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
			return 0, err
		}
		s.nn = m
		last := m == 0
		plain, oerr := s.aead.Open(s.cur[:0], chunkNonce(s.i), s.cur[:n], chunkAD(s.id, s.salt, s.i, last))
		if oerr != nil {
			return 0, fmt.Errorf("media %s: damaged or wrong key", s.id)
		}
		s.i++
		s.buf, s.done = plain, last
	}
	n := copy(p, s.buf)
	s.buf = s.buf[n:]
	return n, nil
}

func (s *sealedReader) Close() error { return s.f.Close() }
