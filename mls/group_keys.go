package mls

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/parleyhq/parley/mls/codec"
)

// Errors returned by the group state machine. They are wrapped with context;
// test with errors.Is.
var (
	// ErrWrongEpoch: a message is for an epoch other than the current one
	// (and, for application messages, not one of the retained past epochs).
	ErrWrongEpoch = errors.New("mls: message for wrong epoch")
	// ErrUnknownSender: the sender is not a member (blank or out-of-range
	// leaf, unknown external sender).
	ErrUnknownSender = errors.New("mls: unknown sender")
	// ErrOutOfWindow: an application or handshake message's generation is
	// too old (its key was already used or deleted) or too far ahead of the
	// sender's ratchet (beyond Config.MaxForwardDistance).
	ErrOutOfWindow = errors.New("mls: message generation outside the accepted window")
	// ErrTooOld is an alias of ErrOutOfWindow kept for callers that name it
	// so.
	ErrTooOld = ErrOutOfWindow
	// ErrInvalidMessage: a message failed authentication (signature,
	// membership tag, confirmation tag) or protocol validation.
	ErrInvalidMessage = errors.New("mls: invalid message")
	// ErrInvalidProposal: a proposal or proposal list violates RFC 9420
	// §12.1/§12.2.
	ErrInvalidProposal = errors.New("mls: invalid proposal")
	// ErrInvalidCommit: a commit violates RFC 9420 §12.4.
	ErrInvalidCommit = errors.New("mls: invalid commit")
	// ErrInvalidLeafNode: a LeafNode fails RFC 9420 §7.3 validation.
	ErrInvalidLeafNode = errors.New("mls: invalid leaf node")
	// ErrInvalidCredential: the CredentialValidator rejected a credential.
	ErrInvalidCredential = errors.New("mls: credential rejected")
	// ErrNotMember: the local client is no longer a member (it was
	// removed) and cannot send or process messages of later epochs.
	ErrNotMember = errors.New("mls: not a member of the group")
	// ErrPendingCommit: an operation needs no pending commit, or
	// MergePendingCommit was called without one.
	ErrPendingCommit = errors.New("mls: pending commit state conflict")
	// ErrNoMatchingKeyPackage: a Welcome is not addressed to the bundle.
	ErrNoMatchingKeyPackage = errors.New("mls: welcome not addressed to this key package")
	// ErrMissingPSK: a required pre-shared key is unknown.
	ErrMissingPSK = errors.New("mls: unknown pre-shared key")
	// ErrMissingRatchetTree: a Welcome or GroupInfo has no ratchet_tree
	// extension and none was supplied.
	ErrMissingRatchetTree = errors.New("mls: ratchet tree not available")
	// ErrOwnMessage: the message was sent by this client; use
	// MergePendingCommit for own commits.
	ErrOwnMessage = errors.New("mls: message sent by this client")
)

// Signer is a signature key pair of a cipher suite, in the RFC 9420
// encodings (Ed25519 seed / ECDSA scalar, and the public key).
type Signer struct {
	Private []byte
	Public  []byte

	// parsed caches Private parsed for signing (see Signer.key).
	parsed *signingKey
}

// GenerateSigner returns a fresh signature key pair for cs.
func GenerateSigner(cs CipherSuite) (*Signer, error) {
	priv, pub, err := cs.GenerateSignatureKeyPair()
	if err != nil {
		return nil, err
	}
	return &Signer{Private: priv, Public: pub}, nil
}

// SignerFromPrivate rebuilds a Signer from an encoded private key.
func SignerFromPrivate(cs CipherSuite, priv []byte) (*Signer, error) {
	pub, err := cs.SignaturePublicKey(priv)
	if err != nil {
		return nil, err
	}
	return &Signer{Private: bytes.Clone(priv), Public: pub}, nil
}

