package mls

import (
	"bytes"
	"errors"
	"testing"

	"github.com/parleyhq/parley/mls/codec"
)

type secretTreeVector struct {
	CipherSuite      CipherSuite `json:"cipher_suite"`
	EncryptionSecret hexBytes    `json:"encryption_secret"`
	SenderData       struct {
		SenderDataSecret hexBytes `json:"sender_data_secret"`
		Ciphertext       hexBytes `json:"ciphertext"`
		Key              hexBytes `json:"key"`
		Nonce            hexBytes `json:"nonce"`
	} `json:"sender_data"`
	Leaves [][]struct {
		Generation       uint32   `json:"generation"`
		ApplicationKey   hexBytes `json:"application_key"`
		ApplicationNonce hexBytes `json:"application_nonce"`
		HandshakeKey     hexBytes `json:"handshake_key"`
		HandshakeNonce   hexBytes `json:"handshake_nonce"`
	} `json:"leaves"`
}

func TestSecretTreeVectors(t *testing.T) {
	const file = "secret-tree.json"
	var vs []secretTreeVector
	loadVectors(t, file, &vs)
	ran, skipped := 0, 0
	for i, v := range vs {
		cs := v.CipherSuite
		if !suiteSupported(cs) {
			skipSuite(t, file, i, cs)
			skipped++
			continue
		}
		ran++
		sd := v.SenderData
		key, nonce, err := cs.SenderDataKeyNonce(sd.SenderDataSecret, sd.Ciphertext)
		if err != nil || !bytes.Equal(key, sd.Key) || !bytes.Equal(nonce, sd.Nonce) {
			t.Errorf("vector %d: sender data key/nonce = %x/%x, %v; want %x/%x", i, key, nonce, err, sd.Key, sd.Nonce)
		}
		st, err := NewSecretTree(cs, v.EncryptionSecret, uint32(len(v.Leaves)), SecretTreeConfig{})
		if err != nil {
			t.Fatalf("vector %d: %v", i, err)
		}
		for leaf, gens := range v.Leaves {
			for _, g := range gens {
				hs, err := st.Get(uint32(leaf), RatchetHandshake, g.Generation)
				if err != nil || !bytes.Equal(hs.Key, g.HandshakeKey) || !bytes.Equal(hs.Nonce, g.HandshakeNonce) {
					t.Errorf("vector %d leaf %d gen %d: handshake = %x/%x, %v; want %x/%x", i, leaf, g.Generation, hs.Key, hs.Nonce, err, g.HandshakeKey, g.HandshakeNonce)
				}
				app, err := st.Get(uint32(leaf), RatchetApplication, g.Generation)
				if err != nil || !bytes.Equal(app.Key, g.ApplicationKey) || !bytes.Equal(app.Nonce, g.ApplicationNonce) {
					t.Errorf("vector %d leaf %d gen %d: application = %x/%x, %v; want %x/%x", i, leaf, g.Generation, app.Key, app.Nonce, err, g.ApplicationKey, g.ApplicationNonce)
				}
				// A consumed key must be gone.
				if _, err := st.Get(uint32(leaf), RatchetApplication, g.Generation); !errors.Is(err, ErrGenerationConsumed) {
					t.Errorf("vector %d leaf %d gen %d: reuse err = %v, want ErrGenerationConsumed", i, leaf, g.Generation, err)
				}
			}
		}
		// Sender side: a fresh tree's Next must produce the same keys in order.
		st2, _ := NewSecretTree(cs, v.EncryptionSecret, uint32(len(v.Leaves)), SecretTreeConfig{})
		last := len(v.Leaves) - 1
		for _, g := range v.Leaves[last] {
			var kn KeyNonce
			for {
				kn, err = st2.Next(uint32(last), RatchetApplication)
				if err != nil || kn.Generation >= g.Generation {
					break
				}
			}
			if err != nil || kn.Generation != g.Generation || !bytes.Equal(kn.Key, g.ApplicationKey) {
				t.Errorf("vector %d: Next gen %d = %x, %v", i, g.Generation, kn.Key, err)
			}
		}
	}
	reportVectors(file, ran, skipped)
}

