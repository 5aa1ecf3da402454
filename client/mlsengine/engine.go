// Package mlsengine is the MLS layer as the client uses it: two small
// interfaces, Engine (creates and restores groups) and Group (one
// conversation's MLS state), and their implementation over package mls
// (RFC 9420), New. Keeping the client behind these interfaces keeps its
// protocol flows independent of the MLS package's surface.
package mlsengine

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client/localstore"
)

// Identity is what the engine needs to act as this device.
type Identity struct {
	Credential string // "<user_id>:<device_id>"
	SigPriv    []byte
	SigPub     []byte
}

// Member is one leaf of a group.
type Member struct {
	Leaf         uint32
	User         parley.UserID
	Device       parley.DeviceID
	SignatureKey []byte
}

// Validator checks that a leaf's credential names a device whose published
// identity key is the leaf's signature key.
type Validator func(credential string, signatureKey []byte) error

// Processed is the outcome of processing one handshake or application message.
type Processed struct {
	Application []byte // the plaintext of an application message
	Commit      bool   // a commit was applied: the Group moved to a new epoch
	Sender      string // the sender's credential Identity
	Removed     bool   // this device was removed by the commit
}

// PendingCommit is a commit created locally and not merged yet.
type PendingCommit struct {
	Commit    []byte
	Welcome   []byte // nil unless the commit adds members
	GroupInfo []byte // the GroupInfo of the new epoch
	// Tree is the new epoch's ratchet tree when Welcome and GroupInfo leave
	// it out (the commit was made out of band): upload it, name it in the
	// commit.
	Tree []byte
}

// ErrTreeNeeded: a Welcome or GroupInfo leaves the ratchet tree out; fetch
// it from the server and try again.
var ErrTreeNeeded = errors.New("the ratchet tree is not in the message")

// Engine creates and restores groups.
type Engine interface {
	// NewSignatureKey generates a signature key pair for a new device.
	NewSignatureKey() (priv, pub []byte, err error)
	// NewKeyPackage returns a KeyPackage (MLSMessage encoding), its ref and
	// its private bundle.
	NewKeyPackage(id Identity, lastResort bool) (ref, public, private []byte, err error)
	// CreateGroup creates a one-member group at epoch 0.
	CreateGroup(groupID []byte, id Identity, v Validator) (Group, error)
	// JoinFromWelcome joins by a Welcome encrypted to one of the KeyPackages
	// in kps; usedRef names the KeyPackage it used. A Welcome for another
	// device returns errNotForMe.
	// tree is the ratchet tree when the Welcome leaves it out (else nil);
	// without it such a Welcome returns errTreeNeeded.
	JoinFromWelcome(welcome []byte, id Identity, kps []localstore.KeyPackageSecret, v Validator, tree []byte) (g Group, usedRef []byte, err error)
	// JoinExternal joins by an external commit from a GroupInfo (and tree,
	// when the GroupInfo leaves it out; else errTreeNeeded); the group
	// returned is at the new epoch (the commit is already merged locally, so
	// the caller discards it if the server refuses the commit). When the
	// group then has more than inlineMax members, the new GroupInfo leaves
	// the tree out and newTree is the new epoch's tree (else nil). With
	// resync, a device that is already a member rejoins: the commit also
	// removes its old leaf (client/resync.go).
	JoinExternal(groupInfo []byte, id Identity, v Validator, tree []byte, inlineMax int, resync bool) (g Group, commit, newGroupInfo, newTree []byte, err error)
	// LoadGroup restores a group from MarshalState.
	LoadGroup(state []byte, id Identity, v Validator) (Group, error)
}

// Group is one conversation's MLS group state.
type Group interface {
	Epoch() parley.Epoch
	Members() []Member
	// Commit creates a pending commit adding the KeyPackages and removing
	// the leaves; the group is unchanged until MergePendingCommit. With
	// outOfBand the Welcome and GroupInfo leave the ratchet tree out and
	// the pending commit's Tree holds it.
	// With path the commit carries an UpdatePath even if its proposals
	// do not require one (client/trees.go, "Filling the tree").
	Commit(adds [][]byte, removes []uint32, outOfBand, path bool) (*PendingCommit, error)
	MergePendingCommit() error
	Encrypt(plaintext, aad []byte) ([]byte, error)
	Process(msg []byte) (Processed, error)
	// SetCommitPolicy installs f, called with the effect of every commit of
	// another member Process applies, before anything changes: an error
	// refuses the commit (Process fails, the group stays in its epoch).
	SetCommitPolicy(f func(CommitEffect) error)
	EpochAuthenticator() []byte
	// Export is the MLS exporter of the current epoch (RFC 9420 §8.5):
	// call media keys derive from it (sframe, RFC 9605 §5.2).
	Export(label string, context []byte, length int) ([]byte, error)
	MarshalState() ([]byte, error)
}

// ErrNotForMe: a Welcome for another device (CodeNotFound).
var ErrNotForMe = parley.Errorf(parley.CodeNotFound, ReasonWelcomeNotForMe, "the welcome is for another device")

// CredentialFor returns the credential identity of a device.
func CredentialFor(u parley.UserID, d parley.DeviceID) string {
	return strconv.FormatInt(int64(u), 10) + ":" + strconv.FormatInt(int64(d), 10)
}

// ParseCredential parses "<user_id>:<device_id>".
func ParseCredential(s string) (parley.UserID, parley.DeviceID, error) {
	us, ds, ok := strings.Cut(s, ":")
	if !ok {
		return 0, 0, fmt.Errorf("credential %q: want <user>:<device>", s)
	}
	u, err1 := strconv.ParseInt(us, 10, 64)
	d, err2 := strconv.ParseInt(ds, 10, 64)
	if err1 != nil || err2 != nil || u <= 0 || d <= 0 {
		return 0, 0, fmt.Errorf("credential %q: want <user>:<device>", s)
	}
	return parley.UserID(u), parley.DeviceID(d), nil
}

// CommitEffect is what a commit of another member does, as the MLS engine
// reports it before applying it.
type CommitEffect struct {
	External  bool
	Committer Member
	Added     []Member
	Removed   []Member
	Other     int // proposals other than add, remove, update and external init
}
