package mls

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
)

// This file implements TreeKEM (RFC 9420 §7.4–§7.6): creating an UpdatePath
// for a committer, merging a received UpdatePath into the public tree with
// parent-hash verification, and decrypting the path secret a receiver is
// entitled to. A commit touches only the committer's filtered direct path,
// so every operation here is O(log n) in tree size apart from the
// encryptions, one per node of each copath resolution.

// ErrInvalidUpdatePath is wrapped by every error about a received UpdatePath
// that does not match the tree or cannot be decrypted.
var ErrInvalidUpdatePath = errors.New("mls: invalid update path")

// nodeKey is an HPKE key pair held for a tree node.
type nodeKey struct {
	priv, pub []byte
}

// treePrivate is a member's private view of the ratchet tree: the HPKE
// private keys of its own leaf and of the nodes on its direct path that it
// knows (RFC 9420 §4.2 tree invariant). Entries whose public key no longer
// matches the tree are dropped by prune, so outdated keys are deleted as
// soon as the tree moves on (§7.5: "each recipient MUST delete outdated key
// material").
type treePrivate struct {
	self LeafIndex
	keys map[nodeIndex]nodeKey
}

func newTreePrivate(self LeafIndex) *treePrivate {
	return &treePrivate{self: self, keys: make(map[nodeIndex]nodeKey)}
}

// clone returns a copy sharing the (immutable) key bytes.
func (p *treePrivate) clone() *treePrivate {
	c := &treePrivate{self: p.self, keys: make(map[nodeIndex]nodeKey, len(p.keys))}
	for k, v := range p.keys {
		c.keys[k] = v
	}
	return c
}

// keyFor returns the private key for node x if held and still current in t.
func (p *treePrivate) keyFor(t *ratchetTree, x nodeIndex) ([]byte, bool) {
	k, ok := p.keys[x]
	if !ok {
		return nil, false
	}
	n := t.node(x)
	if n == nil || !bytes.Equal(n.encKey(), k.pub) {
		return nil, false
	}
	return k.priv, true
}

// prune deletes keys for nodes that are outside the tree, no longer on the
// member's direct path, or whose public key changed.
func (p *treePrivate) prune(t *ratchetTree) {
	self := p.self.toNode()
	for x, k := range p.keys {
		n := t.node(x)
		if n == nil || !isAncestor(x, self) || !bytes.Equal(n.encKey(), k.pub) {
			delete(p.keys, x)
		}
	}
}

// deriveNodeKey derives the node key pair from a path secret:
// DeriveKeyPair(DeriveSecret(path_secret, "node")) (§7.4).
func deriveNodeKey(cs CipherSuite, pathSecret []byte) (nodeKey, error) {
	ns, err := cs.DeriveSecret(pathSecret, "node")
	if err != nil {
		return nodeKey{}, err
	}
	priv, pub, err := cs.DeriveKeyPair(ns)
	if err != nil {
		return nodeKey{}, err
	}
	return nodeKey{priv: priv, pub: pub}, nil
}

// nextPathSecret is DeriveSecret(path_secret, "path") (§7.4).
func nextPathSecret(cs CipherSuite, ps []byte) ([]byte, error) {
	return cs.DeriveSecret(ps, "path")
}

// pathCreation is the result of createUpdatePath.
type pathCreation struct {
	path         *UpdatePath
	commitSecret []byte
	// pathSecrets holds the path secret of each node of the filtered
	// direct path (for Welcome messages to new members).
	pathSecrets map[nodeIndex][]byte
	// keys are the committer's new private keys (leaf and path).
	keys map[nodeIndex]nodeKey
}

// leafNodeParams are the application-chosen fields of a committer's new
// LeafNode; encryption key, source and parent hash are filled in by
// createUpdatePath.
type leafNodeParams struct {
	signatureKey []byte
	credential   Credential
	capabilities Capabilities
	extensions   []Extension
}

