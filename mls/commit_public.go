package mls

import (
	"errors"
	"fmt"
	"slices"
)

// Reading commits without the group's secrets, and vetting them before
// they are applied.
//
// A commit sent as a PublicMessage (Config.HandshakeFormat) shows its
// sender and its proposals to anyone who holds it, which lets a delivery
// service check what a commit does against what the committer claims, and
// against the group's rules, before it accepts the commit for its epoch
// (RFC 9420 §16.4 leaves such policy to the application). ParsePublicCommit
// reads one; ParsePublicTree reads the leaves of a published ratchet tree,
// so that leaf indices can be mapped to members' credentials. Neither
// verifies a signature or a membership tag: the reader has no group
// secrets, and the members who apply the commit verify both.
//
// Group.SetCommitPolicy is the members' side: a function that sees every
// commit's effect (committer, added, removed and updated members, other
// proposals) after all of RFC 9420's checks and before the group moves to
// the new epoch, and can refuse it.

// ErrNotPublicCommit is returned by ParsePublicCommit for a well-formed
// MLSMessage that is not a commit sent as a PublicMessage.
var ErrNotPublicCommit = errors.New("mls: not a commit sent as a PublicMessage")

// ErrCommitRefused wraps the error of a commit policy (SetCommitPolicy)
// that refused a commit.
var ErrCommitRefused = errors.New("mls: commit refused by the group's policy")

// CommitSummary is what a commit sent as a PublicMessage shows to a reader
// without the group's secrets.
type CommitSummary struct {
	GroupID           []byte
	Epoch             uint64
	Sender            Sender
	AuthenticatedData []byte
	// Adds holds, for each Add proposal in order, the credential of the
	// KeyPackage it adds.
	Adds []Credential
	// Removes holds the leaf of each Remove proposal, in order.
	Removes []LeafIndex
	// Updates counts Update proposals; ExternalInit reports an
	// ExternalInit proposal (an external commit).
	Updates      int
	ExternalInit bool
	// Other lists the other proposal types present (PreSharedKey, ReInit,
	// GroupContextExtensions, unknown types), in order.
	Other []ProposalType
	// References counts proposals included by reference: their content
	// is not in the commit.
	References int
	// PathCredential is the credential of the committer's new leaf when
	// the commit has an UpdatePath (always for an external commit).
	PathCredential *Credential
}

// ParsePublicCommit decodes an MLSMessage holding a PublicMessage commit
// and summarises it. It fails with ErrMalformed for bytes that are not an
// MLSMessage and ErrNotPublicCommit for any other message (a commit sent
// as a PrivateMessage, a proposal, application data, a Welcome…). It
// verifies no signature or tag.
func ParsePublicCommit(msg []byte) (*CommitSummary, error) {
	var m MLSMessage
	if err := m.Unmarshal(msg); err != nil {
		return nil, err
	}
	if m.WireFormat != WireFormatPublicMessage || m.PublicMessage == nil {
		return nil, fmt.Errorf("%w: wire format %d", ErrNotPublicCommit, m.WireFormat)
	}
	fc := &m.PublicMessage.Content
	if fc.ContentType != ContentTypeCommit || fc.Commit == nil {
		return nil, fmt.Errorf("%w: content type %d", ErrNotPublicCommit, fc.ContentType)
	}
	s := &CommitSummary{
		GroupID:           fc.GroupID,
		Epoch:             fc.Epoch,
		Sender:            fc.Sender,
		AuthenticatedData: fc.AuthenticatedData,
	}
	for _, por := range fc.Commit.Proposals {
		if por.Type != ProposalOrRefTypeProposal || por.Proposal == nil {
			s.References++
			continue
		}
		p := por.Proposal
		switch {
		case p.ProposalType == ProposalTypeAdd && p.Add != nil:
			s.Adds = append(s.Adds, p.Add.KeyPackage.LeafNode.Credential)
		case p.ProposalType == ProposalTypeRemove && p.Remove != nil:
			s.Removes = append(s.Removes, LeafIndex(p.Remove.Removed))
		case p.ProposalType == ProposalTypeUpdate:
			s.Updates++
		case p.ProposalType == ProposalTypeExternalInit:
			s.ExternalInit = true
		default:
			s.Other = append(s.Other, p.ProposalType)
		}
	}
	if path := fc.Commit.Path; path != nil {
		c := path.LeafNode.Credential
		s.PathCredential = &c
	}
	return s, nil
}

// PublicTree is the ratchet tree of a published epoch, read without the
// group's secrets: which credential sits at which leaf.
type PublicTree struct {
	ctx  GroupContext
	tree *ratchetTree
}

