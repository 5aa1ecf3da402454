package mls

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"runtime"
	"testing"
)

// Commit benchmarks on large groups (suite 1).
//
// A realistic large group is in "steady state": most parent nodes of its
// ratchet tree hold keys set by earlier commits, so that a commit encrypts
// each path secret to one or two nodes. Reaching that state through the
// protocol would take thousands of commits, so the benchmark builds it
// directly: it creates the members' leaves and simulates, in reverse leaf
// order, one commit per member (public keys and parent hashes only, no
// encryption), which yields a full tree with valid parent hashes in which
// every parent node was last set by the leftmost leaf below it. Member 0
// ("alice") then owns a Group at epoch 0 over that tree; "bob" is added by
// a real commit and joins by Welcome (validating the whole tree), and bob
// commits once so that his path carries no unmerged leaves. From then on
// every operation measured is the real protocol.

// benchKey derives a deterministic HPKE key pair for a benchmark node.
func benchKey(tb testing.TB, cs CipherSuite, tag string, x uint32) nodeKey {
	seed := sha256.Sum256(binary.BigEndian.AppendUint32([]byte(tag), x))
	priv, pub, err := cs.DeriveKeyPair(seed[:])
	if err != nil {
		tb.Fatal(err)
	}
	return nodeKey{priv: priv, pub: pub}
}

type benchGroups struct {
	alice, bob *Group
}

// buildBenchGroups builds an n-member steady-state group (see above).
func buildBenchGroups(tb testing.TB, n int) *benchGroups {
	cs := testSuite
	groupID := []byte(fmt.Sprintf("bench group %d", n))
	m := n - 1 // members in the synthetic tree; bob joins by Welcome
	cap := uint32(1)
	for cap < uint32(n) {
		cap *= 2
	}
	tree := &ratchetTree{suite: cs, nodes: newBlankNodes(int(nodeWidth(cap)))}
	signers := make([]*Signer, m)
	for i := 0; i < m; i++ {
		s, err := GenerateSigner(cs)
		if err != nil {
			tb.Fatal(err)
		}
		signers[i] = s
		k := benchKey(tb, cs, "leaf", uint32(i))
		tree.nodes[2*i].leaf = &LeafNode{
			EncryptionKey:  k.pub,
			SignatureKey:   s.Public,
			Credential:     NewBasicCredential([]byte(fmt.Sprintf("member %d", i))),
			Capabilities:   defaultCapabilities(cs),
			LeafNodeSource: LeafNodeSourceCommit,
		}
	}
	tree.rebuildIndex()
	// Simulated commits, last leaf first.
	nodeKeys := map[nodeIndex]nodeKey{}
	keyOf := func(x nodeIndex) nodeKey {
		k, ok := nodeKeys[x]
		if !ok {
			k = benchKey(tb, cs, "node", uint32(x))
			nodeKeys[x] = k
		}
		return k
	}
	for i := m - 1; i >= 0; i-- {
		l := LeafIndex(i)
		fdp, cop := tree.filteredDirectPath(l)
		tree.blankDirectPath(l)
		ph := tree.installPath(fdp, cop, func(j int) []byte { return keyOf(fdp[j]).pub })
		ln := *tree.leaf(l)
		ln.ParentHash = ph
		if err := ln.Sign(cs, signers[i].Private, groupID, uint32(i)); err != nil {
			tb.Fatal(err)
		}
		tree.setLeaf(l, &ln)
	}
	tree.adoptIndex()

	// Alice (leaf 0) owns a group at epoch 0 over this tree.
	alice := &Group{
		cfg:        (&Config{}).withDefaults(),
		cs:         cs,
		signer:     *signers[0],
		tree:       tree,
		priv:       newTreePrivate(0),
		updateKeys: map[string][]byte{},
		extPSKs:    map[string][]byte{},
		active:     true,
	}
	alice.priv.keys[0] = benchKey(tb, cs, "leaf", 0)
	for _, x := range directPath(0, tree.numLeaves()) {
		if !tree.blank(x) {
			alice.priv.keys[x] = keyOf(x)
		}
	}
	alice.ctx = GroupContext{Version: ProtocolVersionMLS10, CipherSuite: cs, GroupID: groupID, TreeHash: tree.treeHash(), ConfirmedTranscriptHash: []byte{}}
	alice.ctxEnc = mustEncode(&alice.ctx)
	secrets, err := cs.KeySchedule(make([]byte, cs.HashSize()), nil, nil, alice.ctxEnc)
	if err != nil {
		tb.Fatal(err)
	}
	alice.confTag, _ = cs.ConfirmationTag(secrets.ConfirmationKey, nil)
	alice.interim, _ = cs.InterimTranscriptHash(nil, alice.confTag)
	if err := alice.installSecrets(secrets); err != nil {
		tb.Fatal(err)
	}

	// Bob joins for real.
	bb, _ := newTestBundle(tb, cs, "bob")
	pc, err := alice.Commit(CommitParams{Adds: []*KeyPackage{&bb.KeyPackage}, Update: true})
	if err != nil {
		tb.Fatal(err)
	}
	bob, err := JoinFromWelcome(pc.Welcome, bb, nil, Config{}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	if err := alice.MergePendingCommit(); err != nil {
		tb.Fatal(err)
	}
	pc, err = bob.Commit(CommitParams{Update: true})
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := alice.Process(pc.Commit); err != nil {
		tb.Fatal(err)
	}
	if err := bob.MergePendingCommit(); err != nil {
		tb.Fatal(err)
	}
	return &benchGroups{alice: alice, bob: bob}
}

var benchSizes = []int{500, 5000}

func BenchmarkCommitCreate(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) {
			benchCommitCreate(b, n, false)
		})
	}
	// The same commit when the GroupInfo it carries leaves the ratchet tree
	// out (Config.OmitRatchetTree, the tree distributed separately): the
	// signature then no longer hashes the whole O(n) tree.
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("members=%d,tree=external", n), func(b *testing.B) {
			benchCommitCreate(b, n, true)
		})
	}
}

