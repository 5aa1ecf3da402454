package client

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/apiclient"
	"github.com/parleyhq/parley/mls"
	"github.com/parleyhq/parley/proto/parleypb"
)

// Large groups: the ratchet tree out of band, adds in batches.
//
// A Welcome or GroupInfo normally carries the group's whole ratchet tree
// (~180 bytes a member). Above Config.InlineTreeMembers members this device
// commits with the tree left out: it uploads the new epoch's tree to the
// server (PUT /mls/v1/trees) before the commit and names it in the commit
// (ratchet_tree_ref); the server binds it to the new epoch with the commit.
// Joiners whose Welcome or GroupInfo has no tree fetch it
// (GET /mls/v1/trees/<conversation>/<epoch>), retrying briefly while it is
// not there. The tree is safe to take from the server: package mls checks
// its hash against the signed GroupInfo and refuses a tampered one.
//
// Adding many devices (creating a community of thousands) commits in
// chunks, each as large as fits one frame (the commit carries every added
// KeyPackage, the Welcome ~120 bytes per added device): see addChunk.
//
// Filling the tree. Commits that only add leave the tree's parent nodes
// blank, and a commit with an UpdatePath (an external join by invite link,
// a removal) encrypts its path secrets to the resolution of its copath:
// with blank parents, to nearly every member (410 KB at 5,000 members).
// So the last of several batches carries this device's UpdatePath: it
// costs that one commit an encryption to every earlier member (it then
// goes out of band, like any commit too large for its frame), and sets the
// parent nodes of this device's direct path, which cover the left half of
// the tree, the left quarter, and so on. A later joiner at the right edge
// then encrypts to one node for the whole left half and to each member of
// its own half: 75 KB at 5,000 members instead of 410 (at 4,096 members or
// fewer, to a handful of nodes). Members' own commits fill the rest.

// DefaultInlineTreeMembers is the default Config.InlineTreeMembers.
const DefaultInlineTreeMembers = 64

// Size limits of the server's defaults (delivery.Config.MaxPayloadBytes,
// gateway.Config.MaxFrameBytes); the frame limit is taken from HelloOK
// when the server sends it.
const (
	maxPayloadBytes = 192 << 10
	maxFrameBytes   = 256 << 10
)

// Per-add size bounds used to size a chunk (measured: a KeyPackage of this
// client is ~280 bytes, an EncryptedGroupSecrets 118 bytes, 152 with a
// path secret); the frame's fixed part is bounded by fixedReserve.
const (
	proposalOverhead = 8    // ProposalOrRef and Proposal headers of one Add
	welcomePerAdd    = 160  // one EncryptedGroupSecrets, with margin
	addedDeviceBytes = 24   // one AddedDevice in the CommitRequest
	fixedReserve     = 8192 // commit framing and signature, GroupInfo, Welcome's encrypted GroupInfo, frame fields
)

func (c *Client) inlineTreeMembers() int {
	if c.cfg.InlineTreeMembers > 0 {
		return c.cfg.InlineTreeMembers
	}
	return DefaultInlineTreeMembers
}

// outOfBand reports whether a group of this many members keeps its tree
// out of band.
func (c *Client) outOfBand(members int) bool { return members > c.inlineTreeMembers() }

// frameLimit is the largest frame the server accepts.
func (c *Client) frameLimit(ctx context.Context) int {
	if s, err := c.session(ctx, false); err == nil && s.Hello != nil && s.Hello.MaxFrameBytes > 0 {
		return int(s.Hello.MaxFrameBytes)
	}
	return maxFrameBytes
}

