package mls

import (
	"github.com/parleyhq/parley/mls/codec"
)

// ProposalType identifies a proposal (RFC 9420 §12.1, §17.4).
type ProposalType uint16

// Proposal types registered by RFC 9420 §17.4.
const (
	ProposalTypeAdd                    ProposalType = 1
	ProposalTypeUpdate                 ProposalType = 2
	ProposalTypeRemove                 ProposalType = 3
	ProposalTypePSK                    ProposalType = 4
	ProposalTypeReInit                 ProposalType = 5
	ProposalTypeExternalInit           ProposalType = 6
	ProposalTypeGroupContextExtensions ProposalType = 7
)

// PSKType distinguishes external and resumption PSKs (RFC 9420 §8.4).
type PSKType uint8

// PSK types.
const (
	PSKTypeExternal   PSKType = 1
	PSKTypeResumption PSKType = 2
)

// ResumptionPSKUsage says why a resumption PSK is used (RFC 9420 §8.4).
type ResumptionPSKUsage uint8

// Resumption PSK usages.
const (
	ResumptionPSKUsageApplication ResumptionPSKUsage = 1
	ResumptionPSKUsageReInit      ResumptionPSKUsage = 2
	ResumptionPSKUsageBranch      ResumptionPSKUsage = 3
)

// PreSharedKeyID identifies a PSK (RFC 9420 §8.4). PSKID is set for
// external PSKs; Usage, PSKGroupID and PSKEpoch for resumption PSKs.
type PreSharedKeyID struct {
	PSKType    PSKType
	PSKID      []byte
	Usage      ResumptionPSKUsage
	PSKGroupID []byte
	PSKEpoch   uint64
	PSKNonce   []byte
}

// Encode appends the encoding of id.
func (id *PreSharedKeyID) Encode(w *codec.Writer) {
	w.U8(uint8(id.PSKType))
	switch id.PSKType {
	case PSKTypeExternal:
		w.Opaque(id.PSKID)
	case PSKTypeResumption:
		w.U8(uint8(id.Usage))
		w.Opaque(id.PSKGroupID)
		w.U64(id.PSKEpoch)
	}
	w.Opaque(id.PSKNonce)
}

// Decode reads a PreSharedKeyID.
func (id *PreSharedKeyID) Decode(r *codec.Reader) {
	id.PSKType = PSKType(r.U8())
	switch id.PSKType {
	case PSKTypeExternal:
		id.PSKID = r.Opaque()
	case PSKTypeResumption:
		id.Usage = ResumptionPSKUsage(r.U8())
		if id.Usage < ResumptionPSKUsageApplication || id.Usage > ResumptionPSKUsageBranch {
			r.Failf("unknown resumption PSK usage %d", id.Usage)
		}
		id.PSKGroupID = r.Opaque()
		id.PSKEpoch = r.U64()
	default:
		r.Failf("unknown PSK type %d", id.PSKType)
	}
	id.PSKNonce = r.Opaque()
}

// AddProposal adds a member (RFC 9420 §12.1.1).
type AddProposal struct {
	KeyPackage KeyPackage
}

// UpdateProposal replaces the sender's leaf node (RFC 9420 §12.1.2).
type UpdateProposal struct {
	LeafNode LeafNode
}

// RemoveProposal removes the member at leaf index Removed (RFC 9420 §12.1.3).
type RemoveProposal struct {
	Removed uint32
}

// PreSharedKeyProposal injects a PSK into the key schedule (RFC 9420 §12.1.4).
type PreSharedKeyProposal struct {
	PSK PreSharedKeyID
}

// ReInitProposal reinitialises the group (RFC 9420 §12.1.5).
type ReInitProposal struct {
	GroupID     []byte
	Version     ProtocolVersion
	CipherSuite CipherSuite
	Extensions  []Extension
}

// ExternalInitProposal carries an external joiner's KEM output
// (RFC 9420 §12.1.6).
type ExternalInitProposal struct {
	KEMOutput []byte
}

