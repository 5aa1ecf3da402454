package mls

import (
	"encoding/binary"
	"fmt"
)

// Deferred leaf signatures (Config.DeferLeafSignatures).
//
// RFC 9420 has a joiner verify the signature of every leaf of the tree it
// joins (§12.4.3.1, §7.3) and every member verify both signatures of every
// KeyPackage a commit adds (§12.2). In a 5,000-member community that is
// 5,000 to 10,000 Ed25519 verifications for each member that comes online,
// although the committer who added those members has verified all of them
// already and signed the tree hash that binds them (in the GroupInfo, and
// in the confirmation tag every member checks).
//
// A group with DeferLeafSignatures follows the light-client model of the
// IETF MLS partial-tree work instead: it trusts the committer's tree hash
// for leaves it has not used, and verifies a leaf's own signature the first
// time the leaf matters to it:
//
//   - before accepting any message (application, proposal or commit)
//     signed with that leaf's key, in the current or a past epoch;
//   - the GroupInfo signer's leaf, when joining;
//   - every leaf still unverified, before this member commits or signs a
//     GroupInfo, so that it never vouches for a tree it has not checked,
//     and before it encrypts to other members' keys (its UpdatePath).
//
// Everything else of §7.3 (credential validation, key uniqueness,
// capabilities, lifetimes where required) and all of the tree checks
// (tree hash, parent hashes, structure) are done as usual; so is every
// check of the leaves a commit's UpdatePath or an Update proposal brings.
// A KeyPackage's own signature (over its init key) is not checked by
// members processing the commit that adds it: only the committer, who
// encrypts the Welcome to that init key, relies on it, and the committer
// checks it. The wire format is unchanged: interoperability is not
// affected, only when this member notices a leaf a malicious committer
// forged (at first use instead of at join).
//
// The set of unverified leaves is part of the group state.

// deferKey names one leaf at one position: a leaf is deferred until its
// signature has been checked at that index with that key.
func deferKey(l LeafIndex, ln *LeafNode) string {
	b := binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(ln.SignatureKey)+len(ln.Signature)), uint32(l))
	b = append(b, ln.SignatureKey...)
	return string(append(b, ln.Signature...))
}

// deferLeaf records leaf l of t as not yet signature-checked.
func (t *ratchetTree) deferLeaf(l LeafIndex) {
	ln := t.leaf(l)
	if ln == nil {
		return
	}
	if t.deferred == nil {
		t.deferred = make(map[string]struct{})
	}
	t.deferred[deferKey(l, ln)] = struct{}{}
}

// checkDeferredLeaf verifies the signature of leaf l of t if it was
// deferred, and forgets it once verified.
func (t *ratchetTree) checkDeferredLeaf(l LeafIndex, groupID []byte) error {
	ln := t.leaf(l)
	if ln == nil || len(t.deferred) == 0 {
		return nil
	}
	k := deferKey(l, ln)
	if _, ok := t.deferred[k]; !ok {
		return nil
	}
	if err := ln.VerifySignature(t.suite, groupID, uint32(l)); err != nil {
		return fmt.Errorf("%w: leaf %d (signature checked at first use): %v", ErrInvalidLeafNode, l, err)
	}
	delete(t.deferred, k)
	return nil
}

// checkAllDeferred verifies every deferred leaf of t still in the tree.
func (t *ratchetTree) checkAllDeferred(groupID []byte) error {
	if len(t.deferred) == 0 {
		return nil
	}
	var todo []LeafIndex
	for l := LeafIndex(0); uint32(l) < t.numLeaves(); l++ {
		if ln := t.leaf(l); ln != nil {
			if _, ok := t.deferred[deferKey(l, ln)]; ok {
				todo = append(todo, l)
			}
		}
	}
	if err := parallelFor(len(todo), func(i int) error {
		ln := t.leaf(todo[i])
		if err := ln.VerifySignature(t.suite, groupID, uint32(todo[i])); err != nil {
			return fmt.Errorf("%w: leaf %d (deferred signature): %v", ErrInvalidLeafNode, todo[i], err)
		}
		return nil
	}); err != nil {
		return err
	}
	for _, l := range todo {
		delete(t.deferred, deferKey(l, t.leaf(l)))
	}
	return nil
}

// deferredLeaves returns the indices of t's leaves whose signature is
// still unchecked.
func (t *ratchetTree) deferredLeaves() []LeafIndex {
	var out []LeafIndex
	if len(t.deferred) == 0 {
		return nil
	}
	for l := LeafIndex(0); uint32(l) < t.numLeaves(); l++ {
		if ln := t.leaf(l); ln != nil {
			if _, ok := t.deferred[deferKey(l, ln)]; ok {
				out = append(out, l)
			}
		}
	}
	return out
}
