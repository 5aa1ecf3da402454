package mls

import (
	"bytes"
	"crypto/rand"
	"crypto/sha512"
	"fmt"

	circlhpke "github.com/cloudflare/circl/hpke"
	"github.com/cloudflare/circl/kem"
	"github.com/cloudflare/circl/sign/ed448"
	"golang.org/x/crypto/chacha20poly1305"
)

// Suites 4 and 6 (X448 / Ed448) use github.com/cloudflare/circl, since the
// standard library has neither X448 nor Ed448.

const ed448PublicKeySize = ed448.PublicKeySize

func registerX448Suites() {
	suiteTable[4] = &suiteInfo{
		name: "MLS_256_DHKEMX448_AES256GCM_SHA512_Ed448", newHash: sha512.New, hashSize: 64,
		hpke:    newCirclHPKE(circlhpke.NewSuite(circlhpke.KEM_X448_HKDF_SHA512, circlhpke.KDF_HKDF_SHA512, circlhpke.AEAD_AES256GCM)),
		aeadKey: 32, aeadNonce: 12, newAEAD: newAESGCM, sig: sigEd448,
	}
	suiteTable[6] = &suiteInfo{
		name: "MLS_256_DHKEMX448_CHACHA20POLY1305_SHA512_Ed448", newHash: sha512.New, hashSize: 64,
		hpke:    newCirclHPKE(circlhpke.NewSuite(circlhpke.KEM_X448_HKDF_SHA512, circlhpke.KDF_HKDF_SHA512, circlhpke.AEAD_ChaCha20Poly1305)),
		aeadKey: 32, aeadNonce: 12, newAEAD: chacha20poly1305.New, sig: sigEd448,
	}
}

// circlHPKE is the circl backend for DHKEM(X448, HKDF-SHA512).
type circlHPKE struct {
	suite  circlhpke.Suite
	scheme kem.Scheme
}

func newCirclHPKE(suite circlhpke.Suite) *circlHPKE {
	kemID, _, _ := suite.Params()
	return &circlHPKE{suite: suite, scheme: kemID.Scheme()}
}

func (h *circlHPKE) marshalPair(pk kem.PublicKey, sk kem.PrivateKey) (priv, pub []byte, err error) {
	priv, err = sk.MarshalBinary()
	if err != nil {
		return nil, nil, err
	}
	pub, err = pk.MarshalBinary()
	if err != nil {
		return nil, nil, err
	}
	return priv, pub, nil
}

func (h *circlHPKE) generate() (priv, pub []byte, err error) {
	pk, sk, err := h.scheme.GenerateKeyPair()
	if err != nil {
		return nil, nil, err
	}
	return h.marshalPair(pk, sk)
}

// derive implements RFC 9180 §7.1.3 DeriveKeyPair for DHKEM(X448,
// HKDF-SHA512) directly: circl's version only accepts seeds of exactly
// Nsk bytes, while MLS passes Nh-byte secrets.
func (h *circlHPKE) derive(ikm []byte) (priv, pub []byte, err error) {
	suiteID := []byte{'K', 'E', 'M', 0x00, 0x21}
	labeled := func(label string) []byte {
		return append(append([]byte("HPKE-v1"), suiteID...), label...)
	}
	prk, err := MLS_256_DHKEMX448_AES256GCM_SHA512_Ed448.Extract([]byte{}, append(labeled("dkp_prk"), ikm...))
	if err != nil {
		return nil, nil, err
	}
	nsk := h.scheme.PrivateKeySize()
	info := append([]byte{byte(nsk >> 8), byte(nsk)}, labeled("sk")...)
	sk, err := MLS_256_DHKEMX448_AES256GCM_SHA512_Ed448.Expand(prk, info, nsk)
	if err != nil {
		return nil, nil, err
	}
	pub, err = h.publicFromPrivate(sk)
	if err != nil {
		return nil, nil, err
	}
	return sk, pub, nil
}

func (h *circlHPKE) privateKey(priv []byte) (kem.PrivateKey, error) {
	if len(priv) != h.scheme.PrivateKeySize() {
		return nil, fmt.Errorf("%w: private key length %d", ErrInvalidKey, len(priv))
	}
	sk, err := h.scheme.UnmarshalBinaryPrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidKey, err)
	}
	return sk, nil
}

func (h *circlHPKE) publicKey(pub []byte) (kem.PublicKey, error) {
	if len(pub) != h.scheme.PublicKeySize() {
		return nil, fmt.Errorf("%w: public key length %d", ErrInvalidKey, len(pub))
	}
	pk, err := h.scheme.UnmarshalBinaryPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidKey, err)
	}
	return pk, nil
}

