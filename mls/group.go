package mls

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"slices"

	"github.com/parleyhq/parley/mls/codec"
)

// Group is one client's state of an MLS group (RFC 9420 §8, §12): the
// current epoch's GroupContext, ratchet tree, private tree keys, key
// schedule secrets and secret tree, the proposals received in the epoch,
// the secret trees of a few past epochs (for late application messages) and
// at most one pending commit created by this client.
//
// A Group is not safe for concurrent use. Every method either succeeds and
// moves the state forward, or fails and leaves the group's epoch, tree and
// membership as they were. Message keys are the exception: a key used to
// decrypt a PrivateMessage that then fails authentication, or to encrypt a
// message whose creation fails later, stays consumed (RFC 9420 §9.2 forbids
// reusing it).
type Group struct {
	cfg Config
	cs  CipherSuite

	signer Signer
	ctx    GroupContext
	ctxEnc []byte
	tree   *ratchetTree
	priv   *treePrivate

	secrets *EpochSecrets
	st      *SecretTree
	interim []byte
	confTag []byte

	// proposals holds the proposals received (or sent) in this epoch,
	// in arrival order, for commits that reference them.
	proposals []*cachedProposal
	// updateKeys holds the private leaf keys of this client's pending
	// Update proposals, by encryption public key.
	updateKeys map[string][]byte

	past       []*pastEpoch
	resumption []resumptionPSK
	extPSKs    map[string][]byte

	pending *PendingCommit
	// active is false once this client has been removed from the group.
	active bool
	// reinit is set once a commit with a ReInit proposal was applied.
	reinit *ReInitProposal
	// deferAddSigs is set while applyProposals validates another member's
	// commit under Config.DeferLeafSignatures (deferred.go).
	deferAddSigs bool
	// policy vets other members' commits before they apply (SetCommitPolicy).
	policy func(*CommitView) error
}

// cachedProposal is a proposal received (or sent) in the current epoch.
type cachedProposal struct {
	ref      []byte
	proposal *Proposal
	sender   Sender
}

// pastEpoch keeps what is needed to decrypt and authenticate late
// application messages of an earlier epoch.
type pastEpoch struct {
	epoch            uint64
	st               *SecretTree
	senderDataSecret []byte
	tree             *ratchetTree
	ctxEnc           []byte
}

type resumptionPSK struct {
	epoch uint64
	psk   []byte
}

// PendingCommit is a commit created by this client that has not yet been
// confirmed by the delivery service. Send Commit to the group (and Welcome
// to the new members), then call MergePendingCommit once the delivery
// service has accepted the commit, or DiscardPendingCommit if it was
// rejected (e.g. because another commit won the epoch).
type PendingCommit struct {
	// Commit is the MLSMessage (PublicMessage or PrivateMessage) to send.
	Commit []byte
	// Welcome is the MLSMessage(Welcome) for the members added, or nil.
	Welcome []byte
	// GroupInfo is the signed MLSMessage(GroupInfo) of the new epoch
	// (with external_pub, and the ratchet tree unless OmitRatchetTree),
	// set for every commit, so that the delivery service can offer each
	// epoch to external joiners (RFC 9420 §12.4.3.2).
	GroupInfo []byte

	next *Group
}

// NewEpoch returns the epoch the group will be in after the merge.
func (p *PendingCommit) NewEpoch() uint64 { return p.next.ctx.Epoch }

