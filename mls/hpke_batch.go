package mls

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"fmt"
	"hash"

	"golang.org/x/crypto/chacha20poly1305"
)

// Batched HPKE sealing. A Welcome encrypts each joiner's GroupSecrets with
// EncryptWithLabel(init_key, "Welcome", encrypted_group_info, ...) (RFC 9420
// §12.4.3.1), so the HPKE info of every EncryptedGroupSecrets is the
// EncryptContext holding the whole encrypted GroupInfo, about 1 MB for a
// 5,000-member group with its ratchet tree. The HPKE key schedule (RFC 9180
// §5.1) only uses info through
//
//	info_hash = LabeledExtract("", "info_hash", info)
//
// which depends on nothing else, so for a batch it is computed once and each
// recipient costs one KEM encapsulation and a few short HMACs. crypto/hpke
// has no API for a precomputed info_hash, so hpkeInfoSealer implements
// SealBase for the DHKEMs of crypto/ecdh (X25519, P-256, P-384, P-521) with
// HKDF and AES-GCM or ChaCha20-Poly1305: every suite whose backend is
// stdHPKE. Its output is byte-identical to crypto/hpke's for the same
// ephemeral key (hpke_batch_test.go checks it with a fixed random stream);
// other backends (X448) fall back to their per-recipient seal.

// hpkeSealer seals plaintexts to several recipients with one fixed info
// (SealBase(pub, info, aad="", pt)); it is safe for concurrent use.
type hpkeSealer func(pub, pt []byte) (enc, ct []byte, err error)

// batchSealer is implemented by hpkeBackends that can precompute the
// info-dependent part of the key schedule.
type batchSealer interface {
	sealerForInfo(info []byte) (hpkeSealer, bool)
}

// hpkeSealerFor returns a sealer for info: the precomputing one when the
// backend has it, else one that calls the backend's seal.
func hpkeSealerFor(b hpkeBackend, info []byte) hpkeSealer {
	if bs, ok := b.(batchSealer); ok {
		if s, ok := bs.sealerForInfo(info); ok {
			return s
		}
	}
	return func(pub, pt []byte) ([]byte, []byte, error) { return b.seal(pub, info, pt) }
}

// encryptWithLabelBatch returns a function computing
// EncryptWithLabel(pub, label, context, pt) for any pub and pt, with the
// EncryptContext encoded (and, where possible, hashed) once.
func (cs CipherSuite) encryptWithLabelBatch(label string, context []byte) (hpkeSealer, error) {
	s, err := cs.info()
	if err != nil {
		return nil, err
	}
	info, err := labeledContent(label, context)
	if err != nil {
		return nil, err
	}
	return hpkeSealerFor(s.hpke, info), nil
}

// dhkemParams describes a DHKEM of RFC 9180 §7.1 over a crypto/ecdh curve.
type dhkemParams struct {
	curve   ecdh.Curve
	newHash func() hash.Hash // the KEM's own KDF
	nSecret int
}

func dhkemByID(id uint16) (dhkemParams, bool) {
	switch id {
	case 0x0010:
		return dhkemParams{ecdh.P256(), sha256.New, 32}, true
	case 0x0011:
		return dhkemParams{ecdh.P384(), sha512.New384, 48}, true
	case 0x0012:
		return dhkemParams{ecdh.P521(), sha512.New, 64}, true
	case 0x0020:
		return dhkemParams{ecdh.X25519(), sha256.New, 32}, true
	}
	return dhkemParams{}, false
}

func hkdfHashByID(id uint16) (func() hash.Hash, bool) {
	switch id {
	case 0x0001:
		return sha256.New, true
	case 0x0002:
		return sha512.New384, true
	case 0x0003:
		return sha512.New, true
	}
	return nil, false
}

// hpkeAEADByID returns the AEAD constructor and key and nonce sizes of an
// HPKE AEAD identifier.
func hpkeAEADByID(id uint16) (func([]byte) (cipher.AEAD, error), int, int, bool) {
	gcm := func(key []byte) (cipher.AEAD, error) {
		b, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		return cipher.NewGCM(b)
	}
	switch id {
	case 0x0001:
		return gcm, 16, 12, true
	case 0x0002:
		return gcm, 32, 12, true
	case 0x0003:
		return chacha20poly1305.New, 32, 12, true
	}
	return nil, 0, 0, false
}

