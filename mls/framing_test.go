package mls

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

type messageProtectionVector struct {
	CipherSuite             CipherSuite `json:"cipher_suite"`
	GroupID                 hexBytes    `json:"group_id"`
	Epoch                   uint64      `json:"epoch"`
	TreeHash                hexBytes    `json:"tree_hash"`
	ConfirmedTranscriptHash hexBytes    `json:"confirmed_transcript_hash"`
	SignaturePriv           hexBytes    `json:"signature_priv"`
	SignaturePub            hexBytes    `json:"signature_pub"`
	EncryptionSecret        hexBytes    `json:"encryption_secret"`
	SenderDataSecret        hexBytes    `json:"sender_data_secret"`
	MembershipKey           hexBytes    `json:"membership_key"`
	Proposal                hexBytes    `json:"proposal"`
	ProposalPriv            hexBytes    `json:"proposal_priv"`
	ProposalPub             hexBytes    `json:"proposal_pub"`
	Commit                  hexBytes    `json:"commit"`
	CommitPriv              hexBytes    `json:"commit_priv"`
	CommitPub               hexBytes    `json:"commit_pub"`
	Application             hexBytes    `json:"application"`
	ApplicationPriv         hexBytes    `json:"application_priv"`
}

// protectionEnv is the epoch state of a message-protection vector: a group
// of two members, the sender being leaf 1.
type protectionEnv struct {
	cs CipherSuite
	v  *messageProtectionVector
	gc []byte
	tx *SecretTree // sender's tree
}

func newProtectionEnv(t *testing.T, v *messageProtectionVector) *protectionEnv {
	t.Helper()
	gc := GroupContext{Version: ProtocolVersionMLS10, CipherSuite: v.CipherSuite, GroupID: v.GroupID, Epoch: v.Epoch,
		TreeHash: v.TreeHash, ConfirmedTranscriptHash: v.ConfirmedTranscriptHash}
	gcb, err := gc.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	tx, err := NewSecretTree(v.CipherSuite, v.EncryptionSecret, 2, SecretTreeConfig{})
	if err != nil {
		t.Fatal(err)
	}
	return &protectionEnv{cs: v.CipherSuite, v: v, gc: gcb, tx: tx}
}

// unprotect decodes an MLSMessage and returns its verified content.
func (e *protectionEnv) unprotect(msg []byte) (*AuthenticatedContent, error) {
	var m MLSMessage
	if err := m.Unmarshal(msg); err != nil {
		return nil, err
	}
	var ac *AuthenticatedContent
	switch m.WireFormat {
	case WireFormatPublicMessage:
		if err := m.PublicMessage.VerifyMembershipTag(e.cs, e.v.MembershipKey, e.gc); err != nil {
			return nil, err
		}
		ac = m.PublicMessage.AuthenticatedContent()
	case WireFormatPrivateMessage:
		// Each vector message was produced by a fresh sender state, so
		// each is decrypted with a fresh receiver secret tree.
		rx, err := NewSecretTree(e.cs, e.v.EncryptionSecret, 2, SecretTreeConfig{})
		if err != nil {
			return nil, err
		}
		ac, err = DecryptPrivateMessage(e.cs, rx, e.v.SenderDataSecret, m.PrivateMessage)
		if err != nil {
			return nil, err
		}
	default:
		return nil, errors.New("unexpected wire format")
	}
	if err := ac.VerifySignature(e.cs, e.v.SignaturePub, e.gc); err != nil {
		return nil, err
	}
	return ac, nil
}

