package mls

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/parleyhq/parley/mls/codec"
)

// Errors of message protection.
var (
	// ErrInvalidMembershipTag means a PublicMessage's membership tag is
	// missing or does not verify.
	ErrInvalidMembershipTag = errors.New("mls: invalid membership tag")
	// ErrWrongGroup means a message is for another group or epoch.
	ErrWrongGroup = errors.New("mls: message for another group or epoch")
	// ErrInvalidPadding means a PrivateMessage's padding is not all zeros.
	ErrInvalidPadding = errors.New("mls: non-zero padding")
	// ErrInvalidSender means a sender type is not allowed for the message.
	ErrInvalidSender = errors.New("mls: invalid sender for message")
)

// framedContentTBS encodes FramedContentTBS (RFC 9420 §6.1). groupContext
// is the encoded GroupContext, included for member and new_member_commit
// senders.
func framedContentTBS(w *codec.Writer, wf WireFormat, content *FramedContent, groupContext []byte) {
	w.U16(uint16(ProtocolVersionMLS10))
	w.U16(uint16(wf))
	content.Encode(w)
	switch content.Sender.SenderType {
	case SenderTypeMember, SenderTypeNewMemberCommit:
		w.Raw(groupContext)
	}
}

// writerPool recycles the scratch buffers of message protection (signature
// inputs, plaintexts, AADs), so that sending and receiving a message do not
// allocate them anew. Buffers that held secrets are cleared before they are
// returned to the pool.
var writerPool = sync.Pool{New: func() any { return new(codec.Writer) }}

func getWriter() *codec.Writer {
	w := writerPool.Get().(*codec.Writer)
	w.Reset()
	return w
}

// putWriter returns w to the pool unless its buffer grew large (a big
// commit), which the pool should not pin.
func putWriter(w *codec.Writer) {
	if cap(w.Bytes()) <= 64<<10 {
		writerPool.Put(w)
	}
}

// encodeFramedSignContent encodes SignContent{"MLS 1.0 FramedContentTBS",
// FramedContentTBS} (RFC 9420 §5.1.2, §6.1) into w in one pass: the TBS is
// written as the content vector directly, not encoded then copied.
func encodeFramedSignContent(w *codec.Writer, wf WireFormat, content *FramedContent, groupContext []byte) {
	w.Varint(len(mlsLabelPrefix) + len(labelFramedContentTBS))
	w.RawString(mlsLabelPrefix)
	w.RawString(labelFramedContentTBS)
	w.Vector(func(w *codec.Writer) { framedContentTBS(w, wf, content, groupContext) })
}

// SignFramedContent signs content for sending in wire format wf and returns
// the AuthenticatedContent with its signature set (RFC 9420 §6.1).
// groupContext is the encoded GroupContext of the current epoch (required
// for member and new_member_commit senders). For commits, the caller sets
// Auth.ConfirmationTag afterwards, once the new epoch's confirmation key is
// known.
func SignFramedContent(cs CipherSuite, wf WireFormat, content *FramedContent, groupContext, signaturePriv []byte) (*AuthenticatedContent, error) {
	k, err := cs.parseSigningKey(signaturePriv)
	if err != nil {
		return nil, fmt.Errorf("mls: sign content: %w", err)
	}
	return signFramedContent(wf, content, groupContext, k)
}

// signFramedContent is SignFramedContent with a parsed signing key.
func signFramedContent(wf WireFormat, content *FramedContent, groupContext []byte, k *signingKey) (*AuthenticatedContent, error) {
	w := getWriter()
	defer putWriter(w)
	encodeFramedSignContent(w, wf, content, groupContext)
	if err := w.Err(); err != nil {
		return nil, fmt.Errorf("mls: sign content: %w", err)
	}
	sig, err := k.sign(w.Bytes())
	if err != nil {
		return nil, fmt.Errorf("mls: sign content: %w", err)
	}
	return &AuthenticatedContent{WireFormat: wf, Content: *content, Auth: FramedContentAuthData{Signature: sig}}, nil
}

