package mls

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"slices"

	"github.com/parleyhq/parley/mls/codec"
)

// ErrReInit is returned for operations on a group whose last commit
// contained a ReInit proposal: it must not be used to send anymore
// (RFC 9420 §12.4.2); members wait for the Welcome of the new group.
var ErrReInit = fmt.Errorf("%w: group is being reinitialized", ErrNotMember)

// CommitParams describes a commit created by Commit. Proposals received in
// the epoch are included by reference unless SkipPendingProposals is set.
type CommitParams struct {
	// Adds are KeyPackages of clients to add. Each must be valid (§10.1),
	// including its lifetime, and support the group's capabilities.
	Adds []*KeyPackage
	// Removes are leaves of members to remove.
	Removes []LeafIndex
	// ExternalPSKs are IDs of external PSKs (registered with
	// AddExternalPSK) to inject; ResumptionPSKEpochs are epochs of this
	// group whose resumption PSK to inject.
	ExternalPSKs        [][]byte
	ResumptionPSKEpochs []uint64
	// SetExtensions replaces the GroupContext extensions with Extensions
	// (e.g. to install external_senders or required_capabilities).
	SetExtensions bool
	Extensions    []Extension
	// Update forces an UpdatePath (fresh keys for the committer's path:
	// post-compromise security) even when no proposal requires one.
	Update bool
	// SkipPendingProposals leaves proposals received in this epoch out.
	SkipPendingProposals bool
	// AuthenticatedData is sent in the clear but authenticated.
	AuthenticatedData []byte
}

// maxPendingRetry bounds the number of received proposals Commit tries to
// include one by one when the full list is invalid.
const maxPendingRetry = 64

// successor returns a copy of g that becomes the next epoch's state. It
// shares immutable data with g; fields that get modified are copied.
func (g *Group) successor() *Group {
	n := *g
	n.pending = nil
	n.proposals = nil
	n.updateKeys = map[string][]byte{}
	n.priv = g.priv.clone()
	return &n
}

func (g *Group) canSend() error {
	switch {
	case g.reinit != nil:
		return ErrReInit
	case !g.active:
		return ErrNotMember
	}
	return nil
}

// newPSKID builds a PreSharedKeyID with a fresh nonce.
func (g *Group) newPSKID(id PreSharedKeyID) (PreSharedKeyID, error) {
	id.PSKNonce = make([]byte, g.cs.HashSize())
	_, err := rand.Read(id.PSKNonce)
	return id, err
}

