package mls

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/parleyhq/parley/mls/codec"
)

// This file implements the public part of the ratchet tree (RFC 9420 §4, §7):
// the array representation with blank nodes, unmerged leaves, resolutions,
// tree hashes (§7.8) and parent hashes (§7.9), extension and truncation
// (§7.7), and the ratchet_tree extension encoding (§12.4.3.3).
//
// Performance model. Tree hashes and resolutions are cached per node and
// invalidated only along the direct path of a changed node, so a commit
// touching one path costs O(log n) hash computations once the cache is warm.
// Cloning a tree (done for every commit created or processed, so that a
// failed or pending commit never disturbs the current state) copies the node
// array — a flat memcpy of small structs — but shares every LeafNode,
// ParentNode, cached hash and cached resolution, which are immutable once
// stored. Uniqueness of encryption and signature keys is checked through a
// key index that is exact for the tree a clone was made from plus the small
// set of nodes changed since, so it too costs O(changed nodes).

// Errors reported by ratchet tree validation.
var (
	// ErrInvalidTree is wrapped by every error reporting a structurally or
	// cryptographically invalid ratchet tree.
	ErrInvalidTree = errors.New("mls: invalid ratchet tree")
	// ErrDuplicateKey is wrapped when an encryption or signature key
	// appears in more than one node of a tree.
	ErrDuplicateKey = errors.New("mls: duplicate key in ratchet tree")
)

// maxTreeLeaves bounds the number of leaves of a tree this package accepts.
// It is far above any realistic group and keeps index arithmetic in uint32.
const maxTreeLeaves = 1 << 24

// treeNode is one slot of the array representation. At most one of leaf and
// parent is set; both nil means blank. The pointed-to values are never
// modified once stored in a tree: changes replace the pointer.
type treeNode struct {
	leaf   *LeafNode
	parent *ParentNode
	// hash is the cached tree hash of the subtree rooted here, nil if not
	// computed or invalidated.
	hash []byte
	// res is the cached resolution, valid when resOK is set.
	res   []nodeIndex
	resOK bool
	// enc caches the node's encoding in the ratchet_tree extension
	// (optional<Node>, non-blank nodes only), nil if not computed. Like
	// hash, it is valid because node objects are replaced, never
	// modified, once in a tree.
	enc []byte
}

func (n *treeNode) blank() bool { return n.leaf == nil && n.parent == nil }

// encKey returns the HPKE public key held by the node, or nil if blank.
func (n *treeNode) encKey() []byte {
	switch {
	case n.leaf != nil:
		return n.leaf.EncryptionKey
	case n.parent != nil:
		return n.parent.EncryptionKey
	}
	return nil
}

// keyIndex maps encoded keys to the node holding them. It is exact for the
// tree it was built for (every key present maps to its holder) and may hold
// stale entries, which lookups filter by checking the node's current key.
type keyIndex struct {
	enc map[string]nodeIndex
	sig map[string]LeafIndex
}

// ratchetTree is the public ratchet tree of a group. The number of leaves
// is always a power of two (RFC 9420 §7.7).
type ratchetTree struct {
	suite CipherSuite
	// nodes holds one object per node, never nil. Objects are shared
	// between clones and replaced (copy on write) along the direct path of
	// any change, so an object shared by two trees roots identical
	// subtrees in both and its caches are valid for both.
	nodes []*treeNode

	// index is exact for the tree as it was when dirty was last emptied;
	// dirty lists the nodes changed since then and ovEnc/ovSig the keys
	// written into them.
	index *keyIndex
	dirty map[nodeIndex]struct{}
	ovEnc map[string][]nodeIndex
	ovSig map[string][]LeafIndex

	// caps summarises the credential types of the members, maintained
	// incrementally by setLeaf.
	caps capsSummary

	// blankFrom is a leaf index below which no leaf is blank, so that the
	// adds of a batch find the leftmost blank leaf without rescanning the
	// tree each (lowered whenever a leaf is blanked).
	blankFrom LeafIndex

	// deferred holds the leaves whose signature is not checked yet
	// (deferred.go), by deferKey. It is shared by a tree, its clones and
	// its past epochs' trees: a check done in one holds for all.
	deferred map[string]struct{}
}

