package mls

import (
	"bytes"
	"errors"
	"fmt"
)

// ProcessedKind says what a processed message was.
type ProcessedKind int

// Kinds of processed messages.
const (
	// ProcessedApplication: application data, in ApplicationData.
	ProcessedApplication ProcessedKind = iota + 1
	// ProcessedProposal: a proposal, cached for the next commit.
	ProcessedProposal
	// ProcessedCommit: a commit; the group moved to NewEpoch (unless
	// SelfRemoved).
	ProcessedCommit
)

// maxCachedProposals bounds the proposals cached per epoch, so that a
// flood of proposals cannot exhaust memory.
const maxCachedProposals = 4096

// Processed is the outcome of Group.Process.
type Processed struct {
	Kind ProcessedKind
	// Epoch is the epoch the message was sent in.
	Epoch uint64
	// SenderType and Sender identify the sender: a member's leaf index, an
	// external sender's index in external_senders, or (new_member_commit)
	// the leaf the joiner now occupies.
	SenderType SenderType
	Sender     LeafIndex
	// Credential of the sender (member or external sender or joiner).
	Credential        Credential
	AuthenticatedData []byte

	ApplicationData []byte

	Proposal    *Proposal
	ProposalRef []byte

	// Commit effects.
	NewEpoch uint64
	Added    []Member
	Removed  []Member
	// Updated lists members whose leaf changed (Update proposals and the
	// committer when the commit has a path).
	Updated []Member
	// SelfRemoved is set when the commit removed this client; the group
	// can then only decrypt late messages of past epochs.
	SelfRemoved bool
	// ReInit is set when the commit contained a ReInit proposal.
	ReInit *ReInitProposal
}

// Process handles an incoming MLSMessage (PublicMessage or PrivateMessage)
// for this group: it authenticates it (membership tag, signature,
// decryption), then returns application data, caches a proposal, or
// applies a commit after every check of RFC 9420 §12.4.2 (the state is
// unchanged if any fails). Application messages of the past epochs kept by
// Config.PastEpochs are accepted; anything else not of the current epoch
// fails with ErrWrongEpoch. Reordered messages within
// Config.MaxForwardDistance are handled; replays and keys deleted from the
// out-of-order window fail with ErrOutOfWindow.
//
// Passing this client's own pending commit merges it (as
// MergePendingCommit); other own messages fail with ErrOwnMessage.
func (g *Group) Process(msg []byte) (*Processed, error) {
	if g.pending != nil && bytes.Equal(msg, g.pending.Commit) {
		return g.mergeOwn()
	}
	var m MLSMessage
	if err := m.Unmarshal(msg); err != nil {
		return nil, err
	}
	switch m.WireFormat {
	case WireFormatPublicMessage:
		return g.processPublic(m.PublicMessage)
	case WireFormatPrivateMessage:
		return g.processPrivate(m.PrivateMessage)
	}
	return nil, fmt.Errorf("%w: wire format %d cannot be processed by a group", ErrInvalidMessage, m.WireFormat)
}

