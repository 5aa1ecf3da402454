package mls

import (
	"bytes"
	"crypto/hpke"
	"testing"
	"testing/cryptotest"
)

// TestHPKEBatchSealMatchesStdlib checks that the batched SealBase of
// hpke_batch.go (info hashed once) is byte-identical to crypto/hpke's
// NewSender+Seal for the same ephemeral key: both draw it from crypto/rand,
// which cryptotest.SetGlobalRandom makes deterministic. It also checks that
// crypto/hpke opens the batched output, for every suite with the stdlib
// backend, with a small and a large (1 MB) info.
func TestHPKEBatchSealMatchesStdlib(t *testing.T) {
	bigInfo := bytes.Repeat([]byte("encrypted group info "), 50000)
	for _, cs := range []CipherSuite{1, 2, 3, 5, 7} {
		si, _ := cs.info()
		h, ok := si.hpke.(*stdHPKE)
		if !ok {
			t.Fatalf("suite %d: backend %T", cs, si.hpke)
		}
		for _, info := range [][]byte{nil, []byte("short info"), bigInfo} {
			seal, ok := h.sealerForInfo(info)
			if !ok {
				t.Fatalf("suite %d: no batch sealer", cs)
			}
			for i := 0; i < 3; i++ {
				priv, pub, err := cs.GenerateHPKEKeyPair()
				if err != nil {
					t.Fatal(err)
				}
				pt := bytes.Repeat([]byte{byte(i)}, 40+i)

				cryptotest.SetGlobalRandom(t, uint64(100+i))
				pk, err := h.kem.NewPublicKey(pub)
				if err != nil {
					t.Fatal(err)
				}
				wantEnc, sender, err := hpke.NewSender(pk, h.kdf, h.aead, info)
				if err != nil {
					t.Fatal(err)
				}
				wantCT, err := sender.Seal(nil, pt)
				if err != nil {
					t.Fatal(err)
				}

				cryptotest.SetGlobalRandom(t, uint64(100+i))
				enc, ct, err := seal(pub, pt)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(enc, wantEnc) || !bytes.Equal(ct, wantCT) {
					t.Fatalf("suite %d info %d bytes: batched seal differs from crypto/hpke", cs, len(info))
				}
				got, err := h.open(priv, enc, info, ct)
				if err != nil || !bytes.Equal(got, pt) {
					t.Fatalf("suite %d: crypto/hpke cannot open the batched seal: %v", cs, err)
				}
			}
			if _, _, err := seal([]byte{1, 2, 3}, []byte("x")); err == nil {
				t.Fatalf("suite %d: invalid public key accepted", cs)
			}
		}
	}
}

// TestWelcomeSealerAllSuites round-trips EncryptGroupSecrets (batched path)
// through DecryptGroupSecrets for every suite, including the X448 ones that
// use the per-recipient fallback.
func TestWelcomeSealerAllSuites(t *testing.T) {
	for _, cs := range []CipherSuite{1, 2, 3, 4, 5, 6, 7} {
		b, _ := newTestBundle(t, cs, "joiner")
		encGI := bytes.Repeat([]byte{7}, 3000)
		gs := &GroupSecrets{JoinerSecret: bytes.Repeat([]byte{9}, cs.HashSize())}
		egs, err := EncryptGroupSecrets(&b.KeyPackage, encGI, gs)
		if err != nil {
			t.Fatal(err)
		}
		w := &Welcome{CipherSuite: cs, EncryptedGroupInfo: encGI, Secrets: []EncryptedGroupSecrets{egs}}
		ref, _ := b.KeyPackage.Ref()
		got, err := w.DecryptGroupSecrets(ref, b.InitPrivate)
		if err != nil {
			t.Fatalf("suite %d: %v", cs, err)
		}
		if !bytes.Equal(got.JoinerSecret, gs.JoinerSecret) {
			t.Fatalf("suite %d: joiner secret differs", cs)
		}
	}
}