// capsSummary counts, over the non-blank leaves, how many members support
// and use each credential type, so that the credential-compatibility check
// of §7.3 costs O(1) per leaf instead of a scan of the group.
type capsSummary struct {
	members int
	support map[CredentialType]int
	used    map[CredentialType]int
}

func (c *capsSummary) clone() capsSummary {
	return capsSummary{members: c.members, support: maps.Clone(c.support), used: maps.Clone(c.used)}
}

func (c *capsSummary) add(ln *LeafNode, delta int) {
	if ln == nil {
		return
	}
	if c.support == nil {
		c.support = make(map[CredentialType]int)
		c.used = make(map[CredentialType]int)
	}
	c.members += delta
	c.used[ln.Credential.CredentialType] += delta
	for i, t := range ln.Capabilities.Credentials {
		if slices.Contains(ln.Capabilities.Credentials[:i], t) {
			continue
		}
		c.support[t] += delta
	}
}

// credentialCompatible reports whether ln (already in the tree) uses a
// credential type every member supports and supports every credential type
// in use (§7.3).
func (t *ratchetTree) credentialCompatible(ln *LeafNode) bool {
	if t.caps.support[ln.Credential.CredentialType] != t.caps.members {
		return false
	}
	for ct, n := range t.caps.used {
		if n > 0 && !slices.Contains(ln.Capabilities.Credentials, ct) {
			return false
		}
	}
	return true
}

// newBlankNodes returns n fresh blank node objects.
func newBlankNodes(n int) []*treeNode {
	objs := make([]treeNode, n)
	out := make([]*treeNode, n)
	for i := range out {
		out[i] = &objs[i]
	}
	return out
}

// newRatchetTree returns a one-leaf tree holding leaf.
func newRatchetTree(cs CipherSuite, leaf *LeafNode) *ratchetTree {
	t := &ratchetTree{suite: cs, nodes: newBlankNodes(1)}
	t.nodes[0].leaf = leaf
	t.rebuildIndex()
	return t
}

// numLeaves returns the number of leaves (blank or not) of t.
func (t *ratchetTree) numLeaves() uint32 { return uint32(len(t.nodes)+1) / 2 }

// leafWithCredential returns the first leaf whose credential equals cred,
// or nil.
func (t *ratchetTree) leafWithCredential(cred Credential) *LeafIndex {
	for l := LeafIndex(0); uint32(l) < t.numLeaves(); l++ {
		if ln := t.leaf(l); ln != nil && sameCredential(ln.Credential, cred) {
			return &l
		}
	}
	return nil
}

// sameCredential reports whether a and b are the same credential.
func sameCredential(a, b Credential) bool {
	return a.CredentialType == b.CredentialType && bytes.Equal(a.Identity, b.Identity) &&
		slices.EqualFunc(a.Certificates, b.Certificates, bytes.Equal)
}

// width returns the number of nodes of t.
func (t *ratchetTree) width() uint32 { return uint32(len(t.nodes)) }

// root returns the root node index.
func (t *ratchetTree) root() nodeIndex { return treeRoot(t.numLeaves()) }

// node returns the node at x, or nil if x is outside the tree.
func (t *ratchetTree) node(x nodeIndex) *treeNode {
	if uint32(x) >= uint32(len(t.nodes)) {
		return nil
	}
	return t.nodes[x]
}

// leaf returns the LeafNode at leaf index l, or nil if it is blank or out of
// range. The result must not be modified.
func (t *ratchetTree) leaf(l LeafIndex) *LeafNode {
	n := t.node(l.toNode())
	if n == nil {
		return nil
	}
	return n.leaf
}

// parentNode returns the ParentNode at x, or nil if blank, a leaf, or out of
// range. The result must not be modified.
func (t *ratchetTree) parentNode(x nodeIndex) *ParentNode {
	n := t.node(x)
	if n == nil {
		return nil
	}
	return n.parent
}

// blank reports whether x is blank (or out of range).
func (t *ratchetTree) blank(x nodeIndex) bool {
	n := t.node(x)
	return n == nil || n.blank()
}

