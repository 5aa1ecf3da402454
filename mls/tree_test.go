package mls

import (
	"bytes"
	"errors"
	"testing"
)

type treeOperationsVector struct {
	CipherSuite    CipherSuite `json:"cipher_suite"`
	TreeBefore     hexBytes    `json:"tree_before"`
	Proposal       hexBytes    `json:"proposal"`
	ProposalSender uint32      `json:"proposal_sender"`
	TreeHashBefore hexBytes    `json:"tree_hash_before"`
	TreeAfter      hexBytes    `json:"tree_after"`
	TreeHashAfter  hexBytes    `json:"tree_hash_after"`
}

func TestTreeOperationsVectors(t *testing.T) {
	var vs []treeOperationsVector
	loadVectors(t, "tree-operations.json", &vs)
	ran, skipped := 0, 0
	for i, v := range vs {
		if !suiteSupported(v.CipherSuite) {
			skipSuite(t, "tree-operations.json", i, v.CipherSuite)
			skipped++
			continue
		}
		tree, err := unmarshalRatchetTree(v.CipherSuite, v.TreeBefore)
		if err != nil {
			t.Fatalf("vector %d: tree_before: %v", i, err)
		}
		if got := tree.treeHash(); !bytes.Equal(got, v.TreeHashBefore) {
			t.Errorf("vector %d: tree hash before %x want %x", i, got, v.TreeHashBefore)
		}
		var p Proposal
		if err := Unmarshal(v.Proposal, &p); err != nil {
			t.Fatalf("vector %d: proposal: %v", i, err)
		}
		switch p.ProposalType {
		case ProposalTypeAdd:
			ln := p.Add.KeyPackage.LeafNode
			tree.addLeaf(&ln)
		case ProposalTypeUpdate:
			ln := p.Update.LeafNode
			tree.setLeaf(LeafIndex(v.ProposalSender), &ln)
			tree.blankDirectPath(LeafIndex(v.ProposalSender))
		case ProposalTypeRemove:
			tree.blankLeafAndPath(LeafIndex(p.Remove.Removed))
			tree.truncate()
		default:
			t.Fatalf("vector %d: unexpected proposal type %d", i, p.ProposalType)
		}
		if got := tree.marshal(); !bytes.Equal(got, v.TreeAfter) {
			t.Errorf("vector %d (%d): tree after mismatch", i, p.ProposalType)
		}
		if got := tree.treeHash(); !bytes.Equal(got, v.TreeHashAfter) {
			t.Errorf("vector %d: tree hash after %x want %x", i, got, v.TreeHashAfter)
		}
		// A fresh decode of the result must hash identically (cache check).
		fresh, err := unmarshalRatchetTree(v.CipherSuite, v.TreeAfter)
		if err != nil {
			t.Fatalf("vector %d: tree_after: %v", i, err)
		}
		if !bytes.Equal(fresh.treeHash(), v.TreeHashAfter) {
			t.Errorf("vector %d: fresh tree hash after mismatch", i)
		}
		ran++
	}
	reportVectors("tree-operations.json", ran, skipped)
}

type treeValidationVector struct {
	CipherSuite CipherSuite   `json:"cipher_suite"`
	Tree        hexBytes      `json:"tree"`
	GroupID     hexBytes      `json:"group_id"`
	TreeHashes  []hexBytes    `json:"tree_hashes"`
	Resolutions [][]nodeIndex `json:"resolutions"`
}

