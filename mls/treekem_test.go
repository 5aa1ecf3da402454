package mls

import (
	"bytes"
	"testing"
)

type treeKEMVector struct {
	CipherSuite             CipherSuite `json:"cipher_suite"`
	GroupID                 hexBytes    `json:"group_id"`
	Epoch                   uint64      `json:"epoch"`
	ConfirmedTranscriptHash hexBytes    `json:"confirmed_transcript_hash"`
	RatchetTree             hexBytes    `json:"ratchet_tree"`
	LeavesPrivate           []struct {
		Index          LeafIndex `json:"index"`
		EncryptionPriv hexBytes  `json:"encryption_priv"`
		SignaturePriv  hexBytes  `json:"signature_priv"`
		PathSecrets    []struct {
			Node       nodeIndex `json:"node"`
			PathSecret hexBytes  `json:"path_secret"`
		} `json:"path_secrets"`
	} `json:"leaves_private"`
	UpdatePaths []struct {
		Sender        LeafIndex  `json:"sender"`
		UpdatePath    hexBytes   `json:"update_path"`
		PathSecrets   []hexBytes `json:"path_secrets"`
		CommitSecret  hexBytes   `json:"commit_secret"`
		TreeHashAfter hexBytes   `json:"tree_hash_after"`
	} `json:"update_paths"`
}

func TestTreeKEMVectors(t *testing.T) {
	var vs []treeKEMVector
	loadVectors(t, "treekem.json", &vs)
	ran, skipped := 0, 0
	for i, v := range vs {
		if !suiteSupported(v.CipherSuite) {
			skipSuite(t, "treekem.json", i, v.CipherSuite)
			skipped++
			continue
		}
		runTreeKEMVector(t, i, &v)
		ran++
	}
	reportVectors("treekem.json", ran, skipped)
}

func runTreeKEMVector(t *testing.T, i int, v *treeKEMVector) {
	cs := v.CipherSuite
	tree, err := unmarshalRatchetTree(cs, v.RatchetTree)
	if err != nil {
		t.Fatalf("vector %d: tree: %v", i, err)
	}
	if err := tree.verifyStructure(); err != nil {
		t.Fatalf("vector %d: structure: %v", i, err)
	}
	if err := tree.verifyParentHashes(); err != nil {
		t.Fatalf("vector %d: parent hashes: %v", i, err)
	}
	if err := tree.verifyLeafSignatures(v.GroupID); err != nil {
		t.Fatalf("vector %d: %v", i, err)
	}
	privs := map[LeafIndex]*treePrivate{}
	sigs := map[LeafIndex][]byte{}
	for _, lp := range v.LeavesPrivate {
		p := newTreePrivate(lp.Index)
		pub, err := cs.HPKEPublicKeyFromPrivate(lp.EncryptionPriv)
		if err != nil || tree.leaf(lp.Index) == nil || !bytes.Equal(pub, tree.leaf(lp.Index).EncryptionKey) {
			t.Fatalf("vector %d: leaf %d private key inconsistent", i, lp.Index)
		}
		p.keys[lp.Index.toNode()] = nodeKey{priv: lp.EncryptionPriv, pub: pub}
		for _, ps := range lp.PathSecrets {
			k, err := deriveNodeKey(cs, ps.PathSecret)
			if err != nil || !bytes.Equal(k.pub, tree.nodes[ps.Node].encKey()) {
				t.Fatalf("vector %d: leaf %d path secret for node %d inconsistent", i, lp.Index, ps.Node)
			}
			p.keys[ps.Node] = k
		}
		privs[lp.Index] = p
		sigs[lp.Index] = lp.SignaturePriv
	}
	ctxFor := func(treeHash []byte) []byte {
		gc := GroupContext{Version: ProtocolVersionMLS10, CipherSuite: cs, GroupID: v.GroupID, Epoch: v.Epoch,
			TreeHash: treeHash, ConfirmedTranscriptHash: v.ConfirmedTranscriptHash}
		return mustEncode(&gc)
	}
	for j, up := range v.UpdatePaths {
		var path UpdatePath
		if err := Unmarshal(up.UpdatePath, &path); err != nil {
			t.Fatalf("vector %d path %d: %v", i, j, err)
		}
		after := tree.clone()
		if err := after.mergeUpdatePath(up.Sender, &path, nil); err != nil {
			t.Fatalf("vector %d path %d: merge: %v", i, j, err)
		}
		if got := after.treeHash(); !bytes.Equal(got, up.TreeHashAfter) {
			t.Errorf("vector %d path %d: tree hash after mismatch", i, j)
		}
		if err := after.verifyParentHashes(); err != nil {
			t.Errorf("vector %d path %d: parent hashes after merge: %v", i, j, err)
		}
		if err := path.LeafNode.VerifySignature(cs, v.GroupID, uint32(up.Sender)); err != nil {
			t.Errorf("vector %d path %d: leaf signature: %v", i, j, err)
		}
		ctx := ctxFor(after.treeHash())
		for to, p := range privs {
			if to == up.Sender {
				continue
			}
			pc := p.clone()
			commitSecret, lcaSecret, err := after.decryptUpdatePath(pc, up.Sender, &path, nil, ctx)
			if err != nil {
				t.Errorf("vector %d path %d: leaf %d decrypt: %v", i, j, to, err)
				continue
			}
			if !bytes.Equal(commitSecret, up.CommitSecret) {
				t.Errorf("vector %d path %d: leaf %d commit secret mismatch", i, j, to)
			}
			if !bytes.Equal(lcaSecret, up.PathSecrets[to]) {
				t.Errorf("vector %d path %d: leaf %d path secret mismatch", i, j, to)
			}
		}

		// Encap/decap round trip with a fresh path from the same sender.
		sender := tree.clone()
		old := tree.leaf(up.Sender)
		pc, err := sender.createUpdatePath(up.Sender, leafNodeParams{
			signatureKey: old.SignatureKey, credential: old.Credential,
			capabilities: old.Capabilities, extensions: old.Extensions,
		}, sigs[up.Sender], v.GroupID, nil, func(th []byte) ([]byte, error) { return ctxFor(th), nil })
		if err != nil {
			t.Fatalf("vector %d path %d: create: %v", i, j, err)
		}
		if err := sender.verifyParentHashes(); err != nil {
			t.Errorf("vector %d path %d: created tree parent hashes: %v", i, j, err)
		}
		for to, p := range privs {
			if to == up.Sender {
				continue
			}
			recv := tree.clone()
			if err := recv.mergeUpdatePath(up.Sender, pc.path, nil); err != nil {
				t.Fatalf("vector %d path %d: leaf %d merge own path: %v", i, j, to, err)
			}
			if !bytes.Equal(recv.treeHash(), sender.treeHash()) {
				t.Fatalf("vector %d path %d: leaf %d tree hash differs from sender", i, j, to)
			}
			cs2, _, err := recv.decryptUpdatePath(p.clone(), up.Sender, pc.path, nil, ctxFor(recv.treeHash()))
			if err != nil {
				t.Fatalf("vector %d path %d: leaf %d decrypt own path: %v", i, j, to, err)
			}
			if !bytes.Equal(cs2, pc.commitSecret) {
				t.Errorf("vector %d path %d: leaf %d: round-trip commit secret mismatch", i, j, to)
			}
		}
	}
}
