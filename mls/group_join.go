package mls

import (
	"bytes"
	"fmt"
)

// parseWelcome accepts an MLSMessage(Welcome) or a bare Welcome.
func parseWelcome(data []byte) (*Welcome, error) {
	var m MLSMessage
	if err := m.Unmarshal(data); err == nil {
		if m.Welcome == nil {
			return nil, fmt.Errorf("%w: MLSMessage of wire format %d is not a Welcome", ErrMalformed, m.WireFormat)
		}
		return m.Welcome, nil
	}
	var w Welcome
	if err := w.Unmarshal(data); err != nil {
		return nil, err
	}
	return &w, nil
}

// parseGroupInfo accepts an MLSMessage(GroupInfo) or a bare GroupInfo.
func parseGroupInfo(data []byte) (*GroupInfo, error) {
	var m MLSMessage
	if err := m.Unmarshal(data); err == nil {
		if m.GroupInfo == nil {
			return nil, fmt.Errorf("%w: MLSMessage of wire format %d is not a GroupInfo", ErrMalformed, m.WireFormat)
		}
		return m.GroupInfo, nil
	}
	var gi GroupInfo
	if err := gi.Unmarshal(data); err != nil {
		return nil, err
	}
	return &gi, nil
}

// treeFromGroupInfo returns the ratchet tree from gi's ratchet_tree
// extension or, if absent, from ratchetTree.
func treeFromGroupInfo(cs CipherSuite, gi *GroupInfo, ratchetTree []byte) (*ratchetTree, error) {
	data := ratchetTree
	if e, ok := FindExtension(gi.Extensions, ExtensionTypeRatchetTree); ok {
		data = e.ExtensionData
	}
	if data == nil {
		return nil, ErrMissingRatchetTree
	}
	return unmarshalRatchetTree(cs, data)
}

// checkGroupInfo validates the parts of a GroupInfo common to joining by
// Welcome and by external commit: version, suite, extensions, signature,
// and the ratchet tree (§12.4.3.1).
//
// With defer (a Welcome joiner with Config.DeferLeafSignatures) the leaf
// signatures other than the GroupInfo signer's are left for first use.
func (g *Group) checkGroupInfo(gi *GroupInfo, tree *ratchetTree, deferSigs bool) error {
	gc := &gi.GroupContext
	if gc.Version != ProtocolVersionMLS10 {
		return fmt.Errorf("%w: group info version %d", ErrInvalidMessage, gc.Version)
	}
	if gc.CipherSuite != g.cs {
		return fmt.Errorf("%w: group info cipher suite %d", ErrInvalidMessage, gc.CipherSuite)
	}
	if HasDuplicateExtensions(gc.Extensions) || HasDuplicateExtensions(gi.Extensions) {
		return fmt.Errorf("%w: duplicate extensions in group info", ErrInvalidMessage)
	}
	signer := tree.leaf(LeafIndex(gi.Signer))
	if signer == nil {
		return fmt.Errorf("%w: group info signer %d is not a member", ErrInvalidMessage, gi.Signer)
	}
	if err := gi.VerifySignature(signer.SignatureKey); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidMessage, err)
	}
	return g.validateJoinedTree(tree, gc, deferSigs, LeafIndex(gi.Signer))
}