// Commit creates a commit (RFC 9420 §12.4.1) covering the proposals
// received in the epoch (unless skipped) and those described by p. The
// group state does not change until MergePendingCommit; while a commit is
// pending, incoming commits of other members are still processed normally
// (and discard the pending one).
func (g *Group) Commit(p CommitParams) (*PendingCommit, error) {
	if err := g.canSend(); err != nil {
		return nil, err
	}
	if g.pending != nil {
		return nil, fmt.Errorf("%w: a commit is already pending", ErrPendingCommit)
	}
	// Never vouch for (or encrypt to) leaves whose signature is unchecked.
	if err := g.tree.checkAllDeferred(g.ctx.GroupID); err != nil {
		return nil, err
	}
	self := g.priv.self
	me := Sender{SenderType: SenderTypeMember, LeafIndex: uint32(self)}
	var items []proposalItem
	var refs []ProposalOrRef
	if !p.SkipPendingProposals {
		// Include every cached proposal that keeps the list valid: no
		// Update of our own, no Remove of ourselves, and at most one
		// Update/Remove per leaf, preferring Removes (§12.2).
		touched := map[LeafIndex]bool{}
		skip := map[*cachedProposal]bool{}
		for _, cp := range g.proposals {
			if cp.proposal.ProposalType == ProposalTypeRemove {
				l := LeafIndex(cp.proposal.Remove.Removed)
				if l == self || touched[l] {
					skip[cp] = true
				}
				touched[l] = true
			}
		}
		for _, cp := range g.proposals {
			if cp.proposal.ProposalType == ProposalTypeUpdate {
				l := LeafIndex(cp.sender.LeafIndex)
				if l == self || touched[l] {
					skip[cp] = true
				}
				touched[l] = true
			}
		}
		for _, cp := range g.proposals {
			if skip[cp] {
				continue
			}
			items = append(items, proposalItem{p: cp.proposal, sender: cp.sender, ref: cp.ref})
			refs = append(refs, ProposalOrRef{Type: ProposalOrRefTypeReference, Reference: cp.ref})
		}
	}
	var inline []*Proposal
	for _, kp := range p.Adds {
		inline = append(inline, &Proposal{ProposalType: ProposalTypeAdd, Add: &AddProposal{KeyPackage: *kp}})
	}
	for _, l := range p.Removes {
		inline = append(inline, &Proposal{ProposalType: ProposalTypeRemove, Remove: &RemoveProposal{Removed: uint32(l)}})
	}
	for _, id := range p.ExternalPSKs {
		pid, err := g.newPSKID(PreSharedKeyID{PSKType: PSKTypeExternal, PSKID: bytes.Clone(id)})
		if err != nil {
			return nil, err
		}
		inline = append(inline, &Proposal{ProposalType: ProposalTypePSK, PreSharedKey: &PreSharedKeyProposal{PSK: pid}})
	}
	for _, e := range p.ResumptionPSKEpochs {
		pid, err := g.newPSKID(PreSharedKeyID{PSKType: PSKTypeResumption, Usage: ResumptionPSKUsageApplication, PSKGroupID: g.ctx.GroupID, PSKEpoch: e})
		if err != nil {
			return nil, err
		}
		inline = append(inline, &Proposal{ProposalType: ProposalTypePSK, PreSharedKey: &PreSharedKeyProposal{PSK: pid}})
	}
	if p.SetExtensions {
		inline = append(inline, &Proposal{ProposalType: ProposalTypeGroupContextExtensions, GroupContextExtensions: &GroupContextExtensionsProposal{Extensions: slices.Clone(p.Extensions)}})
	}
	nPending := len(items)
	for _, ip := range inline {
		items = append(items, proposalItem{p: ip, sender: me})
		refs = append(refs, ProposalOrRef{Type: ProposalOrRefTypeProposal, Proposal: ip})
	}

	a, err := g.applyProposals(items, self, false, true)
	if err != nil && nPending > 0 && nPending <= maxPendingRetry {
		// Some received proposal makes the list invalid (e.g. an Add of a
		// client already added): keep, greedily, the received proposals
		// that leave the list valid, as RFC 9420 §12.4 recommends.
		var keptItems []proposalItem
		var keptRefs []ProposalOrRef
		for i := 0; i < nPending; i++ {
			trial := append(append(slices.Clone(keptItems), items[i]), items[nPending:]...)
			if _, terr := g.applyProposals(trial, self, false, true); terr == nil {
				keptItems = append(keptItems, items[i])
				keptRefs = append(keptRefs, refs[i])
			}
		}
		items = append(keptItems, items[nPending:]...)
		refs = append(keptRefs, refs[nPending:]...)
		a, err = g.applyProposals(items, self, false, true)
	}
	if err != nil {
		return nil, fmt.Errorf("mls: commit: %w", err)
	}
	// Check the PSKs are available before doing expensive work.
	pskSecret, err := g.pskSecret(a.psks)
	if err != nil {
		return nil, fmt.Errorf("mls: commit: %w", err)
	}
	next := g.successor()
	next.priv.prune(a.tree)
	newCtx := GroupContext{
		Version:                 g.ctx.Version,
		CipherSuite:             g.cs,
		GroupID:                 g.ctx.GroupID,
		Epoch:                   g.ctx.Epoch + 1,
		ConfirmedTranscriptHash: g.ctx.ConfirmedTranscriptHash,
		Extensions:              a.exts,
	}
	commit := &Commit{Proposals: refs}
	var pc *pathCreation
	if a.pathRequired || p.Update {
		excluded := make(map[LeafIndex]bool, len(a.added))
		for _, l := range a.added {
			excluded[l] = true
		}
		own := a.tree.leaf(self)
		params := leafNodeParams{signatureKey: own.SignatureKey, credential: own.Credential, capabilities: own.Capabilities, extensions: own.Extensions}
		pc, err = a.tree.createUpdatePath(self, params, g.signer.Private, g.ctx.GroupID, excluded, func(th []byte) ([]byte, error) {
			c := newCtx
			c.TreeHash = th
			return mustEncode(&c), nil
		})
		if err != nil {
			return nil, fmt.Errorf("mls: commit: %w", err)
		}
		for x := range next.priv.keys {
			if isAncestor(x, self.toNode()) {
				delete(next.priv.keys, x)
			}
		}
		for x, k := range pc.keys {
			next.priv.keys[x] = k
		}
		commit.Path = pc.path
	}
	newCtx.TreeHash = a.tree.treeHash()
	var commitSecret []byte
	if pc != nil {
		commitSecret = pc.commitSecret
	}

	fc := &FramedContent{
		GroupID:           g.ctx.GroupID,
		Epoch:             g.ctx.Epoch,
		Sender:            me,
		AuthenticatedData: bytes.Clone(p.AuthenticatedData),
		ContentType:       ContentTypeCommit,
		Commit:            commit,
	}
	var secrets *EpochSecrets
	var confTag []byte
	msg, _, err := g.protect(fc, g.cfg.HandshakeFormat, func(ac *AuthenticatedContent) error {
		confirmed, err := g.cs.ConfirmedTranscriptHash(g.interim, ac)
		if err != nil {
			return err
		}
		newCtx.ConfirmedTranscriptHash = confirmed
		if secrets, err = g.cs.KeySchedule(g.secrets.InitSecret, commitSecret, pskSecret, mustEncode(&newCtx)); err != nil {
			return err
		}
		confTag, err = g.cs.ConfirmationTag(secrets.ConfirmationKey, confirmed)
		ac.Auth.ConfirmationTag = confTag
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("mls: commit: %w", err)
	}
	next.pushPast()
	next.tree = a.tree
	next.ctx = newCtx
	next.ctxEnc = mustEncode(&newCtx)
	next.confTag = confTag
	if next.interim, err = g.cs.InterimTranscriptHash(newCtx.ConfirmedTranscriptHash, confTag); err != nil {
		return nil, err
	}
	next.secrets = secrets
	pending := &PendingCommit{Commit: msg, next: next}
	// Every commit carries the signed GroupInfo of the new epoch (for
	// external joins, RFC 9420 §12.4.3.2); the Welcome, if any, encrypts
	// the same GroupInfo.
	gi, err := next.makeGroupInfo(!g.cfg.OmitRatchetTree)
	if err != nil {
		return nil, fmt.Errorf("mls: commit: group info: %w", err)
	}
	if pending.GroupInfo, err = marshalGroupInfoMessage(gi); err != nil {
		return nil, fmt.Errorf("mls: commit: %w", err)
	}
	if len(a.added) > 0 {
		if pending.Welcome, err = next.makeWelcome(groupInfoFromMessage(pending.GroupInfo), a, pc, secrets); err != nil {
			return nil, err
		}
	}
	if err := next.installSecrets(secrets); err != nil {
		return nil, err
	}
	g.pending = pending
	return pending, nil
}

// makeWelcome builds the Welcome for the members added by a commit
// (§12.4.3.1). g is the new epoch's state with its full key schedule;
// encodedGI is the encoded, signed GroupInfo.
func (g *Group) makeWelcome(encodedGI []byte, a *appliedProposals, pc *pathCreation, secrets *EpochSecrets) ([]byte, error) {
	encGI, err := g.cs.encryptGroupInfo(secrets.WelcomeSecret, encodedGI)
	if err != nil {
		return nil, err
	}
	w := &Welcome{CipherSuite: g.cs, EncryptedGroupInfo: encGI, Secrets: make([]EncryptedGroupSecrets, len(a.added))}
	// The HPKE info of every joiner is the encrypted GroupInfo: hash it once.
	seal, err := g.cs.welcomeSealer(encGI)
	if err != nil {
		return nil, err
	}
	err = parallelFor(len(a.added), func(i int) error {
		l := a.added[i]
		gs := &GroupSecrets{JoinerSecret: secrets.JoinerSecret, PSKs: a.psks}
		if pc != nil {
			lca := commonAncestor(g.priv.self.toNode(), l.toNode())
			if ps, ok := pc.pathSecrets[lca]; ok {
				gs.PathSecret = &PathSecret{PathSecret: ps}
			}
		}
		if a.addedKPs[i].CipherSuite != g.cs {
			return fmt.Errorf("%w: key package of suite %d", ErrUnsupportedCipherSuite, a.addedKPs[i].CipherSuite)
		}
		egs, err := encryptGroupSecrets(a.addedKPs[i], seal, gs)
		w.Secrets[i] = egs
		return err
	})
	if err != nil {
		return nil, err
	}
	m := MLSMessage{Version: ProtocolVersionMLS10, WireFormat: WireFormatWelcome, Welcome: w}
	size := len(encGI) + 64
	for _, s := range w.Secrets {
		size += len(s.NewMember) + len(s.EncryptedGroupSecrets.KEMOutput) + len(s.EncryptedGroupSecrets.Ciphertext) + 12
	}
	out := codec.NewWriter(size)
	m.Encode(out)
	if err := out.Err(); err != nil {
		return nil, fmt.Errorf("mls: encode welcome: %w", err)
	}
	return out.Bytes(), nil
}

// propose creates a proposal message, caches it for the next commit and
// returns the MLSMessage.
func (g *Group) propose(p *Proposal, authenticatedData []byte) ([]byte, error) {
	if err := g.canSend(); err != nil {
		return nil, err
	}
	me := Sender{SenderType: SenderTypeMember, LeafIndex: uint32(g.priv.self)}
	if err := g.validateProposal(p, me); err != nil {
		return nil, err
	}
	fc := &FramedContent{
		GroupID:           g.ctx.GroupID,
		Epoch:             g.ctx.Epoch,
		Sender:            me,
		AuthenticatedData: bytes.Clone(authenticatedData),
		ContentType:       ContentTypeProposal,
		Proposal:          p,
	}
	msg, ac, err := g.protect(fc, g.cfg.HandshakeFormat, nil)
	if err != nil {
		return nil, err
	}
	ref, err := g.cs.MakeProposalRef(mustEncode(ac))
	if err != nil {
		return nil, err
	}
	g.proposals = append(g.proposals, &cachedProposal{ref: ref, proposal: p, sender: me})
	return msg, nil
}

// ProposeAdd sends an Add proposal for kp (RFC 9420 §12.1.1).
func (g *Group) ProposeAdd(kp *KeyPackage, authenticatedData []byte) ([]byte, error) {
	if err := g.checkLifetime(&kp.LeafNode.Lifetime); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidProposal, err)
	}
	return g.propose(&Proposal{ProposalType: ProposalTypeAdd, Add: &AddProposal{KeyPackage: *kp}}, authenticatedData)
}

