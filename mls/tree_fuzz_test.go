package mls

import (
	"bytes"
	"testing"
)

// FuzzRatchetTree decodes hostile ratchet_tree extension values and runs
// every tree computation on those that decode. Nothing may panic, and a
// decoded tree must re-encode to its input.
func FuzzRatchetTree(f *testing.F) {
	var vs []treeValidationVector
	loadVectors(f, "tree-validation.json", &vs)
	for i, v := range vs {
		if v.CipherSuite == testSuite && i%3 == 0 {
			f.Add([]byte(v.Tree))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		tree, err := unmarshalRatchetTree(testSuite, data)
		if err != nil {
			return
		}
		if got := tree.marshal(); !bytes.Equal(got, data) {
			t.Fatalf("re-encoding differs")
		}
		_ = tree.treeHash()
		for x := nodeIndex(0); uint32(x) < tree.width(); x++ {
			_ = tree.resolution(x)
		}
		if tree.verifyStructure() == nil {
			_ = tree.verifyParentHashes()
		}
		_ = tree.verifyLeafSignatures([]byte("group"))
		for l := LeafIndex(0); uint32(l) < tree.numLeaves(); l++ {
			_, _ = tree.filteredDirectPath(l)
		}
	})
}
