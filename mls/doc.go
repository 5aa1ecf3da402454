// Package mls implements the Messaging Layer Security protocol, RFC 9420.
//
// All seven cipher suites of RFC 9420 are implemented. Suites 1, 2, 3, 5
// and 7 use only the Go standard library (crypto/hpke, crypto/ecdh,
// crypto/ed25519, crypto/ecdsa, HMAC/HKDF, AES-GCM) plus
// golang.org/x/crypto/chacha20poly1305; suites 4 and 6 (X448/Ed448) use
// github.com/cloudflare/circl (x448.go), which the standard library lacks.
//
// Layout (two authors work in this package; each owns the files listed):
//
// Wire format and cryptography:
//   - codec/ (sub-package): the TLS presentation language with MLS
//     variable-length vectors (RFC 9420 §2.1.2); hostile lengths never cause
//     large allocations and non-minimal varints are rejected.
//   - ciphersuite.go, hpke.go, x448.go: CipherSuite and every primitive of RFC 9420 §5 and §8
//     (ExpandWithLabel, DeriveSecret, DeriveTreeSecret, RefHash, MAC, AEAD,
//     SignWithLabel/VerifyWithLabel, EncryptWithLabel/DecryptWithLabel,
//     DeriveKeyPair). Keys are passed as their RFC byte encodings.
//   - encoding.go, credential.go, extensions.go, leafnode.go, keypackage.go,
//     proposals.go, messages.go, welcome.go: Go structs for every wire
//     struct, each with Encode(*codec.Writer) and Decode(*codec.Reader);
//     top-level messages also have Marshal/Unmarshal. Decoding requires
//     canonical encodings, so decode followed by encode reproduces the input.
//   - secrettree.go, keyschedule.go, psk.go, transcript.go, framing.go:
//     the secret tree, key schedule, PSKs, transcript hashes and
//     PublicMessage/PrivateMessage protection.
//
// Ratchet tree and group state (the tree engineer's files): treemath*.go,
// tree*.go, treekem*.go, group*.go, state*.go.
//
// Decoding errors wrap ErrMalformed; signature failures wrap
// ErrInvalidSignature; decryption failures wrap ErrDecryption.
package mls