// protect frames, signs and protects content from leaf 1.
func (e *protectionEnv) protect(t *testing.T, wf WireFormat, fc *FramedContent) []byte {
	t.Helper()
	ac, err := SignFramedContent(e.cs, wf, fc, e.gc, e.v.SignaturePriv)
	if err != nil {
		t.Fatal(err)
	}
	if fc.ContentType == ContentTypeCommit {
		ac.Auth.ConfirmationTag = bytes.Repeat([]byte{0xaa}, e.cs.HashSize())
	}
	m := &MLSMessage{Version: ProtocolVersionMLS10, WireFormat: wf}
	if wf == WireFormatPublicMessage {
		m.PublicMessage, err = NewPublicMessage(e.cs, ac, e.v.MembershipKey, e.gc)
	} else {
		m.PrivateMessage, err = EncryptPrivateMessage(e.cs, e.tx, e.v.SenderDataSecret, ac, 7)
	}
	if err != nil {
		t.Fatal(err)
	}
	out, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestMessageProtectionVectors(t *testing.T) {
	const file = "message-protection.json"
	var vs []messageProtectionVector
	loadVectors(t, file, &vs)
	ran, skipped := 0, 0
	for i := range vs {
		v := &vs[i]
		cs := v.CipherSuite
		if !suiteSupported(cs) {
			skipSuite(t, file, i, cs)
			skipped++
			continue
		}
		ran++
		e := newProtectionEnv(t, v)
		var proposal Proposal
		var commit Commit
		if err := Unmarshal(v.Proposal, &proposal); err != nil {
			t.Fatalf("vector %d: proposal: %v", i, err)
		}
		if err := Unmarshal(v.Commit, &commit); err != nil {
			t.Fatalf("vector %d: commit: %v", i, err)
		}
		base := FramedContent{GroupID: v.GroupID, Epoch: v.Epoch, Sender: Sender{SenderType: SenderTypeMember, LeafIndex: 1}}
		check := func(name string, msg []byte, want *FramedContent) {
			t.Helper()
			ac, err := e.unprotect(msg)
			if err != nil {
				t.Errorf("vector %d %s: %v", i, name, err)
				return
			}
			got := ac.Content
			if got.AuthenticatedData == nil {
				got.AuthenticatedData = []byte{}
			}
			w := *want
			w.AuthenticatedData = []byte{}
			if !reflect.DeepEqual(mustEncode(&got), mustEncode(&w)) {
				t.Errorf("vector %d %s: content mismatch", i, name)
			}
		}
		pfc := base
		pfc.ContentType, pfc.Proposal = ContentTypeProposal, &proposal
		cfc := base
		cfc.ContentType, cfc.Commit = ContentTypeCommit, &commit
		afc := base
		afc.ContentType, afc.ApplicationData = ContentTypeApplication, v.Application

		check("proposal_pub", v.ProposalPub, &pfc)
		check("proposal_priv", v.ProposalPriv, &pfc)
		check("commit_pub", v.CommitPub, &cfc)
		check("commit_priv", v.CommitPriv, &cfc)
		check("application_priv", v.ApplicationPriv, &afc)

		// Our own protection must round-trip through our unprotection.
		check("own proposal_pub", e.protect(t, WireFormatPublicMessage, &pfc), &pfc)
		check("own proposal_priv", e.protect(t, WireFormatPrivateMessage, &pfc), &pfc)
		check("own commit_pub", e.protect(t, WireFormatPublicMessage, &cfc), &cfc)
		check("own commit_priv", e.protect(t, WireFormatPrivateMessage, &cfc), &cfc)
		check("own application_priv", e.protect(t, WireFormatPrivateMessage, &afc), &afc)
	}
	reportVectors(file, ran, skipped)
}

// TestPrivateMessageForgeryDoesNotBurnKey checks that a message failing
// authentication leaves the generation key usable, and that a replay of a
// successfully decrypted message is rejected.
func TestPrivateMessageForgeryDoesNotBurnKey(t *testing.T) {
	cs := MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519
	e := newAppBenchEnv(t, cs, 100)
	fc := FramedContent{GroupID: e.groupID, Epoch: e.epoch, Sender: Sender{SenderType: SenderTypeMember},
		ContentType: ContentTypeApplication, ApplicationData: []byte("hello")}
	ac, err := SignFramedContent(cs, WireFormatPrivateMessage, &fc, e.gc, e.sigPriv)
	if err != nil {
		t.Fatal(err)
	}
	pm, err := EncryptPrivateMessage(cs, e.tx, e.es.SenderDataSecret, ac, 3)
	if err != nil {
		t.Fatal(err)
	}
	forged := *pm
	forged.AuthenticatedData = []byte("tampered")
	if _, err := DecryptPrivateMessage(cs, e.rx, e.es.SenderDataSecret, &forged); !errors.Is(err, ErrDecryption) {
		t.Fatalf("forged message err = %v, want ErrDecryption", err)
	}
	got, err := DecryptPrivateMessage(cs, e.rx, e.es.SenderDataSecret, pm)
	if err != nil {
		t.Fatalf("genuine message after forgery: %v", err)
	}
	if err := got.VerifySignature(cs, e.sigPub, e.gc); err != nil {
		t.Fatal(err)
	}
	if _, err := DecryptPrivateMessage(cs, e.rx, e.es.SenderDataSecret, pm); !errors.Is(err, ErrGenerationConsumed) {
		t.Fatalf("replay err = %v, want ErrGenerationConsumed", err)
	}
}