// GroupContextExtensionsProposal replaces the group context extensions
// (RFC 9420 §12.1.7).
type GroupContextExtensionsProposal struct {
	Extensions []Extension
}

// Proposal is a tagged union of the proposal types (RFC 9420 §12.1). Exactly
// the field matching ProposalType is non-nil. Decoding fails on proposal
// types not defined by RFC 9420, because their encoding cannot be delimited.
type Proposal struct {
	ProposalType           ProposalType
	Add                    *AddProposal
	Update                 *UpdateProposal
	Remove                 *RemoveProposal
	PreSharedKey           *PreSharedKeyProposal
	ReInit                 *ReInitProposal
	ExternalInit           *ExternalInitProposal
	GroupContextExtensions *GroupContextExtensionsProposal
}

// Encode appends the encoding of v.
func (v *AddProposal) Encode(w *codec.Writer) { v.KeyPackage.Encode(w) }

// Decode reads an Add proposal body.
func (v *AddProposal) Decode(r *codec.Reader) { v.KeyPackage.Decode(r) }

// Encode appends the encoding of v.
func (v *UpdateProposal) Encode(w *codec.Writer) { v.LeafNode.Encode(w) }

// Decode reads an Update proposal body.
func (v *UpdateProposal) Decode(r *codec.Reader) { v.LeafNode.Decode(r) }

// Encode appends the encoding of v.
func (v *RemoveProposal) Encode(w *codec.Writer) { w.U32(v.Removed) }

// Decode reads a Remove proposal body.
func (v *RemoveProposal) Decode(r *codec.Reader) { v.Removed = r.U32() }

// Encode appends the encoding of v.
func (v *PreSharedKeyProposal) Encode(w *codec.Writer) { v.PSK.Encode(w) }

// Decode reads a PreSharedKey proposal body.
func (v *PreSharedKeyProposal) Decode(r *codec.Reader) { v.PSK.Decode(r) }

// Encode appends the encoding of v.
func (v *ReInitProposal) Encode(w *codec.Writer) {
	w.Opaque(v.GroupID)
	w.U16(uint16(v.Version))
	w.U16(uint16(v.CipherSuite))
	encodeExtensions(w, v.Extensions)
}

// Decode reads a ReInit proposal body.
func (v *ReInitProposal) Decode(r *codec.Reader) {
	v.GroupID = r.Opaque()
	v.Version = ProtocolVersion(r.U16())
	v.CipherSuite = CipherSuite(r.U16())
	v.Extensions = decodeExtensions(r)
}

// Encode appends the encoding of v.
func (v *ExternalInitProposal) Encode(w *codec.Writer) { w.Opaque(v.KEMOutput) }

// Decode reads an ExternalInit proposal body.
func (v *ExternalInitProposal) Decode(r *codec.Reader) { v.KEMOutput = r.Opaque() }

// Encode appends the encoding of v.
func (v *GroupContextExtensionsProposal) Encode(w *codec.Writer) { encodeExtensions(w, v.Extensions) }

// Decode reads a GroupContextExtensions proposal body.
func (v *GroupContextExtensionsProposal) Decode(r *codec.Reader) { v.Extensions = decodeExtensions(r) }

// body returns the variant selected by ProposalType, or nil.
func (p *Proposal) body() Encoder {
	switch p.ProposalType {
	case ProposalTypeAdd:
		if p.Add != nil {
			return p.Add
		}
		return &AddProposal{}
	case ProposalTypeUpdate:
		if p.Update != nil {
			return p.Update
		}
		return &UpdateProposal{}
	case ProposalTypeRemove:
		if p.Remove != nil {
			return p.Remove
		}
		return &RemoveProposal{}
	case ProposalTypePSK:
		if p.PreSharedKey != nil {
			return p.PreSharedKey
		}
		return &PreSharedKeyProposal{}
	case ProposalTypeReInit:
		if p.ReInit != nil {
			return p.ReInit
		}
		return &ReInitProposal{}
	case ProposalTypeExternalInit:
		if p.ExternalInit != nil {
			return p.ExternalInit
		}
		return &ExternalInitProposal{}
	case ProposalTypeGroupContextExtensions:
		if p.GroupContextExtensions != nil {
			return p.GroupContextExtensions
		}
		return &GroupContextExtensionsProposal{}
	}
	return nil
}

