package mls

import (
	"bytes"
	"fmt"
	"slices"
)

// proposalItem is one proposal of a commit's list, with its sender (the
// committer for proposals by value) and its reference (nil by value).
type proposalItem struct {
	p      *Proposal
	sender Sender
	ref    []byte
}

// appliedProposals is the result of validating and applying a commit's
// proposal list to the current state (RFC 9420 §12.2, §12.3).
type appliedProposals struct {
	tree        *ratchetTree
	exts        []Extension
	extsChanged bool
	added       []LeafIndex
	addedKPs    []*KeyPackage
	removed     []Member
	updated     []LeafIndex
	psks        []PreSharedKeyID
	extInit     *ExternalInitProposal
	reinit      *ReInitProposal
	// pathRequired is set if the list is empty or holds a proposal type
	// that requires a path (§12.4).
	pathRequired bool
}

// noLeaf marks the absence of a committer leaf (external commits).
const noLeaf = LeafIndex(^uint32(0))

// validateProposal checks the rules of RFC 9420 §12.1 that concern a single
// proposal in the current state, for a proposal received on its own or
// included in a commit. sender is the proposal's sender.
func (g *Group) validateProposal(p *Proposal, sender Sender) error {
	switch sender.SenderType {
	case SenderTypeMember:
		if g.tree.leaf(LeafIndex(sender.LeafIndex)) == nil {
			return fmt.Errorf("%w: proposal sender %d is not a member", ErrUnknownSender, sender.LeafIndex)
		}
	case SenderTypeExternal:
		switch p.ProposalType {
		case ProposalTypeAdd, ProposalTypeRemove, ProposalTypePSK, ProposalTypeReInit, ProposalTypeGroupContextExtensions:
		default:
			return fmt.Errorf("%w: external sender cannot send proposal type %d", ErrInvalidProposal, p.ProposalType)
		}
	case SenderTypeNewMemberProposal:
		if p.ProposalType != ProposalTypeAdd {
			return fmt.Errorf("%w: new_member_proposal sender sent proposal type %d", ErrInvalidProposal, p.ProposalType)
		}
	case SenderTypeNewMemberCommit:
		// Only by value in an external commit; checked by the list rules.
	default:
		return fmt.Errorf("%w: sender type %d", ErrInvalidProposal, sender.SenderType)
	}
	switch p.ProposalType {
	case ProposalTypeAdd:
		if p.Add == nil {
			return fmt.Errorf("%w: empty add", ErrInvalidProposal)
		}
		return g.validateKeyPackage(&p.Add.KeyPackage)
	case ProposalTypeUpdate:
		if p.Update == nil {
			return fmt.Errorf("%w: empty update", ErrInvalidProposal)
		}
		if sender.SenderType != SenderTypeMember {
			return fmt.Errorf("%w: update from a non-member", ErrInvalidProposal)
		}
		ln := &p.Update.LeafNode
		if ln.LeafNodeSource != LeafNodeSourceUpdate {
			return fmt.Errorf("%w: update leaf_node_source %d", ErrInvalidProposal, ln.LeafNodeSource)
		}
		if err := ln.VerifySignature(g.cs, g.ctx.GroupID, sender.LeafIndex); err != nil {
			return fmt.Errorf("%w: update: %w", ErrInvalidProposal, err)
		}
		if old := g.tree.leaf(LeafIndex(sender.LeafIndex)); old != nil && bytes.Equal(old.EncryptionKey, ln.EncryptionKey) {
			return fmt.Errorf("%w: update does not change the encryption key", ErrInvalidProposal)
		}
	case ProposalTypeRemove:
		if p.Remove == nil || g.tree.leaf(LeafIndex(p.Remove.Removed)) == nil {
			return fmt.Errorf("%w: remove of a blank or missing leaf", ErrInvalidProposal)
		}
	case ProposalTypePSK:
		if p.PreSharedKey == nil {
			return fmt.Errorf("%w: empty psk", ErrInvalidProposal)
		}
		id := &p.PreSharedKey.PSK
		if len(id.PSKNonce) != g.cs.HashSize() {
			return fmt.Errorf("%w: psk_nonce of %d bytes", ErrInvalidProposal, len(id.PSKNonce))
		}
		if id.PSKType == PSKTypeResumption && id.Usage != ResumptionPSKUsageApplication {
			return fmt.Errorf("%w: resumption PSK with usage %d outside reinit/branch", ErrInvalidProposal, id.Usage)
		}
	case ProposalTypeReInit:
		if p.ReInit == nil || p.ReInit.Version < g.ctx.Version {
			return fmt.Errorf("%w: reinit to an older version", ErrInvalidProposal)
		}
	case ProposalTypeExternalInit:
		if p.ExternalInit == nil {
			return fmt.Errorf("%w: empty external init", ErrInvalidProposal)
		}
	case ProposalTypeGroupContextExtensions:
		if p.GroupContextExtensions == nil || HasDuplicateExtensions(p.GroupContextExtensions.Extensions) {
			return fmt.Errorf("%w: group context extensions", ErrInvalidProposal)
		}
	default:
		return fmt.Errorf("%w: unsupported proposal type %d", ErrInvalidProposal, p.ProposalType)
	}
	return nil
}