// addChunk returns how many of adds (KeyPackages, from the first) one
// commit may carry so that the commit, the Welcome and the request frame
// fit the server's limits; at least 1. With inlineTree the Welcome's
// GroupInfo and the commit's GroupInfo each carry the ratchet tree, so
// every add also costs its LeafNode twice.
func addChunk(adds [][]byte, frameLimit, maxAdds int, inlineTree bool) int {
	commit, welcome, frame := fixedReserve, fixedReserve, 2*fixedReserve
	n := 0
	for _, kp := range adds {
		perWelcome, leaf := addWelcomeBytes(kp)
		if inlineTree {
			perWelcome += leaf
		}
		c, w, f := commit+len(kp)+proposalOverhead, welcome+perWelcome, frame+len(kp)+proposalOverhead+perWelcome+addedDeviceBytes
		if inlineTree {
			f += leaf // the GroupInfo's copy of the tree
		}
		if c > maxPayloadBytes || w > maxPayloadBytes || f > frameLimit || (maxAdds > 0 && n >= maxAdds) {
			break
		}
		commit, welcome, frame, n = c, w, f, n+1
	}
	return max(n, 1)
}

// addWelcomeBytes bounds what adding the KeyPackage kp costs a Welcome
// (its EncryptedGroupSecrets: ~128 bytes plus the HPKE encapsulation, which
// is as large as the init key: 32 bytes with X25519, 1,120 with X-Wing's
// 1,216-byte key) and estimates its LeafNode's size in the tree. A
// KeyPackage that does not parse is counted as suite 1's.
func addWelcomeBytes(kp []byte) (welcome, leaf int) {
	k, err := mls.UnmarshalKeyPackage(kp)
	if err != nil || len(k.InitKey) <= 32 {
		return welcomePerAdd, len(kp)
	}
	return welcomePerAdd - 32 + len(k.InitKey), len(kp) - len(k.InitKey)
}

// checkCommitSize refuses, before sending, a commit the server would not
// take: larger than a payload, or than a frame with its Welcome and
// GroupInfo. In a large group whose members have not committed yet most of
// the ratchet tree's parent nodes are blank, so a commit with an
// UpdatePath (a removal, an external join) encrypts to nearly every member
// (~82 bytes each) and no longer fits past ~2,300 members.
func checkCommitSize(pc *pendingCommit, frameLimit int) error {
	total := len(pc.Commit) + len(pc.Welcome) + len(pc.GroupInfo) + fixedReserve
	if len(pc.Commit) > maxPayloadBytes || len(pc.Welcome) > maxPayloadBytes || len(pc.GroupInfo) > maxPayloadBytes || total > frameLimit {
		return parley.Errorf(parley.CodeTooLarge, ReasonCommitTooLarge,
			"the commit (%d bytes, Welcome %d) is too large for the server (%d per payload, %d per frame): the group is too large for this change until its members have updated their keys",
			len(pc.Commit), len(pc.Welcome), maxPayloadBytes, frameLimit)
	}
	return nil
}

// treeHTTP is the HTTP client for tree transfers.
var treeHTTP = &http.Client{Timeout: 2 * time.Minute}

// trees is the device's client of the server's tree routes (apiclient).
func (c *Client) trees() (*apiclient.Client, error) {
	acct := c.Account()
	api, err := apiclient.ForDevice(acct.ServerURL, acct.Device, acct.Secret)
	if err != nil {
		return nil, err
	}
	api.HTTP = treeHTTP
	return api, nil
}

// uploadTree uploads the tree of a commit made out of band and returns its
// ref ("" when the commit carries its tree inline).
func (c *Client) uploadTree(ctx context.Context, conv parley.ConversationID, tree []byte) (parley.TreeRef, error) {
	if tree == nil {
		return "", nil
	}
	api, err := c.trees()
	if err == nil {
		var ref parley.TreeRef
		if ref, err = api.PutTree(ctx, conv, tree); err == nil {
			return ref, nil
		}
	}
	return "", errorf("upload ratchet tree", err)
}