// CredentialValidator decides whether a credential is acceptable and binds
// the given signature public key (RFC 9420 §5.3.1). It is called for every
// LeafNode the group accepts (KeyPackages in Adds, Updates, commit paths,
// every leaf of a tree being joined) and for external senders.
type CredentialValidator interface {
	Validate(cred Credential, signatureKey []byte) error
}

// CredentialValidatorFunc adapts a function to CredentialValidator.
type CredentialValidatorFunc func(cred Credential, signatureKey []byte) error

// Validate calls f.
func (f CredentialValidatorFunc) Validate(cred Credential, signatureKey []byte) error {
	return f(cred, signatureKey)
}

// Default configuration values.
const (
	DefaultPastEpochs     = 3
	DefaultResumptionPSKs = 16
	// DefaultMaxLifetime is the maximum total lifetime accepted for a
	// KeyPackage's LeafNode (RFC 9420 §7.2 requires applications to set
	// one).
	DefaultMaxLifetime = 90 * 24 * time.Hour
)

// Config holds the local, per-client policy of a group. The zero value is
// usable: it selects PrivateMessage handshakes, the defaults above, ratchet
// trees included in Welcome and GroupInfo, and accepts every credential
// (applications MUST set CredentialValidator to authenticate members).
// Config is not part of the shared group state; MarshalState stores it
// (except the validator and clock, which UnmarshalGroupState takes again).
type Config struct {
	// HandshakeFormat is the wire format of proposals and commits sent:
	// WireFormatPrivateMessage (default, also when zero) or
	// WireFormatPublicMessage.
	HandshakeFormat WireFormat
	// MaxForwardDistance bounds how many generations a sender's ratchet may
	// be advanced by one incoming message (default DefaultMaxForwardDistance,
	// 1024).
	MaxForwardDistance uint32
	// OutOfOrderWindow is how many skipped keys are retained per sender
	// ratchet for out-of-order delivery (default: MaxForwardDistance).
	OutOfOrderWindow int
	// PastEpochs is how many previous epochs keep their secret trees so
	// late application messages can still be decrypted (default 3; a
	// negative value keeps none).
	PastEpochs int
	// ResumptionPSKs is how many past epochs' resumption PSKs are kept
	// (default 16).
	ResumptionPSKs int
	// OmitRatchetTree leaves the ratchet_tree extension out of Welcome and
	// GroupInfo messages; joiners must then get the tree out of band.
	OmitRatchetTree bool
	// DeferLeafSignatures makes a member joining by Welcome, or processing
	// a commit that adds members, verify the signatures of the other
	// members' leaves the first time it relies on each (a message signed
	// by it, or its own commit) instead of all at once (deferred.go). The
	// wire format and every other check are unchanged. JoinExternal
	// always verifies the whole tree: its joiner commits at once.
	DeferLeafSignatures bool
	// PaddingBlock pads PrivateMessage contents to a multiple of this size
	// (0: no padding).
	PaddingBlock int
	// MaxLifetime is the longest KeyPackage lifetime accepted (default
	// DefaultMaxLifetime). KeyPackage lifetimes (validity now and total
	// length) are enforced when this client adds members (Commit,
	// ProposeAdd), as RFC 9420 §7.3 requires of senders; leaves received in
	// commits, proposals and joined trees are not rejected for lifetime,
	// since they may legitimately have expired in transit (the RFC makes
	// that check RECOMMENDED only).
	MaxLifetime time.Duration
	// CredentialValidator authenticates credentials; nil accepts all.
	CredentialValidator CredentialValidator `json:"-"`
	// Now returns the current time for lifetime checks; nil uses time.Now.
	Now func() time.Time `json:"-"`
}

func (c *Config) withDefaults() Config {
	d := *c
	if d.HandshakeFormat == 0 {
		d.HandshakeFormat = WireFormatPrivateMessage
	}
	if d.MaxForwardDistance == 0 {
		d.MaxForwardDistance = DefaultMaxForwardDistance
	}
	if d.OutOfOrderWindow == 0 {
		d.OutOfOrderWindow = int(d.MaxForwardDistance)
	}
	if d.PastEpochs == 0 {
		d.PastEpochs = DefaultPastEpochs
	}
	if d.PastEpochs < 0 {
		d.PastEpochs = 0
	}
	if d.ResumptionPSKs == 0 {
		d.ResumptionPSKs = DefaultResumptionPSKs
	}
	if d.MaxLifetime == 0 {
		d.MaxLifetime = DefaultMaxLifetime
	}
	return d
}