// applyProposals validates a commit's proposal list (§12.2) and applies it
// to a copy of the tree and GroupContext extensions (§12.3). committer is
// the committing member's leaf, or noLeaf for an external commit.
// checkAddLifetime requests the (sender-side mandatory) KeyPackage lifetime
// check.
func (g *Group) applyProposals(items []proposalItem, committer LeafIndex, external, checkAddLifetime bool) (*appliedProposals, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidProposal, fmt.Sprintf(format, args...))
	}
	a := &appliedProposals{exts: g.ctx.Extensions, pathRequired: len(items) == 0}
	var updates, removes, adds, gces []proposalItem
	touched := map[LeafIndex]bool{}
	// Signature checks dominate large batches of adds: run them in
	// parallel, or, processing another member's commit with
	// DeferLeafSignatures, leave the added leaves' for first use.
	deferAdds := g.cfg.DeferLeafSignatures && !checkAddLifetime
	g.deferAddSigs = deferAdds
	err := parallelFor(len(items), func(i int) error { return g.validateProposal(items[i].p, items[i].sender) })
	g.deferAddSigs = false
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		switch it.p.ProposalType {
		case ProposalTypeAdd:
			adds = append(adds, it)
		case ProposalTypeUpdate:
			l := LeafIndex(it.sender.LeafIndex)
			if l == committer {
				return nil, bad("commit includes an update from the committer")
			}
			if touched[l] {
				return nil, bad("several updates/removes for leaf %d", l)
			}
			touched[l] = true
			updates = append(updates, it)
			a.pathRequired = true
		case ProposalTypeRemove:
			l := LeafIndex(it.p.Remove.Removed)
			if l == committer {
				return nil, bad("commit removes the committer")
			}
			if touched[l] {
				return nil, bad("several updates/removes for leaf %d", l)
			}
			touched[l] = true
			removes = append(removes, it)
			a.pathRequired = true
		case ProposalTypePSK:
			id := &it.p.PreSharedKey.PSK
			for _, prev := range a.psks {
				if bytes.Equal(mustEncode(&prev), mustEncode(id)) {
					return nil, bad("duplicate PSK")
				}
			}
			a.psks = append(a.psks, *id)
		case ProposalTypeReInit:
			if a.reinit != nil {
				return nil, bad("several reinit proposals")
			}
			a.reinit = it.p.ReInit
		case ProposalTypeExternalInit:
			if a.extInit != nil {
				return nil, bad("several external init proposals")
			}
			a.extInit = it.p.ExternalInit
			a.pathRequired = true
		case ProposalTypeGroupContextExtensions:
			gces = append(gces, it)
			a.pathRequired = true
		}
	}
	if external {
		if a.extInit == nil {
			return nil, bad("external commit without external init")
		}
		if len(removes) > 1 || len(updates) > 0 || len(adds) > 0 || len(gces) > 0 || a.reinit != nil {
			return nil, bad("external commit with disallowed proposals")
		}
		for _, it := range items {
			if it.ref != nil {
				return nil, bad("external commit with proposals by reference")
			}
		}
	} else {
		if a.extInit != nil {
			return nil, bad("external init in a regular commit")
		}
		if a.reinit != nil && len(items) != 1 {
			return nil, bad("reinit together with other proposals")
		}
		if len(gces) > 1 {
			return nil, bad("several group context extensions proposals")
		}
	}
	// Distinct clients among the adds (identical signature keys).
	for i := range adds {
		for j := 0; j < i; j++ {
			if bytes.Equal(adds[i].p.Add.KeyPackage.LeafNode.SignatureKey, adds[j].p.Add.KeyPackage.LeafNode.SignatureKey) {
				return nil, bad("two adds for the same client")
			}
		}
	}

	t := g.tree.clone()
	a.tree = t
	if len(gces) == 1 {
		a.exts = slices.Clone(gces[0].p.GroupContextExtensions.Extensions)
		a.extsChanged = true
	}
	for _, it := range updates {
		l := LeafIndex(it.sender.LeafIndex)
		ln := it.p.Update.LeafNode
		t.setLeaf(l, &ln)
		t.blankDirectPath(l)
		a.updated = append(a.updated, l)
	}
	for _, it := range removes {
		l := LeafIndex(it.p.Remove.Removed)
		a.removed = append(a.removed, memberOf(l, t.leaf(l)))
		t.blankLeafAndPath(l)
	}
	if len(removes) > 0 {
		t.truncate()
	}
	for _, it := range adds {
		kp := &it.p.Add.KeyPackage
		ln := kp.LeafNode
		a.added = append(a.added, t.addLeaf(&ln))
		a.addedKPs = append(a.addedKPs, kp)
	}
	if uint32(len(t.nodes)) > nodeWidth(maxTreeLeaves) {
		return nil, bad("tree too large")
	}
	// Validate the new and changed leaves in the resulting tree.
	for _, l := range a.updated {
		if err := g.validateLeafNode(t, t.leaf(l), l, g.ctx.GroupID, a.exts, LeafNodeSourceUpdate, false); err != nil {
			return nil, err
		}
	}
	// An added leaf is its KeyPackage's LeafNode, whose signature
	// validateProposal already verified (KeyPackage.Verify checks both the
	// LeafNode's and the KeyPackage's): verifying it again would be a
	// third Ed25519 verification per add for nothing.
	for _, l := range a.added {
		if err := g.validateLeafNodeSigned(t, t.leaf(l), l, a.exts, LeafNodeSourceKeyPackage, checkAddLifetime); err != nil {
			return nil, err
		}
		if deferAdds {
			t.deferLeaf(l)
		}
	}
	if a.extsChanged {
		if HasDuplicateExtensions(a.exts) {
			return nil, bad("duplicate group context extensions")
		}
		if err := allMembersSupport(t, a.exts); err != nil {
			return nil, bad("group context extensions: %v", err)
		}
	}
	return a, nil
}