// VerifySignature checks the signature of ac against the sender's encoded
// signature public key, with the encoded GroupContext of the epoch. It
// returns nil only for a valid signature.
func (ac *AuthenticatedContent) VerifySignature(cs CipherSuite, signaturePub, groupContext []byte) error {
	w := getWriter()
	defer putWriter(w)
	encodeFramedSignContent(w, ac.WireFormat, &ac.Content, groupContext)
	if err := w.Err(); err != nil {
		return fmt.Errorf("mls: verify content: %w", err)
	}
	if err := cs.verify(signaturePub, w.Bytes(), ac.Auth.Signature); err != nil {
		return fmt.Errorf("mls: content signature: %w", err)
	}
	return nil
}

// membershipTag computes MAC(membership_key, AuthenticatedContentTBM).
func membershipTag(cs CipherSuite, ac *AuthenticatedContent, membershipKey, groupContext []byte) ([]byte, error) {
	w := codec.NewWriter(512)
	framedContentTBS(w, WireFormatPublicMessage, &ac.Content, groupContext)
	ac.Auth.EncodeFor(w, ac.Content.ContentType)
	if err := w.Err(); err != nil {
		return nil, err
	}
	return cs.MAC(membershipKey, w.Bytes())
}

// NewPublicMessage wraps ac (which must have wire format PublicMessage) in
// a PublicMessage, computing the membership tag for member senders with the
// epoch's membership_key and encoded GroupContext (RFC 9420 §6.2).
func NewPublicMessage(cs CipherSuite, ac *AuthenticatedContent, membershipKey, groupContext []byte) (*PublicMessage, error) {
	if ac.WireFormat != WireFormatPublicMessage {
		return nil, fmt.Errorf("mls: public message: content signed for wire format %d", ac.WireFormat)
	}
	m := &PublicMessage{Content: ac.Content, Auth: ac.Auth}
	if ac.Content.Sender.SenderType == SenderTypeMember {
		tag, err := membershipTag(cs, ac, membershipKey, groupContext)
		if err != nil {
			return nil, fmt.Errorf("mls: public message: %w", err)
		}
		m.MembershipTag = tag
	}
	return m, nil
}

// AuthenticatedContent returns the AuthenticatedContent carried by m.
func (m *PublicMessage) AuthenticatedContent() *AuthenticatedContent {
	return &AuthenticatedContent{WireFormat: WireFormatPublicMessage, Content: m.Content, Auth: m.Auth}
}

// VerifyMembershipTag checks m's membership tag (member senders only; other
// senders have none and always pass). It does not verify the signature.
func (m *PublicMessage) VerifyMembershipTag(cs CipherSuite, membershipKey, groupContext []byte) error {
	if m.Content.Sender.SenderType != SenderTypeMember {
		return nil
	}
	want, err := membershipTag(cs, m.AuthenticatedContent(), membershipKey, groupContext)
	if err != nil {
		return fmt.Errorf("mls: membership tag: %w", err)
	}
	if !constantTimeEqual(want, m.MembershipTag) {
		return ErrInvalidMembershipTag
	}
	return nil
}

// encodePrivateContentAAD encodes PrivateContentAAD (RFC 9420 §6.3.1).
func encodePrivateContentAAD(w *codec.Writer, groupID []byte, epoch uint64, ct ContentType, authenticatedData []byte) {
	w.Opaque(groupID)
	w.U64(epoch)
	w.U8(uint8(ct))
	w.Opaque(authenticatedData)
}

// encodeSenderDataAAD encodes SenderDataAAD (RFC 9420 §6.3.2).
func encodeSenderDataAAD(w *codec.Writer, groupID []byte, epoch uint64, ct ContentType) {
	w.Opaque(groupID)
	w.U64(epoch)
	w.U8(uint8(ct))
}

// applyReuseGuard XORs the reuse guard into the first bytes of nonce, in
// place, and returns nonce.
func applyReuseGuard(nonce []byte, guard [4]byte) []byte {
	for i := range guard {
		nonce[i] ^= guard[i]
	}
	return nonce
}

