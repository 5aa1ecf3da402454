package mls

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/hpke"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"errors"
	"fmt"
	"hash"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/parleyhq/parley/mls/codec"
)

// CipherSuite is an MLS cipher suite identifier (RFC 9420 §5.1, §17.1).
//
// The methods of CipherSuite implement the cryptographic operations of
// RFC 9420 §5 for that suite. Methods that can fail return an error wrapping
// ErrUnsupportedCipherSuite when the suite is not implemented; Hash and the
// size accessors return nil/0 for such suites, so callers handling untrusted
// suite values must check Supported first.
type CipherSuite uint16

// Cipher suites registered by RFC 9420 §17.1.
const (
	MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519        CipherSuite = 0x0001
	MLS_128_DHKEMP256_AES128GCM_SHA256_P256             CipherSuite = 0x0002
	MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519 CipherSuite = 0x0003
	MLS_256_DHKEMX448_AES256GCM_SHA512_Ed448            CipherSuite = 0x0004
	MLS_256_DHKEMP521_AES256GCM_SHA512_P521             CipherSuite = 0x0005
	MLS_256_DHKEMX448_CHACHA20POLY1305_SHA512_Ed448     CipherSuite = 0x0006
	MLS_256_DHKEMP384_AES256GCM_SHA384_P384             CipherSuite = 0x0007
)

// MLS_128_MLKEM768X25519_AES128GCM_SHA256_Ed25519 is the post-quantum hybrid
// suite of draft-ietf-mls-pq-ciphersuites: HPKE with the X-Wing KEM
// (ML-KEM-768 combined with X25519, HPKE KEM 0x647a, crypto/hpke's
// MLKEM768X25519), HKDF-SHA256, AES-128-GCM, SHA-256 and Ed25519. Its key
// agreement resists a quantum adversary recording traffic today; its
// signatures (Ed25519) do not, so authentication stays classical.
//
// The code point is provisional: the draft leaves it to IANA ("TBD1"), and
// 0x004F is the value OpenMLS uses for the same suite while the draft is
// in progress. It will change when IANA assigns one; a group created with
// it keeps it for its whole life. Interoperability at this code point with
// other implementations is not tested.
const MLS_128_MLKEM768X25519_AES128GCM_SHA256_Ed25519 CipherSuite = 0x004F

// Errors returned by cryptographic operations.
var (
	// ErrUnsupportedCipherSuite is returned for suites this package does not
	// implement.
	ErrUnsupportedCipherSuite = errors.New("mls: unsupported cipher suite")
	// ErrInvalidSignature is returned when a signature does not verify.
	ErrInvalidSignature = errors.New("mls: invalid signature")
	// ErrDecryption is returned when an AEAD or HPKE decryption fails.
	ErrDecryption = errors.New("mls: decryption failed")
	// ErrInvalidKey is returned for malformed public or private keys.
	ErrInvalidKey = errors.New("mls: invalid key")
)

type sigScheme int

const (
	sigEd25519 sigScheme = iota + 1
	sigECDSA
	sigEd448
)

// suiteInfo holds the parsed primitives of one cipher suite. Instances are
// created once at init and shared read-only.
type suiteInfo struct {
	name      string
	newHash   func() hash.Hash
	hashSize  int
	hpke      hpkeBackend
	aeadKey   int
	aeadNonce int
	newAEAD   func(key []byte) (cipher.AEAD, error)
	sig       sigScheme
	curve     elliptic.Curve // for ECDSA
	ecdhCurve ecdh.Curve     // for DHKEM key generation
}

var suiteTable [8]*suiteInfo