// ParsePublicTree reads the GroupInfo of an epoch (an MLSMessage or a bare
// GroupInfo) and its ratchet tree: the GroupInfo's ratchet_tree extension,
// or ratchetTree when the GroupInfo leaves the tree out
// (ErrMissingRatchetTree if both are missing). It checks the encoding only;
// joiners verify the tree against the signed GroupInfo.
func ParsePublicTree(groupInfo, ratchetTree []byte) (*PublicTree, error) {
	gi, err := parseGroupInfo(groupInfo)
	if err != nil {
		return nil, err
	}
	t, err := treeFromGroupInfo(gi.GroupContext.CipherSuite, gi, ratchetTree)
	if err != nil {
		return nil, err
	}
	return &PublicTree{ctx: gi.GroupContext, tree: t}, nil
}

// GroupID and Epoch are those of the GroupInfo the tree was read with.
func (p *PublicTree) GroupID() []byte { return slices.Clone(p.ctx.GroupID) }

// Epoch returns the epoch of the GroupInfo the tree was read with.
func (p *PublicTree) Epoch() uint64 { return p.ctx.Epoch }

// Leaf returns the member at leaf l, or false for a blank or missing leaf.
func (p *PublicTree) Leaf(l LeafIndex) (Member, bool) {
	ln := p.tree.leaf(l)
	if ln == nil {
		return Member{}, false
	}
	return memberOf(l, ln), true
}

// CommitView is a commit's effect as a member sees it before applying it:
// the input of a commit policy (SetCommitPolicy). Leaf indices of Removed
// and Updated are those of the epoch the commit was made in; Added are the
// leaves the new members will occupy.
type CommitView struct {
	Epoch uint64 // the epoch the commit was made in
	// External is set for an external commit (a joiner's own commit).
	External bool
	// Committer is the committing member (for an external commit, the
	// joiner with its new leaf).
	Committer Member
	Added     []Member
	Removed   []Member
	Updated   []Member // members whose Update proposal the commit applies
	// Other lists the proposal types other than Add, Update, Remove and
	// ExternalInit that the commit applies.
	Other []ProposalType
}

// SetCommitPolicy installs a function called for every commit of another
// member this group processes, after every check of RFC 9420 and before
// anything changes: if it returns an error, Process fails with an error
// wrapping ErrCommitRefused and the policy's error, and the group stays in
// its epoch with its state unchanged. nil removes the policy. The policy
// is local: it is not saved with the group's state.
func (g *Group) SetCommitPolicy(f func(*CommitView) error) { g.policy = f }

// SetHandshakeFormat changes Config.HandshakeFormat for the proposals and
// commits made from now on (e.g. a group created with PrivateMessage
// handshakes switching to PublicMessage). It is saved with the state.
func (g *Group) SetHandshakeFormat(wf WireFormat) error {
	if wf != WireFormatPublicMessage && wf != WireFormatPrivateMessage {
		return fmt.Errorf("mls: handshake format %d: want PublicMessage or PrivateMessage", wf)
	}
	g.cfg.HandshakeFormat = wf
	return nil
}

// vetCommit runs the commit policy, if any, on a commit whose proposals
// were applied to a copy of the tree (a) but not yet to the group.
func (g *Group) vetCommit(fc *FramedContent, items []proposalItem, a *appliedProposals, committer LeafIndex, external bool) error {
	if g.policy == nil {
		return nil
	}
	v := &CommitView{Epoch: fc.Epoch, External: external, Removed: a.removed}
	if external {
		// committer is the leaf the joiner will occupy.
		if path := fc.Commit.Path; path != nil {
			v.Committer = Member{LeafIndex: committer, Credential: path.LeafNode.Credential,
				SignatureKey: path.LeafNode.SignatureKey, EncryptionKey: path.LeafNode.EncryptionKey}
		}
	} else if ln := g.tree.leaf(committer); ln != nil {
		v.Committer = memberOf(committer, ln)
	}
	for _, l := range a.added {
		v.Added = append(v.Added, memberOf(l, a.tree.leaf(l)))
	}
	for _, l := range a.updated {
		v.Updated = append(v.Updated, memberOf(l, a.tree.leaf(l)))
	}
	for _, it := range items {
		switch it.p.ProposalType {
		case ProposalTypeAdd, ProposalTypeUpdate, ProposalTypeRemove, ProposalTypeExternalInit:
		default:
			v.Other = append(v.Other, it.p.ProposalType)
		}
	}
	if err := g.policy(v); err != nil {
		return fmt.Errorf("%w: %w", ErrCommitRefused, err)
	}
	return nil
}