// clone returns an independent copy of t that shares immutable contents.
// The clone's key index is t's exact index plus an empty change set; t
// itself must not be modified after a clone of it has been committed with
// adoptIndex (the current state is always replaced wholesale).
func (t *ratchetTree) clone() *ratchetTree {
	c := &ratchetTree{suite: t.suite, nodes: slices.Clone(t.nodes), caps: t.caps.clone(), deferred: t.deferred, blankFrom: t.blankFrom}
	if len(t.dirty) == 0 {
		c.index = t.index
	} else {
		// t has uncommitted changes: give the clone its own exact index.
		c.rebuildIndex()
	}
	return c
}

// invalidate drops cached hashes and resolutions of x and its ancestors and
// records x as changed.
func (t *ratchetTree) invalidate(x nodeIndex) {
	if t.dirty == nil {
		t.dirty = make(map[nodeIndex]struct{})
		t.ovEnc = make(map[string][]nodeIndex)
		t.ovSig = make(map[string][]LeafIndex)
	}
	t.dirty[x] = struct{}{}
	if k := t.nodes[x].encKey(); k != nil {
		t.ovEnc[string(k)] = append(t.ovEnc[string(k)], x)
	}
	if ln := t.nodes[x].leaf; ln != nil {
		t.ovSig[string(ln.SignatureKey)] = append(t.ovSig[string(ln.SignatureKey)], x.toLeaf())
	}
	n := t.numLeaves()
	for {
		// Copy on write: the object may be shared with other trees.
		t.nodes[x] = &treeNode{leaf: t.nodes[x].leaf, parent: t.nodes[x].parent, enc: t.nodes[x].enc}
		p, ok := parentOf(x, n)
		if !ok {
			return
		}
		x = p
	}
}

// setLeaf stores ln (which must not be modified afterwards; nil blanks the
// leaf) at leaf index l, which must be inside the tree.
func (t *ratchetTree) setLeaf(l LeafIndex, ln *LeafNode) {
	x := l.toNode()
	if ln == nil {
		t.blankFrom = min(t.blankFrom, l)
	}
	t.caps.add(t.nodes[x].leaf, -1)
	t.caps.add(ln, 1)
	t.nodes[x] = &treeNode{leaf: ln}
	t.invalidate(x)
}

// setParent stores pn (nil blanks the node) at parent node x.
func (t *ratchetTree) setParent(x nodeIndex, pn *ParentNode) {
	t.nodes[x] = &treeNode{parent: pn}
	t.invalidate(x)
}

// blankDirectPath blanks every non-blank node of l's direct path.
func (t *ratchetTree) blankDirectPath(l LeafIndex) {
	for _, p := range directPath(l.toNode(), t.numLeaves()) {
		if !t.blank(p) {
			t.setParent(p, nil)
		}
	}
}

// blankLeafAndPath blanks leaf l and its direct path (Remove, §12.1.3).
func (t *ratchetTree) blankLeafAndPath(l LeafIndex) {
	if !t.blank(l.toNode()) {
		t.setLeaf(l, nil)
	}
	t.blankDirectPath(l)
}

// extend doubles the number of leaves: the current tree becomes the left
// subtree of a new blank root whose right subtree is blank (§7.7).
func (t *ratchetTree) extend() {
	n := len(t.nodes)
	t.nodes = append(t.nodes, newBlankNodes(n+1)...)
	// Record the new nodes as changed so cached state stays consistent;
	// they are blank so they hold no keys, and the new root has no cache.
	t.invalidate(t.root())
}

// truncate removes the right half of the tree while it holds no non-blank
// leaf (§7.7, §12.1.3). A tree always keeps at least one leaf.
func (t *ratchetTree) truncate() {
	for t.numLeaves() > 1 {
		half := t.numLeaves() / 2
		for l := half; l < t.numLeaves(); l++ {
			if t.nodes[LeafIndex(l).toNode()].leaf != nil {
				return
			}
		}
		t.nodes = t.nodes[:nodeWidth(half)]
		// Drop the (now meaningless) change records beyond the new width.
		for x := range t.dirty {
			if uint32(x) >= t.width() {
				delete(t.dirty, x)
			}
		}
	}
}