// createUpdatePath performs the committer side of §7.5 on t, which must
// already reflect the commit's proposals (and, for an external commit, hold
// a placeholder leaf at sender). It blanks sender's direct path, installs
// fresh keys on the filtered direct path, sets parent hashes, signs the new
// leaf with sigPriv and encrypts each path secret to the copath resolution
// minus the leaves in excluded (members added by the same commit).
// context is called with the new tree hash and must return the encoded
// provisional GroupContext used as HPKE context.
func (t *ratchetTree) createUpdatePath(sender LeafIndex, params leafNodeParams, sigPriv, groupID []byte,
	excluded map[LeafIndex]bool, context func(treeHash []byte) ([]byte, error)) (*pathCreation, error) {
	cs := t.suite
	t.blankDirectPath(sender)
	fdp, copathChildren := t.filteredDirectPath(sender)

	leafSecret := make([]byte, cs.HashSize())
	if _, err := rand.Read(leafSecret); err != nil {
		return nil, err
	}
	leafKey, err := deriveNodeKey(cs, leafSecret)
	if err != nil {
		return nil, err
	}
	res := &pathCreation{
		pathSecrets: make(map[nodeIndex][]byte, len(fdp)),
		keys:        make(map[nodeIndex]nodeKey, len(fdp)+1),
	}
	res.keys[sender.toNode()] = leafKey

	secrets := make([][]byte, len(fdp))
	ps := leafSecret
	for i, x := range fdp {
		if ps, err = nextPathSecret(cs, ps); err != nil {
			return nil, err
		}
		secrets[i] = ps
		k, err := deriveNodeKey(cs, ps)
		if err != nil {
			return nil, err
		}
		res.keys[x] = k
		res.pathSecrets[x] = ps
	}
	if res.commitSecret, err = nextPathSecret(cs, ps); err != nil {
		return nil, err
	}

	leafPH := t.installPath(fdp, copathChildren, func(i int) []byte { return res.keys[fdp[i]].pub })

	ln := &LeafNode{
		EncryptionKey:  leafKey.pub,
		SignatureKey:   params.signatureKey,
		Credential:     params.credential,
		Capabilities:   params.capabilities,
		LeafNodeSource: LeafNodeSourceCommit,
		ParentHash:     leafPH,
		Extensions:     params.extensions,
	}
	if err := ln.Sign(cs, sigPriv, groupID, uint32(sender)); err != nil {
		return nil, err
	}
	t.setLeaf(sender, ln)

	ctx, err := context(t.treeHash())
	if err != nil {
		return nil, err
	}
	up := &UpdatePath{LeafNode: *ln, Nodes: make([]UpdatePathNode, len(fdp))}
	// In a tree whose parents are mostly blank (a large group built by
	// batched adds) the resolutions hold thousands of leaves: encrypt to
	// them in parallel, with the EncryptContext hashed once.
	seal, err := cs.encryptWithLabelBatch(labelUpdatePathNode, ctx)
	if err != nil {
		return nil, err
	}
	type job struct {
		i int
		r nodeIndex
	}
	var jobs []job
	for i, x := range fdp {
		up.Nodes[i].EncryptionKey = res.keys[x].pub
		for _, r := range t.resolution(copathChildren[i]) {
			if r.isLeaf() && excluded[r.toLeaf()] {
				continue
			}
			jobs = append(jobs, job{i, r})
		}
	}
	out := make([]HPKECiphertext, len(jobs))
	if err := parallelFor(len(jobs), func(k int) error {
		kem, ct, err := seal(t.nodes[jobs[k].r].encKey(), secrets[jobs[k].i])
		if err != nil {
			return fmt.Errorf("mls: encrypt path secret to node %d: %w", jobs[k].r, err)
		}
		out[k] = HPKECiphertext{KEMOutput: kem, Ciphertext: ct}
		return nil
	}); err != nil {
		return nil, err
	}
	for k, j := range jobs {
		up.Nodes[j.i].EncryptedPathSecret = append(up.Nodes[j.i].EncryptedPathSecret, out[k])
	}
	res.path = up
	return res, nil
}

// installPath sets the parent nodes of a filtered direct path to fresh
// ParentNodes with the public keys given by pub(i), empty unmerged leaves and
// parent hashes computed top down (§7.9). It returns the parent hash the
// leaf must carry. The direct path must already be blank.
func (t *ratchetTree) installPath(fdp, copathChildren []nodeIndex, pub func(i int) []byte) []byte {
	above := []byte{}
	for i := len(fdp) - 1; i >= 0; i-- {
		if i < len(fdp)-1 {
			above = t.parentHash(fdp[i+1], copathChildren[i+1])
		}
		t.setParent(fdp[i], &ParentNode{EncryptionKey: pub(i), ParentHash: above})
	}
	if len(fdp) == 0 {
		return []byte{}
	}
	return t.parentHash(fdp[0], copathChildren[0])
}

// mergeUpdatePath performs the public part of receiving an UpdatePath
// (§7.5 "merges UpdatePath into the tree"): it checks that the path has one
// node per filtered-direct-path node and one ciphertext per non-excluded
// resolution member, blanks the direct path, installs the new keys with
// recomputed parent hashes and the new leaf, and verifies the leaf's
// parent_hash. t must already reflect the commit's proposals. Leaf node
// validation (signature, source, keys) is the caller's job.
func (t *ratchetTree) mergeUpdatePath(sender LeafIndex, path *UpdatePath, excluded map[LeafIndex]bool) error {
	if uint32(sender) >= t.numLeaves() {
		return fmt.Errorf("%w: sender %d outside tree", ErrInvalidUpdatePath, sender)
	}
	fdp, copathChildren := t.filteredDirectPath(sender)
	if len(path.Nodes) != len(fdp) {
		return fmt.Errorf("%w: %d nodes for a filtered direct path of %d", ErrInvalidUpdatePath, len(path.Nodes), len(fdp))
	}
	for i := range fdp {
		want := 0
		for _, r := range t.resolution(copathChildren[i]) {
			if !(r.isLeaf() && excluded[r.toLeaf()]) {
				want++
			}
		}
		if len(path.Nodes[i].EncryptedPathSecret) != want {
			return fmt.Errorf("%w: node %d has %d ciphertexts, want %d", ErrInvalidUpdatePath, fdp[i], len(path.Nodes[i].EncryptedPathSecret), want)
		}
		if err := t.suite.ValidateHPKEPublicKey(path.Nodes[i].EncryptionKey); err != nil {
			return fmt.Errorf("%w: node %d: %w", ErrInvalidUpdatePath, fdp[i], err)
		}
	}
	t.blankDirectPath(sender)
	leafPH := t.installPath(fdp, copathChildren, func(i int) []byte { return slices.Clone(path.Nodes[i].EncryptionKey) })
	if !bytes.Equal(path.LeafNode.ParentHash, leafPH) {
		return fmt.Errorf("%w: leaf parent_hash does not match the path", ErrInvalidUpdatePath)
	}
	ln := path.LeafNode
	t.setLeaf(sender, &ln)
	return nil
}