func (g *Group) processPublic(pm *PublicMessage) (*Processed, error) {
	fc := &pm.Content
	if !bytes.Equal(fc.GroupID, g.ctx.GroupID) {
		return nil, ErrWrongGroup
	}
	if fc.ContentType == ContentTypeApplication {
		return nil, fmt.Errorf("%w: application data in a PublicMessage", ErrInvalidMessage)
	}
	if fc.Epoch != g.ctx.Epoch {
		return nil, fmt.Errorf("%w: epoch %d, group is at %d", ErrWrongEpoch, fc.Epoch, g.ctx.Epoch)
	}
	if !g.active {
		return nil, ErrNotMember
	}
	var sigKey []byte
	var cred Credential
	switch fc.Sender.SenderType {
	case SenderTypeMember:
		l := LeafIndex(fc.Sender.LeafIndex)
		if l == g.priv.self {
			return nil, ErrOwnMessage
		}
		ln := g.tree.leaf(l)
		if ln == nil {
			return nil, fmt.Errorf("%w: leaf %d", ErrUnknownSender, l)
		}
		if err := pm.VerifyMembershipTag(g.cs, g.secrets.MembershipKey, g.ctxEnc); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidMessage, err)
		}
		sigKey, cred = ln.SignatureKey, ln.Credential
	case SenderTypeExternal:
		if fc.ContentType != ContentTypeProposal {
			return nil, fmt.Errorf("%w: external sender sent a commit", ErrInvalidMessage)
		}
		es, err := g.externalSenders()
		if err != nil {
			return nil, err
		}
		if int(fc.Sender.LeafIndex) >= len(es) {
			return nil, fmt.Errorf("%w: external sender %d", ErrUnknownSender, fc.Sender.LeafIndex)
		}
		sigKey, cred = es[fc.Sender.LeafIndex].SignatureKey, es[fc.Sender.LeafIndex].Credential
	case SenderTypeNewMemberProposal:
		if fc.ContentType != ContentTypeProposal || fc.Proposal.ProposalType != ProposalTypeAdd {
			return nil, fmt.Errorf("%w: new_member_proposal sender must send an Add", ErrInvalidMessage)
		}
		ln := &fc.Proposal.Add.KeyPackage.LeafNode
		sigKey, cred = ln.SignatureKey, ln.Credential
	case SenderTypeNewMemberCommit:
		if fc.ContentType != ContentTypeCommit || fc.Commit.Path == nil {
			return nil, fmt.Errorf("%w: new_member_commit sender must send a commit with a path", ErrInvalidMessage)
		}
		ln := &fc.Commit.Path.LeafNode
		sigKey, cred = ln.SignatureKey, ln.Credential
	default:
		return nil, fmt.Errorf("%w: sender type %d", ErrInvalidMessage, fc.Sender.SenderType)
	}
	if fc.Sender.SenderType == SenderTypeMember {
		if err := g.tree.checkDeferredLeaf(LeafIndex(fc.Sender.LeafIndex), g.ctx.GroupID); err != nil {
			return nil, fmt.Errorf("%w: sender: %w", ErrInvalidMessage, err)
		}
	}
	ac := pm.AuthenticatedContent()
	if err := ac.VerifySignature(g.cs, sigKey, g.ctxEnc); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidMessage, err)
	}
	return g.dispatch(ac, cred)
}

func (g *Group) processPrivate(pm *PrivateMessage) (*Processed, error) {
	if !bytes.Equal(pm.GroupID, g.ctx.GroupID) {
		return nil, ErrWrongGroup
	}
	st, sds, tree, ctxEnc := g.st, g.secrets.SenderDataSecret, g.tree, g.ctxEnc
	current := pm.Epoch == g.ctx.Epoch && g.active
	if !current {
		p := g.findPast(pm.Epoch)
		if p == nil || pm.ContentType != ContentTypeApplication {
			if !g.active && pm.Epoch >= g.ctx.Epoch {
				return nil, ErrNotMember
			}
			return nil, fmt.Errorf("%w: epoch %d, group is at %d", ErrWrongEpoch, pm.Epoch, g.ctx.Epoch)
		}
		st, sds, tree, ctxEnc = p.st, p.senderDataSecret, p.tree, p.ctxEnc
	}
	// The sender data is decrypted once; the sender is checked before the
	// secret tree is touched.
	var ln *LeafNode
	var senderErr error
	ac, err := decryptPrivateMessage(g.cs, st, sds, pm, func(sd *SenderData) error {
		l := LeafIndex(sd.LeafIndex)
		if current && l == g.priv.self {
			senderErr = ErrOwnMessage
			return senderErr
		}
		if ln = tree.leaf(l); ln == nil {
			senderErr = fmt.Errorf("%w: leaf %d", ErrUnknownSender, l)
			return senderErr
		}
		if err := tree.checkDeferredLeaf(l, g.ctx.GroupID); err != nil {
			senderErr = fmt.Errorf("%w: sender: %w", ErrInvalidMessage, err)
			return senderErr
		}
		return nil
	})
	if err != nil {
		switch {
		case senderErr != nil:
			return nil, senderErr
		case errors.Is(err, ErrGenerationConsumed) || errors.Is(err, ErrGenerationTooFar):
			return nil, fmt.Errorf("%w: %w", ErrOutOfWindow, err)
		}
		return nil, fmt.Errorf("%w: %w", ErrInvalidMessage, err)
	}
	if err := ac.VerifySignature(g.cs, ln.SignatureKey, ctxEnc); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidMessage, err)
	}
	return g.dispatch(ac, ln.Credential)
}

// externalSenders decodes the external_senders extension of the group.
func (g *Group) externalSenders() (ExternalSenders, error) {
	e, ok := FindExtension(g.ctx.Extensions, ExtensionTypeExternalSenders)
	if !ok {
		return nil, fmt.Errorf("%w: group has no external senders", ErrUnknownSender)
	}
	var es ExternalSenders
	if err := Unmarshal(e.ExtensionData, &es); err != nil {
		return nil, fmt.Errorf("%w: external_senders: %w", ErrInvalidMessage, err)
	}
	return es, nil
}

