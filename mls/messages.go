package mls

import (
	"fmt"

	"github.com/parleyhq/parley/mls/codec"
)

// WireFormat identifies the format of an MLSMessage (RFC 9420 §6, §17.2).
type WireFormat uint16

// Wire formats.
const (
	WireFormatPublicMessage  WireFormat = 1
	WireFormatPrivateMessage WireFormat = 2
	WireFormatWelcome        WireFormat = 3
	WireFormatGroupInfo      WireFormat = 4
	WireFormatKeyPackage     WireFormat = 5
)

// ContentType is the type of a FramedContent (RFC 9420 §6).
type ContentType uint8

// Content types.
const (
	ContentTypeApplication ContentType = 1
	ContentTypeProposal    ContentType = 2
	ContentTypeCommit      ContentType = 3
)

// SenderType is the kind of sender of a message (RFC 9420 §6).
type SenderType uint8

// Sender types.
const (
	SenderTypeMember            SenderType = 1
	SenderTypeExternal          SenderType = 2
	SenderTypeNewMemberProposal SenderType = 3
	SenderTypeNewMemberCommit   SenderType = 4
)

// GroupContext summarises a group's state in an epoch (RFC 9420 §8.1).
type GroupContext struct {
	Version                 ProtocolVersion
	CipherSuite             CipherSuite
	GroupID                 []byte
	Epoch                   uint64
	TreeHash                []byte
	ConfirmedTranscriptHash []byte
	Extensions              []Extension
}

// Encode appends the encoding of gc.
func (gc *GroupContext) Encode(w *codec.Writer) {
	w.U16(uint16(gc.Version))
	w.U16(uint16(gc.CipherSuite))
	w.Opaque(gc.GroupID)
	w.U64(gc.Epoch)
	w.Opaque(gc.TreeHash)
	w.Opaque(gc.ConfirmedTranscriptHash)
	encodeExtensions(w, gc.Extensions)
}

// Decode reads a GroupContext.
func (gc *GroupContext) Decode(r *codec.Reader) {
	gc.Version = ProtocolVersion(r.U16())
	gc.CipherSuite = CipherSuite(r.U16())
	gc.GroupID = r.Opaque()
	gc.Epoch = r.U64()
	gc.TreeHash = r.Opaque()
	gc.ConfirmedTranscriptHash = r.Opaque()
	gc.Extensions = decodeExtensions(r)
}

// Marshal returns the encoding of gc.
func (gc *GroupContext) Marshal() ([]byte, error) { return Marshal(gc) }

// Sender identifies who sent a message (RFC 9420 §6). LeafIndex holds the
// leaf_index of a member sender or the sender_index of an external sender.
type Sender struct {
	SenderType SenderType
	LeafIndex  uint32
}

// Encode appends the encoding of s.
func (s *Sender) Encode(w *codec.Writer) {
	w.U8(uint8(s.SenderType))
	switch s.SenderType {
	case SenderTypeMember, SenderTypeExternal:
		w.U32(s.LeafIndex)
	}
}

// Decode reads a Sender.
func (s *Sender) Decode(r *codec.Reader) {
	s.SenderType = SenderType(r.U8())
	s.LeafIndex = 0
	switch s.SenderType {
	case SenderTypeMember, SenderTypeExternal:
		s.LeafIndex = r.U32()
	case SenderTypeNewMemberProposal, SenderTypeNewMemberCommit:
	default:
		r.Failf("unknown sender type %d", s.SenderType)
	}
}

// FramedContent is the content of a handshake or application message
// (RFC 9420 §6). Exactly one of ApplicationData, Proposal and Commit is
// meaningful, as selected by ContentType.
type FramedContent struct {
	GroupID           []byte
	Epoch             uint64
	Sender            Sender
	AuthenticatedData []byte
	ContentType       ContentType
	ApplicationData   []byte
	Proposal          *Proposal
	Commit            *Commit
}

// encodeBody appends the content_type-selected body.
func (fc *FramedContent) encodeBody(w *codec.Writer) {
	switch fc.ContentType {
	case ContentTypeApplication:
		w.Opaque(fc.ApplicationData)
	case ContentTypeProposal:
		p := fc.Proposal
		if p == nil {
			p = &Proposal{}
		}
		p.Encode(w)
	case ContentTypeCommit:
		c := fc.Commit
		if c == nil {
			c = &Commit{}
		}
		c.Encode(w)
	}
}

