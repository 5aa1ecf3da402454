package mls

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/parleyhq/parley/mls/codec"
)

// State serialisation. MarshalState writes everything a Group needs to
// continue exactly where it was: configuration (minus the credential
// validator and clock), signature key, GroupContext, ratchet tree, private
// tree keys, the current epoch's remaining secrets, secret tree (with its
// ratchets and retained out-of-order keys), transcript hashes, cached
// proposals, past epochs, resumption PSKs, external PSKs and the pending
// commit. Secrets already deleted under the forward-secrecy rules of RFC
// 9420 §9.2 (consumed ratchet keys, the epoch's joiner/welcome/epoch/
// encryption secrets, replaced tree keys) are not in the state, so a
// restored group cannot recover them either.
//
// The encoding is private to this package and versioned; it contains
// secret keys and must be stored encrypted at rest.

// Version 2 appends Config.DeferLeafSignatures and the leaves whose
// signature is still unchecked (deferred.go); version 1 is still read.
const stateFormatVersion = 2

// maxStateNesting bounds the nesting of pending-commit states on decode.
const maxStateNesting = 2

// MarshalState serialises the group state (see the state section above).
// Marshalling then UnmarshalGroupState yields a group that behaves exactly
// as g would.
func (g *Group) MarshalState() ([]byte, error) {
	w := codec.NewWriter(4096)
	g.encodeState(w)
	if err := w.Err(); err != nil {
		return nil, fmt.Errorf("mls: marshal state: %w", err)
	}
	return w.Bytes(), nil
}

// UnmarshalGroupState restores a group serialised by MarshalState. The
// credential validator is not serialised and must be supplied again (nil
// accepts all credentials).
func UnmarshalGroupState(data []byte, validator CredentialValidator) (*Group, error) {
	r := codec.NewReader(data)
	g := decodeState(r, validator, 0)
	if err := r.Finish(); err != nil {
		return nil, fmt.Errorf("%w: group state: %w", ErrMalformed, err)
	}
	return g, nil
}

func encodeTree(w *codec.Writer, t *ratchetTree) {
	w.U32(t.numLeaves())
	t.Encode(w)
}

func decodeTree(r *codec.Reader, cs CipherSuite) *ratchetTree {
	n := r.U32()
	data := r.Opaque()
	if r.Err() != nil {
		return nil
	}
	if n == 0 || n > maxTreeLeaves || n&(n-1) != 0 {
		r.Failf("tree of %d leaves", n)
		return nil
	}
	// Encode wrote a vector; Opaque stripped its length: restore it.
	t, err := unmarshalRatchetTree(cs, append(codec.AppendVarint(nil, len(data)), data...))
	if err != nil {
		r.Fail(err)
		return nil
	}
	if t.numLeaves() > n {
		r.Failf("tree larger than recorded")
		return nil
	}
	for t.numLeaves() < n {
		t.extend()
	}
	if err := t.verifyStructure(); err != nil {
		r.Fail(err)
		return nil
	}
	t.rebuildIndex()
	return t
}

// Past epochs only need their members' leaves (to authenticate late
// application messages), and most leaves are unchanged from the current
// tree, so they are stored as the leaf count plus, per leaf, a marker:
// 0 blank, 1 same LeafNode as the current tree, 2 a LeafNode follows.
func encodePastLeaves(w *codec.Writer, past, cur *ratchetTree) {
	w.U32(past.numLeaves())
	w.Vector(func(w *codec.Writer) {
		for l := LeafIndex(0); uint32(l) < past.numLeaves(); l++ {
			ln := past.leaf(l)
			switch c := cur.leaf(l); {
			case ln == nil:
				w.U8(0)
			case c != nil && (c == ln || bytes.Equal(mustEncode(c), mustEncode(ln))):
				w.U8(1)
			default:
				w.U8(2)
				ln.Encode(w)
			}
		}
	})
}

func decodePastLeaves(r *codec.Reader, cs CipherSuite, cur *ratchetTree) *ratchetTree {
	n := r.U32()
	if r.Err() != nil || cur == nil {
		return nil
	}
	if n == 0 || n > maxTreeLeaves || n&(n-1) != 0 {
		r.Failf("past tree of %d leaves", n)
		return nil
	}
	var leaves []*LeafNode
	r.VectorEach(func(r *codec.Reader) {
		if uint32(len(leaves)) >= n {
			r.Failf("too many past leaves")
			return
		}
		switch m := r.U8(); m {
		case 0:
			leaves = append(leaves, nil)
		case 1:
			c := cur.leaf(LeafIndex(len(leaves)))
			if c == nil {
				r.Failf("past leaf refers to a blank current leaf")
				return
			}
			leaves = append(leaves, c)
		case 2:
			ln := new(LeafNode)
			ln.Decode(r)
			leaves = append(leaves, ln)
		default:
			r.Failf("past leaf marker %d", m)
		}
	})
	if r.Err() != nil {
		return nil
	}
	if uint32(len(leaves)) != n {
		r.Failf("past tree has %d leaves, want %d", len(leaves), n)
		return nil
	}
	t := &ratchetTree{suite: cs, nodes: newBlankNodes(int(nodeWidth(n)))}
	for i, ln := range leaves {
		t.nodes[2*i].leaf = ln
	}
	return t
}

