package delivery

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/mls"
)

// The delivery service reads what a commit does before it
// accepts it for its epoch. Clients send every commit as an MLS
// PublicMessage (docs/decisions/0004-group-rules-on-handshakes.md), whose
// proposals anyone can read, and declare the change in the request (Add,
// Remove), which the group service checks against the group's roles. The
// check here makes the two provably the same: a commit is refused unless
// its proposals add exactly the declared devices, remove exactly the
// declared devices, and it is sent by the leaf of the device that sends the
// request. Members refuse commits the committer's role does not allow
// whatever the server did (client/commit_rules.go).

// Reasons of the refusals of a commit whose MLS content does not match its
// request. Exported so that callers can compare.
const (
	// ReasonHandshakeFormat (CodeInvalid): the commit is not an MLS
	// PublicMessage commit.
	ReasonHandshakeFormat = "handshake_format"
	// ReasonCommitContext (CodeInvalid): the commit's group id or epoch
	// is not the request's.
	ReasonCommitContext = "commit_context"
	// ReasonCommitMismatch (CodeInvalid): the commit's proposals add or
	// remove other devices than the request declares.
	ReasonCommitMismatch = "commit_mismatch"
	// ReasonCommitSender (CodeForbidden): the commit is sent in the name
	// of another leaf than the requesting device's.
	ReasonCommitSender = "commit_sender"
	// ReasonProposalNotAllowed (CodeForbidden): proposals Parley never
	// commits: by reference, Update, PreSharedKey, ReInit, group context
	// extensions.
	ReasonProposalNotAllowed = "proposal_not_allowed"
	// ReasonAuthenticatedData (CodeInvalid): the commit carries
	// authenticated data (a channel around the send rules).
	ReasonAuthenticatedData = "authenticated_data"
	// ReasonWelcomeWithoutAdds (CodeInvalid): a Welcome with a commit
	// that adds nobody (a channel around the send rules).
	ReasonWelcomeWithoutAdds = "welcome_without_adds"
	// ReasonTreeUnavailable (CodeUnavailable): the published ratchet tree
	// of the epoch cannot be read, so the commit's leaves cannot be told.
	ReasonTreeUnavailable = "tree_unavailable"
)

// Trees is what the handshake check reads of the uploads the trees service
// keeps: the ratchet tree of an out-of-band epoch and a commit sent out of
// band. parley.TreeStore implements it.
type Trees interface {
	RatchetTreeAt(ctx context.Context, conv parley.ConversationID, epoch parley.Epoch) (parley.RatchetTree, error)
	UploadedTree(ctx context.Context, ref parley.TreeRef) (parley.RatchetTree, error)
}

func commitError(code parley.Code, reason, format string, args ...any) error {
	return parley.Errorf(code, reason, "commit: "+format, args...)
}

