package mls

import (
	"fmt"

	"github.com/parleyhq/parley/mls/codec"
)

// LeafNodeSource says how a LeafNode was created (RFC 9420 §7.2).
type LeafNodeSource uint8

// Leaf node sources.
const (
	LeafNodeSourceKeyPackage LeafNodeSource = 1
	LeafNodeSourceUpdate     LeafNodeSource = 2
	LeafNodeSourceCommit     LeafNodeSource = 3
)

// Signature labels of RFC 9420.
const (
	labelLeafNodeTBS           = "LeafNodeTBS"
	labelKeyPackageTBS         = "KeyPackageTBS"
	labelGroupInfoTBS          = "GroupInfoTBS"
	labelFramedContentTBS      = "FramedContentTBS"
	labelUpdatePathNode        = "UpdatePathNode"
	labelWelcome               = "Welcome"
	labelExternalInitSecretCtx = "MLS 1.0 external init secret"
)

// LeafNode is a member's leaf in the ratchet tree (RFC 9420 §7.2).
// EncryptionKey and SignatureKey are the encoded HPKE and signature public
// keys. Lifetime is meaningful only for LeafNodeSourceKeyPackage and
// ParentHash only for LeafNodeSourceCommit.
type LeafNode struct {
	EncryptionKey  []byte
	SignatureKey   []byte
	Credential     Credential
	Capabilities   Capabilities
	LeafNodeSource LeafNodeSource
	Lifetime       Lifetime
	ParentHash     []byte
	Extensions     []Extension
	Signature      []byte
}

func (ln *LeafNode) encodeContent(w *codec.Writer) {
	w.Opaque(ln.EncryptionKey)
	w.Opaque(ln.SignatureKey)
	ln.Credential.Encode(w)
	ln.Capabilities.Encode(w)
	w.U8(uint8(ln.LeafNodeSource))
	switch ln.LeafNodeSource {
	case LeafNodeSourceKeyPackage:
		ln.Lifetime.Encode(w)
	case LeafNodeSourceCommit:
		w.Opaque(ln.ParentHash)
	}
	encodeExtensions(w, ln.Extensions)
}

// Encode appends the encoding of ln.
func (ln *LeafNode) Encode(w *codec.Writer) {
	ln.encodeContent(w)
	w.Opaque(ln.Signature)
}

// Decode reads a LeafNode.
func (ln *LeafNode) Decode(r *codec.Reader) {
	ln.EncryptionKey = r.Opaque()
	ln.SignatureKey = r.Opaque()
	ln.Credential.Decode(r)
	ln.Capabilities.Decode(r)
	ln.LeafNodeSource = LeafNodeSource(r.U8())
	switch ln.LeafNodeSource {
	case LeafNodeSourceKeyPackage:
		ln.Lifetime.Decode(r)
	case LeafNodeSourceUpdate:
	case LeafNodeSourceCommit:
		ln.ParentHash = r.Opaque()
	default:
		r.Failf("unknown leaf node source %d", ln.LeafNodeSource)
	}
	ln.Extensions = decodeExtensions(r)
	ln.Signature = r.Opaque()
}

// SignatureTBS returns the encoded LeafNodeTBS (RFC 9420 §7.2). groupID and
// leafIndex are included only for the update and commit sources and are
// ignored for key_package leaves.
func (ln *LeafNode) SignatureTBS(groupID []byte, leafIndex uint32) []byte {
	w := codec.NewWriter(256)
	ln.encodeContent(w)
	switch ln.LeafNodeSource {
	case LeafNodeSourceUpdate, LeafNodeSourceCommit:
		w.Opaque(groupID)
		w.U32(leafIndex)
	}
	return w.Bytes()
}

// Sign sets ln.Signature to SignWithLabel(priv, "LeafNodeTBS", TBS).
func (ln *LeafNode) Sign(cs CipherSuite, priv, groupID []byte, leafIndex uint32) error {
	sig, err := cs.SignWithLabel(priv, labelLeafNodeTBS, ln.SignatureTBS(groupID, leafIndex))
	if err != nil {
		return fmt.Errorf("mls: sign leaf node: %w", err)
	}
	ln.Signature = sig
	return nil
}

// VerifySignature checks ln.Signature against ln.SignatureKey. It returns nil
// only for a valid signature.
func (ln *LeafNode) VerifySignature(cs CipherSuite, groupID []byte, leafIndex uint32) error {
	if err := cs.VerifyWithLabel(ln.SignatureKey, labelLeafNodeTBS, ln.SignatureTBS(groupID, leafIndex), ln.Signature); err != nil {
		return fmt.Errorf("mls: leaf node signature: %w", err)
	}
	return nil
}

// ParentNode is an interior node of the ratchet tree (RFC 9420 §7.1).
type ParentNode struct {
	EncryptionKey  []byte
	ParentHash     []byte
	UnmergedLeaves []uint32
}

// Encode appends the encoding of pn.
func (pn *ParentNode) Encode(w *codec.Writer) {
	w.Opaque(pn.EncryptionKey)
	w.Opaque(pn.ParentHash)
	w.Vector(func(w *codec.Writer) {
		for _, l := range pn.UnmergedLeaves {
			w.U32(l)
		}
	})
}

// Decode reads a ParentNode.
func (pn *ParentNode) Decode(r *codec.Reader) {
	pn.EncryptionKey = r.Opaque()
	pn.ParentHash = r.Opaque()
	pn.UnmergedLeaves = nil
	r.VectorEach(func(r *codec.Reader) { pn.UnmergedLeaves = append(pn.UnmergedLeaves, r.U32()) })
}

// HPKECiphertext is the output of EncryptWithLabel (RFC 9420 §7.6).
type HPKECiphertext struct {
	KEMOutput  []byte
	Ciphertext []byte
}

// Encode appends the encoding of c.
func (c *HPKECiphertext) Encode(w *codec.Writer) {
	w.Opaque(c.KEMOutput)
	w.Opaque(c.Ciphertext)
}

// Decode reads an HPKECiphertext.
func (c *HPKECiphertext) Decode(r *codec.Reader) {
	c.KEMOutput = r.Opaque()
	c.Ciphertext = r.Opaque()
}

// UpdatePathNode is one node of an UpdatePath (RFC 9420 §7.6).
type UpdatePathNode struct {
	EncryptionKey       []byte
	EncryptedPathSecret []HPKECiphertext
}

// Encode appends the encoding of n.
func (n *UpdatePathNode) Encode(w *codec.Writer) {
	w.Opaque(n.EncryptionKey)
	encodeList(w, n.EncryptedPathSecret)
}

// Decode reads an UpdatePathNode.
func (n *UpdatePathNode) Decode(r *codec.Reader) {
	n.EncryptionKey = r.Opaque()
	n.EncryptedPathSecret = decodeList[HPKECiphertext](r)
}

// UpdatePath is the path a committer sends to refresh its direct path
// (RFC 9420 §7.6).
type UpdatePath struct {
	LeafNode LeafNode
	Nodes    []UpdatePathNode
}

// Encode appends the encoding of p.
func (p *UpdatePath) Encode(w *codec.Writer) {
	p.LeafNode.Encode(w)
	encodeList(w, p.Nodes)
}

// Decode reads an UpdatePath.
func (p *UpdatePath) Decode(r *codec.Reader) {
	p.LeafNode.Decode(r)
	p.Nodes = decodeList[UpdatePathNode](r)
}