// pskSecret looks up the PSKs of a commit and derives psk_secret (§8.4).
func (g *Group) pskSecret(ids []PreSharedKeyID) ([]byte, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	psks := make([]PSKWithSecret, len(ids))
	for i, id := range ids {
		s, err := g.lookupPSK(&id)
		if err != nil {
			return nil, err
		}
		psks[i] = PSKWithSecret{ID: id, PSK: s}
	}
	return g.cs.ComputePSKSecret(psks)
}

func (g *Group) lookupPSK(id *PreSharedKeyID) ([]byte, error) {
	switch id.PSKType {
	case PSKTypeExternal:
		if s, ok := g.extPSKs[string(id.PSKID)]; ok {
			return s, nil
		}
		return nil, fmt.Errorf("%w: external PSK %x", ErrMissingPSK, id.PSKID)
	case PSKTypeResumption:
		if bytes.Equal(id.PSKGroupID, g.ctx.GroupID) {
			for _, r := range g.resumption {
				if r.epoch == id.PSKEpoch {
					return r.psk, nil
				}
			}
		}
		return nil, fmt.Errorf("%w: resumption PSK of epoch %d", ErrMissingPSK, id.PSKEpoch)
	}
	return nil, fmt.Errorf("%w: PSK type %d", ErrMissingPSK, id.PSKType)
}