func (g *Group) dispatch(ac *AuthenticatedContent, cred Credential) (*Processed, error) {
	fc := &ac.Content
	out := &Processed{
		Epoch:             fc.Epoch,
		SenderType:        fc.Sender.SenderType,
		Sender:            LeafIndex(fc.Sender.LeafIndex),
		Credential:        cred,
		AuthenticatedData: fc.AuthenticatedData,
	}
	switch fc.ContentType {
	case ContentTypeApplication:
		out.Kind = ProcessedApplication
		out.ApplicationData = fc.ApplicationData
		return out, nil
	case ContentTypeProposal:
		if err := g.validateProposal(fc.Proposal, fc.Sender); err != nil {
			return nil, err
		}
		ref, err := g.cs.MakeProposalRef(mustEncode(ac))
		if err != nil {
			return nil, err
		}
		for _, cp := range g.proposals {
			if bytes.Equal(cp.ref, ref) {
				return nil, fmt.Errorf("%w: proposal already received", ErrInvalidProposal)
			}
		}
		if len(g.proposals) >= maxCachedProposals {
			return nil, fmt.Errorf("%w: too many proposals in this epoch", ErrInvalidProposal)
		}
		g.proposals = append(g.proposals, &cachedProposal{ref: ref, proposal: fc.Proposal, sender: fc.Sender})
		out.Kind = ProcessedProposal
		out.Proposal = fc.Proposal
		out.ProposalRef = ref
		return out, nil
	case ContentTypeCommit:
		return g.processCommit(ac, out)
	}
	return nil, fmt.Errorf("%w: content type %d", ErrInvalidMessage, fc.ContentType)
}

// mergeOwn merges the pending commit when it comes back from the delivery
// service.
func (g *Group) mergeOwn() (*Processed, error) {
	old := g.ctx.Epoch
	if err := g.MergePendingCommit(); err != nil {
		return nil, err
	}
	return &Processed{Kind: ProcessedCommit, Epoch: old, SenderType: SenderTypeMember, Sender: g.priv.self, NewEpoch: g.ctx.Epoch}, nil
}