func newAESGCM(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

func init() {
	suiteTable[1] = &suiteInfo{
		name: "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519", newHash: sha256.New, hashSize: 32,
		hpke:    newStdHPKE(hpke.DHKEM(ecdh.X25519()), hpke.HKDFSHA256(), hpke.AES128GCM(), nil),
		aeadKey: 16, aeadNonce: 12, newAEAD: newAESGCM, sig: sigEd25519, ecdhCurve: ecdh.X25519(),
	}
	suiteTable[2] = &suiteInfo{
		name: "MLS_128_DHKEMP256_AES128GCM_SHA256_P256", newHash: sha256.New, hashSize: 32,
		hpke:    newStdHPKE(hpke.DHKEM(ecdh.P256()), hpke.HKDFSHA256(), hpke.AES128GCM(), elliptic.P256()),
		aeadKey: 16, aeadNonce: 12, newAEAD: newAESGCM, sig: sigECDSA, curve: elliptic.P256(), ecdhCurve: ecdh.P256(),
	}
	suiteTable[3] = &suiteInfo{
		name: "MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519", newHash: sha256.New, hashSize: 32,
		hpke:    newStdHPKE(hpke.DHKEM(ecdh.X25519()), hpke.HKDFSHA256(), hpke.ChaCha20Poly1305(), nil),
		aeadKey: 32, aeadNonce: 12, newAEAD: chacha20poly1305.New, sig: sigEd25519, ecdhCurve: ecdh.X25519(),
	}
	suiteTable[5] = &suiteInfo{
		name: "MLS_256_DHKEMP521_AES256GCM_SHA512_P521", newHash: sha512.New, hashSize: 64,
		hpke:    newStdHPKE(hpke.DHKEM(ecdh.P521()), hpke.HKDFSHA512(), hpke.AES256GCM(), elliptic.P521()),
		aeadKey: 32, aeadNonce: 12, newAEAD: newAESGCM, sig: sigECDSA, curve: elliptic.P521(), ecdhCurve: ecdh.P521(),
	}
	suiteTable[7] = &suiteInfo{
		name: "MLS_256_DHKEMP384_AES256GCM_SHA384_P384", newHash: sha512.New384, hashSize: 48,
		hpke:    newStdHPKE(hpke.DHKEM(ecdh.P384()), hpke.HKDFSHA384(), hpke.AES256GCM(), elliptic.P384()),
		aeadKey: 32, aeadNonce: 12, newAEAD: newAESGCM, sig: sigECDSA, curve: elliptic.P384(), ecdhCurve: ecdh.P384(),
	}
	registerX448Suites()
	pqSuite = &suiteInfo{
		name: "MLS_128_MLKEM768X25519_AES128GCM_SHA256_Ed25519", newHash: sha256.New, hashSize: 32,
		hpke:    newStdHPKE(hpke.MLKEM768X25519(), hpke.HKDFSHA256(), hpke.AES128GCM(), nil),
		aeadKey: 16, aeadNonce: 12, newAEAD: newAESGCM, sig: sigEd25519,
	}
}

// pqSuite is MLS_128_MLKEM768X25519_AES128GCM_SHA256_Ed25519, outside
// suiteTable because its code point is not a small integer.
var pqSuite *suiteInfo

func (cs CipherSuite) info() (*suiteInfo, error) {
	if int(cs) < len(suiteTable) && suiteTable[cs] != nil {
		return suiteTable[cs], nil
	}
	if cs == MLS_128_MLKEM768X25519_AES128GCM_SHA256_Ed25519 {
		return pqSuite, nil
	}
	return nil, fmt.Errorf("%w: %d", ErrUnsupportedCipherSuite, uint16(cs))
}

// Supported reports whether this build implements cs.
func (cs CipherSuite) Supported() bool {
	_, err := cs.info()
	return err == nil
}

// String returns the RFC 9420 name of the suite.
func (cs CipherSuite) String() string {
	if s, err := cs.info(); err == nil {
		return s.name
	}
	switch cs {
	case MLS_256_DHKEMX448_AES256GCM_SHA512_Ed448:
		return "MLS_256_DHKEMX448_AES256GCM_SHA512_Ed448"
	case MLS_256_DHKEMX448_CHACHA20POLY1305_SHA512_Ed448:
		return "MLS_256_DHKEMX448_CHACHA20POLY1305_SHA512_Ed448"
	}
	return fmt.Sprintf("CipherSuite(0x%04x)", uint16(cs))
}

// HashSize returns Nh, the output size of the suite's hash (and KDF), or 0
// for unsupported suites.
func (cs CipherSuite) HashSize() int {
	if s, err := cs.info(); err == nil {
		return s.hashSize
	}
	return 0
}

// NewHash returns a new hash.Hash of the suite, or nil for unsupported
// suites.
func (cs CipherSuite) NewHash() hash.Hash {
	if s, err := cs.info(); err == nil {
		return s.newHash()
	}
	return nil
}

// Hash returns the suite's hash of data, or nil for unsupported suites.
func (cs CipherSuite) Hash(data []byte) []byte {
	s, err := cs.info()
	if err != nil {
		return nil
	}
	switch s.hashSize {
	case 32:
		h := sha256.Sum256(data)
		return h[:]
	case 48:
		h := sha512.Sum384(data)
		return h[:]
	default:
		h := sha512.Sum512(data)
		return h[:]
	}
}

// AEADKeySize returns Nk of the suite's AEAD, or 0 if unsupported.
func (cs CipherSuite) AEADKeySize() int {
	if s, err := cs.info(); err == nil {
		return s.aeadKey
	}
	return 0
}

// AEADNonceSize returns Nn of the suite's AEAD, or 0 if unsupported.
func (cs CipherSuite) AEADNonceSize() int {
	if s, err := cs.info(); err == nil {
		return s.aeadNonce
	}
	return 0
}

// Extract is HKDF-Extract(salt, ikm) with the suite's hash.
func (cs CipherSuite) Extract(salt, ikm []byte) ([]byte, error) {
	s, err := cs.info()
	if err != nil {
		return nil, err
	}
	if salt == nil {
		salt = make([]byte, s.hashSize)
	}
	m := hmac.New(s.newHash, salt)
	m.Write(ikm)
	return m.Sum(nil), nil
}

// Expand is HKDF-Expand(prk, info, length) with the suite's hash.
func (cs CipherSuite) Expand(prk, info []byte, length int) ([]byte, error) {
	s, err := cs.info()
	if err != nil {
		return nil, err
	}
	if length < 0 || length > 255*s.hashSize {
		return nil, fmt.Errorf("mls: HKDF-Expand length %d out of range", length)
	}
	return expandKeyed(hmac.New(s.newHash, prk), s.hashSize, info, length), nil
}

// expandKeyed is HKDF-Expand with an HMAC already keyed with the PRK (it is
// Reset before use, so one keyed HMAC can serve several expansions). length
// must be at most 255*hashSize.
func expandKeyed(m hash.Hash, hashSize int, info []byte, length int) []byte {
	out := make([]byte, 0, length+hashSize)
	var ctr [1]byte
	var prev []byte
	for ctr[0] = 1; len(out) < length; ctr[0]++ {
		m.Reset()
		m.Write(prev)
		m.Write(info)
		m.Write(ctr[:])
		start := len(out)
		out = m.Sum(out)
		prev = out[start:]
	}
	return out[:length:length]
}

// appendKDFLabel appends the encoded KDFLabel {uint16 length; opaque
// label<V> = "MLS 1.0 " + label; opaque context<V>} to dst.
func appendKDFLabel(dst []byte, length int, label string, context []byte) []byte {
	dst = append(dst, byte(length>>8), byte(length))
	dst = codec.AppendVarint(dst, len(mlsLabelPrefix)+len(label))
	dst = append(dst, mlsLabelPrefix...)
	dst = append(dst, label...)
	dst = codec.AppendVarint(dst, len(context))
	return append(dst, context...)
}

// mlsLabelPrefix is prepended to every label (RFC 9420 §5.1.2, §5.1.3, §8).
const mlsLabelPrefix = "MLS 1.0 "

// ExpandWithLabel implements RFC 9420 §8:
//
//	ExpandWithLabel(Secret, Label, Context, Length) =
//	    KDF.Expand(Secret, KDFLabel, Length)
//
// where KDFLabel = {uint16 length; opaque label<V> = "MLS 1.0 " + Label;
// opaque context<V>}.
func (cs CipherSuite) ExpandWithLabel(secret []byte, label string, context []byte, length int) ([]byte, error) {
	if length < 0 || length > 0xffff {
		return nil, fmt.Errorf("mls: ExpandWithLabel length %d out of range", length)
	}
	if len(context) > codec.MaxVectorLen || len(label) > 1<<20 {
		return nil, fmt.Errorf("mls: ExpandWithLabel: %w", codec.ErrTooLong)
	}
	var buf [128]byte
	return cs.Expand(secret, appendKDFLabel(buf[:0], length, label, context), length)
}

// DeriveSecret is ExpandWithLabel(secret, label, "", Nh) (RFC 9420 §8).
func (cs CipherSuite) DeriveSecret(secret []byte, label string) ([]byte, error) {
	return cs.ExpandWithLabel(secret, label, nil, cs.HashSize())
}

// DeriveTreeSecret is ExpandWithLabel(secret, label, generation, length)
// with the generation encoded as a big-endian uint32 (RFC 9420 §9.1).
func (cs CipherSuite) DeriveTreeSecret(secret []byte, label string, generation uint32, length int) ([]byte, error) {
	ctx := []byte{byte(generation >> 24), byte(generation >> 16), byte(generation >> 8), byte(generation)}
	return cs.ExpandWithLabel(secret, label, ctx, length)
}

// RefHash implements RFC 9420 §5.2: Hash(RefHashInput{label, value}). The
// label is used verbatim (no "MLS 1.0 " prefix is added).
func (cs CipherSuite) RefHash(label string, value []byte) ([]byte, error) {
	if _, err := cs.info(); err != nil {
		return nil, err
	}
	w := codec.NewWriter(len(label) + len(value) + 8)
	w.String(label)
	w.Opaque(value)
	if err := w.Err(); err != nil {
		return nil, err
	}
	return cs.Hash(w.Bytes()), nil
}

// Labels of the reference hashes (RFC 9420 §5.2).
const (
	keyPackageRefLabel = "MLS 1.0 KeyPackage Reference"
	proposalRefLabel   = "MLS 1.0 Proposal Reference"
)

// MakeKeyPackageRef returns the KeyPackageRef of an encoded KeyPackage.
func (cs CipherSuite) MakeKeyPackageRef(encodedKeyPackage []byte) ([]byte, error) {
	return cs.RefHash(keyPackageRefLabel, encodedKeyPackage)
}

// MakeProposalRef returns the ProposalRef of an encoded AuthenticatedContent
// carrying a proposal.
func (cs CipherSuite) MakeProposalRef(encodedAuthenticatedContent []byte) ([]byte, error) {
	return cs.RefHash(proposalRefLabel, encodedAuthenticatedContent)
}

// MAC returns HMAC(key, data) with the suite's hash.
func (cs CipherSuite) MAC(key, data []byte) ([]byte, error) {
	s, err := cs.info()
	if err != nil {
		return nil, err
	}
	m := hmac.New(s.newHash, key)
	m.Write(data)
	return m.Sum(nil), nil
}

// VerifyMAC reports, in constant time, whether mac is HMAC(key, data).
func (cs CipherSuite) VerifyMAC(key, data, mac []byte) bool {
	want, err := cs.MAC(key, data)
	return err == nil && hmac.Equal(want, mac)
}

// NewAEAD returns the suite's AEAD keyed with key, for callers that seal or
// open several messages with one key.
func (cs CipherSuite) NewAEAD(key []byte) (cipher.AEAD, error) {
	s, err := cs.info()
	if err != nil {
		return nil, err
	}
	if len(key) != s.aeadKey {
		return nil, fmt.Errorf("%w: AEAD key length %d, want %d", ErrInvalidKey, len(key), s.aeadKey)
	}
	return s.newAEAD(key)
}

// AEADSeal encrypts plaintext with the suite's AEAD and appends the result
// to dst.
func (cs CipherSuite) AEADSeal(dst, key, nonce, aad, plaintext []byte) ([]byte, error) {
	a, err := cs.NewAEAD(key)
	if err != nil {
		return nil, err
	}
	if len(nonce) != a.NonceSize() {
		return nil, fmt.Errorf("%w: nonce length %d", ErrInvalidKey, len(nonce))
	}
	return a.Seal(dst, nonce, plaintext, aad), nil
}

// AEADOpen decrypts ciphertext with the suite's AEAD. Authentication
// failures return an error wrapping ErrDecryption.
func (cs CipherSuite) AEADOpen(dst, key, nonce, aad, ciphertext []byte) ([]byte, error) {
	a, err := cs.NewAEAD(key)
	if err != nil {
		return nil, err
	}
	if len(nonce) != a.NonceSize() {
		return nil, fmt.Errorf("%w: nonce length %d", ErrInvalidKey, len(nonce))
	}
	pt, err := a.Open(dst, nonce, ciphertext, aad)
	if err != nil {
		return nil, ErrDecryption
	}
	return pt, nil
}

// labeledContent encodes {opaque label<V> = "MLS 1.0 " + label; opaque
// content<V>}, the SignContent and EncryptContext structures of RFC 9420
// §5.1.2 and §5.1.3.
func labeledContent(label string, content []byte) ([]byte, error) {
	w := codec.NewWriter(len(mlsLabelPrefix) + len(label) + len(content) + 8)
	w.Varint(len(mlsLabelPrefix) + len(label))
	w.Raw([]byte(mlsLabelPrefix))
	w.Raw([]byte(label))
	w.Opaque(content)
	return w.Bytes(), w.Err()
}

// SignWithLabel signs SignContent{"MLS 1.0 " + label, content} with the
// signature private key priv (RFC 9420 §5.1.2). Ed25519 private keys are the
// 32-byte seed (a 64-byte expanded key is also accepted); ECDSA private keys
// are the big-endian scalar. ECDSA signatures are ASN.1 DER encoded over the
// suite's hash of SignContent.
func (cs CipherSuite) SignWithLabel(priv []byte, label string, content []byte) ([]byte, error) {
	msg, err := labeledContent(label, content)
	if err != nil {
		return nil, err
	}
	return cs.sign(priv, msg)
}

// VerifyWithLabel verifies a signature produced by SignWithLabel against the
// encoded signature public key pub. It returns nil if and only if the
// signature is valid; otherwise an error wrapping ErrInvalidSignature or
// ErrInvalidKey.
func (cs CipherSuite) VerifyWithLabel(pub []byte, label string, content, sig []byte) error {
	msg, err := labeledContent(label, content)
	if err != nil {
		return err
	}
	return cs.verify(pub, msg, sig)
}

func (cs CipherSuite) sign(priv, msg []byte) ([]byte, error) {
	k, err := cs.parseSigningKey(priv)
	if err != nil {
		return nil, err
	}
	return k.sign(msg)
}

// signingKey is a parsed signature private key of one suite: the expanded
// Ed25519 or Ed448 key (the seed expansion is a hash and a scalar
// multiplication, as costly as a third of a signature) or the ECDSA key with
// its public point, so that repeated signatures do not re-derive it.
type signingKey struct {
	cs  CipherSuite
	si  *suiteInfo
	src []byte // the encoding the key was parsed from
	ed  ed25519.PrivateKey
	ec  *ecdsa.PrivateKey
	raw []byte // Ed448: the expanded private key
}

// parseSigningKey parses an encoded signature private key (see
// SignWithLabel for the encodings).
func (cs CipherSuite) parseSigningKey(priv []byte) (*signingKey, error) {
	s, err := cs.info()
	if err != nil {
		return nil, err
	}
	k := &signingKey{cs: cs, si: s, src: bytes.Clone(priv)}
	switch s.sig {
	case sigEd25519:
		switch len(priv) {
		case ed25519.SeedSize:
			k.ed = ed25519.NewKeyFromSeed(priv)
		case ed25519.PrivateKeySize:
			// Not copied: crypto/ed25519 caches the parsed key by the
			// address of its bytes, so a caller signing repeatedly with
			// the same expanded key keeps hitting that cache.
			k.ed = ed25519.PrivateKey(priv)
		default:
			return nil, fmt.Errorf("%w: Ed25519 private key length %d", ErrInvalidKey, len(priv))
		}
	case sigECDSA:
		if k.ec, err = ecdsa.ParseRawPrivateKey(s.curve, padScalar(s.curve, priv)); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidKey, err)
		}
	case sigEd448:
		if k.raw, err = expandEd448(priv); err != nil {
			return nil, err
		}
	default:
		return nil, ErrUnsupportedCipherSuite
	}
	return k, nil
}

