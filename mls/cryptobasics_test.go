package mls

import (
	"bytes"
	"testing"
)

type cryptoBasicsVector struct {
	CipherSuite CipherSuite `json:"cipher_suite"`
	RefHash     struct {
		Label string   `json:"label"`
		Value hexBytes `json:"value"`
		Out   hexBytes `json:"out"`
	} `json:"ref_hash"`
	ExpandWithLabel struct {
		Secret  hexBytes `json:"secret"`
		Label   string   `json:"label"`
		Context hexBytes `json:"context"`
		Length  int      `json:"length"`
		Out     hexBytes `json:"out"`
	} `json:"expand_with_label"`
	DeriveSecret struct {
		Secret hexBytes `json:"secret"`
		Label  string   `json:"label"`
		Out    hexBytes `json:"out"`
	} `json:"derive_secret"`
	DeriveTreeSecret struct {
		Secret     hexBytes `json:"secret"`
		Label      string   `json:"label"`
		Generation uint32   `json:"generation"`
		Length     int      `json:"length"`
		Out        hexBytes `json:"out"`
	} `json:"derive_tree_secret"`
	SignWithLabel struct {
		Priv      hexBytes `json:"priv"`
		Pub       hexBytes `json:"pub"`
		Content   hexBytes `json:"content"`
		Label     string   `json:"label"`
		Signature hexBytes `json:"signature"`
	} `json:"sign_with_label"`
	EncryptWithLabel struct {
		Priv       hexBytes `json:"priv"`
		Pub        hexBytes `json:"pub"`
		Label      string   `json:"label"`
		Context    hexBytes `json:"context"`
		Plaintext  hexBytes `json:"plaintext"`
		KEMOutput  hexBytes `json:"kem_output"`
		Ciphertext hexBytes `json:"ciphertext"`
	} `json:"encrypt_with_label"`
}

func TestCryptoBasicsVectors(t *testing.T) {
	const file = "crypto-basics.json"
	var vs []cryptoBasicsVector
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
		out, err := cs.RefHash(v.RefHash.Label, v.RefHash.Value)
		if err != nil || !bytes.Equal(out, v.RefHash.Out) {
			t.Errorf("suite %d: RefHash = %x, %v; want %x", cs, out, err, v.RefHash.Out)
		}
		e := v.ExpandWithLabel
		out, err = cs.ExpandWithLabel(e.Secret, e.Label, e.Context, e.Length)
		if err != nil || !bytes.Equal(out, e.Out) {
			t.Errorf("suite %d: ExpandWithLabel = %x, %v; want %x", cs, out, err, e.Out)
		}
		d := v.DeriveSecret
		out, err = cs.DeriveSecret(d.Secret, d.Label)
		if err != nil || !bytes.Equal(out, d.Out) {
			t.Errorf("suite %d: DeriveSecret = %x, %v; want %x", cs, out, err, d.Out)
		}
		dt := v.DeriveTreeSecret
		out, err = cs.DeriveTreeSecret(dt.Secret, dt.Label, dt.Generation, dt.Length)
		if err != nil || !bytes.Equal(out, dt.Out) {
			t.Errorf("suite %d: DeriveTreeSecret = %x, %v; want %x", cs, out, err, dt.Out)
		}
		s := v.SignWithLabel
		if err := cs.VerifyWithLabel(s.Pub, s.Label, s.Content, s.Signature); err != nil {
			t.Errorf("suite %d: VerifyWithLabel(vector signature): %v", cs, err)
		}
		sig, err := cs.SignWithLabel(s.Priv, s.Label, s.Content)
		if err != nil {
			t.Errorf("suite %d: SignWithLabel: %v", cs, err)
		} else if err := cs.VerifyWithLabel(s.Pub, s.Label, s.Content, sig); err != nil {
			t.Errorf("suite %d: VerifyWithLabel(own signature): %v", cs, err)
		}
		if err := cs.VerifyWithLabel(s.Pub, s.Label+"x", s.Content, s.Signature); err == nil {
			t.Errorf("suite %d: VerifyWithLabel accepted a wrong label", cs)
		}
		if pub, err := cs.SignaturePublicKey(s.Priv); err != nil || !bytes.Equal(pub, s.Pub) {
			t.Errorf("suite %d: SignaturePublicKey = %x, %v; want %x", cs, pub, err, s.Pub)
		}
		ew := v.EncryptWithLabel
		pt, err := cs.DecryptWithLabel(ew.Priv, ew.Label, ew.Context, ew.KEMOutput, ew.Ciphertext)
		if err != nil || !bytes.Equal(pt, ew.Plaintext) {
			t.Errorf("suite %d: DecryptWithLabel = %x, %v; want %x", cs, pt, err, ew.Plaintext)
		}
		kem, ct, err := cs.EncryptWithLabel(ew.Pub, ew.Label, ew.Context, ew.Plaintext)
		if err != nil {
			t.Errorf("suite %d: EncryptWithLabel: %v", cs, err)
		} else {
			pt, err = cs.DecryptWithLabel(ew.Priv, ew.Label, ew.Context, kem, ct)
			if err != nil || !bytes.Equal(pt, ew.Plaintext) {
				t.Errorf("suite %d: DecryptWithLabel(own) = %x, %v", cs, pt, err)
			}
		}
		if pub, err := cs.HPKEPublicKeyFromPrivate(ew.Priv); err != nil || !bytes.Equal(pub, ew.Pub) {
			t.Errorf("suite %d: HPKEPublicKeyFromPrivate = %x, %v; want %x", cs, pub, err, ew.Pub)
		}
	}
	reportVectors(file, ran, skipped)
}