// Encode appends the encoding of p. A nil variant field is encoded as its
// zero value.
func (p *Proposal) Encode(w *codec.Writer) {
	w.U16(uint16(p.ProposalType))
	if b := p.body(); b != nil {
		b.Encode(w)
	}
}

// Decode reads a Proposal.
func (p *Proposal) Decode(r *codec.Reader) {
	*p = Proposal{ProposalType: ProposalType(r.U16())}
	switch p.ProposalType {
	case ProposalTypeAdd:
		p.Add = &AddProposal{}
		p.Add.Decode(r)
	case ProposalTypeUpdate:
		p.Update = &UpdateProposal{}
		p.Update.Decode(r)
	case ProposalTypeRemove:
		p.Remove = &RemoveProposal{}
		p.Remove.Decode(r)
	case ProposalTypePSK:
		p.PreSharedKey = &PreSharedKeyProposal{}
		p.PreSharedKey.Decode(r)
	case ProposalTypeReInit:
		p.ReInit = &ReInitProposal{}
		p.ReInit.Decode(r)
	case ProposalTypeExternalInit:
		p.ExternalInit = &ExternalInitProposal{}
		p.ExternalInit.Decode(r)
	case ProposalTypeGroupContextExtensions:
		p.GroupContextExtensions = &GroupContextExtensionsProposal{}
		p.GroupContextExtensions.Decode(r)
	default:
		r.Failf("unknown proposal type %d", p.ProposalType)
	}
}

// ProposalOrRefType tags a ProposalOrRef.
type ProposalOrRefType uint8

// ProposalOrRef types.
const (
	ProposalOrRefTypeProposal  ProposalOrRefType = 1
	ProposalOrRefTypeReference ProposalOrRefType = 2
)

// ProposalOrRef is a proposal carried inline in a Commit or a reference
// (ProposalRef) to one sent earlier (RFC 9420 §12.4).
type ProposalOrRef struct {
	Type      ProposalOrRefType
	Proposal  *Proposal
	Reference []byte
}

// Encode appends the encoding of p.
func (p *ProposalOrRef) Encode(w *codec.Writer) {
	w.U8(uint8(p.Type))
	switch p.Type {
	case ProposalOrRefTypeProposal:
		v := p.Proposal
		if v == nil {
			v = &Proposal{}
		}
		v.Encode(w)
	case ProposalOrRefTypeReference:
		w.Opaque(p.Reference)
	}
}

// Decode reads a ProposalOrRef.
func (p *ProposalOrRef) Decode(r *codec.Reader) {
	*p = ProposalOrRef{Type: ProposalOrRefType(r.U8())}
	switch p.Type {
	case ProposalOrRefTypeProposal:
		p.Proposal = &Proposal{}
		p.Proposal.Decode(r)
	case ProposalOrRefTypeReference:
		p.Reference = r.Opaque()
	default:
		r.Failf("unknown ProposalOrRef type %d", p.Type)
	}
}

// Commit applies proposals and optionally refreshes the committer's path
// (RFC 9420 §12.4). Path is nil when absent.
type Commit struct {
	Proposals []ProposalOrRef
	Path      *UpdatePath
}

// Encode appends the encoding of c.
func (c *Commit) Encode(w *codec.Writer) {
	encodeList(w, c.Proposals)
	w.Optional(c.Path != nil)
	if c.Path != nil {
		c.Path.Encode(w)
	}
}

// Decode reads a Commit.
func (c *Commit) Decode(r *codec.Reader) {
	c.Proposals = decodeList[ProposalOrRef](r)
	c.Path = nil
	if r.Optional() {
		c.Path = &UpdatePath{}
		c.Path.Decode(r)
	}
}