// CreateGroup creates a one-member group at epoch 0 (RFC 9420 §11) whose
// only member is described by bundle's LeafNode and signs with bundle's
// signature key. extensions become the GroupContext extensions.
func CreateGroup(groupID []byte, bundle *KeyPackageBundle, cfg Config, extensions ...Extension) (*Group, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	kp := &bundle.KeyPackage
	cs := kp.CipherSuite
	if !cs.Supported() {
		return nil, fmt.Errorf("mls: create group: %w: %d", ErrUnsupportedCipherSuite, uint16(cs))
	}
	if len(groupID) == 0 {
		return nil, fmt.Errorf("mls: create group: empty group ID")
	}
	if HasDuplicateExtensions(extensions) {
		return nil, fmt.Errorf("mls: create group: duplicate extensions")
	}
	leafPub, err := cs.HPKEPublicKeyFromPrivate(bundle.LeafPrivate)
	if err != nil || !bytes.Equal(leafPub, kp.LeafNode.EncryptionKey) {
		return nil, fmt.Errorf("mls: create group: bundle leaf key does not match its KeyPackage")
	}
	sigPub, err := cs.SignaturePublicKey(bundle.SignaturePrivate)
	if err != nil || !bytes.Equal(sigPub, kp.LeafNode.SignatureKey) {
		return nil, fmt.Errorf("mls: create group: bundle signature key does not match its KeyPackage")
	}
	ln := kp.LeafNode
	g := &Group{
		cfg:        cfg,
		cs:         cs,
		signer:     Signer{Private: bytes.Clone(bundle.SignaturePrivate), Public: sigPub},
		tree:       newRatchetTree(cs, &ln),
		priv:       newTreePrivate(0),
		updateKeys: map[string][]byte{},
		extPSKs:    map[string][]byte{},
		active:     true,
	}
	if err := g.validateLeafNode(g.tree, &ln, 0, groupID, extensions, LeafNodeSourceKeyPackage, false); err != nil {
		return nil, fmt.Errorf("mls: create group: %w", err)
	}
	g.priv.keys[0] = nodeKey{priv: bytes.Clone(bundle.LeafPrivate), pub: leafPub}
	g.ctx = GroupContext{
		Version:                 ProtocolVersionMLS10,
		CipherSuite:             cs,
		GroupID:                 bytes.Clone(groupID),
		Epoch:                   0,
		TreeHash:                g.tree.treeHash(),
		ConfirmedTranscriptHash: []byte{},
		Extensions:              slices.Clone(extensions),
	}
	g.ctxEnc = mustEncode(&g.ctx)
	initSecret := make([]byte, cs.HashSize())
	if _, err := rand.Read(initSecret); err != nil {
		return nil, err
	}
	secrets, err := cs.KeySchedule(initSecret, nil, nil, g.ctxEnc)
	clear(initSecret)
	if err != nil {
		return nil, err
	}
	if g.confTag, err = cs.ConfirmationTag(secrets.ConfirmationKey, g.ctx.ConfirmedTranscriptHash); err != nil {
		return nil, err
	}
	if g.interim, err = cs.InterimTranscriptHash(g.ctx.ConfirmedTranscriptHash, g.confTag); err != nil {
		return nil, err
	}
	if err := g.installSecrets(secrets); err != nil {
		return nil, err
	}
	return g, nil
}

// installSecrets makes secrets the current epoch's key schedule output:
// it builds the secret tree from the encryption secret and deletes the
// intermediate secrets that are no longer needed (RFC 9420 §9.2).
func (g *Group) installSecrets(secrets *EpochSecrets) error {
	st, err := NewSecretTree(g.cs, secrets.EncryptionSecret, g.tree.numLeaves(), g.cfg.secretTreeConfig())
	if err != nil {
		return err
	}
	for _, s := range [][]byte{secrets.JoinerSecret, secrets.WelcomeSecret, secrets.EpochSecret, secrets.EncryptionSecret} {
		clear(s)
	}
	secrets.JoinerSecret, secrets.WelcomeSecret, secrets.EpochSecret, secrets.EncryptionSecret = nil, nil, nil, nil
	g.secrets = secrets
	g.st = st
	g.rememberResumptionPSK()
	return nil
}

func (g *Group) rememberResumptionPSK() {
	g.resumption = append(slices.Clone(g.resumption), resumptionPSK{epoch: g.ctx.Epoch, psk: bytes.Clone(g.secrets.ResumptionPSK)})
	if n := len(g.resumption) - g.cfg.ResumptionPSKs; n > 0 {
		for _, r := range g.resumption[:n] {
			clear(r.psk)
		}
		g.resumption = slices.Delete(g.resumption, 0, n)
	}
}