// leftmostBlankLeaf returns the leftmost blank leaf, extending the tree if
// there is none.
func (t *ratchetTree) leftmostBlankLeaf() LeafIndex {
	for l := t.blankFrom; uint32(l) < t.numLeaves(); l++ {
		if t.nodes[l.toNode()].leaf == nil {
			t.blankFrom = l
			return l
		}
	}
	l := LeafIndex(t.numLeaves())
	t.extend()
	return l
}

// addLeaf places ln in the leftmost blank leaf (extending the tree if
// needed), adds the leaf to the unmerged_leaves of every non-blank node on
// its direct path, and returns its index (§12.1.1).
func (t *ratchetTree) addLeaf(ln *LeafNode) LeafIndex {
	l := t.leftmostBlankLeaf()
	t.setLeaf(l, ln)
	for _, p := range directPath(l.toNode(), t.numLeaves()) {
		pn := t.nodes[p].parent
		if pn == nil {
			continue
		}
		c := *pn
		c.UnmergedLeaves = insertSorted(pn.UnmergedLeaves, uint32(l))
		t.setParent(p, &c)
	}
	return l
}

// insertSorted returns a new slice with v inserted into the sorted list s.
func insertSorted(s []uint32, v uint32) []uint32 {
	i, found := slices.BinarySearch(s, v)
	if found {
		return slices.Clone(s)
	}
	out := make([]uint32, 0, len(s)+1)
	out = append(out, s[:i]...)
	out = append(out, v)
	return append(out, s[i:]...)
}

// resolution returns the resolution of x (RFC 9420 §4.1.1): x itself and
// its unmerged leaves if x is non-blank, otherwise the concatenation of the
// resolutions of its children (empty for a blank leaf). The returned slice is
// shared with the cache and must not be modified.
func (t *ratchetTree) resolution(x nodeIndex) []nodeIndex {
	n := t.node(x)
	if n == nil {
		return nil
	}
	if n.resOK {
		return n.res
	}
	var r []nodeIndex
	switch {
	case n.leaf != nil:
		r = []nodeIndex{x}
	case n.parent != nil:
		r = make([]nodeIndex, 0, 1+len(n.parent.UnmergedLeaves))
		r = append(r, x)
		for _, u := range n.parent.UnmergedLeaves {
			r = append(r, LeafIndex(u).toNode())
		}
	case x.isLeaf():
		r = nil
	default:
		l, _ := left(x)
		rr, _ := right(x)
		a, b := t.resolution(l), t.resolution(rr)
		r = make([]nodeIndex, 0, len(a)+len(b))
		r = append(append(r, a...), b...)
	}
	n.res, n.resOK = r, true
	return r
}

// encodeTreeHashInput appends the TreeHashInput of node x given its
// children's hashes (ignored for leaves). If excluded is non-nil, the
// leaves it lists are treated as blank and removed from unmerged_leaves.
func (t *ratchetTree) encodeTreeHashInput(w *codec.Writer, x nodeIndex, lh, rh []byte, excluded map[uint32]bool) {
	n := t.nodes[x]
	if x.isLeaf() {
		w.U8(1) // leaf
		w.U32(uint32(x.toLeaf()))
		if n.leaf != nil && !excluded[uint32(x.toLeaf())] {
			w.Optional(true)
			n.leaf.Encode(w)
		} else {
			w.Optional(false)
		}
		return
	}
	w.U8(2) // parent
	if n.parent != nil {
		w.Optional(true)
		pn := n.parent
		if len(excluded) > 0 {
			c := *pn
			c.UnmergedLeaves = nil
			for _, u := range pn.UnmergedLeaves {
				if !excluded[u] {
					c.UnmergedLeaves = append(c.UnmergedLeaves, u)
				}
			}
			pn = &c
		}
		pn.Encode(w)
	} else {
		w.Optional(false)
	}
	w.Opaque(lh)
	w.Opaque(rh)
}

// nodeHash returns the tree hash of the subtree rooted at x (§7.8), using
// and filling the cache.
func (t *ratchetTree) nodeHash(x nodeIndex) []byte {
	n := t.nodes[x]
	if n.hash != nil {
		return n.hash
	}
	var lh, rh []byte
	if !x.isLeaf() {
		l, _ := left(x)
		r, _ := right(x)
		lh, rh = t.nodeHash(l), t.nodeHash(r)
	}
	w := codec.NewWriter(256)
	t.encodeTreeHashInput(w, x, lh, rh, nil)
	n.hash = t.suite.Hash(w.Bytes())
	return n.hash
}

