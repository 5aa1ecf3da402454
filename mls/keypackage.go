package mls

import (
	"fmt"

	"github.com/parleyhq/parley/mls/codec"
)

// KeyPackage advertises a client's keys for being added to groups
// (RFC 9420 §10). InitKey is the encoded HPKE public key.
type KeyPackage struct {
	Version     ProtocolVersion
	CipherSuite CipherSuite
	InitKey     []byte
	LeafNode    LeafNode
	Extensions  []Extension
	Signature   []byte
}

func (kp *KeyPackage) encodeTBS(w *codec.Writer) {
	w.U16(uint16(kp.Version))
	w.U16(uint16(kp.CipherSuite))
	w.Opaque(kp.InitKey)
	kp.LeafNode.Encode(w)
	encodeExtensions(w, kp.Extensions)
}

// Encode appends the encoding of kp.
func (kp *KeyPackage) Encode(w *codec.Writer) {
	kp.encodeTBS(w)
	w.Opaque(kp.Signature)
}

// Decode reads a KeyPackage.
func (kp *KeyPackage) Decode(r *codec.Reader) {
	kp.Version = ProtocolVersion(r.U16())
	kp.CipherSuite = CipherSuite(r.U16())
	kp.InitKey = r.Opaque()
	kp.LeafNode.Decode(r)
	kp.Extensions = decodeExtensions(r)
	kp.Signature = r.Opaque()
}

// Marshal returns the encoding of kp.
func (kp *KeyPackage) Marshal() ([]byte, error) { return Marshal(kp) }

// Unmarshal decodes data into kp.
func (kp *KeyPackage) Unmarshal(data []byte) error { return Unmarshal(data, kp) }

// SignatureTBS returns the encoded KeyPackageTBS.
func (kp *KeyPackage) SignatureTBS() []byte {
	w := codec.NewWriter(512)
	kp.encodeTBS(w)
	return w.Bytes()
}

// Sign sets kp.Signature using the signature private key priv.
func (kp *KeyPackage) Sign(priv []byte) error {
	sig, err := kp.CipherSuite.SignWithLabel(priv, labelKeyPackageTBS, kp.SignatureTBS())
	if err != nil {
		return fmt.Errorf("mls: sign key package: %w", err)
	}
	kp.Signature = sig
	return nil
}

// VerifySignature checks kp.Signature against kp.LeafNode.SignatureKey.
// It returns nil only for a valid signature. It does not check the leaf
// node's own signature; see Verify.
func (kp *KeyPackage) VerifySignature() error {
	if err := kp.CipherSuite.VerifyWithLabel(kp.LeafNode.SignatureKey, labelKeyPackageTBS, kp.SignatureTBS(), kp.Signature); err != nil {
		return fmt.Errorf("mls: key package signature: %w", err)
	}
	return nil
}

// Verify performs the stateless checks of RFC 9420 §10.1: supported
// version and suite, valid KeyPackage and LeafNode signatures, a
// key_package leaf source, and init_key different from the encryption key.
// Lifetime and capability checks against a group are left to the caller.
func (kp *KeyPackage) Verify() error {
	if err := kp.checkUnsigned(); err != nil {
		return err
	}
	if err := kp.LeafNode.VerifySignature(kp.CipherSuite, nil, 0); err != nil {
		return fmt.Errorf("mls: key package: %w", err)
	}
	return kp.VerifySignature()
}

// checkUnsigned is Verify without the two signature checks.
func (kp *KeyPackage) checkUnsigned() error {
	if kp.Version != ProtocolVersionMLS10 {
		return fmt.Errorf("mls: key package: unsupported version %d", kp.Version)
	}
	if !kp.CipherSuite.Supported() {
		return fmt.Errorf("mls: key package: %w: %d", ErrUnsupportedCipherSuite, uint16(kp.CipherSuite))
	}
	if kp.LeafNode.LeafNodeSource != LeafNodeSourceKeyPackage {
		return fmt.Errorf("mls: key package: leaf node source %d, want key_package", kp.LeafNode.LeafNodeSource)
	}
	if constantTimeEqual(kp.InitKey, kp.LeafNode.EncryptionKey) {
		return fmt.Errorf("mls: key package: init_key equals leaf encryption_key")
	}
	return nil
}

// Ref returns the KeyPackageRef of kp: RefHash("MLS 1.0 KeyPackage
// Reference", KeyPackage).
func (kp *KeyPackage) Ref() ([]byte, error) {
	enc, err := Marshal(kp)
	if err != nil {
		return nil, err
	}
	return kp.CipherSuite.MakeKeyPackageRef(enc)
}