// sign signs msg (an encoded SignContent) with k.
func (k *signingKey) sign(msg []byte) ([]byte, error) {
	switch k.si.sig {
	case sigEd25519:
		return ed25519.Sign(k.ed, msg), nil
	case sigECDSA:
		h := k.si.newHash()
		h.Write(msg)
		return ecdsa.SignASN1(rand.Reader, k.ec, h.Sum(nil))
	case sigEd448:
		return signEd448(k.raw, msg)
	}
	return nil, ErrUnsupportedCipherSuite
}

// key returns s's private key parsed for cs, parsing it on first use and
// caching it in s (so a Signer held by a Group expands its Ed25519 seed
// once, not per message). The cache is checked against Private, so a
// Signer whose Private is replaced is re-parsed. Like Group, the cache is
// not safe for concurrent use: package functions call key only on Signers
// they own (a Group's copy).
func (s *Signer) key(cs CipherSuite) (*signingKey, error) {
	if k := s.parsed; k != nil && k.cs == cs && bytes.Equal(k.src, s.Private) {
		return k, nil
	}
	k, err := cs.parseSigningKey(s.Private)
	if err != nil {
		return nil, err
	}
	s.parsed = k
	return k, nil
}

func (cs CipherSuite) verify(pub, msg, sig []byte) error {
	s, err := cs.info()
	if err != nil {
		return err
	}
	switch s.sig {
	case sigEd25519:
		if len(pub) != ed25519.PublicKeySize {
			return fmt.Errorf("%w: Ed25519 public key length %d", ErrInvalidKey, len(pub))
		}
		if !ed25519.Verify(ed25519.PublicKey(pub), msg, sig) {
			return ErrInvalidSignature
		}
		return nil
	case sigECDSA:
		key, err := ecdsa.ParseUncompressedPublicKey(s.curve, pub)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrInvalidKey, err)
		}
		h := s.newHash()
		h.Write(msg)
		if !ecdsa.VerifyASN1(key, h.Sum(nil), sig) {
			return ErrInvalidSignature
		}
		return nil
	case sigEd448:
		return verifyEd448(pub, msg, sig)
	}
	return ErrUnsupportedCipherSuite
}

