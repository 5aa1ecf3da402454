package parley

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// TreeRef names an uploaded MLS ratchet tree: the lowercase hex SHA-256 of
// its bytes (the ratchet_tree extension value, RFC 9420 §12.4.3.3).
type TreeRef string

// TreeRefOf returns the ref of a tree's bytes.
func TreeRefOf(data []byte) TreeRef {
	h := sha256.Sum256(data)
	return TreeRef(hex.EncodeToString(h[:]))
}

// Valid reports whether r has the form of a ref (64 lowercase hex digits).
func (r TreeRef) Valid() bool {
	if len(r) != 2*sha256.Size {
		return false
	}
	for i := 0; i < len(r); i++ {
		c := r[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// RatchetTree is an MLS ratchet tree kept by the server for joiners of a
// large group, whose Welcome and GroupInfo leave the tree out (it would not
// fit a frame). Commits too large for a frame are kept the same way. The server cannot forge one: a joiner checks the tree's hash
// against the tree_hash of the GroupInfo the committer signed, so a tree
// altered in any byte is refused by the joiner.
type RatchetTree struct {
	Ref          TreeRef
	Conversation ConversationID
	Device       DeviceID // the device that uploaded it (the committer)
	Data         []byte
	CreatedAt    time.Time
}

// TreeStore keeps uploaded ratchet trees and which tree belongs to which
// epoch of a conversation. A tree is bound to an epoch by the commit that
// starts the epoch, in the commit's transaction (Commit.TreeRef): see
// ConversationStore.ApplyCommit.
type TreeStore interface {
	// PutRatchetTree stores t (unbound). Storing the same ref again by the
	// same device and conversation is a no-op; by another device or for
	// another conversation it returns CodeConflict "tree_exists".
	PutRatchetTree(ctx context.Context, t RatchetTree) error
	// RatchetTreeAt returns the tree bound to epoch of conversation
	// (CodeNotFound "tree_not_found" when none is, or it was pruned).
	RatchetTreeAt(ctx context.Context, conv ConversationID, epoch Epoch) (RatchetTree, error)
	// LargeCommitAt returns the uploaded commit bound to epoch (the epoch
	// it was made in) of conv (CodeNotFound "commit_not_found").
	LargeCommitAt(ctx context.Context, conv ConversationID, epoch Epoch) (RatchetTree, error)
	// UploadedTree returns the upload (tree or commit, bound or not) with
	// this ref (CodeNotFound "tree_not_found"): the delivery service reads
	// a commit sent out of band before it accepts it.
	UploadedTree(ctx context.Context, ref TreeRef) (RatchetTree, error)
	// PruneRatchetTrees deletes unbound trees created before unboundBefore,
	// and bound trees (and commits) created before boundBefore except those
	// of each conversation's keepEpochs latest bound epochs. It returns how
	// many it deleted.
	PruneRatchetTrees(ctx context.Context, unboundBefore, boundBefore time.Time, keepEpochs int) (int, error)
}
