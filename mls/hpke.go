package mls

import (
	"crypto/elliptic"
	"crypto/hpke"
	"fmt"
)

// hpkeBackend is the HPKE (RFC 9180, base mode) implementation of one cipher
// suite. Keys are in their RFC 9180 serialisations. Implementations must
// return errors, never panic, on malformed keys and ciphertexts.
type hpkeBackend interface {
	generate() (priv, pub []byte, err error)
	derive(ikm []byte) (priv, pub []byte, err error)
	publicFromPrivate(priv []byte) ([]byte, error)
	validatePublic(pub []byte) error
	// seal is SealBase(pub, info, aad="", pt).
	seal(pub, info, pt []byte) (enc, ct []byte, err error)
	// open is OpenBase(enc, priv, info, aad="", ct).
	open(priv, enc, info, ct []byte) ([]byte, error)
	exportSender(pub, info []byte, exporterContext string, length int) (enc, secret []byte, err error)
	exportRecipient(priv, enc, info []byte, exporterContext string, length int) ([]byte, error)
}

// stdHPKE is the crypto/hpke backend (DHKEM over X25519 and the NIST curves).
type stdHPKE struct {
	kem   hpke.KEM
	kdf   hpke.KDF
	aead  hpke.AEAD
	curve elliptic.Curve // NIST curve, for private-key padding; nil for X25519
}

func newStdHPKE(kem hpke.KEM, kdf hpke.KDF, aead hpke.AEAD, curve elliptic.Curve) *stdHPKE {
	return &stdHPKE{kem: kem, kdf: kdf, aead: aead, curve: curve}
}

func (h *stdHPKE) generate() (priv, pub []byte, err error) {
	k, err := h.kem.GenerateKey()
	if err != nil {
		return nil, nil, err
	}
	priv, err = k.Bytes()
	if err != nil {
		return nil, nil, err
	}
	return priv, k.PublicKey().Bytes(), nil
}

func (h *stdHPKE) derive(ikm []byte) (priv, pub []byte, err error) {
	k, err := h.kem.DeriveKeyPair(ikm)
	if err != nil {
		return nil, nil, err
	}
	priv, err = k.Bytes()
	if err != nil {
		return nil, nil, err
	}
	return priv, k.PublicKey().Bytes(), nil
}

func (h *stdHPKE) privateKey(priv []byte) (hpke.PrivateKey, error) {
	k, err := h.kem.NewPrivateKey(padScalar(h.curve, priv))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidKey, err)
	}
	return k, nil
}

func (h *stdHPKE) publicKey(pub []byte) (hpke.PublicKey, error) {
	k, err := h.kem.NewPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidKey, err)
	}
	return k, nil
}

func (h *stdHPKE) publicFromPrivate(priv []byte) ([]byte, error) {
	k, err := h.privateKey(priv)
	if err != nil {
		return nil, err
	}
	return k.PublicKey().Bytes(), nil
}

func (h *stdHPKE) validatePublic(pub []byte) error {
	_, err := h.publicKey(pub)
	return err
}

func (h *stdHPKE) seal(pub, info, pt []byte) (enc, ct []byte, err error) {
	pk, err := h.publicKey(pub)
	if err != nil {
		return nil, nil, err
	}
	enc, sender, err := hpke.NewSender(pk, h.kdf, h.aead, info)
	if err != nil {
		return nil, nil, fmt.Errorf("mls: hpke setup: %w", err)
	}
	ct, err = sender.Seal(nil, pt)
	if err != nil {
		return nil, nil, fmt.Errorf("mls: hpke seal: %w", err)
	}
	return enc, ct, nil
}

func (h *stdHPKE) open(priv, enc, info, ct []byte) ([]byte, error) {
	sk, err := h.privateKey(priv)
	if err != nil {
		return nil, err
	}
	r, err := hpke.NewRecipient(enc, sk, h.kdf, h.aead, info)
	if err != nil {
		return nil, fmt.Errorf("%w: hpke setup: %v", ErrDecryption, err)
	}
	pt, err := r.Open(nil, ct)
	if err != nil {
		return nil, ErrDecryption
	}
	return pt, nil
}

func (h *stdHPKE) exportSender(pub, info []byte, exporterContext string, length int) (enc, secret []byte, err error) {
	pk, err := h.publicKey(pub)
	if err != nil {
		return nil, nil, err
	}
	enc, sender, err := hpke.NewSender(pk, h.kdf, h.aead, info)
	if err != nil {
		return nil, nil, fmt.Errorf("mls: hpke setup: %w", err)
	}
	secret, err = sender.Export(exporterContext, length)
	if err != nil {
		return nil, nil, fmt.Errorf("mls: hpke export: %w", err)
	}
	return enc, secret, nil
}

func (h *stdHPKE) exportRecipient(priv, enc, info []byte, exporterContext string, length int) ([]byte, error) {
	sk, err := h.privateKey(priv)
	if err != nil {
		return nil, err
	}
	r, err := hpke.NewRecipient(enc, sk, h.kdf, h.aead, info)
	if err != nil {
		return nil, fmt.Errorf("%w: hpke setup: %v", ErrDecryption, err)
	}
	secret, err := r.Export(exporterContext, length)
	if err != nil {
		return nil, fmt.Errorf("mls: hpke export: %w", err)
	}
	return secret, nil
}