// GenerateSignatureKeyPair returns a fresh signature key pair in the RFC
// encodings (see SignWithLabel).
func (cs CipherSuite) GenerateSignatureKeyPair() (priv, pub []byte, err error) {
	s, err := cs.info()
	if err != nil {
		return nil, nil, err
	}
	switch s.sig {
	case sigEd25519:
		p, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, nil, err
		}
		return k.Seed(), p, nil
	case sigECDSA:
		k, err := ecdsa.GenerateKey(s.curve, rand.Reader)
		if err != nil {
			return nil, nil, err
		}
		priv, err = k.Bytes()
		if err != nil {
			return nil, nil, err
		}
		pub, err = k.PublicKey.Bytes()
		return priv, pub, err
	case sigEd448:
		return generateEd448()
	}
	return nil, nil, ErrUnsupportedCipherSuite
}

// SignaturePublicKey returns the encoded public key of a signature private key.
func (cs CipherSuite) SignaturePublicKey(priv []byte) ([]byte, error) {
	s, err := cs.info()
	if err != nil {
		return nil, err
	}
	switch s.sig {
	case sigEd25519:
		if len(priv) == ed25519.PrivateKeySize {
			return append([]byte(nil), priv[32:]...), nil
		}
		if len(priv) != ed25519.SeedSize {
			return nil, fmt.Errorf("%w: Ed25519 private key length %d", ErrInvalidKey, len(priv))
		}
		return []byte(ed25519.NewKeyFromSeed(priv).Public().(ed25519.PublicKey)), nil
	case sigECDSA:
		k, err := ecdsa.ParseRawPrivateKey(s.curve, padScalar(s.curve, priv))
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidKey, err)
		}
		return k.PublicKey.Bytes()
	case sigEd448:
		return ed448PublicKey(priv)
	}
	return nil, ErrUnsupportedCipherSuite
}