// GroupID returns the group's ID.
func (g *Group) GroupID() []byte { return bytes.Clone(g.ctx.GroupID) }

// Epoch returns the current epoch number.
func (g *Group) Epoch() uint64 { return g.ctx.Epoch }

// CipherSuite returns the group's cipher suite.
func (g *Group) CipherSuite() CipherSuite { return g.cs }

// OwnLeafIndex returns this client's leaf index.
func (g *Group) OwnLeafIndex() LeafIndex { return g.priv.self }

// Active reports whether this client is still a member (false after a
// commit removed it).
func (g *Group) Active() bool { return g.active }

// GroupContext returns a copy of the current GroupContext.
func (g *Group) GroupContext() GroupContext {
	c := g.ctx
	c.GroupID = bytes.Clone(c.GroupID)
	c.TreeHash = bytes.Clone(c.TreeHash)
	c.ConfirmedTranscriptHash = bytes.Clone(c.ConfirmedTranscriptHash)
	c.Extensions = slices.Clone(c.Extensions)
	return c
}

// EpochAuthenticator returns the epoch_authenticator of the current epoch
// (RFC 9420 §8.7), which members can compare out of band.
func (g *Group) EpochAuthenticator() []byte { return bytes.Clone(g.secrets.EpochAuthenticator) }

// Export derives length bytes from the current epoch's exporter secret
// (RFC 9420 §8.5: MLS-Exporter(label, context, length)). Different labels
// give independent keys; all members obtain the same value in an epoch.
func (g *Group) Export(label string, context []byte, length int) ([]byte, error) {
	if length < 0 || length > 255*g.cs.HashSize() {
		return nil, fmt.Errorf("mls: export: invalid length %d", length)
	}
	return g.secrets.Export(label, context, length)
}

// Members returns the current members in leaf order.
func (g *Group) Members() []Member {
	var out []Member
	for l := LeafIndex(0); uint32(l) < g.tree.numLeaves(); l++ {
		if ln := g.tree.leaf(l); ln != nil {
			out = append(out, memberOf(l, ln))
		}
	}
	return out
}

// Member returns the member at leaf l.
func (g *Group) Member(l LeafIndex) (Member, bool) {
	ln := g.tree.leaf(l)
	if ln == nil {
		return Member{}, false
	}
	return memberOf(l, ln), true
}

func memberOf(l LeafIndex, ln *LeafNode) Member {
	return Member{LeafIndex: l, Credential: ln.Credential, SignatureKey: bytes.Clone(ln.SignatureKey), EncryptionKey: bytes.Clone(ln.EncryptionKey)}
}

// RatchetTree returns the encoded ratchet tree (the ratchet_tree extension
// value), for distribution out of band when OmitRatchetTree is set.
func (g *Group) RatchetTree() []byte { return g.tree.marshal() }

// PendingProposals returns the number of proposals received in the current
// epoch that a commit would include.
func (g *Group) PendingProposals() int { return len(g.proposals) }

// AddExternalPSK registers an external pre-shared key under id, for
// PreSharedKey proposals sent or received in this group.
func (g *Group) AddExternalPSK(id, secret []byte) {
	g.extPSKs[string(id)] = bytes.Clone(secret)
}

// Pending returns the pending commit, or nil.
func (g *Group) Pending() *PendingCommit { return g.pending }

// MergePendingCommit moves the group into the epoch created by the pending
// commit. Call it once the delivery service accepted the commit.
func (g *Group) MergePendingCommit() error {
	if g.pending == nil {
		return fmt.Errorf("%w: no pending commit", ErrPendingCommit)
	}
	next := g.pending.next
	next.tree.adoptIndex()
	old := g.secrets
	*g = *next
	wipeReplacedSecrets(old)
	return nil
}

