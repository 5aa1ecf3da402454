package mls

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

const testSuite = MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519

type testMember struct {
	name   string
	signer *Signer
	g      *Group
}

func newTestBundle(t testing.TB, cs CipherSuite, name string) (*KeyPackageBundle, *Signer) {
	t.Helper()
	s, err := GenerateSigner(cs)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewKeyPackage(cs, s, NewBasicCredential([]byte(name)), KeyPackageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return b, s
}

// testGroup is a set of members that process every message in order.
type testGroup struct {
	t       testing.TB
	members []*testMember
}

func newTestGroup(t testing.TB, cs CipherSuite, cfg Config, names ...string) *testGroup {
	t.Helper()
	tg := &testGroup{t: t}
	b, s := newTestBundle(t, cs, names[0])
	g, err := CreateGroup([]byte("test group "+names[0]), b, cfg)
	if err != nil {
		t.Fatal(err)
	}
	tg.members = append(tg.members, &testMember{name: names[0], signer: s, g: g})
	if len(names) > 1 {
		tg.add(cfg, 0, names[1:]...)
	}
	return tg
}

// add has member `by` commit Adds for new clients, which join by Welcome.
func (tg *testGroup) add(cfg Config, by int, names ...string) {
	t := tg.t
	t.Helper()
	var bundles []*KeyPackageBundle
	var signers []*Signer
	var kps []*KeyPackage
	for _, n := range names {
		b, s := newTestBundle(t, tg.members[0].g.cs, n)
		bundles = append(bundles, b)
		signers = append(signers, s)
		kps = append(kps, &b.KeyPackage)
	}
	pc := tg.commit(by, CommitParams{Adds: kps})
	if pc.Welcome == nil {
		t.Fatal("no welcome")
	}
	for i, b := range bundles {
		g, err := JoinFromWelcome(pc.Welcome, b, nil, cfg, nil)
		if err != nil {
			t.Fatalf("%s join: %v", names[i], err)
		}
		tg.members = append(tg.members, &testMember{name: names[i], signer: signers[i], g: g})
	}
	tg.checkAgree()
}

// commit has member `by` commit, delivers it to all others, merges.
func (tg *testGroup) commit(by int, p CommitParams) *PendingCommit {
	t := tg.t
	t.Helper()
	committer := tg.members[by].g
	pc, err := committer.Commit(p)
	if err != nil {
		t.Fatalf("%s commit: %v", tg.members[by].name, err)
	}
	tg.deliver(by, pc.Commit)
	if err := committer.MergePendingCommit(); err != nil {
		t.Fatal(err)
	}
	return pc
}

// deliver processes msg at every active member but `from`.
func (tg *testGroup) deliver(from int, msg []byte) []*Processed {
	t := tg.t
	t.Helper()
	var out []*Processed
	from_ := "external"
	if from >= 0 {
		from_ = tg.members[from].name
	}
	for i, m := range tg.members {
		if i == from || !m.g.Active() {
			continue
		}
		p, err := m.g.Process(msg)
		if err != nil {
			t.Fatalf("%s processing message from %s: %v", m.name, from_, err)
		}
		out = append(out, p)
	}
	return out
}

func (tg *testGroup) checkAgree() {
	t := tg.t
	t.Helper()
	var ref *Group
	for _, m := range tg.members {
		if !m.g.Active() {
			continue
		}
		if ref == nil {
			ref = m.g
			continue
		}
		if m.g.Epoch() != ref.Epoch() || !bytes.Equal(m.g.EpochAuthenticator(), ref.EpochAuthenticator()) {
			t.Fatalf("%s disagrees on epoch %d/%d", m.name, m.g.Epoch(), ref.Epoch())
		}
		a, _ := m.g.Export("test", []byte("ctx"), 32)
		b, _ := ref.Export("test", []byte("ctx"), 32)
		if !bytes.Equal(a, b) {
			t.Fatalf("%s exporter differs", m.name)
		}
		if !bytes.Equal(m.g.tree.treeHash(), ref.tree.treeHash()) {
			t.Fatalf("%s tree differs", m.name)
		}
	}
}

// chat has every active member send a message that all others decrypt.
func (tg *testGroup) chat() {
	t := tg.t
	t.Helper()
	for i, m := range tg.members {
		if !m.g.Active() {
			continue
		}
		text := []byte(fmt.Sprintf("hello from %s at %d", m.name, m.g.Epoch()))
		ct, err := m.g.Encrypt(text, []byte("ad"))
		if err != nil {
			t.Fatalf("%s encrypt: %v", m.name, err)
		}
		for _, p := range tg.deliver(i, ct) {
			if p.Kind != ProcessedApplication || !bytes.Equal(p.ApplicationData, text) || p.Sender != m.g.OwnLeafIndex() ||
				!bytes.Equal(p.Credential.Identity, []byte(m.name)) || !bytes.Equal(p.AuthenticatedData, []byte("ad")) {
				t.Fatalf("bad application message from %s: %+v", m.name, p)
			}
		}
	}
}

func TestGroupLifecycle(t *testing.T) {
	for _, wf := range []WireFormat{WireFormatPrivateMessage, WireFormatPublicMessage} {
		t.Run(fmt.Sprintf("handshake=%d", wf), func(t *testing.T) {
			cfg := Config{HandshakeFormat: wf}
			tg := newTestGroup(t, testSuite, cfg, "alice", "bob", "carol", "dave")
			if n := len(tg.members[0].g.Members()); n != 4 {
				t.Fatalf("%d members", n)
			}
			tg.chat()

			// Bob: full commit with a fresh path (PCS).
			tg.commit(1, CommitParams{Update: true})
			tg.checkAgree()
			tg.chat()

			// Carol proposes an Update; Dave commits it by reference.
			prop, err := tg.members[2].g.ProposeUpdate(nil)
			if err != nil {
				t.Fatal(err)
			}
			tg.deliver(2, prop)
			tg.commit(3, CommitParams{})
			tg.checkAgree()
			tg.chat()

			// Alice removes Dave; Dave learns it and cannot read on.
			dave := tg.members[3]
			tg.commit(0, CommitParams{Removes: []LeafIndex{dave.g.OwnLeafIndex()}})
			if dave.g.Active() {
				t.Fatal("dave still active")
			}
			tg.checkAgree()
			ct, err := tg.members[1].g.Encrypt([]byte("secret"), nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := dave.g.Process(ct); err == nil {
				t.Fatal("removed member decrypted a later message")
			}
			if _, err := dave.g.Encrypt([]byte("x"), nil); !errors.Is(err, ErrNotMember) {
				t.Fatalf("removed member encrypt: %v", err)
			}
			for _, m := range tg.members[:3] {
				if m != tg.members[1] {
					if _, err := m.g.Process(ct); err != nil {
						t.Fatal(err)
					}
				}
			}

			// Bob proposes removing Carol; Alice commits it.
			prop, err = tg.members[1].g.ProposeRemove(tg.members[2].g.OwnLeafIndex(), nil)
			if err != nil {
				t.Fatal(err)
			}
			tg.deliver(1, prop)
			tg.commit(0, CommitParams{})
			if tg.members[2].g.Active() {
				t.Fatal("carol still active")
			}
			tg.checkAgree()
			if n := len(tg.members[0].g.Members()); n != 2 {
				t.Fatalf("%d members after removes", n)
			}
			tg.chat()
		})
	}
}

func TestGroupExternalJoinAndPSK(t *testing.T) {
	cfg := Config{}
	tg := newTestGroup(t, testSuite, cfg, "alice", "bob")
	gi, err := tg.members[0].g.GroupInfo(true)
	if err != nil {
		t.Fatal(err)
	}
	s, err := GenerateSigner(testSuite)
	if err != nil {
		t.Fatal(err)
	}
	eg, commit, err := JoinExternal(gi, s, NewBasicCredential([]byte("erin")), cfg, ExternalJoinOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ps := tg.deliver(-1, commit)
	if ps[0].Kind != ProcessedCommit || ps[0].SenderType != SenderTypeNewMemberCommit {
		t.Fatalf("unexpected %+v", ps[0])
	}
	tg.members = append(tg.members, &testMember{name: "erin", signer: s, g: eg})
	tg.checkAgree()
	tg.chat()

	// Resync: erin rejoins externally, replacing her old leaf.
	gi, _ = tg.members[0].g.GroupInfo(false)
	old := eg.OwnLeafIndex()
	eg2, commit, err := JoinExternal(gi, s, NewBasicCredential([]byte("erin")), cfg, ExternalJoinOptions{
		Resync: &old, RatchetTree: tg.members[0].g.RatchetTree(),
	})
	if err != nil {
		t.Fatal(err)
	}
	tg.members = tg.members[:2]
	tg.deliver(-1, commit)
	tg.members = append(tg.members, &testMember{name: "erin", signer: s, g: eg2})
	tg.checkAgree()
	tg.chat()

	// External PSK by value, then by reference; resumption PSK.
	for _, m := range tg.members {
		m.g.AddExternalPSK([]byte("psk-1"), []byte("shared secret"))
	}
	tg.commit(1, CommitParams{ExternalPSKs: [][]byte{[]byte("psk-1")}})
	tg.checkAgree()
	prop, err := tg.members[2].g.ProposeExternalPSK([]byte("psk-1"), nil)
	if err != nil {
		t.Fatal(err)
	}
	tg.deliver(2, prop)
	tg.commit(0, CommitParams{ResumptionPSKEpochs: []uint64{tg.members[0].g.Epoch() - 1}})
	tg.checkAgree()
	tg.chat()

	// A commit with an unknown PSK is rejected by the sender.
	if _, err := tg.members[0].g.Commit(CommitParams{ExternalPSKs: [][]byte{[]byte("nope")}}); !errors.Is(err, ErrMissingPSK) {
		t.Fatalf("unknown psk: %v", err)
	}
}

// TestGroupExternalResyncSelf: a member whose state is lost rejoins with
// ResyncSelf, which finds and removes its old leaf; an external joiner who
// removes somebody else's leaf is refused by every member.
func TestGroupExternalResyncSelf(t *testing.T) {
	cfg := Config{}
	tg := newTestGroup(t, testSuite, cfg, "alice", "bob", "carol")
	gi, err := tg.members[0].g.GroupInfo(true)
	if err != nil {
		t.Fatal(err)
	}
	bob := tg.members[1]
	nb, commit, err := JoinExternal(gi, bob.signer, NewBasicCredential([]byte("bob")), cfg, ExternalJoinOptions{ResyncSelf: true})
	if err != nil {
		t.Fatal(err)
	}
	tg.members = append(tg.members[:1], tg.members[2:]...)
	ps := tg.deliver(-1, commit)
	if len(ps[0].Removed) != 1 || string(ps[0].Removed[0].Credential.Identity) != "bob" {
		t.Fatalf("resync removed %+v", ps[0].Removed)
	}
	tg.members = append(tg.members, &testMember{name: "bob", signer: bob.signer, g: nb})
	if n := len(nb.Members()); n != 3 {
		t.Fatalf("after resync the group has %d members", n)
	}
	tg.checkAgree()
	tg.chat()

	// Mallory joins externally and removes carol's leaf: refused.
	gi, err = tg.members[0].g.GroupInfo(true)
	if err != nil {
		t.Fatal(err)
	}
	var carol LeafIndex
	for _, m := range tg.members[0].g.Members() {
		if string(m.Credential.Identity) == "carol" {
			carol = m.LeafIndex
		}
	}
	ms, err := GenerateSigner(testSuite)
	if err != nil {
		t.Fatal(err)
	}
	_, commit, err = JoinExternal(gi, ms, NewBasicCredential([]byte("mallory")), cfg, ExternalJoinOptions{Resync: &carol})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range tg.members {
		if _, err := m.g.Process(commit); !errors.Is(err, ErrInvalidCommit) {
			t.Fatalf("%s accepted an external commit removing carol: %v", m.name, err)
		}
	}
}

func TestGroupOutOfOrderAndPastEpochs(t *testing.T) {
	cfg := Config{MaxForwardDistance: 50, PastEpochs: 2}
	tg := newTestGroup(t, testSuite, cfg, "alice", "bob", "carol")
	bob := tg.members[1].g
	alice := tg.members[0].g
	var cts [][]byte
	for i := 0; i < 10; i++ {
		ct, err := bob.Encrypt([]byte{byte(i)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		cts = append(cts, ct)
	}
	// Deliver in reverse.
	for i := len(cts) - 1; i >= 0; i-- {
		p, err := alice.Process(cts[i])
		if err != nil || p.ApplicationData[0] != byte(i) {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	if _, err := alice.Process(cts[3]); !errors.Is(err, ErrOutOfWindow) {
		t.Fatalf("replay: %v", err)
	}
	// Too far ahead.
	var skips [][]byte
	for i := 0; i < 60; i++ {
		ct, err := bob.Encrypt([]byte("skip"), nil)
		if err != nil {
			t.Fatal(err)
		}
		skips = append(skips, ct)
	}
	far, _ := bob.Encrypt([]byte("far"), nil)
	if _, err := alice.Process(far); !errors.Is(err, ErrOutOfWindow) {
		t.Fatalf("far ahead: %v", err)
	}
	if _, err := alice.Process(skips[40]); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.Process(far); err != nil {
		t.Fatalf("far message once in range: %v", err)
	}

	// Messages of past epochs.
	late, _ := bob.Encrypt([]byte("late"), nil)
	tg.commit(2, CommitParams{Update: true})
	late2, _ := bob.Encrypt([]byte("late2"), nil)
	tg.commit(2, CommitParams{Update: true})
	p, err := alice.Process(late)
	if err != nil || string(p.ApplicationData) != "late" || p.Epoch != alice.Epoch()-2 {
		t.Fatalf("late message: %v", err)
	}
	if _, err := alice.Process(late2); err != nil {
		t.Fatal(err)
	}
	late3, _ := bob.Encrypt([]byte("late3"), nil)
	tg.commit(2, CommitParams{Update: true})
	tg.commit(2, CommitParams{Update: true})
	tg.commit(2, CommitParams{Update: true})
	if _, err := alice.Process(late3); !errors.Is(err, ErrWrongEpoch) {
		t.Fatalf("too old epoch: %v", err)
	}
}

func TestGroupStateRoundTrip(t *testing.T) {
	cfg := Config{}
	tg := newTestGroup(t, testSuite, cfg, "alice", "bob", "carol")
	tg.chat()
	// Leave some state around: a cached proposal, skipped keys, a past
	// epoch, and a pending commit at alice.
	ct0, _ := tg.members[1].g.Encrypt([]byte("m0"), nil)
	ct1, _ := tg.members[1].g.Encrypt([]byte("m1"), nil)
	if _, err := tg.members[0].g.Process(ct1); err != nil {
		t.Fatal(err)
	}
	prop, err := tg.members[2].g.ProposeUpdate(nil)
	if err != nil {
		t.Fatal(err)
	}
	tg.deliver(2, prop)
	pc, err := tg.members[0].g.Commit(CommitParams{Update: true})
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range tg.members {
		data, err := m.g.MarshalState()
		if err != nil {
			t.Fatal(err)
		}
		g2, err := UnmarshalGroupState(data, nil)
		if err != nil {
			t.Fatalf("%s: %v", m.name, err)
		}
		data2, err := g2.MarshalState()
		if err != nil || !bytes.Equal(data, data2) {
			t.Fatalf("%s: state not stable across round trip", m.name)
		}
		tg.members[i].g = g2
	}
	if p, err := tg.members[0].g.Process(ct0); err != nil || string(p.ApplicationData) != "m0" {
		t.Fatalf("skipped key lost: %v", err)
	}
	// The restored pending commit is delivered and merged.
	tg.deliver(0, pc.Commit)
	if err := tg.members[0].g.MergePendingCommit(); err != nil {
		t.Fatal(err)
	}
	tg.checkAgree()
	tg.chat()
	tg.commit(2, CommitParams{Update: true})
	tg.checkAgree()
	tg.chat()

	// Garbage state never panics.
	data, _ := tg.members[0].g.MarshalState()
	for i := 0; i < 300; i++ {
		c := bytes.Clone(data)
		c[rand.IntN(len(c))] ^= byte(1 + rand.IntN(255))
		_, _ = UnmarshalGroupState(c, nil)
		_, _ = UnmarshalGroupState(c[:rand.IntN(len(c))], nil)
	}
}

func TestGroupCommitConflicts(t *testing.T) {
	tg := newTestGroup(t, testSuite, Config{}, "alice", "bob", "carol")
	alice, bob := tg.members[0].g, tg.members[1].g
	pa, err := alice.Commit(CommitParams{Update: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := alice.Commit(CommitParams{}); !errors.Is(err, ErrPendingCommit) {
		t.Fatalf("second pending commit: %v", err)
	}
	// Bob's commit wins; alice processes it, which drops her pending one.
	pb, err := bob.Commit(CommitParams{Update: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := alice.Process(pb.Commit); err != nil {
		t.Fatal(err)
	}
	if alice.Pending() != nil {
		t.Fatal("pending commit survived an epoch change")
	}
	if _, err := tg.members[2].g.Process(pb.Commit); err != nil {
		t.Fatal(err)
	}
	_ = bob.MergePendingCommit()
	if _, err := bob.Process(pa.Commit); !errors.Is(err, ErrWrongEpoch) {
		t.Fatalf("stale commit: %v", err)
	}
	tg.checkAgree()
	// Own commit echoed back by the delivery service merges it.
	pc, err := alice.Commit(CommitParams{Update: true})
	if err != nil {
		t.Fatal(err)
	}
	if p, err := alice.Process(pc.Commit); err != nil || p.Kind != ProcessedCommit || alice.Pending() != nil {
		t.Fatalf("own commit echo: %v", err)
	}
	for _, m := range tg.members[1:] {
		if _, err := m.g.Process(pc.Commit); err != nil {
			t.Fatal(err)
		}
	}
	tg.checkAgree()
	// Adding an existing member is refused.
	b2, _ := newTestBundle(t, testSuite, "bob-again")
	b2.KeyPackage.LeafNode.SignatureKey = bob.signer.Public
	if _, err := alice.Commit(CommitParams{Adds: []*KeyPackage{&b2.KeyPackage}}); err == nil {
		t.Fatal("add with a forged key package accepted")
	}
}

func TestGroupHostileInput(t *testing.T) {
	tg := newTestGroup(t, testSuite, Config{}, "alice", "bob")
	alice, bob := tg.members[0].g, tg.members[1].g
	ct, _ := bob.Encrypt([]byte("hi"), nil)
	pc, err := bob.Commit(CommitParams{Update: true})
	if err != nil {
		t.Fatal(err)
	}
	epoch, th := alice.Epoch(), alice.tree.treeHash()
	rng := rand.New(rand.NewPCG(1, 2))
	for _, msg := range [][]byte{ct, pc.Commit} {
		for i := 0; i < 500; i++ {
			c := bytes.Clone(msg)
			for k := 0; k < 1+rng.IntN(3); k++ {
				c[rng.IntN(len(c))] ^= byte(1 + rng.IntN(255))
			}
			if _, err := alice.Process(c); err == nil {
				t.Fatalf("mutated message accepted")
			}
			_, _ = alice.Process(c[:rng.IntN(len(c))])
		}
	}
	if alice.Epoch() != epoch || !bytes.Equal(alice.tree.treeHash(), th) || len(alice.proposals) != 0 {
		t.Fatal("hostile input changed the state")
	}
	if _, err := alice.Process(pc.Commit); err != nil {
		t.Fatal(err)
	}
	if p, err := alice.Process(ct); err != nil || string(p.ApplicationData) != "hi" {
		t.Fatalf("past-epoch message after hostile input: %v", err)
	}
}

func TestGroupAllSuites(t *testing.T) {
	for _, cs := range []CipherSuite{1, 2, 3, 4, 5, 6, 7, MLS_128_MLKEM768X25519_AES128GCM_SHA256_Ed25519} {
		if !cs.Supported() {
			continue
		}
		t.Run(cs.String(), func(t *testing.T) {
			tg := newTestGroup(t, cs, Config{}, "a", "b", "c")
			tg.chat()
			tg.commit(2, CommitParams{Update: true, Removes: []LeafIndex{0}})
			tg.checkAgree()
			tg.chat()
		})
	}
}

func TestGroupExternalSenderAndExtensions(t *testing.T) {
	tg := newTestGroup(t, testSuite, Config{HandshakeFormat: WireFormatPublicMessage}, "alice", "bob", "carol")
	ds, err := GenerateSigner(testSuite)
	if err != nil {
		t.Fatal(err)
	}
	es := ExternalSenders{{SignatureKey: ds.Public, Credential: NewBasicCredential([]byte("server"))}}
	tg.commit(0, CommitParams{SetExtensions: true, Extensions: []Extension{{ExtensionType: ExtensionTypeExternalSenders, ExtensionData: mustEncode(&es)}}})
	tg.checkAgree()

	// The external sender proposes removing carol.
	g := tg.members[0].g
	fc := &FramedContent{
		GroupID: g.GroupID(), Epoch: g.Epoch(),
		Sender:      Sender{SenderType: SenderTypeExternal, LeafIndex: 0},
		ContentType: ContentTypeProposal,
		Proposal:    &Proposal{ProposalType: ProposalTypeRemove, Remove: &RemoveProposal{Removed: 2}},
	}
	ac, err := SignFramedContent(testSuite, WireFormatPublicMessage, fc, nil, ds.Private)
	if err != nil {
		t.Fatal(err)
	}
	pm, _ := NewPublicMessage(testSuite, ac, nil, nil)
	msg, _ := encodeMLSMessage(pm, nil)
	ps := tg.deliver(-1, msg)
	if ps[0].Kind != ProcessedProposal || ps[0].SenderType != SenderTypeExternal || string(ps[0].Credential.Identity) != "server" {
		t.Fatalf("external proposal: %+v", ps[0])
	}
	tg.commit(1, CommitParams{})
	if tg.members[2].g.Active() {
		t.Fatal("carol not removed")
	}
	tg.checkAgree()

	// An external sender may not send an Update, nor a forged signature.
	fc.Proposal = &Proposal{ProposalType: ProposalTypeRemove, Remove: &RemoveProposal{Removed: 1}}
	fc.Epoch = g.Epoch()
	ac, _ = SignFramedContent(testSuite, WireFormatPublicMessage, fc, nil, tg.members[1].signer.Private)
	pm, _ = NewPublicMessage(testSuite, ac, nil, nil)
	msg, _ = encodeMLSMessage(pm, nil)
	if _, err := g.Process(msg); !errors.Is(err, ErrInvalidMessage) {
		t.Fatalf("forged external proposal: %v", err)
	}

	// required_capabilities that a member lacks is refused.
	rc := RequiredCapabilities{ExtensionTypes: []ExtensionType{0xff00}}
	_, err = g.Commit(CommitParams{SetExtensions: true, Extensions: []Extension{{ExtensionType: ExtensionTypeRequiredCapabilities, ExtensionData: mustEncode(&rc)}}})
	if !errors.Is(err, ErrInvalidProposal) {
		t.Fatalf("unsupported required capability: %v", err)
	}
	// A key package that does not support the group's extensions is refused.
	kb, _ := newTestBundle(t, testSuite, "dave")
	g.cfg.Now = func() time.Time { return time.Now() }
	if _, err := g.Commit(CommitParams{Adds: []*KeyPackage{&kb.KeyPackage}}); err != nil {
		t.Fatalf("add: %v", err)
	}
	g.DiscardPendingCommit()
	g.cfg.Now = func() time.Time { return time.Now().Add(365 * 24 * time.Hour) }
	if _, err := g.Commit(CommitParams{Adds: []*KeyPackage{&kb.KeyPackage}}); !errors.Is(err, ErrInvalidLeafNode) {
		t.Fatalf("expired key package: %v", err)
	}
}

func TestGroupCommitDropsInvalidPendingProposals(t *testing.T) {
	tg := newTestGroup(t, testSuite, Config{}, "alice", "bob")
	alice, bob := tg.members[0].g, tg.members[1].g
	kb, _ := newTestBundle(t, testSuite, "carol")
	// Bob proposes adding carol; alice also adds carol by value: the
	// received proposal duplicates the client and must be dropped.
	prop, err := bob.ProposeAdd(&kb.KeyPackage, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := alice.Process(prop); err != nil {
		t.Fatal(err)
	}
	pc, err := alice.Commit(CommitParams{Adds: []*KeyPackage{&kb.KeyPackage}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bob.Process(pc.Commit); err != nil {
		t.Fatal(err)
	}
	_ = alice.MergePendingCommit()
	if len(alice.Members()) != 3 || len(bob.Members()) != 3 {
		t.Fatalf("members %d/%d", len(alice.Members()), len(bob.Members()))
	}
}

// TestGroupRandomOps drives a group through random sequences of adds,
// removes, updates, proposals by reference, external joins and state
// round trips, checking after each epoch that all members agree and that
// the tree stays valid (parent hashes, structure, key uniqueness).
func TestGroupRandomOps(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 99))
			cfg := Config{}
			if seed == 2 {
				cfg.HandshakeFormat = WireFormatPublicMessage
			}
			tg := newTestGroup(t, testSuite, cfg, "m0", "m1", "m2")
			next := 3
			active := func() []int {
				var out []int
				for i, m := range tg.members {
					if m.g.Active() {
						out = append(out, i)
					}
				}
				return out
			}
			for step := 0; step < 40; step++ {
				act := active()
				by := act[rng.IntN(len(act))]
				switch op := rng.IntN(7); {
				case op == 0 || len(act) < 3:
					var names []string
					for k := 0; k < 1+rng.IntN(3); k++ {
						names = append(names, fmt.Sprintf("m%d", next))
						next++
					}
					tg.add(cfg, by, names...)
				case op == 1:
					var rm []LeafIndex
					for _, i := range act {
						if i != by && rng.IntN(3) == 0 && len(rm)+2 < len(act) {
							rm = append(rm, tg.members[i].g.OwnLeafIndex())
						}
					}
					tg.commit(by, CommitParams{Removes: rm})
				case op == 2:
					tg.commit(by, CommitParams{Update: true})
				case op == 3:
					// Proposals by reference from several members.
					for _, i := range act {
						if i == by || rng.IntN(2) == 0 {
							continue
						}
						var prop []byte
						var err error
						if rng.IntN(2) == 0 {
							prop, err = tg.members[i].g.ProposeUpdate(nil)
						} else {
							victim := act[rng.IntN(len(act))]
							if victim == by || victim == i {
								continue
							}
							prop, err = tg.members[i].g.ProposeRemove(tg.members[victim].g.OwnLeafIndex(), nil)
						}
						if err != nil {
							t.Fatal(err)
						}
						tg.deliver(i, prop)
					}
					tg.commit(by, CommitParams{})
				case op == 4:
					gi, err := tg.members[by].g.GroupInfo(true)
					if err != nil {
						t.Fatal(err)
					}
					s, _ := GenerateSigner(testSuite)
					name := fmt.Sprintf("m%d", next)
					next++
					g, commit, err := JoinExternal(gi, s, NewBasicCredential([]byte(name)), cfg, ExternalJoinOptions{})
					if err != nil {
						t.Fatal(err)
					}
					tg.deliver(-1, commit)
					tg.members = append(tg.members, &testMember{name: name, signer: s, g: g})
				case op == 5:
					i := act[rng.IntN(len(act))]
					data, err := tg.members[i].g.MarshalState()
					if err != nil {
						t.Fatal(err)
					}
					if tg.members[i].g, err = UnmarshalGroupState(data, nil); err != nil {
						t.Fatal(err)
					}
					continue
				default:
					tg.chat()
					continue
				}
				tg.checkAgree()
				tr := tg.members[active()[0]].g.tree
				if err := tr.verifyStructure(); err != nil {
					t.Fatalf("step %d: %v", step, err)
				}
				if err := tr.verifyParentHashes(); err != nil {
					t.Fatalf("step %d: %v", step, err)
				}
				tr.adoptIndex()
			}
			tg.chat()
		})
	}
}

func TestGroupPadding(t *testing.T) {
	tg := newTestGroup(t, testSuite, Config{PaddingBlock: 256}, "alice", "bob")
	for _, n := range []int{0, 1, 100, 255, 300} {
		ct, err := tg.members[0].g.Encrypt(make([]byte, n), nil)
		if err != nil {
			t.Fatal(err)
		}
		var m MLSMessage
		if err := m.Unmarshal(ct); err != nil {
			t.Fatal(err)
		}
		// AEAD ciphertext = padded content + 16-byte tag.
		if l := len(m.PrivateMessage.Ciphertext) - 16; l%256 != 0 {
			t.Fatalf("content of %d bytes padded to %d", n, l)
		}
		if p, err := tg.members[1].g.Process(ct); err != nil || len(p.ApplicationData) != n {
			t.Fatalf("padded message: %v", err)
		}
	}
}