// treeHash returns the tree hash of the whole tree.
func (t *ratchetTree) treeHash() []byte { return t.nodeHash(t.root()) }

// originalTreeHash returns the tree hash of x in the tree modified by
// blanking the leaves in excluded and removing them from unmerged_leaves
// (the "original sibling tree hash" of §7.9). Subtrees containing no
// excluded leaf use the cached hash.
func (t *ratchetTree) originalTreeHash(x nodeIndex, excluded []uint32) []byte {
	if len(excluded) == 0 {
		return t.nodeHash(x)
	}
	lo, hi := subtreeLeaves(x)
	var set map[uint32]bool
	for _, u := range excluded {
		if u >= uint32(lo) && u < uint32(hi) {
			if set == nil {
				set = make(map[uint32]bool)
			}
			set[u] = true
		}
	}
	if set == nil {
		return t.nodeHash(x)
	}
	return t.hashExcluding(x, set)
}

func (t *ratchetTree) hashExcluding(x nodeIndex, set map[uint32]bool) []byte {
	lo, hi := subtreeLeaves(x)
	hit := false
	for u := range set {
		if u >= uint32(lo) && u < uint32(hi) {
			hit = true
			break
		}
	}
	if !hit {
		return t.nodeHash(x)
	}
	var lh, rh []byte
	if !x.isLeaf() {
		l, _ := left(x)
		r, _ := right(x)
		lh, rh = t.hashExcluding(l, set), t.hashExcluding(r, set)
	}
	w := codec.NewWriter(256)
	t.encodeTreeHashInput(w, x, lh, rh, set)
	return t.suite.Hash(w.Bytes())
}

// parentHash returns the parent hash of parent node p with copath child s
// (§7.9): Hash(ParentHashInput{p.encryption_key, p.parent_hash,
// original_sibling_tree_hash}).
func (t *ratchetTree) parentHash(p, s nodeIndex) []byte {
	pn := t.nodes[p].parent
	w := codec.NewWriter(128)
	w.Opaque(pn.EncryptionKey)
	w.Opaque(pn.ParentHash)
	w.Opaque(t.originalTreeHash(s, pn.UnmergedLeaves))
	return t.suite.Hash(w.Bytes())
}

// nodeParentHash returns the parent_hash field of node x (nil for blank
// nodes and leaves not created by a commit).
func (t *ratchetTree) nodeParentHash(x nodeIndex) []byte {
	n := t.nodes[x]
	switch {
	case n.parent != nil:
		return n.parent.ParentHash
	case n.leaf != nil && n.leaf.LeafNodeSource == LeafNodeSourceCommit:
		return n.leaf.ParentHash
	}
	return nil
}

// filteredDirectPath returns the filtered direct path of leaf l (§4.1.2):
// the nodes of its direct path whose copath child has a non-empty
// resolution, with, for each, that copath child.
func (t *ratchetTree) filteredDirectPath(l LeafIndex) (path, copathChildren []nodeIndex) {
	n := t.numLeaves()
	x := l.toNode()
	for {
		p, ok := parentOf(x, n)
		if !ok {
			return path, copathChildren
		}
		s, _ := sibling(x, n)
		if len(t.resolution(s)) > 0 {
			path = append(path, p)
			copathChildren = append(copathChildren, s)
		}
		x = p
	}
}