// wipeReplacedSecrets clears the secrets of an epoch that was just left,
// except the sender data secret that its past-epoch record still uses
// (RFC 9420 §9.2: init_secret and the other epoch secrets must not outlive
// the epoch).
func wipeReplacedSecrets(s *EpochSecrets) {
	if s == nil {
		return
	}
	for _, b := range [][]byte{s.JoinerSecret, s.WelcomeSecret, s.EpochSecret, s.EncryptionSecret, s.ExporterSecret,
		s.ExternalSecret, s.ConfirmationKey, s.MembershipKey, s.ResumptionPSK, s.EpochAuthenticator, s.InitSecret} {
		clear(b)
	}
}

// DiscardPendingCommit drops the pending commit (e.g. after the delivery
// service rejected it). Proposals it would have included stay cached.
func (g *Group) DiscardPendingCommit() {
	if g.pending != nil {
		g.pending.next.wipe()
	}
	g.pending = nil
}

// wipe clears the secrets of a discarded successor state that are not
// shared with the current state.
func (g *Group) wipe() {
	if g.secrets != nil {
		g.secrets.Wipe()
	}
}

// pushPast records the current epoch as a past epoch (keeping only what
// late application messages need) and drops the oldest beyond the limit.
func (g *Group) pushPast() {
	g.past = slices.Clone(g.past)
	if g.cfg.PastEpochs > 0 && g.st != nil {
		g.past = append(g.past, &pastEpoch{
			epoch:            g.ctx.Epoch,
			st:               g.st,
			senderDataSecret: g.secrets.SenderDataSecret,
			tree:             g.tree,
			ctxEnc:           g.ctxEnc,
		})
	}
	if n := len(g.past) - g.cfg.PastEpochs; n > 0 {
		g.past = slices.Delete(g.past, 0, n)
	}
}

func (g *Group) findPast(epoch uint64) *pastEpoch {
	for _, p := range g.past {
		if p.epoch == epoch {
			return p
		}
	}
	return nil
}

// encodeMessage wraps a PublicMessage or PrivateMessage in an MLSMessage.
func encodeMLSMessage(pub *PublicMessage, priv *PrivateMessage) ([]byte, error) {
	m := MLSMessage{Version: ProtocolVersionMLS10}
	if pub != nil {
		m.WireFormat, m.PublicMessage = WireFormatPublicMessage, pub
		return m.Marshal()
	}
	m.WireFormat, m.PrivateMessage = WireFormatPrivateMessage, priv
	// Sized up front: an application message is encoded without regrowth.
	w := codec.NewWriter(len(priv.GroupID) + len(priv.AuthenticatedData) + len(priv.EncryptedSenderData) + len(priv.Ciphertext) + 32)
	m.Encode(w)
	if err := w.Err(); err != nil {
		return nil, fmt.Errorf("mls: encode private message: %w", err)
	}
	return w.Bytes(), nil
}

// padding returns the number of zero bytes to append to a PrivateMessage
// content of n bytes so that its length is a multiple of PaddingBlock.
func (g *Group) padding(n int) int {
	b := g.cfg.PaddingBlock
	if b <= 1 {
		return 0
	}
	return (b - n%b) % b
}

// protect signs content and wraps it in the configured (or given) wire
// format, returning the MLSMessage bytes and the AuthenticatedContent.
// confirm, if non-nil, is called with the signed content before framing to
// fill in the confirmation tag of a commit.
func (g *Group) protect(fc *FramedContent, wf WireFormat, confirm func(ac *AuthenticatedContent) error) ([]byte, *AuthenticatedContent, error) {
	k, err := g.signer.key(g.cs)
	if err != nil {
		return nil, nil, err
	}
	ac, err := signFramedContent(wf, fc, g.ctxEnc, k)
	if err != nil {
		return nil, nil, err
	}
	if confirm != nil {
		if err := confirm(ac); err != nil {
			return nil, nil, err
		}
	}
	if wf == WireFormatPublicMessage {
		pm, err := NewPublicMessage(g.cs, ac, g.secrets.MembershipKey, g.ctxEnc)
		if err != nil {
			return nil, nil, err
		}
		b, err := encodeMLSMessage(pm, nil)
		return b, ac, err
	}
	pad := 0
	if g.cfg.PaddingBlock > 1 {
		w := codec.NewWriter(len(fc.ApplicationData) + 128)
		ac.Content.encodeBody(w)
		ac.Auth.EncodeFor(w, ac.Content.ContentType)
		pad = g.padding(w.Len())
	}
	pm, err := EncryptPrivateMessage(g.cs, g.st, g.secrets.SenderDataSecret, ac, pad)
	if err != nil {
		return nil, nil, err
	}
	b, err := encodeMLSMessage(nil, pm)
	return b, ac, err
}