// checkHandshake matches the commit of p, sent by dev, with p.
func (s *Service) checkHandshake(ctx context.Context, dev parley.Device, p CommitParams) error {
	if len(p.Welcome) > 0 && len(p.Add) == 0 && !p.External {
		return commitError(parley.CodeInvalid, ReasonWelcomeWithoutAdds, "a welcome needs added devices")
	}
	msg := p.Commit
	if p.CommitRef != "" {
		if string(p.Commit) != parley.CommitRefPrefix+string(p.CommitRef) {
			return commitError(parley.CodeInvalid, ReasonCommitMismatch, "the payload of a commit sent out of band must name its commit_ref")
		}
		if s.trees == nil {
			return commitError(parley.CodeUnavailable, ReasonTreeUnavailable, "commits out of band are not kept here")
		}
		up, err := s.trees.UploadedTree(ctx, p.CommitRef)
		if parley.IsCode(err, parley.CodeNotFound) || (err == nil && (up.Conversation != p.Conversation || up.Device != dev.ID)) {
			return commitError(parley.CodeInvalid, parley.ReasonCommitRef, "no commit %s uploaded by this device for this conversation", p.CommitRef)
		}
		if err != nil {
			return fmt.Errorf("read commit %s: %w", p.CommitRef, err)
		}
		msg = up.Data
	} else if bytes.HasPrefix(p.Commit, []byte(parley.CommitRefPrefix)) {
		return commitError(parley.CodeInvalid, ReasonCommitMismatch, "a commit reference without commit_ref")
	}
	sum, err := mls.ParsePublicCommit(msg)
	if err != nil {
		return commitError(parley.CodeInvalid, ReasonHandshakeFormat, "a commit must be an MLS PublicMessage commit")
	}
	if !bytes.Equal(sum.GroupID, []byte(p.Conversation)) || sum.Epoch != uint64(p.Epoch) {
		return commitError(parley.CodeInvalid, ReasonCommitContext, "the commit is for epoch %d of another group, or another epoch", sum.Epoch)
	}
	if len(sum.AuthenticatedData) > 0 {
		return commitError(parley.CodeInvalid, ReasonAuthenticatedData, "a commit carries no authenticated data")
	}
	if sum.References > 0 || sum.Updates > 0 || len(sum.Other) > 0 {
		return commitError(parley.CodeForbidden, ReasonProposalNotAllowed, "a commit may only add and remove members (and join)")
	}
	self := parley.DeviceCredential(dev.User, dev.ID)
	var tree *mls.PublicTree
	leaf := func(l mls.LeafIndex) (parley.UserID, parley.DeviceID, bool) {
		m, ok := tree.Leaf(l)
		if !ok {
			return 0, 0, false
		}
		u, d, err := parley.ParseDeviceCredential(string(m.Credential.Identity))
		return u, d, err == nil
	}
	if p.External {
		if sum.Sender.SenderType != mls.SenderTypeNewMemberCommit || !sum.ExternalInit || len(sum.Adds) > 0 {
			return commitError(parley.CodeInvalid, ReasonCommitMismatch, "an external commit adds only its sender")
		}
		if sum.PathCredential == nil || string(sum.PathCredential.Identity) != self {
			return commitError(parley.CodeForbidden, ReasonCommitSender, "an external commit joins the device that sends it")
		}
		if len(sum.Removes) == 0 {
			return nil
		}
		if tree, err = s.publishedTree(ctx, p.Conversation, p.Epoch); err != nil {
			return err
		}
		for _, l := range sum.Removes {
			if _, d, ok := leaf(l); !ok || d != dev.ID {
				return commitError(parley.CodeInvalid, ReasonCommitMismatch, "an external commit removes only its sender's old leaf")
			}
		}
		return nil
	}
	if sum.Sender.SenderType != mls.SenderTypeMember || sum.ExternalInit {
		return commitError(parley.CodeInvalid, ReasonCommitMismatch, "a member's commit is sent from its leaf")
	}
	if tree, err = s.publishedTree(ctx, p.Conversation, p.Epoch); err != nil {
		return err
	}
	if u, d, ok := leaf(mls.LeafIndex(sum.Sender.LeafIndex)); !ok || u != dev.User || d != dev.ID {
		return commitError(parley.CodeForbidden, ReasonCommitSender, "the commit is sent from leaf %d, which is not this device's", sum.Sender.LeafIndex)
	}
	declared := make(map[parley.DeviceID]parley.UserID, len(p.Add))
	for _, m := range p.Add {
		declared[m.Device] = m.User
	}
	added := make(map[parley.DeviceID]bool, len(sum.Adds))
	for _, c := range sum.Adds {
		u, d, err := parley.ParseDeviceCredential(string(c.Identity))
		if err != nil || added[d] || declared[d] != u {
			return commitError(parley.CodeInvalid, ReasonCommitMismatch, "the commit adds a device the request does not declare")
		}
		added[d] = true
	}
	if len(added) != len(declared) {
		return commitError(parley.CodeInvalid, ReasonCommitMismatch, "the commit adds %d devices, the request declares %d", len(added), len(declared))
	}
	want := make(map[parley.DeviceID]bool, len(p.Remove))
	for _, d := range p.Remove {
		want[d] = true
	}
	removed := make(map[parley.DeviceID]bool, len(sum.Removes))
	for _, l := range sum.Removes {
		_, d, ok := leaf(l)
		if !ok || removed[d] || !want[d] {
			return commitError(parley.CodeInvalid, ReasonCommitMismatch, "the commit removes leaf %d, which the request does not declare", l)
		}
		removed[d] = true
	}
	if len(removed) != len(want) {
		return commitError(parley.CodeInvalid, ReasonCommitMismatch, "the commit removes %d devices, the request declares %d", len(removed), len(want))
	}
	return nil
}

// publishedTree reads the ratchet tree of the conversation's current epoch,
// which must be epoch: from its GroupInfo, or the tree bound to the epoch
// when the GroupInfo leaves it out.
func (s *Service) publishedTree(ctx context.Context, id parley.ConversationID, epoch parley.Epoch) (*mls.PublicTree, error) {
	c, err := s.store.Conversation(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("read group info of %s: %w", id, err)
	}
	if c.Epoch != epoch {
		return nil, parley.Errorf(parley.CodeConflict, parley.ReasonWrongEpoch, "the conversation is at epoch %d", c.Epoch)
	}
	tree, err := mls.ParsePublicTree(c.GroupInfo, nil)
	if errors.Is(err, mls.ErrMissingRatchetTree) && s.trees != nil {
		var t parley.RatchetTree
		if t, err = s.trees.RatchetTreeAt(ctx, id, epoch); err == nil {
			tree, err = mls.ParsePublicTree(c.GroupInfo, t.Data)
		}
	}
	if err != nil {
		s.log.Warn("published tree unreadable", "conversation", id, "epoch", epoch, "err", err)
		return nil, commitError(parley.CodeUnavailable, ReasonTreeUnavailable, "the ratchet tree of epoch %d cannot be read", epoch)
	}
	return tree, nil
}