// verifyParentHashes checks that every non-blank parent node is parent-hash
// valid (§7.9.2, "top down"): exactly one node D in the resolution of one of
// its children C carries the parent hash of P with copath child S, and the
// rest of C's resolution is exactly P's unmerged leaves under C.
func (t *ratchetTree) verifyParentHashes() error {
	for x := nodeIndex(1); uint32(x) < t.width(); x += 2 {
		pn := t.nodes[x].parent
		if pn == nil {
			continue
		}
		l, _ := left(x)
		r, _ := right(x)
		found := 0
		for _, cs := range [2][2]nodeIndex{{l, r}, {r, l}} {
			c, s := cs[0], cs[1]
			res := t.resolution(c)
			lo, hi := subtreeLeaves(c)
			var unmergedUnder []nodeIndex
			for _, u := range pn.UnmergedLeaves {
				if u >= uint32(lo) && u < uint32(hi) {
					unmergedUnder = append(unmergedUnder, LeafIndex(u).toNode())
				}
			}
			if len(res) != len(unmergedUnder)+1 {
				continue
			}
			ph := t.parentHash(x, s)
			for _, d := range res {
				if !bytes.Equal(t.nodeParentHash(d), ph) {
					continue
				}
				if sameNodeSet(res, d, unmergedUnder) {
					found++
				}
			}
		}
		if found != 1 {
			return fmt.Errorf("%w: parent node %d is not parent-hash valid (%d links)", ErrInvalidTree, x, found)
		}
	}
	return nil
}

// sameNodeSet reports whether res minus d equals want as sets (want has
// no duplicates, which verifyStructure guarantees).
func sameNodeSet(res []nodeIndex, d nodeIndex, want []nodeIndex) bool {
	if len(res) != len(want)+1 {
		return false
	}
	set := make(map[nodeIndex]bool, len(want))
	for _, y := range want {
		set[y] = true
	}
	for _, y := range res {
		if y != d && !set[y] {
			return false
		}
	}
	return true
}

// verifyStructure checks the structural invariants of §12.4.3.1 that do not
// involve signatures: unmerged leaves name non-blank descendant leaves that
// are also listed by every non-blank node in between, and no encryption key
// or signature key appears twice. It (re)builds the key index.
func (t *ratchetTree) verifyStructure() error {
	sets := map[nodeIndex]map[uint32]bool{}
	unmergedSet := func(y nodeIndex) map[uint32]bool {
		m, ok := sets[y]
		if !ok {
			m = make(map[uint32]bool)
			for _, u := range t.nodes[y].parent.UnmergedLeaves {
				m[u] = true
			}
			sets[y] = m
		}
		return m
	}
	if t.numLeaves() == 0 || t.numLeaves()&(t.numLeaves()-1) != 0 || t.numLeaves() > maxTreeLeaves {
		return fmt.Errorf("%w: %d leaves", ErrInvalidTree, t.numLeaves())
	}
	for x := nodeIndex(0); uint32(x) < t.width(); x++ {
		nd := t.nodes[x]
		if x.isLeaf() && nd.parent != nil || !x.isLeaf() && nd.leaf != nil {
			return fmt.Errorf("%w: node %d has the wrong type", ErrInvalidTree, x)
		}
		pn := nd.parent
		if pn == nil {
			continue
		}
		seen := make(map[uint32]bool, len(pn.UnmergedLeaves))
		for _, u := range pn.UnmergedLeaves {
			if seen[u] {
				return fmt.Errorf("%w: node %d lists unmerged leaf %d twice", ErrInvalidTree, x, u)
			}
			seen[u] = true
			lx := LeafIndex(u).toNode()
			if uint32(u) >= t.numLeaves() || !isAncestor(x, lx) || lx == x {
				return fmt.Errorf("%w: node %d: unmerged leaf %d is not a descendant", ErrInvalidTree, x, u)
			}
			if t.nodes[lx].leaf == nil {
				return fmt.Errorf("%w: node %d: unmerged leaf %d is blank", ErrInvalidTree, x, u)
			}
			for _, y := range directPath(lx, t.numLeaves()) {
				if y == x {
					break
				}
				if t.nodes[y].parent != nil && !unmergedSet(y)[u] {
					return fmt.Errorf("%w: node %d lacks unmerged leaf %d listed above it", ErrInvalidTree, y, u)
				}
			}
		}
	}
	return t.rebuildIndexChecked()
}

// rebuildIndex builds an exact key index for t, ignoring duplicates.
func (t *ratchetTree) rebuildIndex() { _ = t.buildIndex(false) }

// rebuildIndexChecked builds an exact key index and fails on duplicates.
func (t *ratchetTree) rebuildIndexChecked() error { return t.buildIndex(true) }

