package mls

import (
	"github.com/parleyhq/parley/mls/codec"
)

// ProtocolVersion is an MLS protocol version (RFC 9420 §6).
type ProtocolVersion uint16

// ProtocolVersionMLS10 is the only version defined by RFC 9420.
const ProtocolVersionMLS10 ProtocolVersion = 1

// CredentialType identifies a credential format (RFC 9420 §5.3).
type CredentialType uint16

// Credential types registered by RFC 9420 §17.5.
const (
	CredentialTypeBasic CredentialType = 1
	CredentialTypeX509  CredentialType = 2
)

// Credential binds an identity to a signature key (RFC 9420 §5.3). Identity
// is set for basic credentials and Certificates (DER, leaf first) for X.509
// credentials. Decoding fails on any other credential type, since the
// encoding of unknown types cannot be delimited.
type Credential struct {
	CredentialType CredentialType
	Identity       []byte
	Certificates   [][]byte
}

// NewBasicCredential returns a basic credential for identity.
func NewBasicCredential(identity []byte) Credential {
	return Credential{CredentialType: CredentialTypeBasic, Identity: identity}
}

// Encode appends the encoding of c.
func (c *Credential) Encode(w *codec.Writer) {
	w.U16(uint16(c.CredentialType))
	switch c.CredentialType {
	case CredentialTypeBasic:
		w.Opaque(c.Identity)
	case CredentialTypeX509:
		w.Vector(func(w *codec.Writer) {
			for _, cert := range c.Certificates {
				w.Opaque(cert)
			}
		})
	}
}

// Decode reads a Credential.
func (c *Credential) Decode(r *codec.Reader) {
	c.CredentialType = CredentialType(r.U16())
	switch c.CredentialType {
	case CredentialTypeBasic:
		c.Identity = r.Opaque()
	case CredentialTypeX509:
		c.Certificates = nil
		r.VectorEach(func(r *codec.Reader) { c.Certificates = append(c.Certificates, r.Opaque()) })
	default:
		r.Failf("unknown credential type %d", c.CredentialType)
	}
}

// Capabilities lists what a client supports (RFC 9420 §7.2).
type Capabilities struct {
	Versions     []ProtocolVersion
	CipherSuites []CipherSuite
	Extensions   []ExtensionType
	Proposals    []ProposalType
	Credentials  []CredentialType
}

// Encode appends the encoding of c.
func (c *Capabilities) Encode(w *codec.Writer) {
	encodeU16s(w, c.Versions)
	encodeU16s(w, c.CipherSuites)
	encodeU16s(w, c.Extensions)
	encodeU16s(w, c.Proposals)
	encodeU16s(w, c.Credentials)
}

// Decode reads Capabilities.
func (c *Capabilities) Decode(r *codec.Reader) {
	c.Versions = decodeU16s[ProtocolVersion](r)
	c.CipherSuites = decodeU16s[CipherSuite](r)
	c.Extensions = decodeU16s[ExtensionType](r)
	c.Proposals = decodeU16s[ProposalType](r)
	c.Credentials = decodeU16s[CredentialType](r)
}

// Lifetime bounds the validity of a KeyPackage's leaf node, in seconds since
// the Unix epoch (RFC 9420 §7.2).
type Lifetime struct {
	NotBefore uint64
	NotAfter  uint64
}

// Encode appends the encoding of l.
func (l *Lifetime) Encode(w *codec.Writer) {
	w.U64(l.NotBefore)
	w.U64(l.NotAfter)
}

// Decode reads a Lifetime.
func (l *Lifetime) Decode(r *codec.Reader) {
	l.NotBefore = r.U64()
	l.NotAfter = r.U64()
}