// hpkeLabeledExtract is LabeledExtract(salt, label, ikm) of RFC 9180 §4:
// HKDF-Extract(salt, "HPKE-v1" || suiteID || label || ikm).
func hpkeLabeledExtract(newHash func() hash.Hash, suiteID []byte, salt []byte, label string, ikm []byte) []byte {
	if len(salt) == 0 {
		salt = make([]byte, newHash().Size())
	}
	m := hmac.New(newHash, salt)
	m.Write([]byte("HPKE-v1"))
	m.Write(suiteID)
	m.Write([]byte(label))
	m.Write(ikm)
	return m.Sum(nil)
}

// hpkeLabeledExpand is LabeledExpand(prk, label, info, L) of RFC 9180 §4:
// HKDF-Expand(prk, I2OSP(L, 2) || "HPKE-v1" || suiteID || label || info, L).
func hpkeLabeledExpand(newHash func() hash.Hash, suiteID, prk []byte, label string, info []byte, length int) []byte {
	li := make([]byte, 0, 2+7+len(suiteID)+len(label)+len(info))
	li = binary.BigEndian.AppendUint16(li, uint16(length))
	li = append(li, "HPKE-v1"...)
	li = append(li, suiteID...)
	li = append(li, label...)
	li = append(li, info...)
	return expandKeyed(hmac.New(newHash, prk), newHash().Size(), li, length)
}

// sealerForInfo implements batchSealer for the DHKEM/HKDF suites of
// crypto/hpke (RFC 9180 §5.1 base mode, §7.1 DHKEM).
func (h *stdHPKE) sealerForInfo(info []byte) (hpkeSealer, bool) {
	kemID, kdfID, aeadID := h.kem.ID(), h.kdf.ID(), h.aead.ID()
	kem, ok1 := dhkemByID(kemID)
	kdfHash, ok2 := hkdfHashByID(kdfID)
	newAEAD, nk, nn, ok3 := hpkeAEADByID(aeadID)
	if !ok1 || !ok2 || !ok3 {
		return nil, false
	}
	kemSuite := binary.BigEndian.AppendUint16([]byte("KEM"), kemID)
	suite := binary.BigEndian.AppendUint16([]byte("HPKE"), kemID)
	suite = binary.BigEndian.AppendUint16(suite, kdfID)
	suite = binary.BigEndian.AppendUint16(suite, aeadID)
	// key_schedule_context = mode_base || psk_id_hash || info_hash: the
	// only use of info, computed once for the batch.
	ksContext := []byte{0x00}
	ksContext = append(ksContext, hpkeLabeledExtract(kdfHash, suite, nil, "psk_id_hash", nil)...)
	ksContext = append(ksContext, hpkeLabeledExtract(kdfHash, suite, nil, "info_hash", info)...)

	return func(pub, pt []byte) ([]byte, []byte, error) {
		pkR, err := kem.curve.NewPublicKey(pub)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %v", ErrInvalidKey, err)
		}
		// Encap(pkR) (RFC 9180 §4.1).
		skE, err := kem.curve.GenerateKey(rand.Reader)
		if err != nil {
			return nil, nil, err
		}
		dh, err := skE.ECDH(pkR)
		if err != nil {
			return nil, nil, fmt.Errorf("mls: hpke setup: %w", err)
		}
		enc := skE.PublicKey().Bytes()
		kemContext := append(append(make([]byte, 0, 2*len(enc)), enc...), pub...)
		eaePRK := hpkeLabeledExtract(kem.newHash, kemSuite, nil, "eae_prk", dh)
		shared := hpkeLabeledExpand(kem.newHash, kemSuite, eaePRK, "shared_secret", kemContext, kem.nSecret)
		clear(dh)
		clear(eaePRK)
		// KeySchedule(mode_base, shared_secret, info, "", "") (§5.1).
		secret := hpkeLabeledExtract(kdfHash, suite, shared, "secret", nil)
		clear(shared)
		key := hpkeLabeledExpand(kdfHash, suite, secret, "key", ksContext, nk)
		nonce := hpkeLabeledExpand(kdfHash, suite, secret, "base_nonce", ksContext, nn)
		clear(secret)
		a, err := newAEAD(key)
		clear(key)
		if err != nil {
			return nil, nil, err
		}
		// First message: the nonce is base_nonce XOR 0.
		return enc, a.Seal(nil, nonce, pt, nil), nil
	}, true
}
