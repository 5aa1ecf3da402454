package mls

import (
	"bytes"
	"fmt"
	"testing"
)

// TestCommitGroupInfoExternalJoin checks that every commit's PendingCommit
// carries the signed GroupInfo of the new epoch: an external joiner can join
// from it after any kind of commit (add, remove, update, empty, PSK,
// extensions), with the ratchet tree inside or (OmitRatchetTree) out of band,
// and it equals what Group.GroupInfo returns after the merge apart from the
// signature.
func TestCommitGroupInfoExternalJoin(t *testing.T) {
	for _, omit := range []bool{false, true} {
		t.Run(fmt.Sprintf("omitTree=%v", omit), func(t *testing.T) {
			cfg := Config{OmitRatchetTree: omit}
			tg := newTestGroup(t, testSuite, Config{}, "alice", "bob", "carol")
			for _, m := range tg.members {
				m.g.AddExternalPSK([]byte("psk"), []byte("secret"))
				m.g.cfg.OmitRatchetTree = omit
			}
			extra, _ := newTestBundle(t, testSuite, "dave")
			steps := []struct {
				name string
				by   int
				p    CommitParams
			}{
				{"empty", 0, CommitParams{}},
				{"update", 1, CommitParams{Update: true}},
				{"add", 2, CommitParams{Adds: []*KeyPackage{&extra.KeyPackage}}},
				{"remove", 0, CommitParams{Removes: []LeafIndex{3}}},
				{"psk", 1, CommitParams{ExternalPSKs: [][]byte{[]byte("psk")}}},
				{"extensions", 0, CommitParams{SetExtensions: true, Extensions: []Extension{{ExtensionType: ExtensionTypeRequiredCapabilities, ExtensionData: mustEncode(&RequiredCapabilities{})}}}},
			}
			for i, st := range steps {
				committer := tg.members[st.by].g
				pc, err := committer.Commit(st.p)
				if err != nil {
					t.Fatalf("%s: %v", st.name, err)
				}
				if pc.GroupInfo == nil {
					t.Fatalf("%s: no GroupInfo", st.name)
				}
				gi, err := parseGroupInfo(pc.GroupInfo)
				if err != nil {
					t.Fatalf("%s: %v", st.name, err)
				}
				if gi.GroupContext.Epoch != pc.NewEpoch() {
					t.Fatalf("%s: GroupInfo epoch %d, want %d", st.name, gi.GroupContext.Epoch, pc.NewEpoch())
				}
				if _, ok := FindExtension(gi.Extensions, ExtensionTypeExternalPub); !ok {
					t.Fatalf("%s: no external_pub", st.name)
				}
				if _, ok := FindExtension(gi.Extensions, ExtensionTypeRatchetTree); ok == omit {
					t.Fatalf("%s: ratchet_tree present=%v with OmitRatchetTree=%v", st.name, ok, omit)
				}
				tg.deliver(st.by, pc.Commit)
				if err := committer.MergePendingCommit(); err != nil {
					t.Fatal(err)
				}
				// Same content as the GroupInfo computed after the merge.
				after, err := committer.GroupInfo(!omit)
				if err != nil {
					t.Fatal(err)
				}
				gi2, _ := parseGroupInfo(after)
				gi.Signature, gi2.Signature = nil, nil
				if !bytes.Equal(mustEncode(gi), mustEncode(gi2)) {
					t.Fatalf("%s: pending GroupInfo differs from the merged group's", st.name)
				}
				if st.name == "add" {
					var tree []byte
					if omit {
						tree = committer.RatchetTree()
					}
					g, err := JoinFromWelcome(pc.Welcome, extra, tree, cfg, nil)
					if err != nil {
						t.Fatal(err)
					}
					g.AddExternalPSK([]byte("psk"), []byte("secret"))
					tg.members = append(tg.members, &testMember{name: "dave", g: g})
				}
				if st.name == "remove" {
					tg.members = tg.members[:3]
				}
				tg.checkAgree()

				// An external joiner joins from this commit's GroupInfo.
				s, _ := GenerateSigner(testSuite)
				name := fmt.Sprintf("ext%d", i)
				var opts ExternalJoinOptions
				if omit {
					opts.RatchetTree = committer.RatchetTree()
				}
				eg, commit, err := JoinExternal(pc.GroupInfo, s, NewBasicCredential([]byte(name)), cfg, opts)
				if err != nil {
					t.Fatalf("%s: external join: %v", st.name, err)
				}
				eg.AddExternalPSK([]byte("psk"), []byte("secret"))
				tg.deliver(-1, commit)
				tg.members = append(tg.members, &testMember{name: name, signer: s, g: eg})
				tg.checkAgree()
				tg.chat()
				// Remove the joiner again to keep the group small.
				pc2 := tg.commit(0, CommitParams{Removes: []LeafIndex{eg.OwnLeafIndex()}})
				if pc2.GroupInfo == nil {
					t.Fatal("no GroupInfo for remove")
				}
				tg.members = tg.members[:len(tg.members)-1]
				tg.checkAgree()
			}
		})
	}
}