// decodeBody reads the body selected by fc.ContentType.
func (fc *FramedContent) decodeBody(r *codec.Reader) {
	fc.ApplicationData, fc.Proposal, fc.Commit = nil, nil, nil
	switch fc.ContentType {
	case ContentTypeApplication:
		fc.ApplicationData = r.Opaque()
	case ContentTypeProposal:
		fc.Proposal = &Proposal{}
		fc.Proposal.Decode(r)
	case ContentTypeCommit:
		fc.Commit = &Commit{}
		fc.Commit.Decode(r)
	default:
		r.Failf("unknown content type %d", fc.ContentType)
	}
}

// Encode appends the encoding of fc.
func (fc *FramedContent) Encode(w *codec.Writer) {
	w.Opaque(fc.GroupID)
	w.U64(fc.Epoch)
	fc.Sender.Encode(w)
	w.Opaque(fc.AuthenticatedData)
	w.U8(uint8(fc.ContentType))
	fc.encodeBody(w)
}

// Decode reads a FramedContent.
func (fc *FramedContent) Decode(r *codec.Reader) {
	fc.GroupID = r.Opaque()
	fc.Epoch = r.U64()
	fc.Sender.Decode(r)
	fc.AuthenticatedData = r.Opaque()
	fc.ContentType = ContentType(r.U8())
	fc.decodeBody(r)
}

// FramedContentAuthData authenticates a FramedContent (RFC 9420 §6.1).
// ConfirmationTag is present only for commits.
type FramedContentAuthData struct {
	Signature       []byte
	ConfirmationTag []byte
}

// EncodeFor appends the encoding of a for content of type ct.
func (a *FramedContentAuthData) EncodeFor(w *codec.Writer, ct ContentType) {
	w.Opaque(a.Signature)
	if ct == ContentTypeCommit {
		w.Opaque(a.ConfirmationTag)
	}
}

// DecodeFor reads a FramedContentAuthData for content of type ct.
func (a *FramedContentAuthData) DecodeFor(r *codec.Reader, ct ContentType) {
	a.Signature = r.Opaque()
	a.ConfirmationTag = nil
	if ct == ContentTypeCommit {
		a.ConfirmationTag = r.Opaque()
	}
}

// AuthenticatedContent is a FramedContent with its authentication data and
// the wire format it is (to be) sent in (RFC 9420 §6.1).
type AuthenticatedContent struct {
	WireFormat WireFormat
	Content    FramedContent
	Auth       FramedContentAuthData
}

// Encode appends the encoding of ac.
func (ac *AuthenticatedContent) Encode(w *codec.Writer) {
	w.U16(uint16(ac.WireFormat))
	ac.Content.Encode(w)
	ac.Auth.EncodeFor(w, ac.Content.ContentType)
}

// Decode reads an AuthenticatedContent.
func (ac *AuthenticatedContent) Decode(r *codec.Reader) {
	ac.WireFormat = WireFormat(r.U16())
	ac.Content.Decode(r)
	ac.Auth.DecodeFor(r, ac.Content.ContentType)
}

// Marshal returns the encoding of ac.
func (ac *AuthenticatedContent) Marshal() ([]byte, error) { return Marshal(ac) }

// Unmarshal decodes data into ac.
func (ac *AuthenticatedContent) Unmarshal(data []byte) error { return Unmarshal(data, ac) }

// PublicMessage is a signed, unencrypted handshake or application message
// (RFC 9420 §6.2). MembershipTag is present only for member senders.
type PublicMessage struct {
	Content       FramedContent
	Auth          FramedContentAuthData
	MembershipTag []byte
}

// Encode appends the encoding of m.
func (m *PublicMessage) Encode(w *codec.Writer) {
	m.Content.Encode(w)
	m.Auth.EncodeFor(w, m.Content.ContentType)
	if m.Content.Sender.SenderType == SenderTypeMember {
		w.Opaque(m.MembershipTag)
	}
}

// Decode reads a PublicMessage.
func (m *PublicMessage) Decode(r *codec.Reader) {
	m.Content.Decode(r)
	m.Auth.DecodeFor(r, m.Content.ContentType)
	m.MembershipTag = nil
	if m.Content.Sender.SenderType == SenderTypeMember {
		m.MembershipTag = r.Opaque()
	}
}

