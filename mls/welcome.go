package mls

import (
	"fmt"

	"github.com/parleyhq/parley/mls/codec"
)

// GroupInfo describes a group to joiners (RFC 9420 §12.4.3). Signer is the
// leaf index of the member that signed it.
type GroupInfo struct {
	GroupContext    GroupContext
	Extensions      []Extension
	ConfirmationTag []byte
	Signer          uint32
	Signature       []byte
}

func (gi *GroupInfo) encodeTBS(w *codec.Writer) {
	gi.GroupContext.Encode(w)
	encodeExtensions(w, gi.Extensions)
	w.Opaque(gi.ConfirmationTag)
	w.U32(gi.Signer)
}

// Encode appends the encoding of gi.
func (gi *GroupInfo) Encode(w *codec.Writer) {
	gi.encodeTBS(w)
	w.Opaque(gi.Signature)
}

// Decode reads a GroupInfo.
func (gi *GroupInfo) Decode(r *codec.Reader) {
	gi.GroupContext.Decode(r)
	gi.Extensions = decodeExtensions(r)
	gi.ConfirmationTag = r.Opaque()
	gi.Signer = r.U32()
	gi.Signature = r.Opaque()
}

// Marshal returns the encoding of gi.
func (gi *GroupInfo) Marshal() ([]byte, error) { return Marshal(gi) }

// Unmarshal decodes data into gi.
func (gi *GroupInfo) Unmarshal(data []byte) error { return Unmarshal(data, gi) }

// SignatureTBS returns the encoded GroupInfoTBS.
func (gi *GroupInfo) SignatureTBS() []byte {
	w := codec.NewWriter(512)
	gi.encodeTBS(w)
	return w.Bytes()
}

// Sign sets gi.Signature with the signer's signature private key, using the
// suite of gi.GroupContext.
func (gi *GroupInfo) Sign(priv []byte) error {
	k, err := gi.GroupContext.CipherSuite.parseSigningKey(priv)
	if err != nil {
		return fmt.Errorf("mls: sign group info: %w", err)
	}
	return gi.signWith(k)
}

// signWith is Sign with a parsed key. SignContent{"MLS 1.0 GroupInfoTBS",
// GroupInfoTBS} is encoded in one pass (the TBS holds the ratchet tree of
// large groups, about 1 MB for 5,000 members).
func (gi *GroupInfo) signWith(k *signingKey) error {
	w := codec.NewWriter(512 + gi.sizeHint())
	w.Varint(len(mlsLabelPrefix) + len(labelGroupInfoTBS))
	w.RawString(mlsLabelPrefix)
	w.RawString(labelGroupInfoTBS)
	w.Vector(gi.encodeTBS)
	if err := w.Err(); err != nil {
		return fmt.Errorf("mls: sign group info: %w", err)
	}
	sig, err := k.sign(w.Bytes())
	if err != nil {
		return fmt.Errorf("mls: sign group info: %w", err)
	}
	gi.Signature = sig
	return nil
}

// sizeHint estimates the size of gi's encoding (for buffer sizing).
func (gi *GroupInfo) sizeHint() int {
	n := 256 + len(gi.GroupContext.GroupID) + len(gi.GroupContext.TreeHash) + len(gi.GroupContext.ConfirmedTranscriptHash) +
		len(gi.ConfirmationTag) + len(gi.Signature)
	for _, e := range gi.GroupContext.Extensions {
		n += len(e.ExtensionData) + 8
	}
	for _, e := range gi.Extensions {
		n += len(e.ExtensionData) + 8
	}
	return n
}

// VerifySignature checks gi.Signature against the signer's encoded
// signature public key pub. It returns nil only for a valid signature.
func (gi *GroupInfo) VerifySignature(pub []byte) error {
	if err := gi.GroupContext.CipherSuite.VerifyWithLabel(pub, labelGroupInfoTBS, gi.SignatureTBS(), gi.Signature); err != nil {
		return fmt.Errorf("mls: group info signature: %w", err)
	}
	return nil
}

// PathSecret carries a path secret to a joiner (RFC 9420 §12.4.3.1).
type PathSecret struct {
	PathSecret []byte
}

// GroupSecrets are the secrets a joiner needs (RFC 9420 §12.4.3.1).
// PathSecret is nil when absent.
type GroupSecrets struct {
	JoinerSecret []byte
	PathSecret   *PathSecret
	PSKs         []PreSharedKeyID
}

// Encode appends the encoding of gs.
func (gs *GroupSecrets) Encode(w *codec.Writer) {
	w.Opaque(gs.JoinerSecret)
	w.Optional(gs.PathSecret != nil)
	if gs.PathSecret != nil {
		w.Opaque(gs.PathSecret.PathSecret)
	}
	encodeList(w, gs.PSKs)
}

// Decode reads GroupSecrets.
func (gs *GroupSecrets) Decode(r *codec.Reader) {
	gs.JoinerSecret = r.Opaque()
	gs.PathSecret = nil
	if r.Optional() {
		gs.PathSecret = &PathSecret{PathSecret: r.Opaque()}
	}
	gs.PSKs = decodeList[PreSharedKeyID](r)
}

// Marshal returns the encoding of gs.
func (gs *GroupSecrets) Marshal() ([]byte, error) { return Marshal(gs) }

// Unmarshal decodes data into gs.
func (gs *GroupSecrets) Unmarshal(data []byte) error { return Unmarshal(data, gs) }

// EncryptedGroupSecrets is GroupSecrets encrypted to one new member's
// KeyPackage init key (RFC 9420 §12.4.3.1).
type EncryptedGroupSecrets struct {
	NewMember             []byte // KeyPackageRef
	EncryptedGroupSecrets HPKECiphertext
}

// Encode appends the encoding of e.
func (e *EncryptedGroupSecrets) Encode(w *codec.Writer) {
	w.Opaque(e.NewMember)
	e.EncryptedGroupSecrets.Encode(w)
}

// Decode reads an EncryptedGroupSecrets.
func (e *EncryptedGroupSecrets) Decode(r *codec.Reader) {
	e.NewMember = r.Opaque()
	e.EncryptedGroupSecrets.Decode(r)
}

// Welcome invites new members to a group (RFC 9420 §12.4.3.1).
type Welcome struct {
	CipherSuite        CipherSuite
	Secrets            []EncryptedGroupSecrets
	EncryptedGroupInfo []byte
}

// Encode appends the encoding of wm.
func (wm *Welcome) Encode(w *codec.Writer) {
	w.U16(uint16(wm.CipherSuite))
	encodeList(w, wm.Secrets)
	w.Opaque(wm.EncryptedGroupInfo)
}

// Decode reads a Welcome.
func (wm *Welcome) Decode(r *codec.Reader) {
	wm.CipherSuite = CipherSuite(r.U16())
	wm.Secrets = decodeList[EncryptedGroupSecrets](r)
	wm.EncryptedGroupInfo = r.Opaque()
}

// Marshal returns the encoding of wm.
func (wm *Welcome) Marshal() ([]byte, error) { return Marshal(wm) }

// Unmarshal decodes data into wm.
func (wm *Welcome) Unmarshal(data []byte) error { return Unmarshal(data, wm) }

// Find returns the EncryptedGroupSecrets addressed to the KeyPackageRef ref.
func (wm *Welcome) Find(ref []byte) (*EncryptedGroupSecrets, bool) {
	for i := range wm.Secrets {
		if constantTimeEqual(wm.Secrets[i].NewMember, ref) {
			return &wm.Secrets[i], true
		}
	}
	return nil, false
}