// GenerateHPKEKeyPair returns a fresh HPKE key pair (SerializePrivateKey and
// SerializePublicKey encodings of RFC 9180).
func (cs CipherSuite) GenerateHPKEKeyPair() (priv, pub []byte, err error) {
	s, err := cs.info()
	if err != nil {
		return nil, nil, err
	}
	return s.hpke.generate()
}

// DeriveKeyPair is the HPKE DeriveKeyPair(ikm) of the suite's KEM (RFC 9180
// §7.1.3), returning encoded private and public keys.
func (cs CipherSuite) DeriveKeyPair(ikm []byte) (priv, pub []byte, err error) {
	s, err := cs.info()
	if err != nil {
		return nil, nil, err
	}
	priv, pub, err = s.hpke.derive(ikm)
	if err != nil {
		return nil, nil, fmt.Errorf("mls: derive key pair: %w", err)
	}
	return priv, pub, nil
}

// HPKEPublicKeyFromPrivate returns the encoded public key of an encoded HPKE
// private key.
func (cs CipherSuite) HPKEPublicKeyFromPrivate(priv []byte) ([]byte, error) {
	s, err := cs.info()
	if err != nil {
		return nil, err
	}
	pub, err := s.hpke.publicFromPrivate(priv)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidKey, err)
	}
	return pub, nil
}

