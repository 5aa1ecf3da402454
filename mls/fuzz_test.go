package mls

import (
	"bytes"
	"testing"
)

// Fuzz targets for every decoder of this package's wire structs. Each
// checks that decoding never panics and that whatever decodes re-encodes to
// exactly the input (decoding accepts only canonical encodings). Seeds come
// from the official vectors; run e.g.
//
//	go test -run '^$' -fuzz FuzzMLSMessage -fuzztime 30s ./mls

func fuzzRoundTrip(t *testing.T, data []byte, v roundTripper) {
	if err := Unmarshal(data, v); err != nil {
		return
	}
	out, err := Marshal(v)
	if err != nil {
		t.Fatalf("re-encode failed: %v", err)
	}
	if !bytes.Equal(out, data) {
		t.Fatalf("re-encoding differs:\n in %x\nout %x", data, out)
	}
}

func messagesSeeds(f *testing.F, pick func(v *messagesVector) [][]byte) {
	var vs []messagesVector
	loadVectors(f, "messages.json", &vs)
	for i := range vs {
		if i%10 != 0 { // a sample keeps the seed corpus small
			continue
		}
		for _, b := range pick(&vs[i]) {
			f.Add([]byte(b))
		}
	}
}

func FuzzMLSMessage(f *testing.F) {
	messagesSeeds(f, func(v *messagesVector) [][]byte {
		return [][]byte{v.MLSWelcome, v.MLSGroupInfo, v.MLSKeyPackage, v.PublicMessageApplication,
			v.PublicMessageProposal, v.PublicMessageCommit, v.PrivateMessage}
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRoundTrip(t, data, &MLSMessage{})
		var m MLSMessage
		_ = m.Unmarshal(data)
	})
}

func FuzzKeyPackage(f *testing.F) {
	messagesSeeds(f, func(v *messagesVector) [][]byte {
		var m MLSMessage
		if m.Unmarshal(v.MLSKeyPackage) != nil {
			return nil
		}
		return [][]byte{mustEncode(m.KeyPackage)}
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		var kp KeyPackage
		fuzzRoundTrip(t, data, &kp)
		if kp.Unmarshal(data) == nil {
			_ = kp.Verify() // must not panic on arbitrary keys
		}
	})
}

func FuzzWelcome(f *testing.F) {
	messagesSeeds(f, func(v *messagesVector) [][]byte {
		var m MLSMessage
		if m.Unmarshal(v.MLSWelcome) != nil {
			return nil
		}
		return [][]byte{mustEncode(m.Welcome), v.GroupSecrets}
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRoundTrip(t, data, &Welcome{})
		fuzzRoundTrip(t, data, &GroupSecrets{})
	})
}

func FuzzGroupInfo(f *testing.F) {
	messagesSeeds(f, func(v *messagesVector) [][]byte {
		var m MLSMessage
		if m.Unmarshal(v.MLSGroupInfo) != nil {
			return nil
		}
		return [][]byte{mustEncode(m.GroupInfo)}
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		var gi GroupInfo
		fuzzRoundTrip(t, data, &gi)
		if gi.Unmarshal(data) == nil {
			_ = gi.VerifySignature(gi.Signature) // arbitrary key bytes must not panic
		}
	})
}

func FuzzCommitAndProposal(f *testing.F) {
	messagesSeeds(f, func(v *messagesVector) [][]byte {
		return [][]byte{v.Commit, v.AddProposal, v.UpdateProposal, v.PreSharedKeyProposal, v.ReInitProposal}
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRoundTrip(t, data, &Commit{})
		fuzzRoundTrip(t, data, &Proposal{})
		fuzzRoundTrip(t, data, &AuthenticatedContent{})
	})
}

// FuzzPrivateMessageContent fuzzes the parser of decrypted PrivateMessage
// plaintexts (reached only after AEAD authentication by a group member).
func FuzzPrivateMessageContent(f *testing.F) {
	f.Add(uint8(1), []byte{0x02, 'h', 'i', 0x01, 0xaa, 0, 0, 0})
	f.Add(uint8(3), []byte{0x00, 0x00, 0x01, 0xaa, 0x01, 0xbb})
	f.Fuzz(func(t *testing.T, ct uint8, data []byte) {
		fc := FramedContent{ContentType: ContentType(ct)}
		var auth FramedContentAuthData
		_ = decodePrivateMessageContent(data, &fc, &auth)
	})
}

// FuzzCryptoHostileKeys feeds arbitrary key, signature and ciphertext bytes
// to every suite's public-key operations: they must fail cleanly, never
// panic.
func FuzzCryptoHostileKeys(f *testing.F) {
	var vs []cryptoBasicsVector
	loadVectors(f, "crypto-basics.json", &vs)
	for _, v := range vs {
		f.Add(uint8(v.CipherSuite), []byte(v.SignWithLabel.Pub), []byte(v.SignWithLabel.Signature), []byte(v.EncryptWithLabel.KEMOutput), []byte(v.EncryptWithLabel.Ciphertext))
		f.Add(uint8(v.CipherSuite), []byte(v.EncryptWithLabel.Priv), []byte(v.SignWithLabel.Priv), []byte(v.EncryptWithLabel.Pub), []byte(v.EncryptWithLabel.Ciphertext))
	}
	f.Fuzz(func(t *testing.T, suite uint8, key, sig, kem, ct []byte) {
		cs := CipherSuite(suite%8 + 1)
		_ = cs.VerifyWithLabel(key, "L", ct, sig)
		_ = cs.ValidateSignaturePublicKey(key)
		_ = cs.ValidateHPKEPublicKey(key)
		_, _ = cs.HPKEPublicKeyFromPrivate(key)
		_, _ = cs.SignaturePublicKey(key)
		_, _ = cs.DecryptWithLabel(key, "L", nil, kem, ct)
		_, _, _ = cs.EncryptWithLabel(key, "L", nil, ct)
		_, _ = cs.HPKEExportRecipient(key, kem, nil, "x", 32)
		_, _, _ = cs.DeriveKeyPair(key)
		_, _ = cs.AEADOpen(nil, key, kem, nil, ct)
		if len(sig) > 0 && len(sig) < 200 {
			_, _ = cs.SignWithLabel(sig, "L", ct)
		}
	})
}