// decryptUpdatePath performs the private part of receiving an UpdatePath
// (§7.5 "decrypts the path secrets") for the member described by priv, on
// the tree t into which the path has already been merged. It returns the
// commit secret and records the new path keys in priv. ctx is the encoded
// provisional GroupContext. lcaSecret is the path secret of the lowest
// common ancestor of sender and receiver (the first one decrypted).
func (t *ratchetTree) decryptUpdatePath(priv *treePrivate, sender LeafIndex, path *UpdatePath, excluded map[LeafIndex]bool, ctx []byte) (commitSecret, lcaSecret []byte, err error) {
	cs := t.suite
	self := priv.self.toNode()
	fdp, copathChildren := t.filteredDirectPath(sender)
	if len(fdp) != len(path.Nodes) {
		return nil, nil, fmt.Errorf("%w: path length mismatch", ErrInvalidUpdatePath)
	}
	start := -1
	for i, c := range copathChildren {
		if isAncestor(c, self) {
			start = i
			break
		}
	}
	if start < 0 {
		return nil, nil, fmt.Errorf("%w: receiver %d is not below the sender's filtered direct path", ErrInvalidUpdatePath, priv.self)
	}
	var ct *HPKECiphertext
	var key []byte
	j := 0
	for _, r := range t.resolution(copathChildren[start]) {
		if r.isLeaf() && excluded[r.toLeaf()] {
			continue
		}
		if k, ok := priv.keyFor(t, r); ok && j < len(path.Nodes[start].EncryptedPathSecret) {
			ct, key = &path.Nodes[start].EncryptedPathSecret[j], k
			break
		}
		j++
	}
	if ct == nil {
		return nil, nil, fmt.Errorf("%w: no private key for the copath resolution of node %d", ErrInvalidUpdatePath, fdp[start])
	}
	ps, err := cs.DecryptWithLabel(key, labelUpdatePathNode, ctx, ct.KEMOutput, ct.Ciphertext)
	lcaSecret = ps
	if err != nil {
		return nil, nil, fmt.Errorf("%w: decrypt path secret: %w", ErrInvalidUpdatePath, err)
	}
	newKeys := make(map[nodeIndex]nodeKey, len(fdp)-start)
	for i := start; i < len(fdp); i++ {
		k, err := deriveNodeKey(cs, ps)
		if err != nil {
			return nil, nil, err
		}
		if !bytes.Equal(k.pub, path.Nodes[i].EncryptionKey) {
			return nil, nil, fmt.Errorf("%w: derived public key of node %d does not match", ErrInvalidUpdatePath, fdp[i])
		}
		newKeys[fdp[i]] = k
		if ps, err = nextPathSecret(cs, ps); err != nil {
			return nil, nil, err
		}
	}
	for x, k := range newKeys {
		priv.keys[x] = k
	}
	priv.prune(t)
	return ps, lcaSecret, nil
}

// implantPathSecret installs the keys a new member derives from the path
// secret in its Welcome (§12.4.3.1): pathSecret belongs to the lowest common
// ancestor of the member and the committer; the keys of that node and of the
// following nodes of the committer's filtered direct path are derived and
// checked against the public tree.
func (t *ratchetTree) implantPathSecret(priv *treePrivate, committer LeafIndex, pathSecret []byte) error {
	cs := t.suite
	lca := commonAncestor(priv.self.toNode(), committer.toNode())
	fdp, _ := t.filteredDirectPath(committer)
	start := slices.Index(fdp, lca)
	if start < 0 {
		return fmt.Errorf("%w: common ancestor %d is not on the committer's filtered direct path", ErrInvalidTree, lca)
	}
	ps := pathSecret
	for _, x := range fdp[start:] {
		k, err := deriveNodeKey(cs, ps)
		if err != nil {
			return err
		}
		if !bytes.Equal(k.pub, t.nodes[x].encKey()) {
			return fmt.Errorf("%w: path secret does not match the public key of node %d", ErrInvalidTree, x)
		}
		priv.keys[x] = k
		if ps, err = nextPathSecret(cs, ps); err != nil {
			return err
		}
	}
	return nil
}
