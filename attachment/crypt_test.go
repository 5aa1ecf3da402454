package attachment_test

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/parleyhq/parley/attachment"
)

func encrypt(t *testing.T, key, plain []byte) (ct, plainSum []byte) {
	t.Helper()
	e, err := attachment.NewEncryptor(key, bytes.NewReader(plain), int64(len(plain)))
	if err != nil {
		t.Fatal(err)
	}
	ct, err = io.ReadAll(e.Reader(0))
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(ct)) != attachment.EncryptedSize(int64(len(plain))) {
		t.Fatalf("ciphertext %d bytes, EncryptedSize says %d", len(ct), attachment.EncryptedSize(int64(len(plain))))
	}
	plainSum, err = e.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return ct, plainSum
}

func decrypt(key, ct []byte, size int64, ps []byte) ([]byte, error) {
	d, err := attachment.NewDecryptor(key, bytes.NewReader(ct), size)
	if err != nil {
		return nil, err
	}
	out, err := io.ReadAll(d)
	if err != nil {
		return out, err
	}
	return out, d.Verify(ps)
}

func TestRoundTripSizes(t *testing.T) {
	for _, n := range []int{0, 1, attachment.ChunkSize - 1, attachment.ChunkSize, attachment.ChunkSize + 1, 3*attachment.ChunkSize + 5} {
		plain := make([]byte, n)
		_, _ = rand.NewChaCha8([32]byte{1}).Read(plain)
		key := attachment.NewKey()
		ct, ps := encrypt(t, key, plain)
		got, err := decrypt(key, ct, int64(n), ps)
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("size %d: %v", n, err)
		}
	}
}

// TestResumeFromAnyOffset: the ciphertext regenerated from any offset
// equals the tail of the whole, and digests still cover the whole file.
func TestResumeFromAnyOffset(t *testing.T) {
	plain := make([]byte, 4*attachment.ChunkSize+100)
	_, _ = rand.NewChaCha8([32]byte{2}).Read(plain)
	key := attachment.NewKey()
	ct, ps := encrypt(t, key, plain)
	for _, off := range []int64{0, 5, attachment.ChunkSize + 16, 2*attachment.ChunkSize + 999, int64(len(ct))} {
		e, _ := attachment.NewEncryptor(key, bytes.NewReader(plain), int64(len(plain)))
		tail, err := io.ReadAll(e.Reader(off))
		if err != nil || !bytes.Equal(tail, ct[off:]) {
			t.Fatalf("Reader(%d) differs", off)
		}
		p2, _ := e.Digest()
		if !bytes.Equal(p2, ps) {
			t.Fatalf("digests after resuming at %d differ", off)
		}
	}
}

func TestTamperingDetected(t *testing.T) {
	plain := make([]byte, 3*attachment.ChunkSize+10)
	_, _ = rand.NewChaCha8([32]byte{3}).Read(plain)
	key := attachment.NewKey()
	ct, ps := encrypt(t, key, plain)
	sc := attachment.ChunkSize + attachment.TagSize
	swap := append([]byte(nil), ct...)
	copy(swap[0:sc], ct[sc:2*sc])
	copy(swap[sc:2*sc], ct[0:sc])
	for name, c := range map[string]struct {
		ct   []byte
		size int64
	}{
		"flipped bit":      {func() []byte { b := append([]byte(nil), ct...); b[100] ^= 1; return b }(), int64(len(plain))},
		"flipped tag":      {func() []byte { b := append([]byte(nil), ct...); b[len(b)-1] ^= 1; return b }(), int64(len(plain))},
		"truncated":        {ct[:len(ct)-5], int64(len(plain))},
		"last chunk cut":   {ct[:3*sc], int64(len(plain))},
		"trailing bytes":   {append(append([]byte(nil), ct...), 0), int64(len(plain))},
		"chunks reordered": {swap, int64(len(plain))},
		"claimed shorter":  {ct[:3*sc], 3 * attachment.ChunkSize}, // a full chunk presented as the last
	} {
		t.Run(name, func(t *testing.T) {
			_, err := decrypt(key, c.ct, c.size, ps)
			if !errors.Is(err, attachment.ErrTampered) {
				t.Fatalf("got %v, want ErrTampered", err)
			}
		})
	}
	if _, err := decrypt(attachment.NewKey(), ct, int64(len(plain)), nil); !errors.Is(err, attachment.ErrTampered) {
		t.Fatalf("wrong key: %v", err)
	}
	if _, err := decrypt(key, ct, int64(len(plain)), make([]byte, 32)); !errors.Is(err, attachment.ErrTampered) {
		t.Fatalf("wrong plaintext digest: %v", err)
	}
}

func TestLatLon(t *testing.T) {
	for in, ok := range map[string]bool{"51.5,-0.12": true, " -33.9 , 151.2 ": true, "91,0": false, "0,181": false, "abc": false, "1;2": false} {
		_, _, err := attachment.ParseLatLon(in)
		if (err == nil) != ok {
			t.Errorf("ParseLatLon(%q) = %v", in, err)
		}
	}
}

func TestVCard(t *testing.T) {
	c, err := attachment.ParseVCard(attachment.VCard("Ada, Countess", "+447700900123"))
	if err != nil || c.Name != `Ada\, Countess` || len(c.Phones) != 1 {
		t.Fatalf("ParseVCard = %+v, %v", c, err)
	}
	if _, err := attachment.ParseVCard("hello"); err == nil {
		t.Fatal("ParseVCard accepted a non-vCard")
	}
}

func FuzzDecryptor(f *testing.F) {
	key := bytes.Repeat([]byte{9}, 32)
	e, _ := attachment.NewEncryptor(key, bytes.NewReader([]byte("hello, world")), 12)
	ct, _ := io.ReadAll(e.Reader(0))
	f.Add(ct, int64(12))
	f.Fuzz(func(t *testing.T, ct []byte, size int64) {
		if size < 0 || size > 1<<20 {
			return
		}
		d, err := attachment.NewDecryptor(key, bytes.NewReader(ct), size)
		if err != nil {
			return
		}
		_, _ = io.ReadAll(d)
	})
}