func TestSecretTreeWindow(t *testing.T) {
	cs := MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519
	secret := bytes.Repeat([]byte{7}, 32)
	sender, _ := NewSecretTree(cs, secret, 4, SecretTreeConfig{})
	var keys []KeyNonce
	for i := 0; i < 10; i++ {
		kn, err := sender.Next(3, RatchetApplication)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, kn)
	}
	recv, _ := NewSecretTree(cs, secret, 4, SecretTreeConfig{OutOfOrderWindow: 3, MaxForwardDistance: 8})
	// Jump to generation 8: generations 0..7 are skipped, only 5,6,7 retained.
	if kn, err := recv.Get(3, RatchetApplication, 8); err != nil || !bytes.Equal(kn.Key, keys[8].Key) {
		t.Fatalf("Get(8) = %v", err)
	}
	for g := uint32(0); g < 5; g++ {
		if _, err := recv.Get(3, RatchetApplication, g); !errors.Is(err, ErrGenerationConsumed) {
			t.Errorf("Get(%d) err = %v, want evicted", g, err)
		}
	}
	for _, g := range []uint32{6, 5, 7} {
		if kn, err := recv.Get(3, RatchetApplication, g); err != nil || !bytes.Equal(kn.Key, keys[g].Key) || !bytes.Equal(kn.Nonce, keys[g].Nonce) {
			t.Errorf("Get(%d) out of order: %v", g, err)
		}
	}
	if _, err := recv.Get(3, RatchetApplication, 9+9); !errors.Is(err, ErrGenerationTooFar) {
		t.Errorf("far generation err = %v", err)
	}
	if _, err := recv.Get(4, RatchetApplication, 0); !errors.Is(err, ErrInvalidLeaf) {
		t.Errorf("invalid leaf err = %v", err)
	}
	// Tree node secrets are deleted once consumed: after deriving every
	// leaf, no node secrets remain.
	for l := uint32(0); l < 4; l++ {
		if _, err := recv.Next(l, RatchetHandshake); err != nil {
			t.Fatal(err)
		}
	}
	if len(recv.nodes) != 0 {
		t.Errorf("%d tree node secrets retained after all leaves derived", len(recv.nodes))
	}
}

// TestSecretTreeMarshalRoundTrip checks that a secret tree restored by
// unmarshal yields the same keys as the original (ratchets, retained
// out-of-order keys, unconsumed node secrets) and that malformed sizes
// are rejected.
func TestSecretTreeMarshalRoundTrip(t *testing.T) {
	cs := testSuite
	st, err := NewSecretTree(cs, bytes.Repeat([]byte{5}, cs.HashSize()), 8, SecretTreeConfig{OutOfOrderWindow: 4})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Get(3, RatchetApplication, 5); err != nil { // retains 0..4
		t.Fatal(err)
	}
	if _, err := st.Next(6, RatchetHandshake); err != nil {
		t.Fatal(err)
	}
	w := codec.NewWriter(0)
	st.marshal(w)
	enc := bytes.Clone(w.Bytes())
	var st2 SecretTree
	r := codec.NewReader(enc)
	st2.unmarshal(r, cs)
	if err := r.Finish(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		leaf uint32
		typ  RatchetType
		gen  uint32
	}{{3, RatchetApplication, 2}, {3, RatchetApplication, 6}, {6, RatchetHandshake, 1}, {0, RatchetApplication, 0}, {7, RatchetHandshake, 3}} {
		a, errA := st.Get(c.leaf, c.typ, c.gen)
		b, errB := st2.Get(c.leaf, c.typ, c.gen)
		if errA != nil || errB != nil || !bytes.Equal(a.Key, b.Key) || !bytes.Equal(a.Nonce, b.Nonce) {
			t.Fatalf("leaf %d gen %d: restored tree differs (%v, %v)", c.leaf, c.gen, errA, errB)
		}
	}
	w2 := codec.NewWriter(0)
	st2.marshal(w2)
	w.Reset()
	st.marshal(w)
	if !bytes.Equal(w.Bytes(), w2.Bytes()) {
		t.Fatal("re-marshalled trees differ")
	}
	// A retained nonce of the wrong size is rejected, not kept to panic later.
	bad := newSecretTreeForTest(t, cs)
	bad.leaves[0].r[1].skipped[0] = KeyNonce{Generation: 0, Key: make([]byte, cs.AEADKeySize()), Nonce: []byte{1}}
	w.Reset()
	bad.marshal(w)
	var st3 SecretTree
	r = codec.NewReader(w.Bytes())
	st3.unmarshal(r, cs)
	if r.Err() == nil {
		t.Fatal("short nonce accepted")
	}
}

// newSecretTreeForTest returns a 2-leaf tree whose leaf 0 application
// ratchet retains generation 0.
func newSecretTreeForTest(t *testing.T, cs CipherSuite) *SecretTree {
	st, err := NewSecretTree(cs, bytes.Repeat([]byte{6}, cs.HashSize()), 2, SecretTreeConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Get(0, RatchetApplication, 1); err != nil {
		t.Fatal(err)
	}
	return st
}