// EncryptPrivateMessage encrypts ac (wire format PrivateMessage, member
// sender) into a PrivateMessage (RFC 9420 §6.3), using the next generation
// of the sender's ratchet in st and the epoch's sender_data_secret, and
// appending padding zero bytes to the plaintext. The generation key is
// deleted after use.
func EncryptPrivateMessage(cs CipherSuite, st *SecretTree, senderDataSecret []byte, ac *AuthenticatedContent, padding int) (*PrivateMessage, error) {
	if ac.WireFormat != WireFormatPrivateMessage {
		return nil, fmt.Errorf("mls: private message: content signed for wire format %d", ac.WireFormat)
	}
	c := &ac.Content
	if c.Sender.SenderType != SenderTypeMember {
		return nil, fmt.Errorf("%w: sender type %d in private message", ErrInvalidSender, c.Sender.SenderType)
	}
	if st.cs != cs {
		return nil, fmt.Errorf("mls: private message: secret tree suite %d, want %d", st.cs, cs)
	}
	if padding < 0 {
		padding = 0
	}
	var guard [4]byte
	if _, err := rand.Read(guard[:]); err != nil {
		return nil, err
	}
	kn, err := st.Next(c.Sender.LeafIndex, ContentTypeRatchet(c.ContentType))
	if err != nil {
		return nil, fmt.Errorf("mls: private message: %w", err)
	}
	defer clear(kn.Key)

	// PrivateMessageContent.
	pw := getWriter()
	defer putWriter(pw)
	defer func() { clear(pw.Bytes()) }()
	c.encodeBody(pw)
	ac.Auth.EncodeFor(pw, c.ContentType)
	pw.Zeros(padding)
	// SenderDataAAD is a prefix of PrivateContentAAD.
	aw := getWriter()
	defer putWriter(aw)
	encodeSenderDataAAD(aw, c.GroupID, c.Epoch, c.ContentType)
	sdAADLen := aw.Len()
	aw.Opaque(c.AuthenticatedData)
	if err := errors.Join(pw.Err(), aw.Err()); err != nil {
		return nil, fmt.Errorf("mls: private message: %w", err)
	}
	ciphertext, err := cs.AEADSeal(nil, kn.Key, applyReuseGuard(kn.Nonce, guard), aw.Bytes(), pw.Bytes())
	if err != nil {
		return nil, fmt.Errorf("mls: private message: %w", err)
	}
	sdAAD := aw.Bytes()[:sdAADLen:sdAADLen]

	sd := SenderData{LeafIndex: c.Sender.LeafIndex, Generation: kn.Generation, ReuseGuard: guard}
	sdKey, sdNonce := st.senderDataKeyNonce(senderDataSecret, ciphertext)
	var sdBuf [12]byte
	binary.BigEndian.PutUint32(sdBuf[0:4], sd.LeafIndex)
	binary.BigEndian.PutUint32(sdBuf[4:8], sd.Generation)
	copy(sdBuf[8:], sd.ReuseGuard[:])
	encSD, err := cs.AEADSeal(nil, sdKey, sdNonce, sdAAD, sdBuf[:])
	if err != nil {
		return nil, fmt.Errorf("mls: private message sender data: %w", err)
	}
	return &PrivateMessage{
		GroupID:             c.GroupID,
		Epoch:               c.Epoch,
		ContentType:         c.ContentType,
		AuthenticatedData:   c.AuthenticatedData,
		EncryptedSenderData: encSD,
		Ciphertext:          ciphertext,
	}, nil
}

// DecryptSenderData decrypts and decodes the sender data of m.
func DecryptSenderData(cs CipherSuite, senderDataSecret []byte, m *PrivateMessage) (*SenderData, error) {
	sdKey, sdNonce, err := cs.SenderDataKeyNonce(senderDataSecret, m.Ciphertext)
	if err != nil {
		return nil, err
	}
	return openSenderData(cs, sdKey, sdNonce, m)
}

func openSenderData(cs CipherSuite, sdKey, sdNonce []byte, m *PrivateMessage) (*SenderData, error) {
	saw := getWriter()
	defer putWriter(saw)
	encodeSenderDataAAD(saw, m.GroupID, m.Epoch, m.ContentType)
	pt, err := cs.AEADOpen(nil, sdKey, sdNonce, saw.Bytes(), m.EncryptedSenderData)
	if err != nil {
		return nil, fmt.Errorf("mls: private message sender data: %w", err)
	}
	if len(pt) != 12 {
		return nil, fmt.Errorf("%w: sender data length %d", ErrMalformed, len(pt))
	}
	sd := &SenderData{
		LeafIndex:  binary.BigEndian.Uint32(pt[0:4]),
		Generation: binary.BigEndian.Uint32(pt[4:8]),
	}
	copy(sd.ReuseGuard[:], pt[8:12])
	return sd, nil
}