// decodeSecretTree reads a secret tree written by SecretTree.marshal; it
// returns nil (with r failed) on malformed input.
func decodeSecretTree(r *codec.Reader, cs CipherSuite) *SecretTree {
	st := new(SecretTree)
	st.unmarshal(r, cs)
	if r.Err() != nil {
		return nil
	}
	return st
}

func (g *Group) encodeState(w *codec.Writer) {
	w.U8(stateFormatVersion)
	c := &g.cfg
	w.U16(uint16(c.HandshakeFormat))
	w.U32(c.MaxForwardDistance)
	w.U32(uint32(int32(c.OutOfOrderWindow)))
	w.U32(uint32(int32(c.PastEpochs)))
	w.U32(uint32(int32(c.ResumptionPSKs)))
	w.Bool(c.OmitRatchetTree)
	w.U32(uint32(c.PaddingBlock))
	w.U64(uint64(c.MaxLifetime))

	w.U16(uint16(g.cs))
	w.Opaque(g.signer.Private)
	w.Opaque(g.signer.Public)
	g.ctx.Encode(w)
	encodeTree(w, g.tree)
	w.U32(uint32(g.priv.self))
	nodes := slices.Sorted(maps.Keys(g.priv.keys))
	w.Vector(func(w *codec.Writer) {
		for _, x := range nodes {
			w.U32(uint32(x))
			w.Opaque(g.priv.keys[x].priv)
			w.Opaque(g.priv.keys[x].pub)
		}
	})
	s := g.secrets
	for _, b := range [][]byte{s.SenderDataSecret, s.ExporterSecret, s.ExternalSecret, s.ConfirmationKey,
		s.MembershipKey, s.ResumptionPSK, s.EpochAuthenticator, s.InitSecret} {
		w.Opaque(b)
	}
	g.st.marshal(w)
	w.Opaque(g.interim)
	w.Opaque(g.confTag)
	w.Vector(func(w *codec.Writer) {
		for _, cp := range g.proposals {
			w.Opaque(cp.ref)
			cp.sender.Encode(w)
			cp.proposal.Encode(w)
		}
	})
	ukeys := slices.Sorted(maps.Keys(g.updateKeys))
	w.Vector(func(w *codec.Writer) {
		for _, k := range ukeys {
			w.Opaque([]byte(k))
			w.Opaque(g.updateKeys[k])
		}
	})
	w.Vector(func(w *codec.Writer) {
		for _, p := range g.past {
			w.U64(p.epoch)
			p.st.marshal(w)
			w.Opaque(p.senderDataSecret)
			encodePastLeaves(w, p.tree, g.tree)
			w.Opaque(p.ctxEnc)
		}
	})
	w.Vector(func(w *codec.Writer) {
		for _, rp := range g.resumption {
			w.U64(rp.epoch)
			w.Opaque(rp.psk)
		}
	})
	pskIDs := slices.Sorted(maps.Keys(g.extPSKs))
	w.Vector(func(w *codec.Writer) {
		for _, id := range pskIDs {
			w.Opaque([]byte(id))
			w.Opaque(g.extPSKs[id])
		}
	})
	w.Bool(g.active)
	w.Optional(g.reinit != nil)
	if g.reinit != nil {
		g.reinit.Encode(w)
	}
	w.Optional(g.pending != nil)
	if p := g.pending; p != nil {
		w.Opaque(p.Commit)
		w.Opaque(p.Welcome)
		w.Opaque(p.GroupInfo)
		w.Vector(func(w *codec.Writer) { p.next.encodeState(w) })
	}
	w.Bool(g.cfg.DeferLeafSignatures)
	w.Vector(func(w *codec.Writer) {
		for _, l := range g.tree.deferredLeaves() {
			w.U32(uint32(l))
		}
	})
}