// PrivateMessage is an encrypted handshake or application message
// (RFC 9420 §6.3).
type PrivateMessage struct {
	GroupID             []byte
	Epoch               uint64
	ContentType         ContentType
	AuthenticatedData   []byte
	EncryptedSenderData []byte
	Ciphertext          []byte
}

// Encode appends the encoding of m.
func (m *PrivateMessage) Encode(w *codec.Writer) {
	w.Opaque(m.GroupID)
	w.U64(m.Epoch)
	w.U8(uint8(m.ContentType))
	w.Opaque(m.AuthenticatedData)
	w.Opaque(m.EncryptedSenderData)
	w.Opaque(m.Ciphertext)
}

// Decode reads a PrivateMessage.
func (m *PrivateMessage) Decode(r *codec.Reader) {
	m.GroupID = r.Opaque()
	m.Epoch = r.U64()
	m.ContentType = ContentType(r.U8())
	if m.ContentType < ContentTypeApplication || m.ContentType > ContentTypeCommit {
		r.Failf("unknown content type %d", m.ContentType)
	}
	m.AuthenticatedData = r.Opaque()
	m.EncryptedSenderData = r.Opaque()
	m.Ciphertext = r.Opaque()
}

// MLSMessage is the top-level message envelope (RFC 9420 §6). Exactly the
// field selected by WireFormat is non-nil.
type MLSMessage struct {
	Version        ProtocolVersion
	WireFormat     WireFormat
	PublicMessage  *PublicMessage
	PrivateMessage *PrivateMessage
	Welcome        *Welcome
	GroupInfo      *GroupInfo
	KeyPackage     *KeyPackage
}

// Encode appends the encoding of m. The variant selected by WireFormat must
// be non-nil; a nil variant is encoded as its zero value.
func (m *MLSMessage) Encode(w *codec.Writer) {
	w.U16(uint16(m.Version))
	w.U16(uint16(m.WireFormat))
	switch m.WireFormat {
	case WireFormatPublicMessage:
		v := m.PublicMessage
		if v == nil {
			v = &PublicMessage{}
		}
		v.Encode(w)
	case WireFormatPrivateMessage:
		v := m.PrivateMessage
		if v == nil {
			v = &PrivateMessage{}
		}
		v.Encode(w)
	case WireFormatWelcome:
		v := m.Welcome
		if v == nil {
			v = &Welcome{}
		}
		v.Encode(w)
	case WireFormatGroupInfo:
		v := m.GroupInfo
		if v == nil {
			v = &GroupInfo{}
		}
		v.Encode(w)
	case WireFormatKeyPackage:
		v := m.KeyPackage
		if v == nil {
			v = &KeyPackage{}
		}
		v.Encode(w)
	}
}

// Decode reads an MLSMessage. The version is not checked here; see
// MLSMessage.Unmarshal.
func (m *MLSMessage) Decode(r *codec.Reader) {
	*m = MLSMessage{Version: ProtocolVersion(r.U16()), WireFormat: WireFormat(r.U16())}
	switch m.WireFormat {
	case WireFormatPublicMessage:
		m.PublicMessage = &PublicMessage{}
		m.PublicMessage.Decode(r)
	case WireFormatPrivateMessage:
		m.PrivateMessage = &PrivateMessage{}
		m.PrivateMessage.Decode(r)
	case WireFormatWelcome:
		m.Welcome = &Welcome{}
		m.Welcome.Decode(r)
	case WireFormatGroupInfo:
		m.GroupInfo = &GroupInfo{}
		m.GroupInfo.Decode(r)
	case WireFormatKeyPackage:
		m.KeyPackage = &KeyPackage{}
		m.KeyPackage.Decode(r)
	default:
		r.Failf("unknown wire format %d", m.WireFormat)
	}
}

// Marshal returns the encoding of m.
func (m *MLSMessage) Marshal() ([]byte, error) { return Marshal(m) }

// Unmarshal decodes data into m. It fails (wrapping ErrMalformed) on
// malformed input, trailing bytes, unknown wire formats and protocol
// versions other than mls10.
func (m *MLSMessage) Unmarshal(data []byte) error {
	if err := Unmarshal(data, m); err != nil {
		return err
	}
	if m.Version != ProtocolVersionMLS10 {
		return fmt.Errorf("%w: unsupported protocol version %d", ErrMalformed, m.Version)
	}
	return nil
}