// ProposeRemove sends a Remove proposal for leaf l (RFC 9420 §12.1.3).
func (g *Group) ProposeRemove(l LeafIndex, authenticatedData []byte) ([]byte, error) {
	return g.propose(&Proposal{ProposalType: ProposalTypeRemove, Remove: &RemoveProposal{Removed: uint32(l)}}, authenticatedData)
}

// ProposeUpdate sends an Update proposal replacing this client's leaf with
// one carrying a fresh encryption key (RFC 9420 §12.1.2). Another member's
// commit must include it; this client cannot commit its own Update.
func (g *Group) ProposeUpdate(authenticatedData []byte) ([]byte, error) {
	own := g.tree.leaf(g.priv.self)
	if own == nil {
		return nil, ErrNotMember
	}
	priv, pub, err := g.cs.GenerateHPKEKeyPair()
	if err != nil {
		return nil, err
	}
	ln := LeafNode{
		EncryptionKey:  pub,
		SignatureKey:   own.SignatureKey,
		Credential:     own.Credential,
		Capabilities:   own.Capabilities,
		LeafNodeSource: LeafNodeSourceUpdate,
		Extensions:     own.Extensions,
	}
	if err := ln.Sign(g.cs, g.signer.Private, g.ctx.GroupID, uint32(g.priv.self)); err != nil {
		return nil, err
	}
	msg, err := g.propose(&Proposal{ProposalType: ProposalTypeUpdate, Update: &UpdateProposal{LeafNode: ln}}, authenticatedData)
	if err != nil {
		return nil, err
	}
	g.updateKeys[string(pub)] = priv
	return msg, nil
}

// ProposeExternalPSK sends a PreSharedKey proposal for the external PSK id
// (registered with AddExternalPSK).
func (g *Group) ProposeExternalPSK(id []byte, authenticatedData []byte) ([]byte, error) {
	if _, ok := g.extPSKs[string(id)]; !ok {
		return nil, fmt.Errorf("%w: external PSK %x", ErrMissingPSK, id)
	}
	pid, err := g.newPSKID(PreSharedKeyID{PSKType: PSKTypeExternal, PSKID: bytes.Clone(id)})
	if err != nil {
		return nil, err
	}
	return g.propose(&Proposal{ProposalType: ProposalTypePSK, PreSharedKey: &PreSharedKeyProposal{PSK: pid}}, authenticatedData)
}