// DecryptPrivateMessage decrypts m (RFC 9420 §6.3) with the epoch's
// sender_data_secret and secret tree. The generation key used is deleted
// from st only if decryption succeeds, so a forged message cannot burn keys;
// a replayed message fails with ErrGenerationConsumed. The caller must
// check that m is for the current group and epoch beforehand and must
// verify the returned content's signature with the sender's key
// (AuthenticatedContent.VerifySignature).
func DecryptPrivateMessage(cs CipherSuite, st *SecretTree, senderDataSecret []byte, m *PrivateMessage) (*AuthenticatedContent, error) {
	return decryptPrivateMessage(cs, st, senderDataSecret, m, nil)
}

// decryptPrivateMessage is DecryptPrivateMessage with a check of the
// decrypted sender data (e.g. that the sender is a member) made before the
// secret tree is touched; its error is returned as is.
func decryptPrivateMessage(cs CipherSuite, st *SecretTree, senderDataSecret []byte, m *PrivateMessage, checkSender func(*SenderData) error) (*AuthenticatedContent, error) {
	if st.cs != cs {
		return nil, fmt.Errorf("mls: private message: secret tree suite %d, want %d", st.cs, cs)
	}
	sdKey, sdNonce := st.senderDataKeyNonce(senderDataSecret, m.Ciphertext)
	sd, err := openSenderData(cs, sdKey, sdNonce, m)
	if err != nil {
		return nil, err
	}
	if checkSender != nil {
		if err := checkSender(sd); err != nil {
			return nil, err
		}
	}
	typ := ContentTypeRatchet(m.ContentType)
	kn, err := st.Get(sd.LeafIndex, typ, sd.Generation)
	if err != nil {
		return nil, fmt.Errorf("mls: private message: %w", err)
	}
	aw := getWriter()
	defer putWriter(aw)
	encodePrivateContentAAD(aw, m.GroupID, m.Epoch, m.ContentType, m.AuthenticatedData)
	if err := aw.Err(); err != nil {
		st.putBack(sd.LeafIndex, typ, kn)
		return nil, fmt.Errorf("mls: private message: %w", err)
	}
	// The guarded nonce is built in a copy: kn goes back to the ratchet
	// unchanged if decryption fails.
	var nonceBuf [32]byte
	nonce := applyReuseGuard(append(nonceBuf[:0], kn.Nonce...), sd.ReuseGuard)
	pt, err := cs.AEADOpen(nil, kn.Key, nonce, aw.Bytes(), m.Ciphertext)
	if err != nil {
		st.putBack(sd.LeafIndex, typ, kn)
		return nil, fmt.Errorf("mls: private message: %w", err)
	}
	clear(kn.Key)
	defer clear(pt)

	ac := &AuthenticatedContent{
		WireFormat: WireFormatPrivateMessage,
		Content: FramedContent{
			GroupID:           m.GroupID,
			Epoch:             m.Epoch,
			Sender:            Sender{SenderType: SenderTypeMember, LeafIndex: sd.LeafIndex},
			AuthenticatedData: m.AuthenticatedData,
			ContentType:       m.ContentType,
		},
	}
	if err := decodePrivateMessageContent(pt, &ac.Content, &ac.Auth); err != nil {
		return nil, err
	}
	return ac, nil
}

// decodePrivateMessageContent parses a decrypted PrivateMessageContent
// into the body of fc (whose ContentType must be set) and auth, and checks
// that the padding is all zeros.
func decodePrivateMessageContent(pt []byte, fc *FramedContent, auth *FramedContentAuthData) error {
	r := codec.NewReader(pt)
	fc.decodeBody(r)
	auth.DecodeFor(r, fc.ContentType)
	if err := r.Err(); err != nil {
		return fmt.Errorf("%w: private message content: %w", ErrMalformed, err)
	}
	for _, b := range pt[r.Offset():] {
		if b != 0 {
			return ErrInvalidPadding
		}
	}
	return nil
}