func (c *Config) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Config) validate() error {
	if c.HandshakeFormat != WireFormatPrivateMessage && c.HandshakeFormat != WireFormatPublicMessage {
		return fmt.Errorf("mls: config: invalid handshake wire format %d", c.HandshakeFormat)
	}
	if c.PaddingBlock < 0 || c.PaddingBlock > 1<<16 {
		return fmt.Errorf("mls: config: invalid padding block %d", c.PaddingBlock)
	}
	return nil
}

func (c *Config) secretTreeConfig() SecretTreeConfig {
	w := c.OutOfOrderWindow
	if w < 0 {
		w = -1
	}
	return SecretTreeConfig{OutOfOrderWindow: w, MaxForwardDistance: c.MaxForwardDistance}
}

// KeyPackageOptions tunes NewKeyPackage.
type KeyPackageOptions struct {
	// Lifetime of the KeyPackage from now (default 30 days). NotBefore is
	// set one hour in the past to tolerate clock skew.
	Lifetime time.Duration
	// LastResort marks the KeyPackage with the last_resort extension
	// (draft-ietf-mls-extensions), telling the delivery service it may be
	// handed out more than once.
	LastResort bool
	// Capabilities overrides the default capabilities (this suite,
	// MLS 1.0, basic and X.509 credentials).
	Capabilities *Capabilities
	// LeafExtensions are extensions placed in the LeafNode; their types
	// are added to the capabilities automatically.
	LeafExtensions []Extension
	// Extensions are KeyPackage extensions.
	Extensions []Extension
}

// ExtensionTypeLastResort is the last_resort KeyPackage extension.
const ExtensionTypeLastResort ExtensionType = 0x000a

// KeyPackageBundle is a KeyPackage with the private keys needed to join a
// group through a Welcome that references it. It must be kept secret and
// deleted once used (unless LastResort).
type KeyPackageBundle struct {
	KeyPackage       KeyPackage
	InitPrivate      []byte
	LeafPrivate      []byte
	SignaturePrivate []byte
}

func defaultCapabilities(cs CipherSuite) Capabilities {
	return Capabilities{
		Versions:     []ProtocolVersion{ProtocolVersionMLS10},
		CipherSuites: []CipherSuite{cs},
		Credentials:  []CredentialType{CredentialTypeBasic, CredentialTypeX509},
	}
}

