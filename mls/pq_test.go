package mls

import (
	"bytes"
	"testing"
)

// The X-Wing suite's HPKE keys and ciphertexts have the sizes of
// draft-ietf-hpke-pq's MLKEM768-X25519 (public key 1,216 bytes, enc 1,120,
// private key a 32-byte seed), key derivation is deterministic, and
// EncryptWithLabel/DecryptWithLabel round-trip and reject tampering.
func TestPQSuiteHPKE(t *testing.T) {
	cs := MLS_128_MLKEM768X25519_AES128GCM_SHA256_Ed25519
	if !cs.Supported() || cs.String() != "MLS_128_MLKEM768X25519_AES128GCM_SHA256_Ed25519" {
		t.Fatalf("suite 0x%04x: supported %v, name %s", uint16(cs), cs.Supported(), cs)
	}
	priv, pub, err := cs.DeriveKeyPair(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	priv2, pub2, _ := cs.DeriveKeyPair(bytes.Repeat([]byte{7}, 32))
	if !bytes.Equal(priv, priv2) || !bytes.Equal(pub, pub2) {
		t.Fatal("DeriveKeyPair is not deterministic")
	}
	if len(pub) != 1216 || len(priv) != 32 {
		t.Fatalf("public key %d bytes, private %d; want 1216 and 32", len(pub), len(priv))
	}
	if got, err := cs.HPKEPublicKeyFromPrivate(priv); err != nil || !bytes.Equal(got, pub) {
		t.Fatalf("public from private: %v", err)
	}
	enc, ct, err := cs.EncryptWithLabel(pub, "UpdatePathNode", []byte("context"), []byte("path secret"))
	if err != nil {
		t.Fatal(err)
	}
	if len(enc) != 1120 {
		t.Fatalf("kem_output %d bytes, want 1120", len(enc))
	}
	pt, err := cs.DecryptWithLabel(priv, "UpdatePathNode", []byte("context"), enc, ct)
	if err != nil || string(pt) != "path secret" {
		t.Fatalf("decrypt: %q, %v", pt, err)
	}
	if _, err := cs.DecryptWithLabel(priv, "UpdatePathNode", []byte("other"), enc, ct); err == nil {
		t.Fatal("decrypted with the wrong context")
	}
	enc[5] ^= 1
	if _, err := cs.DecryptWithLabel(priv, "UpdatePathNode", []byte("context"), enc, ct); err == nil {
		t.Fatal("decrypted a tampered kem_output")
	}
	if err := cs.ValidateHPKEPublicKey(pub[:100]); err == nil {
		t.Fatal("accepted a truncated public key")
	}
}

// A group on the X-Wing suite works end to end: Welcome, external join,
// commits with paths and application messages.
func TestPQSuiteGroup(t *testing.T) {
	cs := MLS_128_MLKEM768X25519_AES128GCM_SHA256_Ed25519
	tg := newTestGroup(t, cs, Config{}, "a", "b", "c", "d")
	tg.chat()
	tg.commit(1, CommitParams{Update: true})
	tg.checkAgree()
	gi, err := tg.members[0].g.GroupInfo(true)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := GenerateSigner(cs)
	joiner, commit, err := JoinExternal(gi, s, NewBasicCredential([]byte("e")), Config{}, ExternalJoinOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range tg.members {
		if _, err := m.g.Process(commit); err != nil {
			t.Fatalf("%s processes the external commit: %v", m.name, err)
		}
	}
	ct, err := joiner.Encrypt([]byte("hello"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := tg.members[2].g.Process(ct); err != nil || string(p.ApplicationData) != "hello" {
		t.Fatalf("decrypt the joiner's message: %v", err)
	}
}
