package mls

// Tree math for the left-balanced binary trees of RFC 9420 §4.1 and
// Appendix C. In RFC 9420 the tree always has a power-of-two number of
// leaves; nodes are numbered in-order ("array representation"): leaves sit
// at even indices (leaf i is node 2i) and parent nodes at odd indices.
//
// All functions here are pure and allocation-free unless they return a
// slice. They never panic for inputs that respect their documented
// preconditions; functions taking a node index that may be out of range
// report that through their boolean result.

// LeafIndex is the index of a leaf in the ratchet tree (its position among
// the leaves, counted from the left, starting at zero). It is the value
// carried in Sender.leaf_index and Remove.removed.
type LeafIndex uint32

// nodeIndex is the index of a node in the array representation of the tree.
type nodeIndex uint32

// toNode returns the node index of leaf l.
func (l LeafIndex) toNode() nodeIndex { return nodeIndex(2 * uint32(l)) }

// isLeaf reports whether x is a leaf node.
func (x nodeIndex) isLeaf() bool { return x&1 == 0 }

// toLeaf returns the leaf index of node x, which must be a leaf.
func (x nodeIndex) toLeaf() LeafIndex { return LeafIndex(x >> 1) }

// nodeLevel returns the level of x in the tree: leaves are at level 0, their
// parents at level 1, and so on. It is the number of trailing one bits of x.
func nodeLevel(x nodeIndex) uint {
	k := uint(0)
	for (x>>k)&1 == 1 {
		k++
	}
	return k
}

// nodeWidth returns the number of nodes in a tree with n leaves.
func nodeWidth(n uint32) uint32 {
	if n == 0 {
		return 0
	}
	return 2*(n-1) + 1
}

// log2 returns floor(log2(x)) for x > 0 and 0 for x == 0.
func log2(x uint32) uint {
	if x == 0 {
		return 0
	}
	k := uint(0)
	for (x >> k) > 1 {
		k++
	}
	return k
}

// treeRoot returns the index of the root node of a tree with n leaves.
// n must be positive.
func treeRoot(n uint32) nodeIndex {
	w := nodeWidth(n)
	return nodeIndex((uint32(1) << log2(w)) - 1)
}

// left returns the left child of the intermediate node x. It reports false
// if x is a leaf.
func left(x nodeIndex) (nodeIndex, bool) {
	k := nodeLevel(x)
	if k == 0 {
		return 0, false
	}
	return x ^ (1 << (k - 1)), true
}

// right returns the right child of the intermediate node x. It reports
// false if x is a leaf.
func right(x nodeIndex) (nodeIndex, bool) {
	k := nodeLevel(x)
	if k == 0 {
		return 0, false
	}
	return x ^ (3 << (k - 1)), true
}

// parentOf returns the parent of x in a tree with n leaves. It reports false
// if x is the root or lies outside the tree.
func parentOf(x nodeIndex, n uint32) (nodeIndex, bool) {
	if n == 0 || uint32(x) >= nodeWidth(n) || x == treeRoot(n) {
		return 0, false
	}
	k := nodeLevel(x)
	b := (x >> (k + 1)) & 1
	return (x | (1 << k)) ^ (b << (k + 1)), true
}

// sibling returns the other child of x's parent in a tree with n leaves. It
// reports false if x is the root or lies outside the tree.
func sibling(x nodeIndex, n uint32) (nodeIndex, bool) {
	p, ok := parentOf(x, n)
	if !ok {
		return 0, false
	}
	if x < p {
		return right(p)
	}
	return left(p)
}

// directPath returns the direct path of x (its ancestors, excluding x,
// ordered from x's parent up to and including the root) in a tree with n
// leaves. It returns an empty slice for the root.
func directPath(x nodeIndex, n uint32) []nodeIndex {
	var d []nodeIndex
	for {
		p, ok := parentOf(x, n)
		if !ok {
			return d
		}
		d = append(d, p)
		x = p
	}
}

// copath returns the copath of x: the siblings of x and of each node of its
// direct path except the root, ordered bottom-up.
func copath(x nodeIndex, n uint32) []nodeIndex {
	var c []nodeIndex
	for {
		s, ok := sibling(x, n)
		if !ok {
			return c
		}
		c = append(c, s)
		x, _ = parentOf(x, n)
	}
}

// isAncestor reports whether a is an ancestor of (or equal to) x, that is,
// whether x lies in the subtree rooted at a.
func isAncestor(a, x nodeIndex) bool {
	k := nodeLevel(a)
	lo := uint32(a) - (uint32(1)<<k - 1)
	hi := uint32(a) + (uint32(1)<<k - 1)
	return uint32(x) >= lo && uint32(x) <= hi
}

// commonAncestor returns the lowest common ancestor of nodes x and y.
func commonAncestor(x, y nodeIndex) nodeIndex {
	// Nodes are in-order: the LCA is found by shifting off differing low
	// bits of the level-aligned indices.
	lx, ly := nodeLevel(x)+1, nodeLevel(y)+1
	if lx <= ly && (uint32(x)>>ly) == (uint32(y)>>ly) {
		return y
	}
	if ly <= lx && (uint32(x)>>lx) == (uint32(y)>>lx) {
		return x
	}
	xn, yn := uint32(x), uint32(y)
	k := uint(0)
	for xn != yn {
		xn >>= 1
		yn >>= 1
		k++
	}
	return nodeIndex((xn << k) + (uint32(1)<<(k-1) - 1))
}

// subtreeLeaves returns the half-open range [lo, hi) of leaf indices under
// node x.
func subtreeLeaves(x nodeIndex) (LeafIndex, LeafIndex) {
	k := nodeLevel(x)
	lo := (uint32(x) - (uint32(1)<<k - 1)) >> 1
	return LeafIndex(lo), LeafIndex(lo + uint32(1)<<k)
}
