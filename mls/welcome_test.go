package mls

import (
	"bytes"
	"errors"
	"testing"
)

type welcomeVector struct {
	CipherSuite CipherSuite `json:"cipher_suite"`
	InitPriv    hexBytes    `json:"init_priv"`
	KeyPackage  hexBytes    `json:"key_package"`
	SignerPub   hexBytes    `json:"signer_pub"`
	Welcome     hexBytes    `json:"welcome"`
}

// processWelcome runs the joiner's side of a Welcome as far as this layer
// goes: decrypt the group secrets and GroupInfo, verify the GroupInfo
// signature and its confirmation tag.
func processWelcome(kpMsg, welcomeMsg, initPriv, signerPub []byte) (*GroupInfo, error) {
	var km, wm MLSMessage
	if err := km.Unmarshal(kpMsg); err != nil {
		return nil, err
	}
	if err := wm.Unmarshal(welcomeMsg); err != nil {
		return nil, err
	}
	if km.KeyPackage == nil || wm.Welcome == nil {
		return nil, errors.New("wrong wire formats")
	}
	kp, w := km.KeyPackage, wm.Welcome
	cs := w.CipherSuite
	ref, err := kp.Ref()
	if err != nil {
		return nil, err
	}
	gs, err := w.DecryptGroupSecrets(ref, initPriv)
	if err != nil {
		return nil, err
	}
	if len(gs.PSKs) != 0 {
		return nil, errors.New("PSKs not expected in welcome vectors")
	}
	gi, err := w.DecryptGroupInfo(gs.JoinerSecret, nil)
	if err != nil {
		return nil, err
	}
	if err := gi.VerifySignature(signerPub); err != nil {
		return nil, err
	}
	gc, err := gi.GroupContext.Marshal()
	if err != nil {
		return nil, err
	}
	es, err := cs.DeriveEpochSecrets(gs.JoinerSecret, nil, gc)
	if err != nil {
		return nil, err
	}
	if !cs.VerifyConfirmationTag(es.ConfirmationKey, gi.GroupContext.ConfirmedTranscriptHash, gi.ConfirmationTag) {
		return nil, errors.New("confirmation tag mismatch")
	}
	return gi, nil
}

func TestWelcomeVectors(t *testing.T) {
	const file = "welcome.json"
	var vs []welcomeVector
	loadVectors(t, file, &vs)
	ran, skipped := 0, 0
	for i, v := range vs {
		cs := v.CipherSuite
		if !suiteSupported(cs) {
			skipSuite(t, file, i, cs)
			skipped++
			continue
		}
		ran++
		if _, err := processWelcome(v.KeyPackage, v.Welcome, v.InitPriv, v.SignerPub); err != nil {
			t.Errorf("vector %d: %v", i, err)
		}
		// A tampered encrypted_group_info must be rejected.
		bad := bytes.Clone(v.Welcome)
		bad[len(bad)-1] ^= 1
		if _, err := processWelcome(v.KeyPackage, bad, v.InitPriv, v.SignerPub); err == nil {
			t.Errorf("vector %d: tampered welcome accepted", i)
		}
	}
	reportVectors(file, ran, skipped)
}

// TestWelcomeRoundTrip builds a Welcome with this package's own functions
// and processes it.
func TestWelcomeRoundTrip(t *testing.T) {
	for _, cs := range []CipherSuite{1, 2, 3, 4, 5, 6, 7} {
		sigPriv, sigPub, err := cs.GenerateSignatureKeyPair()
		if err != nil {
			t.Fatal(err)
		}
		initPriv, initPub, _ := cs.GenerateHPKEKeyPair()
		_, encPub, _ := cs.GenerateHPKEKeyPair()
		kp := &KeyPackage{
			Version: ProtocolVersionMLS10, CipherSuite: cs, InitKey: initPub,
			LeafNode: LeafNode{
				EncryptionKey: encPub, SignatureKey: sigPub, Credential: NewBasicCredential([]byte("alice")),
				Capabilities:   Capabilities{Versions: []ProtocolVersion{1}, CipherSuites: []CipherSuite{cs}},
				LeafNodeSource: LeafNodeSourceKeyPackage, Lifetime: Lifetime{0, 1 << 62},
			},
		}
		if err := kp.LeafNode.Sign(cs, sigPriv, nil, 0); err != nil {
			t.Fatal(err)
		}
		if err := kp.Sign(sigPriv); err != nil {
			t.Fatal(err)
		}
		if err := kp.Verify(); err != nil {
			t.Fatalf("suite %d: %v", cs, err)
		}
		joiner := bytes.Repeat([]byte{3}, cs.HashSize())
		gi := &GroupInfo{GroupContext: GroupContext{Version: 1, CipherSuite: cs, GroupID: []byte("g"), Epoch: 1,
			TreeHash: []byte{1}, ConfirmedTranscriptHash: []byte{2}}}
		gc, _ := gi.GroupContext.Marshal()
		es, _ := cs.DeriveEpochSecrets(joiner, nil, gc)
		gi.ConfirmationTag, _ = cs.ConfirmationTag(es.ConfirmationKey, gi.GroupContext.ConfirmedTranscriptHash)
		if err := gi.Sign(sigPriv); err != nil {
			t.Fatal(err)
		}
		egi, err := cs.EncryptGroupInfo(es.WelcomeSecret, gi)
		if err != nil {
			t.Fatal(err)
		}
		egs, err := EncryptGroupSecrets(kp, egi, &GroupSecrets{JoinerSecret: joiner})
		if err != nil {
			t.Fatal(err)
		}
		w := &MLSMessage{Version: 1, WireFormat: WireFormatWelcome, Welcome: &Welcome{CipherSuite: cs, Secrets: []EncryptedGroupSecrets{egs}, EncryptedGroupInfo: egi}}
		km := &MLSMessage{Version: 1, WireFormat: WireFormatKeyPackage, KeyPackage: kp}
		wb, _ := w.Marshal()
		kb, _ := km.Marshal()
		if _, err := processWelcome(kb, wb, initPriv, sigPub); err != nil {
			t.Errorf("suite %d: %v", cs, err)
		}
	}
}