// ValidateHPKEPublicKey checks that pub is a valid encoded HPKE public key
// of the suite.
func (cs CipherSuite) ValidateHPKEPublicKey(pub []byte) error {
	s, err := cs.info()
	if err != nil {
		return err
	}
	if err := s.hpke.validatePublic(pub); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidKey, err)
	}
	return nil
}

// ValidateSignaturePublicKey checks that pub is a valid encoded signature
// public key of the suite.
func (cs CipherSuite) ValidateSignaturePublicKey(pub []byte) error {
	s, err := cs.info()
	if err != nil {
		return err
	}
	switch s.sig {
	case sigEd25519:
		if len(pub) != ed25519.PublicKeySize {
			return fmt.Errorf("%w: Ed25519 public key length %d", ErrInvalidKey, len(pub))
		}
	case sigECDSA:
		if _, err := ecdsa.ParseUncompressedPublicKey(s.curve, pub); err != nil {
			return fmt.Errorf("%w: %v", ErrInvalidKey, err)
		}
	case sigEd448:
		if len(pub) != ed448PublicKeySize {
			return fmt.Errorf("%w: Ed448 public key length %d", ErrInvalidKey, len(pub))
		}
	}
	return nil
}

// EncryptWithLabel implements RFC 9420 §5.1.3: HPKE SealBase to the public
// key pub with info = EncryptContext{"MLS 1.0 " + label, context} and empty
// aad.
func (cs CipherSuite) EncryptWithLabel(pub []byte, label string, context, plaintext []byte) (kemOutput, ciphertext []byte, err error) {
	s, err := cs.info()
	if err != nil {
		return nil, nil, err
	}
	info, err := labeledContent(label, context)
	if err != nil {
		return nil, nil, err
	}
	return s.hpke.seal(pub, info, plaintext)
}