func decodeState(r *codec.Reader, validator CredentialValidator, depth int) *Group {
	version := r.U8()
	if version != 1 && version != stateFormatVersion {
		r.Failf("state format %d", version)
		return nil
	}
	g := &Group{updateKeys: map[string][]byte{}, extPSKs: map[string][]byte{}}
	c := &g.cfg
	c.HandshakeFormat = WireFormat(r.U16())
	c.MaxForwardDistance = r.U32()
	c.OutOfOrderWindow = int(int32(r.U32()))
	c.PastEpochs = int(int32(r.U32()))
	c.ResumptionPSKs = int(int32(r.U32()))
	c.OmitRatchetTree = r.Bool()
	c.PaddingBlock = int(r.U32())
	c.MaxLifetime = time.Duration(r.U64())
	c.CredentialValidator = validator
	if r.Err() == nil {
		if err := c.validate(); err != nil {
			r.Fail(err)
		}
	}
	g.cs = CipherSuite(r.U16())
	if r.Err() == nil && !g.cs.Supported() {
		r.Failf("cipher suite %d", g.cs)
	}
	g.signer.Private = r.Opaque()
	g.signer.Public = r.Opaque()
	g.ctx.Decode(r)
	if r.Err() != nil {
		return nil
	}
	if g.ctx.CipherSuite != g.cs {
		r.Failf("group context suite mismatch")
		return nil
	}
	g.ctxEnc = mustEncode(&g.ctx)
	g.tree = decodeTree(r, g.cs)
	self := LeafIndex(r.U32())
	g.priv = newTreePrivate(self)
	r.VectorEach(func(r *codec.Reader) {
		x := nodeIndex(r.U32())
		g.priv.keys[x] = nodeKey{priv: r.Opaque(), pub: r.Opaque()}
	})
	s := &EpochSecrets{CipherSuite: g.cs}
	for _, p := range []*[]byte{&s.SenderDataSecret, &s.ExporterSecret, &s.ExternalSecret, &s.ConfirmationKey,
		&s.MembershipKey, &s.ResumptionPSK, &s.EpochAuthenticator, &s.InitSecret} {
		*p = r.Opaque()
	}
	g.secrets = s
	g.st = decodeSecretTree(r, g.cs)
	g.interim = r.Opaque()
	g.confTag = r.Opaque()
	r.VectorEach(func(r *codec.Reader) {
		cp := &cachedProposal{ref: r.Opaque(), proposal: &Proposal{}}
		cp.sender.Decode(r)
		cp.proposal.Decode(r)
		g.proposals = append(g.proposals, cp)
	})
	r.VectorEach(func(r *codec.Reader) {
		k := r.Opaque()
		g.updateKeys[string(k)] = r.Opaque()
	})
	r.VectorEach(func(r *codec.Reader) {
		p := &pastEpoch{epoch: r.U64()}
		p.st = decodeSecretTree(r, g.cs)
		p.senderDataSecret = r.Opaque()
		p.tree = decodePastLeaves(r, g.cs, g.tree)
		p.ctxEnc = r.Opaque()
		g.past = append(g.past, p)
	})
	r.VectorEach(func(r *codec.Reader) {
		g.resumption = append(g.resumption, resumptionPSK{epoch: r.U64(), psk: r.Opaque()})
	})
	r.VectorEach(func(r *codec.Reader) {
		id := r.Opaque()
		g.extPSKs[string(id)] = r.Opaque()
	})
	g.active = r.Bool()
	if r.Optional() {
		g.reinit = &ReInitProposal{}
		g.reinit.Decode(r)
	}
	if r.Optional() {
		p := &PendingCommit{Commit: r.Opaque(), Welcome: r.Opaque(), GroupInfo: r.Opaque()}
		if len(p.Welcome) == 0 {
			p.Welcome = nil
		}
		if len(p.GroupInfo) == 0 {
			p.GroupInfo = nil
		}
		if depth >= maxStateNesting {
			r.Failf("pending commit nested too deeply")
			return nil
		}
		r.Vector(func(r *codec.Reader) { p.next = decodeState(r, validator, depth+1) })
		g.pending = p
	}
	var deferred []LeafIndex
	if version >= 2 {
		g.cfg.DeferLeafSignatures = r.Bool()
		r.VectorEach(func(r *codec.Reader) {
			l := LeafIndex(r.U32())
			if g.tree == nil || uint32(l) >= g.tree.numLeaves() || g.tree.leaf(l) == nil {
				r.Failf("deferred leaf %d is not in the tree", l)
				return
			}
			deferred = append(deferred, l)
		})
	}
	if r.Err() != nil {
		return nil
	}
	if len(deferred) > 0 {
		for _, l := range deferred {
			g.tree.deferLeaf(l)
		}
		// Past epochs' leaves that differ from the current ones may not
		// have been checked either: check them at first use too.
		for _, p := range g.past {
			if p.tree == nil {
				continue
			}
			p.tree.deferred = g.tree.deferred
			for l := LeafIndex(0); uint32(l) < p.tree.numLeaves(); l++ {
				if ln := p.tree.leaf(l); ln != nil && (uint32(l) >= g.tree.numLeaves() || g.tree.leaf(l) != ln) {
					p.tree.deferLeaf(l)
				}
			}
		}
	}
	// Consistency checks that keep later operations from panicking.
	if g.tree == nil || g.st == nil || g.st.nLeaves != g.tree.numLeaves() {
		r.Failf("inconsistent tree sizes")
		return nil
	}
	if uint32(self) >= g.tree.numLeaves() || (g.active && g.tree.leaf(self) == nil) {
		r.Failf("own leaf %d invalid", self)
		return nil
	}
	if !bytes.Equal(g.tree.treeHash(), g.ctx.TreeHash) {
		r.Failf("tree hash does not match the group context")
		return nil
	}
	for _, p := range g.past {
		if p.st == nil || p.tree == nil || p.st.nLeaves != p.tree.numLeaves() {
			r.Failf("inconsistent past epoch")
			return nil
		}
	}
	if len(g.secrets.InitSecret) != g.cs.HashSize() || len(g.secrets.SenderDataSecret) != g.cs.HashSize() {
		r.Failf("secret sizes")
		return nil
	}
	return g
}