// fetchTree downloads the ratchet tree of a conversation's epoch. It
// retries while the server has none bound yet (tree_not_found) or cannot
// be reached. The bytes are not trusted: package mls checks them against
// the signed GroupInfo.
func (c *Client) fetchTree(ctx context.Context, conv parley.ConversationID, epoch parley.Epoch) ([]byte, error) {
	b, err := c.fetchBound(ctx, "trees", parley.ReasonTreeNotFound, conv, epoch)
	return b, errorf(fmt.Sprintf("ratchet tree of %s epoch %d", conv, epoch), err)
}

// commitRefPrefix starts the log payload of a commit sent out of band
// (it cannot start an MLSMessage, whose first bytes are 0x00 0x01).
const commitRefPrefix = parley.CommitRefPrefix

// maxInlineCommit is the largest commit sent in its frame.
func (c *Client) maxInlineCommit() int {
	if c.cfg.MaxInlineCommitBytes > 0 {
		return min(c.cfg.MaxInlineCommitBytes, maxPayloadBytes)
	}
	return maxPayloadBytes
}

// commitPayload returns what a CommitRequest carries for pc: the commit
// itself, or, when it is too large for its frame, a reference to its bytes
// uploaded out of band (and the ref to name in commit_ref). It refuses
// (too_large/commit_too_large) what cannot be sent either way.
func (c *Client) commitPayload(ctx context.Context, conv parley.ConversationID, pc *pendingCommit) ([]byte, parley.TreeRef, error) {
	limit := c.frameLimit(ctx)
	if len(pc.Commit) <= c.maxInlineCommit() && checkCommitSize(pc, limit) == nil {
		return pc.Commit, "", nil
	}
	ref, err := c.uploadTree(ctx, conv, pc.Commit)
	if err != nil {
		return nil, "", err
	}
	payload := []byte(commitRefPrefix + string(ref))
	small := *pc
	small.Commit = payload
	if err := checkCommitSize(&small, limit); err != nil {
		return nil, "", err
	}
	return payload, ref, nil
}

// largeCommit returns the commit a log payload stands for: the payload
// itself, or the bytes of a commit sent out of band, fetched and checked
// against their ref.
func (c *Client) largeCommit(ctx context.Context, conv parley.ConversationID, epoch parley.Epoch, payload []byte) ([]byte, error) {
	ref, ok := bytes.CutPrefix(payload, []byte(commitRefPrefix))
	if !ok {
		return payload, nil
	}
	b, err := c.fetchBound(ctx, "commits", parley.ReasonCommitNotFound, conv, epoch)
	if err != nil {
		return nil, errorf(fmt.Sprintf("commit of %s epoch %d", conv, epoch), err)
	}
	if parley.TreeRefOf(b) != parley.TreeRef(ref) {
		return nil, parley.Errorf(parley.CodeInvalid, parley.ReasonCommitRef, "the server's commit of %s epoch %d does not match its ref", conv, epoch)
	}
	return b, nil
}

// fetchBound downloads what is bound to a conversation's epoch
// (apiclient.Client.FetchBound).
func (c *Client) fetchBound(ctx context.Context, what, notFound string, conv parley.ConversationID, epoch parley.Epoch) ([]byte, error) {
	api, err := c.trees()
	if err != nil {
		return nil, err
	}
	return api.FetchBound(ctx, what, notFound, conv, epoch)
}

// preloadGroupKeys caches the published identity keys of every member
// device of a large group from one request (the group's details), so that
// validating its thousands of credentials does not ask the server user by
// user. Best effort: on failure the validator asks per user as usual. The
// keys come from the same server either way.
func (c *Client) preloadGroupKeys(ctx context.Context, id parley.ConversationID) {
	f, err := c.request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_GroupGet{GroupGet: &parleypb.GroupGetRequest{ConversationId: string(id)}}}, true)
	if err != nil {
		return
	}
	g := groupFrom(f.GetGroup())
	now := c.clock.Now()
	c.keysMu.Lock()
	defer c.keysMu.Unlock()
	for _, m := range g.Members {
		if len(m.Devices) > 0 {
			c.keys[m.User] = deviceKeys{at: now, keys: m.Devices}
		}
	}
}