// processCommit applies a verified commit (RFC 9420 §12.4.2).
func (g *Group) processCommit(ac *AuthenticatedContent, out *Processed) (*Processed, error) {
	fc := &ac.Content
	commit := fc.Commit
	external := fc.Sender.SenderType == SenderTypeNewMemberCommit
	committer := noLeaf
	if !external {
		if fc.Sender.SenderType != SenderTypeMember {
			return nil, fmt.Errorf("%w: commit from sender type %d", ErrInvalidCommit, fc.Sender.SenderType)
		}
		committer = LeafIndex(fc.Sender.LeafIndex)
	}
	items := make([]proposalItem, 0, len(commit.Proposals))
	for _, por := range commit.Proposals {
		switch por.Type {
		case ProposalOrRefTypeProposal:
			items = append(items, proposalItem{p: por.Proposal, sender: fc.Sender})
		case ProposalOrRefTypeReference:
			var found *cachedProposal
			for _, cp := range g.proposals {
				if bytes.Equal(cp.ref, por.Reference) {
					found = cp
					break
				}
			}
			if found == nil {
				return nil, fmt.Errorf("%w: unknown proposal reference %x", ErrInvalidCommit, por.Reference)
			}
			items = append(items, proposalItem{p: found.proposal, sender: found.sender, ref: found.ref})
		default:
			return nil, fmt.Errorf("%w: proposal-or-ref type %d", ErrInvalidCommit, por.Type)
		}
	}
	a, err := g.applyProposals(items, committer, external, false)
	if err != nil {
		return nil, err
	}
	if a.pathRequired && commit.Path == nil {
		return nil, fmt.Errorf("%w: path required", ErrInvalidCommit)
	}
	// An external commit may remove only an old version of the joiner
	// (RFC 9420 §12.2: the new leaf must be acceptable in place of the
	// removed one); here that means the very same credential.
	if external && len(a.removed) > 0 && (commit.Path == nil || !sameCredential(a.removed[0].Credential, commit.Path.LeafNode.Credential)) {
		return nil, fmt.Errorf("%w: an external commit removes a member other than the joiner", ErrInvalidCommit)
	}
	t := a.tree
	out.Kind = ProcessedCommit
	out.NewEpoch = g.ctx.Epoch + 1
	out.Removed = a.removed
	out.ReInit = a.reinit
	if external {
		committer = t.leftmostBlankLeaf()
		out.Sender = committer
	}
	if err := g.vetCommit(fc, items, a, committer, external); err != nil { // commit_public.go
		return nil, err
	}
	for _, l := range a.added {
		out.Added = append(out.Added, memberOf(l, t.leaf(l)))
	}

	// A commit that removes this client: authenticate what can be, then
	// leave the group (the new epoch's secrets are not derivable).
	if t.leaf(g.priv.self) == nil {
		next := g.successor()
		next.pushPast()
		next.active = false
		next.pending = nil
		g.DiscardPendingCommit()
		*g = *next
		out.SelfRemoved = true
		return out, nil
	}

	next := g.successor()
	priv := next.priv
	for _, l := range a.updated {
		ln := t.leaf(l)
		if l == g.priv.self {
			k, ok := g.updateKeys[string(ln.EncryptionKey)]
			if !ok {
				return nil, fmt.Errorf("%w: commit applies an Update of ours we have no key for", ErrInvalidCommit)
			}
			priv.keys[l.toNode()] = nodeKey{priv: k, pub: ln.EncryptionKey}
		}
		out.Updated = append(out.Updated, memberOf(l, ln))
	}
	priv.prune(t)
	newCtx := GroupContext{
		Version:                 g.ctx.Version,
		CipherSuite:             g.cs,
		GroupID:                 g.ctx.GroupID,
		Epoch:                   g.ctx.Epoch + 1,
		ConfirmedTranscriptHash: g.ctx.ConfirmedTranscriptHash,
		Extensions:              a.exts,
	}
	var commitSecret []byte
	if path := commit.Path; path != nil {
		excluded := make(map[LeafIndex]bool, len(a.added))
		for _, l := range a.added {
			excluded[l] = true
		}
		var oldKey []byte
		if !external {
			oldKey = t.leaf(committer).EncryptionKey
		}
		if err := t.mergeUpdatePath(committer, path, excluded); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidCommit, err)
		}
		ln := t.leaf(committer)
		if err := g.validateLeafNode(t, ln, committer, g.ctx.GroupID, a.exts, LeafNodeSourceCommit, false); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidCommit, err)
		}
		if oldKey != nil && bytes.Equal(oldKey, ln.EncryptionKey) {
			return nil, fmt.Errorf("%w: committer kept its encryption key", ErrInvalidCommit)
		}
		fdp, _ := t.filteredDirectPath(committer)
		for i, x := range fdp {
			if !t.encKeyUnique(path.Nodes[i].EncryptionKey, x) {
				return nil, fmt.Errorf("%w: path key of node %d is not unique", ErrDuplicateKey, x)
			}
		}
		newCtx.TreeHash = t.treeHash()
		priv.prune(t)
		commitSecret, _, err = t.decryptUpdatePath(priv, committer, path, excluded, mustEncode(&newCtx))
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidCommit, err)
		}
		out.Updated = append(out.Updated, memberOf(committer, ln))
	} else {
		newCtx.TreeHash = t.treeHash()
	}
	pskSecret, err := g.pskSecret(a.psks)
	if err != nil {
		return nil, err
	}
	initSecret := g.secrets.InitSecret
	if external {
		extPriv, _, err := g.secrets.ExternalKeyPair()
		if err != nil {
			return nil, err
		}
		if initSecret, err = g.cs.ExternalInitSecretFromKEMOutput(extPriv, a.extInit.KEMOutput); err != nil {
			return nil, fmt.Errorf("%w: external init: %w", ErrInvalidCommit, err)
		}
	}
	confirmed, err := g.cs.ConfirmedTranscriptHash(g.interim, ac)
	if err != nil {
		return nil, err
	}
	newCtx.ConfirmedTranscriptHash = confirmed
	newCtxEnc := mustEncode(&newCtx)
	secrets, err := g.cs.KeySchedule(initSecret, commitSecret, pskSecret, newCtxEnc)
	if err != nil {
		return nil, err
	}
	if !g.cs.VerifyConfirmationTag(secrets.ConfirmationKey, confirmed, ac.Auth.ConfirmationTag) {
		secrets.Wipe()
		return nil, fmt.Errorf("%w: confirmation tag mismatch", ErrInvalidCommit)
	}
	next.pushPast()
	next.tree = t
	next.priv = priv
	next.ctx = newCtx
	next.ctxEnc = newCtxEnc
	next.confTag = ac.Auth.ConfirmationTag
	if next.interim, err = g.cs.InterimTranscriptHash(confirmed, next.confTag); err != nil {
		return nil, err
	}
	if err := next.installSecrets(secrets); err != nil {
		return nil, err
	}
	if a.reinit != nil {
		next.reinit = a.reinit
	}
	t.adoptIndex()
	g.DiscardPendingCommit()
	old := g.secrets
	*g = *next
	wipeReplacedSecrets(old)
	return out, nil
}