func benchCommitCreate(b *testing.B, n int, omitTree bool) {
	bg := buildBenchGroups(b, n)
	bg.alice.cfg.OmitRatchetTree = omitTree
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := bg.alice.Commit(CommitParams{Update: true}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		bg.alice.DiscardPendingCommit()
		runtime.GC()
		b.StartTimer()
	}
}

func BenchmarkCommitProcess(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) {
			bg := buildBenchGroups(b, n)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				pc, err := bg.alice.Commit(CommitParams{Update: true})
				if err != nil {
					b.Fatal(err)
				}
				if err := bg.alice.MergePendingCommit(); err != nil {
					b.Fatal(err)
				}
				// Collect the garbage of the untimed commit, so that its
				// GC work does not land in the timed Process.
				runtime.GC()
				b.StartTimer()
				if _, err := bg.bob.Process(pc.Commit); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkGroupBuild measures building a group by batched adds: the
// creator commits Adds for all other members (KeyPackages generated outside
// the timer) in batches of 1000 and one new member joins by Welcome. In the
// "tree=out" variant the ratchet tree travels out of band
// (Config.OmitRatchetTree), as it would for large groups; in "tree=inline"
// it is inside the Welcome's GroupInfo, so the ~1 MB encrypted GroupInfo is
// the HPKE info of every EncryptedGroupSecrets (its info_hash is computed
// once per Welcome, see hpke_batch.go).
func BenchmarkGroupBuild(b *testing.B) {
	for _, omit := range []bool{true, false} {
		n := 5000
		name := fmt.Sprintf("members=%d,tree=out", n)
		if !omit {
			name = fmt.Sprintf("members=%d,tree=inline", n)
		}
		b.Run(name, func(b *testing.B) {
			cs := testSuite
			kps := make([]*KeyPackage, n-1)
			var last *KeyPackageBundle
			for i := range kps {
				bb, _ := newTestBundle(b, cs, fmt.Sprintf("m%d", i))
				kps[i] = &bb.KeyPackage
				last = bb
			}
			creator, _ := newTestBundle(b, cs, "creator")
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				g, err := CreateGroup([]byte("build"), creator, Config{OmitRatchetTree: omit})
				if err != nil {
					b.Fatal(err)
				}
				var welcome []byte
				for lo := 0; lo < len(kps); lo += 1000 {
					hi := min(lo+1000, len(kps))
					pc, err := g.Commit(CommitParams{Adds: kps[lo:hi]})
					if err != nil {
						b.Fatal(err)
					}
					welcome = pc.Welcome
					if err := g.MergePendingCommit(); err != nil {
						b.Fatal(err)
					}
				}
				var tree []byte
				if omit {
					tree = g.RatchetTree()
				}
				if _, err := JoinFromWelcome(welcome, last, tree, Config{}, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestBenchGroupsSmall(t *testing.T) {
	bg := buildBenchGroups(t, 37)
	for i := 0; i < 3; i++ {
		pc, err := bg.alice.Commit(CommitParams{Update: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := bg.alice.MergePendingCommit(); err != nil {
			t.Fatal(err)
		}
		if _, err := bg.bob.Process(pc.Commit); err != nil {
			t.Fatal(err)
		}
	}
	if err := bg.bob.tree.verifyParentHashes(); err != nil {
		t.Fatal(err)
	}
}