// DecryptWithLabel reverses EncryptWithLabel with the encoded HPKE private
// key priv. Failures return an error wrapping ErrDecryption or ErrInvalidKey.
func (cs CipherSuite) DecryptWithLabel(priv []byte, label string, context, kemOutput, ciphertext []byte) ([]byte, error) {
	s, err := cs.info()
	if err != nil {
		return nil, err
	}
	info, err := labeledContent(label, context)
	if err != nil {
		return nil, err
	}
	return s.hpke.open(priv, kemOutput, info, ciphertext)
}

// HPKEExportSender runs HPKE SetupBaseS(pub, info) and returns the KEM
// output together with Export(exporterContext, length). MLS uses it for
// external initialisation (RFC 9420 §8.3) with info = "" and
// exporterContext = "MLS 1.0 external init secret".
func (cs CipherSuite) HPKEExportSender(pub, info []byte, exporterContext string, length int) (kemOutput, secret []byte, err error) {
	s, err := cs.info()
	if err != nil {
		return nil, nil, err
	}
	if length < 0 || length > 255*s.hashSize {
		return nil, nil, fmt.Errorf("mls: hpke export length %d out of range", length)
	}
	return s.hpke.exportSender(pub, info, exporterContext, length)
}

// HPKEExportRecipient is the receiving side of HPKEExportSender.
func (cs CipherSuite) HPKEExportRecipient(priv, kemOutput, info []byte, exporterContext string, length int) ([]byte, error) {
	s, err := cs.info()
	if err != nil {
		return nil, err
	}
	if length < 0 || length > 255*s.hashSize {
		return nil, fmt.Errorf("mls: hpke export length %d out of range", length)
	}
	return s.hpke.exportRecipient(priv, kemOutput, info, exporterContext, length)
}

// constantTimeEqual reports whether a and b are equal, in constant time for
// equal lengths.
func constantTimeEqual(a, b []byte) bool {
	return subtle.ConstantTimeCompare(a, b) == 1
}

// padScalar left-pads a big-endian NIST-curve private scalar that was
// encoded without its leading zero bytes (some implementations do so) to
// the curve's scalar size. Other keys (curve == nil) are returned unchanged.
func padScalar(curve elliptic.Curve, priv []byte) []byte {
	if curve == nil {
		return priv
	}
	size := (curve.Params().BitSize + 7) / 8
	if len(priv) >= size || len(priv) == 0 {
		return priv
	}
	out := make([]byte, size)
	copy(out[size-len(priv):], priv)
	return out
}
