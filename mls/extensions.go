package mls

import (
	"github.com/parleyhq/parley/mls/codec"
)

// ExtensionType identifies an extension (RFC 9420 §13, §17.3).
type ExtensionType uint16

// Extension types registered by RFC 9420 §17.3.
const (
	ExtensionTypeApplicationID        ExtensionType = 1
	ExtensionTypeRatchetTree          ExtensionType = 2
	ExtensionTypeRequiredCapabilities ExtensionType = 3
	ExtensionTypeExternalPub          ExtensionType = 4
	ExtensionTypeExternalSenders      ExtensionType = 5
)

// Extension is a typed opaque extension (RFC 9420 §7.2). Extensions of
// unknown types are carried through unchanged.
type Extension struct {
	ExtensionType ExtensionType
	ExtensionData []byte
}

// Encode appends the encoding of e.
func (e *Extension) Encode(w *codec.Writer) {
	w.U16(uint16(e.ExtensionType))
	w.Opaque(e.ExtensionData)
}

// Decode reads an Extension.
func (e *Extension) Decode(r *codec.Reader) {
	e.ExtensionType = ExtensionType(r.U16())
	e.ExtensionData = r.Opaque()
}

// encodeExtensions appends Extension extensions<V>.
func encodeExtensions(w *codec.Writer, exts []Extension) { encodeList(w, exts) }

// decodeExtensions reads Extension extensions<V>.
func decodeExtensions(r *codec.Reader) []Extension { return decodeList[Extension](r) }

// FindExtension returns the first extension of type t in exts and whether it
// was found.
func FindExtension(exts []Extension, t ExtensionType) (Extension, bool) {
	for _, e := range exts {
		if e.ExtensionType == t {
			return e, true
		}
	}
	return Extension{}, false
}

// HasDuplicateExtensions reports whether exts contains two extensions of the
// same type, which RFC 9420 §13 forbids.
func HasDuplicateExtensions(exts []Extension) bool {
	seen := make(map[ExtensionType]struct{}, len(exts))
	for _, e := range exts {
		if _, ok := seen[e.ExtensionType]; ok {
			return true
		}
		seen[e.ExtensionType] = struct{}{}
	}
	return false
}

// RequiredCapabilities is the payload of the required_capabilities
// extension (RFC 9420 §11.1).
type RequiredCapabilities struct {
	ExtensionTypes  []ExtensionType
	ProposalTypes   []ProposalType
	CredentialTypes []CredentialType
}

// Encode appends the encoding of rc.
func (rc *RequiredCapabilities) Encode(w *codec.Writer) {
	encodeU16s(w, rc.ExtensionTypes)
	encodeU16s(w, rc.ProposalTypes)
	encodeU16s(w, rc.CredentialTypes)
}

// Decode reads RequiredCapabilities.
func (rc *RequiredCapabilities) Decode(r *codec.Reader) {
	rc.ExtensionTypes = decodeU16s[ExtensionType](r)
	rc.ProposalTypes = decodeU16s[ProposalType](r)
	rc.CredentialTypes = decodeU16s[CredentialType](r)
}

// ExternalPub is the payload of the external_pub extension (RFC 9420 §12.4.3.2).
type ExternalPub struct {
	ExternalPub []byte
}

// Encode appends the encoding of e.
func (e *ExternalPub) Encode(w *codec.Writer) { w.Opaque(e.ExternalPub) }

// Decode reads an ExternalPub.
func (e *ExternalPub) Decode(r *codec.Reader) { e.ExternalPub = r.Opaque() }

// ExternalSender is one entry of the external_senders extension
// (RFC 9420 §12.1.8.1).
type ExternalSender struct {
	SignatureKey []byte
	Credential   Credential
}

// Encode appends the encoding of e.
func (e *ExternalSender) Encode(w *codec.Writer) {
	w.Opaque(e.SignatureKey)
	e.Credential.Encode(w)
}

// Decode reads an ExternalSender.
func (e *ExternalSender) Decode(r *codec.Reader) {
	e.SignatureKey = r.Opaque()
	e.Credential.Decode(r)
}

// ExternalSenders is the payload of the external_senders extension.
type ExternalSenders []ExternalSender

// Encode appends the encoding of es.
func (es *ExternalSenders) Encode(w *codec.Writer) { encodeList(w, *es) }

// Decode reads ExternalSenders.
func (es *ExternalSenders) Decode(r *codec.Reader) { *es = decodeList[ExternalSender](r) }

// ApplicationID is the payload of the application_id extension (RFC 9420 §5.3.3).
type ApplicationID struct {
	ApplicationID []byte
}

// Encode appends the encoding of a.
func (a *ApplicationID) Encode(w *codec.Writer) { w.Opaque(a.ApplicationID) }

// Decode reads an ApplicationID.
func (a *ApplicationID) Decode(r *codec.Reader) { a.ApplicationID = r.Opaque() }