func (t *ratchetTree) buildIndex(check bool) error {
	idx := &keyIndex{
		enc: make(map[string]nodeIndex, len(t.nodes)),
		sig: make(map[string]LeafIndex, len(t.nodes)/2+1),
	}
	for x := range t.nodes {
		nd := t.nodes[x]
		if k := nd.encKey(); k != nil {
			if _, dup := idx.enc[string(k)]; dup && check {
				return fmt.Errorf("%w: encryption key of node %d", ErrDuplicateKey, x)
			}
			idx.enc[string(k)] = nodeIndex(x)
		}
		if nd.leaf != nil {
			if _, dup := idx.sig[string(nd.leaf.SignatureKey)]; dup && check {
				return fmt.Errorf("%w: signature key of leaf %d", ErrDuplicateKey, x/2)
			}
			idx.sig[string(nd.leaf.SignatureKey)] = nodeIndex(x).toLeaf()
		}
	}
	t.index = idx
	t.dirty, t.ovEnc, t.ovSig = nil, nil, nil
	t.caps = capsSummary{}
	for x := 0; x < len(t.nodes); x += 2 {
		t.caps.add(t.nodes[x].leaf, 1)
	}
	return nil
}

// adoptIndex makes t's key index exact again after changes, by folding the
// changed nodes into the shared index. It must be called only when t
// replaces the tree it was cloned from as the current state.
func (t *ratchetTree) adoptIndex() {
	if t.index == nil {
		t.rebuildIndex()
		return
	}
	for x := range t.dirty {
		nd := t.nodes[x]
		if k := nd.encKey(); k != nil {
			t.index.enc[string(k)] = x
		}
		if nd.leaf != nil {
			t.index.sig[string(nd.leaf.SignatureKey)] = x.toLeaf()
		}
	}
	t.dirty, t.ovEnc, t.ovSig = nil, nil, nil
	// Stale entries accumulate; rebuild when they dominate.
	if len(t.index.enc) > 2*len(t.nodes)+64 || len(t.index.sig) > len(t.nodes)+64 {
		t.rebuildIndex()
	}
}

