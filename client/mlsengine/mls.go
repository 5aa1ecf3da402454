package mlsengine

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client/localstore"
	"github.com/parleyhq/parley/mls"
)

// CipherSuite is the MLS cipher suite of devices whose Config.CipherSuite
// is zero: MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519, RFC 9420's
// mandatory suite. The post-quantum hybrid suite
// (mls.MLS_128_MLKEM768X25519_AES128GCM_SHA256_Ed25519) is available through
// client.Config.CipherSuite but is not the default: its HPKE keys are 38 times
// larger, so at community scale the ratchet tree, the batched adds and the
// external commits outgrow what the targets allow (docs/benchmarks.md).
const CipherSuite = mls.MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519

// keyPackageLifetime is how long an uploaded KeyPackage stays valid (just
// under the 90 days package mls accepts).
const keyPackageLifetime = 89 * 24 * time.Hour

// New returns the engine over package mls for suite cs (0: CipherSuite).
func New(cs mls.CipherSuite) Engine {
	if cs == 0 {
		cs = CipherSuite
	}
	return mlsEngine{suite: cs}
}

// mlsEngine is the engine backed by package mls (RFC 9420).
type mlsEngine struct {
	suite mls.CipherSuite // of new KeyPackages, signature keys and groups
}

func mlsConfig(v Validator) mls.Config {
	return mls.Config{
		// Commits as PublicMessages: the delivery service reads their
		// proposals and matches them with the declared change
		// (docs/decisions/0004-group-rules-on-handshakes.md).
		HandshakeFormat: mls.WireFormatPublicMessage,
		CredentialValidator: mls.CredentialValidatorFunc(func(cred mls.Credential, sigKey []byte) error {
			if cred.CredentialType != mls.CredentialTypeBasic {
				return fmt.Errorf("credential type %d: want basic", cred.CredentialType)
			}
			return v(string(cred.Identity), sigKey)
		}),
	}
}

func signer(id Identity) *mls.Signer { return &mls.Signer{Private: id.SigPriv, Public: id.SigPub} }

func (e mlsEngine) NewSignatureKey() ([]byte, []byte, error) {
	s, err := mls.GenerateSigner(e.suite)
	if err != nil {
		return nil, nil, err
	}
	return s.Private, s.Public, nil
}

func newBundle(cs mls.CipherSuite, id Identity, lastResort bool) (*mls.KeyPackageBundle, error) {
	return mls.NewKeyPackage(cs, signer(id), mls.NewBasicCredential([]byte(id.Credential)),
		mls.KeyPackageOptions{LastResort: lastResort, Lifetime: keyPackageLifetime})
}

func (e mlsEngine) NewKeyPackage(id Identity, lastResort bool) (ref, public, private []byte, err error) {
	b, err := newBundle(e.suite, id, lastResort)
	if err != nil {
		return nil, nil, nil, err
	}
	if ref, err = b.KeyPackage.Ref(); err != nil {
		return nil, nil, nil, err
	}
	if public, err = mls.MarshalKeyPackage(&b.KeyPackage); err != nil {
		return nil, nil, nil, err
	}
	if private, err = b.Marshal(); err != nil {
		return nil, nil, nil, err
	}
	return ref, public, private, nil
}

func (e mlsEngine) CreateGroup(groupID []byte, id Identity, v Validator) (Group, error) {
	b, err := newBundle(e.suite, id, false)
	if err != nil {
		return nil, err
	}
	g, err := mls.CreateGroup(groupID, b, mlsConfig(v))
	if err != nil {
		return nil, err
	}
	return &mlsGroup{g: g}, nil
}

func (mlsEngine) JoinFromWelcome(welcome []byte, id Identity, kps []localstore.KeyPackageSecret, v Validator, tree []byte) (Group, []byte, error) {
	var m mls.MLSMessage
	if err := m.Unmarshal(welcome); err != nil || m.Welcome == nil {
		return nil, nil, fmt.Errorf("not a welcome: %v", err)
	}
	for _, s := range m.Welcome.Secrets {
		for _, kp := range kps {
			if !bytes.Equal(s.NewMember, kp.Ref) {
				continue
			}
			b, err := mls.UnmarshalKeyPackageBundle(kp.Private)
			if err != nil {
				return nil, nil, fmt.Errorf("key package bundle: %w", err)
			}
			// A tree out of band means a large group (above
			// InlineTreeMembers): there this device checks each member's
			// leaf signature when it first relies on it, not all of them
			// when it joins and as each batch of adds arrives
			// (mls.Config.DeferLeafSignatures; the group state keeps it).
			cfg := mlsConfig(v)
			cfg.DeferLeafSignatures = tree != nil
			g, err := mls.JoinFromWelcome(welcome, b, tree, cfg, nil)
			if errors.Is(err, mls.ErrMissingRatchetTree) {
				return nil, nil, ErrTreeNeeded
			}
			if err != nil {
				return nil, nil, err
			}
			return &mlsGroup{g: g}, kp.Ref, nil
		}
	}
	return nil, nil, ErrNotForMe
}