func (h *circlHPKE) publicFromPrivate(priv []byte) ([]byte, error) {
	sk, err := h.privateKey(priv)
	if err != nil {
		return nil, err
	}
	return sk.Public().MarshalBinary()
}

func (h *circlHPKE) validatePublic(pub []byte) error {
	_, err := h.publicKey(pub)
	return err
}

func (h *circlHPKE) seal(pub, info, pt []byte) (enc, ct []byte, err error) {
	pk, err := h.publicKey(pub)
	if err != nil {
		return nil, nil, err
	}
	s, err := h.suite.NewSender(pk, info)
	if err != nil {
		return nil, nil, fmt.Errorf("mls: hpke setup: %w", err)
	}
	enc, sealer, err := s.Setup(rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("mls: hpke setup: %w", err)
	}
	ct, err = sealer.Seal(pt, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("mls: hpke seal: %w", err)
	}
	return enc, ct, nil
}

func (h *circlHPKE) opener(priv, enc, info []byte) (circlhpke.Opener, error) {
	sk, err := h.privateKey(priv)
	if err != nil {
		return nil, err
	}
	if len(enc) != h.scheme.CiphertextSize() {
		return nil, fmt.Errorf("%w: kem output length %d", ErrDecryption, len(enc))
	}
	r, err := h.suite.NewReceiver(sk, info)
	if err != nil {
		return nil, fmt.Errorf("%w: hpke setup: %v", ErrDecryption, err)
	}
	o, err := r.Setup(enc)
	if err != nil {
		return nil, fmt.Errorf("%w: hpke setup: %v", ErrDecryption, err)
	}
	return o, nil
}

func (h *circlHPKE) open(priv, enc, info, ct []byte) ([]byte, error) {
	o, err := h.opener(priv, enc, info)
	if err != nil {
		return nil, err
	}
	pt, err := o.Open(ct, nil)
	if err != nil {
		return nil, ErrDecryption
	}
	return pt, nil
}

func (h *circlHPKE) exportSender(pub, info []byte, exporterContext string, length int) (enc, secret []byte, err error) {
	pk, err := h.publicKey(pub)
	if err != nil {
		return nil, nil, err
	}
	s, err := h.suite.NewSender(pk, info)
	if err != nil {
		return nil, nil, fmt.Errorf("mls: hpke setup: %w", err)
	}
	enc, sealer, err := s.Setup(rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("mls: hpke setup: %w", err)
	}
	return enc, sealer.Export([]byte(exporterContext), uint(length)), nil
}

func (h *circlHPKE) exportRecipient(priv, enc, info []byte, exporterContext string, length int) ([]byte, error) {
	o, err := h.opener(priv, enc, info)
	if err != nil {
		return nil, err
	}
	return o.Export([]byte(exporterContext), uint(length)), nil
}

// Ed448 (RFC 8032, pure, empty context). Private keys are the 57-byte seed;
// the 114-byte expanded form (seed || public key) is also accepted.

func ed448Key(priv []byte) (ed448.PrivateKey, error) {
	switch len(priv) {
	case ed448.SeedSize:
		return ed448.NewKeyFromSeed(priv), nil
	case ed448.PrivateKeySize:
		return ed448.PrivateKey(priv), nil
	}
	return nil, fmt.Errorf("%w: Ed448 private key length %d", ErrInvalidKey, len(priv))
}

// expandEd448 returns the expanded (seed and public key) form of an Ed448
// private key given as its seed or already expanded.
func expandEd448(priv []byte) ([]byte, error) {
	k, err := ed448Key(priv)
	if err != nil {
		return nil, err
	}
	return bytes.Clone([]byte(k)), nil
}

func signEd448(priv, msg []byte) ([]byte, error) {
	k, err := ed448Key(priv)
	if err != nil {
		return nil, err
	}
	return ed448.Sign(k, msg, ""), nil
}

func verifyEd448(pub, msg, sig []byte) error {
	if len(pub) != ed448.PublicKeySize {
		return fmt.Errorf("%w: Ed448 public key length %d", ErrInvalidKey, len(pub))
	}
	if len(sig) != ed448.SignatureSize || !ed448.Verify(ed448.PublicKey(pub), msg, sig, "") {
		return ErrInvalidSignature
	}
	return nil
}

func generateEd448() (priv, pub []byte, err error) {
	p, k, err := ed448.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	return k.Seed(), []byte(p), nil
}

func ed448PublicKey(priv []byte) ([]byte, error) {
	k, err := ed448Key(priv)
	if err != nil {
		return nil, err
	}
	return []byte(k.Public().(ed448.PublicKey)), nil
}