// Encrypt protects application data as a PrivateMessage of the current
// epoch (RFC 9420 §6.3, §15). authenticatedData is sent in the clear but
// authenticated. RFC 9420 §12.4 forbids sending application data while
// proposals of the epoch are uncommitted, so Encrypt fails with
// ErrInvalidProposal in that case: commit first.
func (g *Group) Encrypt(plaintext, authenticatedData []byte) ([]byte, error) {
	if err := g.canSend(); err != nil {
		return nil, err
	}
	if len(g.proposals) > 0 {
		return nil, fmt.Errorf("%w: %d proposals must be committed before sending application data", ErrInvalidProposal, len(g.proposals))
	}
	fc := &FramedContent{
		GroupID:           g.ctx.GroupID,
		Epoch:             g.ctx.Epoch,
		Sender:            Sender{SenderType: SenderTypeMember, LeafIndex: uint32(g.priv.self)},
		AuthenticatedData: bytes.Clone(authenticatedData),
		ContentType:       ContentTypeApplication,
		ApplicationData:   plaintext,
	}
	b, _, err := g.protect(fc, WireFormatPrivateMessage, nil)
	return b, err
}

// GroupInfo returns a signed MLSMessage(GroupInfo) for the current epoch
// with the external_pub extension (so it can be used for external joins,
// RFC 9420 §12.4.3.2) and, if withRatchetTree, the ratchet_tree extension.
func (g *Group) GroupInfo(withRatchetTree bool) ([]byte, error) {
	if !g.active {
		return nil, ErrNotMember
	}
	if err := g.tree.checkAllDeferred(g.ctx.GroupID); err != nil {
		return nil, err
	}
	gi, err := g.makeGroupInfo(withRatchetTree)
	if err != nil {
		return nil, err
	}
	return marshalGroupInfoMessage(gi)
}

// marshalGroupInfoMessage encodes gi as an MLSMessage(GroupInfo), in a
// buffer sized up front (gi may hold a ~1 MB ratchet tree).
func marshalGroupInfoMessage(gi *GroupInfo) ([]byte, error) {
	m := MLSMessage{Version: ProtocolVersionMLS10, WireFormat: WireFormatGroupInfo, GroupInfo: gi}
	w := codec.NewWriter(gi.sizeHint())
	m.Encode(w)
	if err := w.Err(); err != nil {
		return nil, fmt.Errorf("mls: encode group info: %w", err)
	}
	return w.Bytes(), nil
}

// groupInfoFromMessage returns the GroupInfo encoding inside an encoded
// MLSMessage(GroupInfo): what follows its version and wire_format.
func groupInfoFromMessage(msg []byte) []byte { return msg[4:] }

func (g *Group) makeGroupInfo(withRatchetTree bool) (*GroupInfo, error) {
	_, extPub, err := g.secrets.ExternalKeyPair()
	if err != nil {
		return nil, err
	}
	var exts []Extension
	if withRatchetTree {
		exts = append(exts, Extension{ExtensionType: ExtensionTypeRatchetTree, ExtensionData: g.tree.marshal()})
	}
	exts = append(exts, Extension{ExtensionType: ExtensionTypeExternalPub, ExtensionData: mustEncode(&ExternalPub{ExternalPub: extPub})})
	gi := &GroupInfo{
		GroupContext:    g.GroupContext(),
		Extensions:      exts,
		ConfirmationTag: bytes.Clone(g.confTag),
		Signer:          uint32(g.priv.self),
	}
	k, err := g.signer.key(g.cs)
	if err != nil {
		return nil, err
	}
	if err := gi.signWith(k); err != nil {
		return nil, err
	}
	return gi, nil
}
