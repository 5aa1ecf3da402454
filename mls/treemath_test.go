package mls

import "testing"

type treeMathVector struct {
	NLeaves uint32    `json:"n_leaves"`
	NNodes  uint32    `json:"n_nodes"`
	Root    uint32    `json:"root"`
	Left    []*uint32 `json:"left"`
	Right   []*uint32 `json:"right"`
	Parent  []*uint32 `json:"parent"`
	Sibling []*uint32 `json:"sibling"`
}

func TestTreeMathVectors(t *testing.T) {
	var vs []treeMathVector
	loadVectors(t, "tree-math.json", &vs)
	check := func(t *testing.T, what string, i int, got nodeIndex, ok bool, want *uint32) {
		t.Helper()
		switch {
		case want == nil && ok:
			t.Errorf("%s(%d) = %d, want none", what, i, got)
		case want != nil && !ok:
			t.Errorf("%s(%d) = none, want %d", what, i, *want)
		case want != nil && uint32(got) != *want:
			t.Errorf("%s(%d) = %d, want %d", what, i, got, *want)
		}
	}
	ran := 0
	for _, v := range vs {
		if got := nodeWidth(v.NLeaves); got != v.NNodes {
			t.Errorf("n=%d: width %d want %d", v.NLeaves, got, v.NNodes)
		}
		if got := treeRoot(v.NLeaves); uint32(got) != v.Root {
			t.Errorf("n=%d: root %d want %d", v.NLeaves, got, v.Root)
		}
		for i := 0; i < int(v.NNodes); i++ {
			x := nodeIndex(i)
			l, ok := left(x)
			check(t, "left", i, l, ok, v.Left[i])
			r, ok := right(x)
			check(t, "right", i, r, ok, v.Right[i])
			p, ok := parentOf(x, v.NLeaves)
			check(t, "parent", i, p, ok, v.Parent[i])
			s, ok := sibling(x, v.NLeaves)
			check(t, "sibling", i, s, ok, v.Sibling[i])
		}
		ran++
	}
	reportVectors("tree-math.json", ran, 0)
}

func TestTreeMathHelpers(t *testing.T) {
	const n = 64
	for x := nodeIndex(0); uint32(x) < nodeWidth(n); x++ {
		for y := nodeIndex(0); uint32(y) < nodeWidth(n); y++ {
			// Brute-force LCA via ancestor checks.
			want := treeRoot(n)
			for _, a := range append([]nodeIndex{x}, directPath(x, n)...) {
				if isAncestor(a, y) {
					want = a
					break
				}
			}
			if got := commonAncestor(x, y); got != want {
				t.Fatalf("commonAncestor(%d,%d)=%d want %d", x, y, got, want)
			}
		}
		lo, hi := subtreeLeaves(x)
		for l := LeafIndex(0); l < n; l++ {
			if isAncestor(x, l.toNode()) != (l >= lo && l < hi) {
				t.Fatalf("subtreeLeaves(%d) inconsistent for leaf %d", x, l)
			}
		}
		if len(copath(x, n)) != len(directPath(x, n)) {
			t.Fatalf("copath/directPath length mismatch at %d", x)
		}
	}
}