func (mlsEngine) JoinExternal(groupInfo []byte, id Identity, v Validator, tree []byte, inlineMax int, resync bool) (Group, []byte, []byte, []byte, error) {
	g, commit, err := mls.JoinExternal(groupInfo, signer(id), mls.NewBasicCredential([]byte(id.Credential)), mlsConfig(v),
		mls.ExternalJoinOptions{RatchetTree: tree, ResyncSelf: resync})
	if errors.Is(err, mls.ErrMissingRatchetTree) {
		return nil, nil, nil, nil, ErrTreeNeeded
	}
	if err != nil {
		return nil, nil, nil, nil, err
	}
	outOfBand := len(g.Members()) > inlineMax
	g.SetOmitRatchetTree(outOfBand)
	gi, err := g.GroupInfo(!outOfBand)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	var newTree []byte
	if outOfBand {
		newTree = g.RatchetTree()
	}
	return &mlsGroup{g: g}, commit, gi, newTree, nil
}

func (mlsEngine) LoadGroup(state []byte, id Identity, v Validator) (Group, error) {
	g, err := mls.UnmarshalGroupState(state, mlsConfig(v).CredentialValidator)
	if err != nil {
		return nil, err
	}
	// A group stored before commits were PublicMessages switches now.
	if err := g.SetHandshakeFormat(mls.WireFormatPublicMessage); err != nil {
		return nil, err
	}
	return &mlsGroup{g: g}, nil
}

// mlsGroup adapts *mls.Group to Group.
type mlsGroup struct{ g *mls.Group }

func (m *mlsGroup) Epoch() parley.Epoch { return parley.Epoch(m.g.Epoch()) }

func (m *mlsGroup) Export(label string, context []byte, length int) ([]byte, error) {
	return m.g.Export(label, context, length)
}

func (m *mlsGroup) Members() []Member {
	var out []Member
	for _, x := range m.g.Members() {
		u, d, _ := ParseCredential(string(x.Credential.Identity))
		out = append(out, Member{Leaf: uint32(x.LeafIndex), User: u, Device: d, SignatureKey: x.SignatureKey})
	}
	return out
}

func (m *mlsGroup) Commit(adds [][]byte, removes []uint32, outOfBand, path bool) (*PendingCommit, error) {
	p := mls.CommitParams{Update: path}
	for _, a := range adds {
		kp, err := mls.UnmarshalKeyPackage(a)
		if err != nil {
			return nil, fmt.Errorf("key package: %w", err)
		}
		p.Adds = append(p.Adds, kp)
	}
	for _, r := range removes {
		p.Removes = append(p.Removes, mls.LeafIndex(r))
	}
	m.g.SetOmitRatchetTree(outOfBand)
	pc, err := m.g.Commit(p)
	if err != nil {
		return nil, err
	}
	// Every commit carries the new epoch's signed GroupInfo (package mls
	// guarantees it): the delivery service stores it for external joins.
	out := &PendingCommit{Commit: pc.Commit, Welcome: pc.Welcome, GroupInfo: pc.GroupInfo}
	if outOfBand {
		out.Tree = pc.RatchetTree()
	}
	return out, nil
}

func (m *mlsGroup) MergePendingCommit() error { return m.g.MergePendingCommit() }

func (m *mlsGroup) Encrypt(pt, aad []byte) ([]byte, error) { return m.g.Encrypt(pt, aad) }

func (m *mlsGroup) Process(msg []byte) (Processed, error) {
	p, err := m.g.Process(msg)
	if err != nil {
		if errors.Is(err, mls.ErrOwnMessage) {
			return Processed{}, fmt.Errorf("own message: %w", err)
		}
		return Processed{}, err
	}
	out := Processed{Sender: string(p.Credential.Identity), Removed: p.SelfRemoved}
	switch p.Kind {
	case mls.ProcessedApplication:
		out.Application = p.ApplicationData
	case mls.ProcessedCommit:
		out.Commit = true
	}
	return out, nil
}

func (m *mlsGroup) SetCommitPolicy(f func(CommitEffect) error) {
	if f == nil {
		m.g.SetCommitPolicy(nil)
		return
	}
	m.g.SetCommitPolicy(func(v *mls.CommitView) error {
		e := CommitEffect{External: v.External, Committer: memberOf(v.Committer), Other: len(v.Other)}
		for _, x := range v.Added {
			e.Added = append(e.Added, memberOf(x))
		}
		for _, x := range v.Removed {
			e.Removed = append(e.Removed, memberOf(x))
		}
		return f(e)
	})
}

// memberOf is the client's view of an MLS member (a credential that does
// not parse leaves User and Device 0).
func memberOf(x mls.Member) Member {
	u, d, _ := ParseCredential(string(x.Credential.Identity))
	return Member{Leaf: uint32(x.LeafIndex), User: u, Device: d, SignatureKey: x.SignatureKey}
}

func (m *mlsGroup) EpochAuthenticator() []byte { return m.g.EpochAuthenticator() }

func (m *mlsGroup) MarshalState() ([]byte, error) { return m.g.MarshalState() }