// JoinFromWelcome joins a group from a Welcome (RFC 9420 §12.4.3.1) that
// adds the client described by bundle. ratchetTree is the encoded ratchet
// tree if the Welcome's GroupInfo lacks the ratchet_tree extension (else
// nil). psks maps external PSK IDs to secrets for PSKs the Welcome
// references. Every check of §12.4.3.1 is performed: GroupInfo signature,
// tree hash, parent hashes, every leaf, the joiner's own leaf, the path
// secret against the tree, and the confirmation tag. The caller must check
// that the group ID is not one it is already in.
func JoinFromWelcome(welcome []byte, bundle *KeyPackageBundle, ratchetTree []byte, cfg Config, psks map[string][]byte) (*Group, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	w, err := parseWelcome(welcome)
	if err != nil {
		return nil, err
	}
	kp := &bundle.KeyPackage
	cs := kp.CipherSuite
	if w.CipherSuite != cs {
		return nil, fmt.Errorf("%w: welcome cipher suite %d, key package %d", ErrNoMatchingKeyPackage, w.CipherSuite, cs)
	}
	if !cs.Supported() {
		return nil, fmt.Errorf("mls: join: %w", ErrUnsupportedCipherSuite)
	}
	ref, err := kp.Ref()
	if err != nil {
		return nil, err
	}
	gs, err := w.DecryptGroupSecrets(ref, bundle.InitPrivate)
	if err != nil {
		if err == ErrNotForUs {
			return nil, ErrNoMatchingKeyPackage
		}
		return nil, fmt.Errorf("%w: %w", ErrInvalidMessage, err)
	}
	g := &Group{
		cfg:        cfg,
		cs:         cs,
		updateKeys: map[string][]byte{},
		extPSKs:    map[string][]byte{},
		active:     true,
	}
	for id, s := range psks {
		g.extPSKs[id] = bytes.Clone(s)
	}
	var pskList []PSKWithSecret
	nReinitBranch := 0
	for _, id := range gs.PSKs {
		if id.PSKType == PSKTypeResumption && id.Usage != ResumptionPSKUsageApplication {
			nReinitBranch++
		}
		s, err := g.lookupPSK(&id)
		if err != nil {
			return nil, err
		}
		pskList = append(pskList, PSKWithSecret{ID: id, PSK: s})
	}
	if nReinitBranch > 0 {
		return nil, fmt.Errorf("%w: reinit/branch resumption PSKs are not supported", ErrMissingPSK)
	}
	var pskSecret []byte
	if len(pskList) > 0 {
		if pskSecret, err = cs.ComputePSKSecret(pskList); err != nil {
			return nil, err
		}
	}
	gi, err := w.DecryptGroupInfo(gs.JoinerSecret, pskSecret)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidMessage, err)
	}
	tree, err := treeFromGroupInfo(cs, gi, ratchetTree)
	if err != nil {
		return nil, err
	}
	if err := g.checkGroupInfo(gi, tree, cfg.DeferLeafSignatures); err != nil {
		return nil, err
	}
	// Find our leaf: identical to the KeyPackage's LeafNode.
	want := mustEncode(&kp.LeafNode)
	self := noLeaf
	for l := LeafIndex(0); uint32(l) < tree.numLeaves(); l++ {
		if ln := tree.leaf(l); ln != nil && bytes.Equal(mustEncode(ln), want) {
			self = l
			break
		}
	}
	if self == noLeaf {
		return nil, fmt.Errorf("%w: own leaf not found in the tree", ErrInvalidMessage)
	}
	// Our leaf is our KeyPackage's, signed by us.
	delete(tree.deferred, deferKey(self, tree.leaf(self)))
	if err := leafSupportsGroup(&kp.LeafNode, gi.GroupContext.Extensions); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidMessage, err)
	}
	leafPub, err := cs.HPKEPublicKeyFromPrivate(bundle.LeafPrivate)
	if err != nil || !bytes.Equal(leafPub, kp.LeafNode.EncryptionKey) {
		return nil, fmt.Errorf("mls: join: bundle leaf key does not match its KeyPackage")
	}
	sigPub, err := cs.SignaturePublicKey(bundle.SignaturePrivate)
	if err != nil || !bytes.Equal(sigPub, kp.LeafNode.SignatureKey) {
		return nil, fmt.Errorf("mls: join: bundle signature key does not match its KeyPackage")
	}
	g.signer = Signer{Private: bytes.Clone(bundle.SignaturePrivate), Public: sigPub}
	g.tree = tree
	g.priv = newTreePrivate(self)
	g.priv.keys[self.toNode()] = nodeKey{priv: bytes.Clone(bundle.LeafPrivate), pub: leafPub}
	if gs.PathSecret != nil {
		if LeafIndex(gi.Signer) == self {
			return nil, fmt.Errorf("%w: path secret from ourselves", ErrInvalidMessage)
		}
		if err := tree.implantPathSecret(g.priv, LeafIndex(gi.Signer), gs.PathSecret.PathSecret); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidMessage, err)
		}
	}
	g.ctx = gi.GroupContext
	g.ctxEnc = mustEncode(&g.ctx)
	secrets, err := cs.DeriveEpochSecrets(gs.JoinerSecret, pskSecret, g.ctxEnc)
	if err != nil {
		return nil, err
	}
	if !cs.VerifyConfirmationTag(secrets.ConfirmationKey, g.ctx.ConfirmedTranscriptHash, gi.ConfirmationTag) {
		return nil, fmt.Errorf("%w: group info confirmation tag mismatch", ErrInvalidMessage)
	}
	g.confTag = gi.ConfirmationTag
	if g.interim, err = cs.InterimTranscriptHash(g.ctx.ConfirmedTranscriptHash, g.confTag); err != nil {
		return nil, err
	}
	if err := g.installSecrets(secrets); err != nil {
		return nil, err
	}
	return g, nil
}