func TestTreeValidationVectors(t *testing.T) {
	var vs []treeValidationVector
	loadVectors(t, "tree-validation.json", &vs)
	ran, skipped := 0, 0
	for i, v := range vs {
		if !suiteSupported(v.CipherSuite) {
			skipSuite(t, "tree-validation.json", i, v.CipherSuite)
			skipped++
			continue
		}
		tree, err := unmarshalRatchetTree(v.CipherSuite, v.Tree)
		if err != nil {
			t.Fatalf("vector %d: tree: %v", i, err)
		}
		if int(tree.width()) != len(v.TreeHashes) {
			t.Fatalf("vector %d: width %d want %d", i, tree.width(), len(v.TreeHashes))
		}
		for x := range v.TreeHashes {
			if got := tree.nodeHash(nodeIndex(x)); !bytes.Equal(got, v.TreeHashes[x]) {
				t.Errorf("vector %d: tree hash of node %d mismatch", i, x)
			}
			got := tree.resolution(nodeIndex(x))
			if len(got) != len(v.Resolutions[x]) {
				t.Errorf("vector %d: resolution of %d = %v want %v", i, x, got, v.Resolutions[x])
				continue
			}
			for j := range got {
				if got[j] != v.Resolutions[x][j] {
					t.Errorf("vector %d: resolution of %d = %v want %v", i, x, got, v.Resolutions[x])
					break
				}
			}
		}
		if err := tree.verifyStructure(); err != nil {
			t.Errorf("vector %d: structure: %v", i, err)
		}
		if err := tree.verifyParentHashes(); err != nil {
			t.Errorf("vector %d: parent hashes: %v", i, err)
		}
		if err := tree.verifyLeafSignatures(v.GroupID); err != nil {
			t.Errorf("vector %d: leaf signatures: %v", i, err)
		}
		ran++
	}
	reportVectors("tree-validation.json", ran, skipped)
}

// TestTreeValidationNegative tampers with valid trees and checks that the
// validation functions notice.
func TestTreeValidationNegative(t *testing.T) {
	var vs []treeValidationVector
	loadVectors(t, "tree-validation.json", &vs)
	checked := 0
	for i, v := range vs {
		if v.CipherSuite != testSuite {
			continue
		}
		base, err := unmarshalRatchetTree(v.CipherSuite, v.Tree)
		if err != nil {
			t.Fatal(err)
		}
		// Tamper with the first non-blank parent node's parent hash.
		for x := nodeIndex(1); uint32(x) < base.width(); x += 2 {
			pn := base.parentNode(x)
			if pn == nil {
				continue
			}
			tree := base.clone()
			c := *pn
			c.ParentHash = append([]byte{1}, pn.ParentHash...)
			tree.setParent(x, &c)
			if err := tree.verifyParentHashes(); err == nil {
				t.Errorf("vector %d: tampered parent hash at %d accepted", i, x)
			}
			// Duplicate an encryption key.
			tree = base.clone()
			c = *pn
			c.EncryptionKey = tree.leaf(0).EncryptionKey
			tree.setParent(x, &c)
			if err := tree.verifyStructure(); !errors.Is(err, ErrDuplicateKey) {
				t.Errorf("vector %d: duplicate key accepted: %v", i, err)
			}
			// Unmerged leaf that is not a descendant.
			tree = base.clone()
			c = *pn
			lo, _ := subtreeLeaves(x)
			if lo > 0 {
				c.UnmergedLeaves = []uint32{0}
				tree.setParent(x, &c)
				if err := tree.verifyStructure(); !errors.Is(err, ErrInvalidTree) {
					t.Errorf("vector %d: bad unmerged leaf accepted: %v", i, err)
				}
			}
			checked++
			break
		}
		// A corrupted leaf signature.
		tree := base.clone()
		ln := *tree.leaf(0)
		ln.Signature = bytes.Clone(ln.Signature)
		ln.Signature[0] ^= 1
		tree.setLeaf(0, &ln)
		if err := tree.verifyLeafSignatures(v.GroupID); err == nil {
			t.Errorf("vector %d: bad leaf signature accepted", i)
		}
		// Cached hashes must equal a fresh computation after changes.
		if !bytes.Equal(tree.treeHash(), mustUnmarshalTree(t, tree.marshal()).treeHash()) {
			t.Errorf("vector %d: cached tree hash stale", i)
		}
	}
	if checked == 0 {
		t.Fatal("no vector exercised")
	}
	// Encoding rules: trailing blank node and wrong node types.
	if _, err := unmarshalRatchetTree(testSuite, []byte{0x01, 0x00}); err == nil {
		t.Error("tree ending with a blank node accepted")
	}
	if _, err := unmarshalRatchetTree(testSuite, []byte{0x02, 0x01, 0x02}); err == nil {
		t.Error("parent node at a leaf position accepted")
	}
}

func mustUnmarshalTree(t *testing.T, data []byte) *ratchetTree {
	t.Helper()
	tr, err := unmarshalRatchetTree(testSuite, data)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}