// encKeyHolders returns the nodes holding HPKE public key k (normally at
// most one; more means a duplicate).
func (t *ratchetTree) encKeyHolders(k []byte) []nodeIndex {
	var out []nodeIndex
	for _, x := range t.ovEnc[string(k)] {
		if uint32(x) < t.width() && bytes.Equal(t.nodes[x].encKey(), k) && !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	if t.index != nil {
		if x, ok := t.index.enc[string(k)]; ok && uint32(x) < t.width() && !slices.Contains(out, x) {
			if _, changed := t.dirty[x]; !changed && bytes.Equal(t.nodes[x].encKey(), k) {
				out = append(out, x)
			}
		}
	}
	return out
}

// sigKeyHolders returns the leaves holding signature key k.
func (t *ratchetTree) sigKeyHolders(k []byte) []LeafIndex {
	var out []LeafIndex
	holds := func(l LeafIndex) bool {
		if uint32(l) >= t.numLeaves() {
			return false
		}
		ln := t.nodes[l.toNode()].leaf
		return ln != nil && bytes.Equal(ln.SignatureKey, k)
	}
	for _, l := range t.ovSig[string(k)] {
		if holds(l) && !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	if t.index != nil {
		if l, ok := t.index.sig[string(k)]; ok && holds(l) && !slices.Contains(out, l) {
			if _, changed := t.dirty[l.toNode()]; !changed {
				out = append(out, l)
			}
		}
	}
	return out
}

// encKeyUnique reports whether k is held by node x and no other node.
func (t *ratchetTree) encKeyUnique(k []byte, x nodeIndex) bool {
	h := t.encKeyHolders(k)
	return len(h) == 1 && h[0] == x
}

// sigKeyUnique reports whether k is held by leaf l and no other leaf.
func (t *ratchetTree) sigKeyUnique(k []byte, l LeafIndex) bool {
	h := t.sigKeyHolders(k)
	return len(h) == 1 && h[0] == l
}

// Encode appends the ratchet_tree extension encoding of t: optional<Node>
// ratchet_tree<V>, without trailing blank nodes (§12.4.3.3).
func (t *ratchetTree) Encode(w *codec.Writer) {
	last := len(t.nodes) - 1
	for last > 0 && t.nodes[last].blank() {
		last--
	}
	w.Vector(func(w *codec.Writer) {
		for x := 0; x <= last; x++ {
			nd := t.nodes[x]
			if nd.blank() {
				w.Optional(false)
				continue
			}
			if nd.enc == nil {
				// Encoded once per node object: a commit changes only
				// the nodes of one path, so re-encoding the tree for
				// every epoch's GroupInfo mostly copies cached bytes.
				e := codec.NewWriter(256)
				encodeTreeNode(e, nd)
				if e.Err() != nil {
					encodeTreeNode(w, nd) // not cached; sets w's error
					continue
				}
				nd.enc = e.Bytes()
			}
			w.Raw(nd.enc)
		}
	})
}

// encodeTreeNode writes a non-blank node as optional<Node>.
func encodeTreeNode(w *codec.Writer, nd *treeNode) {
	w.Optional(true)
	if nd.leaf != nil {
		w.U8(1)
		nd.leaf.Encode(w)
	} else {
		w.U8(2)
		nd.parent.Encode(w)
	}
}

// marshal returns the ratchet_tree extension encoding of t.
func (t *ratchetTree) marshal() []byte {
	w := codec.NewWriter(t.encodedSizeHint())
	t.Encode(w)
	return w.Bytes()
}

// encodedSizeHint estimates the size of t's encoding from the cached node
// encodings, so that marshal writes it without regrowing its buffer.
func (t *ratchetTree) encodedSizeHint() int {
	n := 16
	for _, nd := range t.nodes {
		if nd.enc != nil {
			n += len(nd.enc)
		} else {
			n += 256
		}
	}
	return n
}

// unmarshalRatchetTree decodes a ratchet_tree extension value. It checks the
// encoding rules (last node non-blank, leaves at even and parents at odd
// positions, bounded size) and pads the tree to a power-of-two number of
// leaves, but performs no cryptographic validation; see validateTree.
func unmarshalRatchetTree(cs CipherSuite, data []byte) (*ratchetTree, error) {
	r := codec.NewReader(data)
	var nodes []*treeNode
	r.VectorEach(func(r *codec.Reader) {
		if len(nodes) >= int(nodeWidth(maxTreeLeaves)) {
			r.Failf("ratchet tree too large")
			return
		}
		nd := new(treeNode)
		if r.Optional() {
			typ := r.U8()
			isLeafPos := len(nodes)%2 == 0
			switch {
			case typ == 1 && isLeafPos:
				nd.leaf = new(LeafNode)
				nd.leaf.Decode(r)
			case typ == 2 && !isLeafPos:
				nd.parent = new(ParentNode)
				nd.parent.Decode(r)
			default:
				r.Failf("node %d has type %d", len(nodes), typ)
				return
			}
		}
		nodes = append(nodes, nd)
	})
	if err := r.Finish(); err != nil {
		return nil, fmt.Errorf("%w: ratchet tree: %w", ErrMalformed, err)
	}
	if len(nodes) == 0 || nodes[len(nodes)-1].blank() {
		return nil, fmt.Errorf("%w: ratchet tree is empty or ends with a blank node", ErrMalformed)
	}
	// Pad to 2^(d+1)-1 nodes.
	w := uint32(1)
	for w < uint32(len(nodes)) {
		w = 2*w + 1
	}
	nodes = append(nodes, newBlankNodes(int(w)-len(nodes))...)
	t := &ratchetTree{suite: cs, nodes: nodes}
	t.rebuildIndex()
	return t, nil
}

// verifyLeafSignatures checks the signature of every non-blank leaf, using
// groupID and the leaf index as context for update and commit leaves.
func (t *ratchetTree) verifyLeafSignatures(groupID []byte) error {
	for x := 0; x < len(t.nodes); x += 2 {
		if ln := t.nodes[x].leaf; ln != nil {
			if err := ln.VerifySignature(t.suite, groupID, uint32(x/2)); err != nil {
				return fmt.Errorf("%w: leaf %d: %w", ErrInvalidTree, x/2, err)
			}
		}
	}
	return nil
}