// NewKeyPackage creates and signs a KeyPackage for cs with fresh init and
// leaf HPKE keys.
func NewKeyPackage(cs CipherSuite, signer *Signer, cred Credential, opts KeyPackageOptions) (*KeyPackageBundle, error) {
	if !cs.Supported() {
		return nil, fmt.Errorf("mls: new key package: %w: %d", ErrUnsupportedCipherSuite, uint16(cs))
	}
	initPriv, initPub, err := cs.GenerateHPKEKeyPair()
	if err != nil {
		return nil, err
	}
	leafPriv, leafPub, err := cs.GenerateHPKEKeyPair()
	if err != nil {
		return nil, err
	}
	caps := defaultCapabilities(cs)
	if opts.Capabilities != nil {
		caps = *opts.Capabilities
	}
	for _, e := range opts.LeafExtensions {
		if !isDefaultExtension(e.ExtensionType) && !containsT(caps.Extensions, e.ExtensionType) {
			caps.Extensions = append(caps.Extensions, e.ExtensionType)
		}
	}
	exts := append([]Extension(nil), opts.Extensions...)
	if opts.LastResort {
		if !containsT(caps.Extensions, ExtensionTypeLastResort) {
			caps.Extensions = append(caps.Extensions, ExtensionTypeLastResort)
		}
		exts = append(exts, Extension{ExtensionType: ExtensionTypeLastResort, ExtensionData: []byte{}})
	}
	life := opts.Lifetime
	if life <= 0 {
		life = 30 * 24 * time.Hour
	}
	now := time.Now()
	kp := KeyPackage{
		Version:     ProtocolVersionMLS10,
		CipherSuite: cs,
		InitKey:     initPub,
		LeafNode: LeafNode{
			EncryptionKey:  leafPub,
			SignatureKey:   bytes.Clone(signer.Public),
			Credential:     cred,
			Capabilities:   caps,
			LeafNodeSource: LeafNodeSourceKeyPackage,
			Lifetime: Lifetime{
				NotBefore: uint64(now.Add(-time.Hour).Unix()),
				NotAfter:  uint64(now.Add(life).Unix()),
			},
			Extensions: append([]Extension(nil), opts.LeafExtensions...),
		},
		Extensions: exts,
	}
	if err := kp.LeafNode.Sign(cs, signer.Private, nil, 0); err != nil {
		return nil, err
	}
	if err := kp.Sign(signer.Private); err != nil {
		return nil, err
	}
	return &KeyPackageBundle{KeyPackage: kp, InitPrivate: initPriv, LeafPrivate: leafPriv, SignaturePrivate: bytes.Clone(signer.Private)}, nil
}

// Marshal serialises the bundle (including its private keys).
func (b *KeyPackageBundle) Marshal() ([]byte, error) {
	w := codec.NewWriter(1024)
	w.U8(1) // format version
	b.KeyPackage.Encode(w)
	w.Opaque(b.InitPrivate)
	w.Opaque(b.LeafPrivate)
	w.Opaque(b.SignaturePrivate)
	if err := w.Err(); err != nil {
		return nil, err
	}
	return w.Bytes(), nil
}

// UnmarshalKeyPackageBundle parses the output of KeyPackageBundle.Marshal.
func UnmarshalKeyPackageBundle(data []byte) (*KeyPackageBundle, error) {
	r := codec.NewReader(data)
	b := &KeyPackageBundle{}
	if v := r.U8(); v != 1 {
		r.Failf("key package bundle format %d", v)
	}
	b.KeyPackage.Decode(r)
	b.InitPrivate = r.Opaque()
	b.LeafPrivate = r.Opaque()
	b.SignaturePrivate = r.Opaque()
	if err := r.Finish(); err != nil {
		return nil, fmt.Errorf("%w: key package bundle: %w", ErrMalformed, err)
	}
	return b, nil
}

// MarshalKeyPackage returns kp wrapped in an MLSMessage, the form in which
// KeyPackages are published.
func MarshalKeyPackage(kp *KeyPackage) ([]byte, error) {
	m := MLSMessage{Version: ProtocolVersionMLS10, WireFormat: WireFormatKeyPackage, KeyPackage: kp}
	return m.Marshal()
}

// UnmarshalKeyPackage parses a KeyPackage, either bare or wrapped in an
// MLSMessage. It does not validate it (Commit does).
func UnmarshalKeyPackage(data []byte) (*KeyPackage, error) {
	var m MLSMessage
	if err := m.Unmarshal(data); err == nil && m.KeyPackage != nil {
		return m.KeyPackage, nil
	}
	var kp KeyPackage
	if err := kp.Unmarshal(data); err != nil {
		return nil, err
	}
	return &kp, nil
}

// Member describes one member of a group.
type Member struct {
	LeafIndex    LeafIndex
	Credential   Credential
	SignatureKey []byte
	// EncryptionKey is the member's current leaf HPKE public key.
	EncryptionKey []byte
}

func isDefaultExtension(t ExtensionType) bool { return t >= 1 && t <= 5 }

func isDefaultProposal(t ProposalType) bool { return t >= 1 && t <= 7 }

func containsT[T comparable](s []T, v T) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