// ExternalJoinOptions tunes JoinExternal.
type ExternalJoinOptions struct {
	// RatchetTree is the encoded tree if the GroupInfo lacks the
	// ratchet_tree extension.
	RatchetTree []byte
	// Resync removes this leaf (an earlier appearance of the same client)
	// in the same external commit (RFC 9420 §12.4.3.2).
	Resync *LeafIndex
	// ResyncSelf, when Resync is nil, removes the leaf (if any) whose
	// credential equals the joiner's: a client whose group state was lost
	// or broke rejoins in place of its old leaf.
	ResyncSelf bool
	// ExternalPSKs maps external PSK IDs to secrets; all of them are
	// injected with PreSharedKey proposals.
	ExternalPSKs map[string][]byte
	// Capabilities and LeafExtensions of the new leaf (defaults as in
	// NewKeyPackage).
	Capabilities   *Capabilities
	LeafExtensions []Extension
	// AuthenticatedData of the commit.
	AuthenticatedData []byte
}

// JoinExternal joins the group described by a GroupInfo (with external_pub)
// through an external commit (RFC 9420 §12.4.3.2). It returns the new
// member's group state, already in the new epoch, and the commit to send to
// the group (as a PublicMessage). If the delivery service rejects the
// commit, discard the returned group and retry with a fresh GroupInfo.
func JoinExternal(groupInfo []byte, signer *Signer, cred Credential, cfg Config, opts ExternalJoinOptions) (*Group, []byte, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, nil, err
	}
	gi, err := parseGroupInfo(groupInfo)
	if err != nil {
		return nil, nil, err
	}
	cs := gi.GroupContext.CipherSuite
	if !cs.Supported() {
		return nil, nil, fmt.Errorf("mls: join external: %w", ErrUnsupportedCipherSuite)
	}
	g := &Group{
		cfg:        cfg,
		cs:         cs,
		signer:     Signer{Private: bytes.Clone(signer.Private), Public: bytes.Clone(signer.Public)},
		updateKeys: map[string][]byte{},
		extPSKs:    map[string][]byte{},
		active:     true,
	}
	for id, s := range opts.ExternalPSKs {
		g.extPSKs[id] = bytes.Clone(s)
	}
	tree, err := treeFromGroupInfo(cs, gi, opts.RatchetTree)
	if err != nil {
		return nil, nil, err
	}
	if err := g.checkGroupInfo(gi, tree, false); err != nil {
		return nil, nil, err
	}
	e, ok := FindExtension(gi.Extensions, ExtensionTypeExternalPub)
	if !ok {
		return nil, nil, fmt.Errorf("%w: group info has no external_pub", ErrInvalidMessage)
	}
	var ep ExternalPub
	if err := Unmarshal(e.ExtensionData, &ep); err != nil {
		return nil, nil, err
	}
	kemOutput, initSecret, err := cs.ExternalInitSecret(ep.ExternalPub)
	if err != nil {
		return nil, nil, err
	}
	g.tree = tree
	g.ctx = gi.GroupContext
	g.ctxEnc = mustEncode(&g.ctx)
	g.confTag = gi.ConfirmationTag
	if g.interim, err = cs.InterimTranscriptHash(g.ctx.ConfirmedTranscriptHash, g.confTag); err != nil {
		return nil, nil, err
	}
	// The external commit is processed like a member's, from a group state
	// that has the public parts of the current epoch only.
	nc := Sender{SenderType: SenderTypeNewMemberCommit}
	var items []proposalItem
	var refs []ProposalOrRef
	add := func(p *Proposal) {
		items = append(items, proposalItem{p: p, sender: nc})
		refs = append(refs, ProposalOrRef{Type: ProposalOrRefTypeProposal, Proposal: p})
	}
	add(&Proposal{ProposalType: ProposalTypeExternalInit, ExternalInit: &ExternalInitProposal{KEMOutput: kemOutput}})
	if opts.Resync == nil && opts.ResyncSelf {
		opts.Resync = tree.leafWithCredential(cred)
	}
	if opts.Resync != nil {
		add(&Proposal{ProposalType: ProposalTypeRemove, Remove: &RemoveProposal{Removed: uint32(*opts.Resync)}})
	}
	for id := range opts.ExternalPSKs {
		pid, err := g.newPSKID(PreSharedKeyID{PSKType: PSKTypeExternal, PSKID: []byte(id)})
		if err != nil {
			return nil, nil, err
		}
		add(&Proposal{ProposalType: ProposalTypePSK, PreSharedKey: &PreSharedKeyProposal{PSK: pid}})
	}
	a, err := g.applyProposals(items, noLeaf, true, false)
	if err != nil {
		return nil, nil, err
	}
	pskSecret, err := g.pskSecret(a.psks)
	if err != nil {
		return nil, nil, err
	}
	t := a.tree
	self := t.leftmostBlankLeaf()
	caps := defaultCapabilities(cs)
	if opts.Capabilities != nil {
		caps = *opts.Capabilities
	}
	for _, ext := range opts.LeafExtensions {
		if !isDefaultExtension(ext.ExtensionType) && !containsT(caps.Extensions, ext.ExtensionType) {
			caps.Extensions = append(caps.Extensions, ext.ExtensionType)
		}
	}
	newCtx := GroupContext{
		Version:                 g.ctx.Version,
		CipherSuite:             cs,
		GroupID:                 g.ctx.GroupID,
		Epoch:                   g.ctx.Epoch + 1,
		ConfirmedTranscriptHash: g.ctx.ConfirmedTranscriptHash,
		Extensions:              a.exts,
	}
	// Placeholder leaf so that the tree has a member at self while the
	// path is computed; createUpdatePath replaces it.
	t.setLeaf(self, &LeafNode{SignatureKey: signer.Public, Credential: cred, Capabilities: caps})
	pc, err := t.createUpdatePath(self, leafNodeParams{signatureKey: bytes.Clone(signer.Public), credential: cred, capabilities: caps, extensions: opts.LeafExtensions},
		signer.Private, g.ctx.GroupID, nil, func(th []byte) ([]byte, error) {
			c := newCtx
			c.TreeHash = th
			return mustEncode(&c), nil
		})
	if err != nil {
		return nil, nil, err
	}
	if err := g.validateLeafNode(t, t.leaf(self), self, g.ctx.GroupID, a.exts, LeafNodeSourceCommit, false); err != nil {
		return nil, nil, err
	}
	newCtx.TreeHash = t.treeHash()
	fc := &FramedContent{
		GroupID:           g.ctx.GroupID,
		Epoch:             g.ctx.Epoch,
		Sender:            nc,
		AuthenticatedData: bytes.Clone(opts.AuthenticatedData),
		ContentType:       ContentTypeCommit,
		Commit:            &Commit{Proposals: refs, Path: pc.path},
	}
	ac, err := SignFramedContent(cs, WireFormatPublicMessage, fc, g.ctxEnc, signer.Private)
	if err != nil {
		return nil, nil, err
	}
	confirmed, err := cs.ConfirmedTranscriptHash(g.interim, ac)
	if err != nil {
		return nil, nil, err
	}
	newCtx.ConfirmedTranscriptHash = confirmed
	newCtxEnc := mustEncode(&newCtx)
	secrets, err := cs.KeySchedule(initSecret, pc.commitSecret, pskSecret, newCtxEnc)
	if err != nil {
		return nil, nil, err
	}
	if ac.Auth.ConfirmationTag, err = cs.ConfirmationTag(secrets.ConfirmationKey, confirmed); err != nil {
		return nil, nil, err
	}
	pm, err := NewPublicMessage(cs, ac, nil, nil)
	if err != nil {
		return nil, nil, err
	}
	msg, err := encodeMLSMessage(pm, nil)
	if err != nil {
		return nil, nil, err
	}
	g.tree = t
	g.priv = newTreePrivate(self)
	for x, k := range pc.keys {
		g.priv.keys[x] = k
	}
	g.ctx = newCtx
	g.ctxEnc = newCtxEnc
	g.confTag = ac.Auth.ConfirmationTag
	if g.interim, err = cs.InterimTranscriptHash(confirmed, g.confTag); err != nil {
		return nil, nil, err
	}
	if err := g.installSecrets(secrets); err != nil {
		return nil, nil, err
	}
	t.adoptIndex()
	return g, msg, nil
}
