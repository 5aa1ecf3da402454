package mls

import (
	"bytes"
	"crypto/ed25519"
	"testing"
)

// appBenchEnv is a two-member epoch set up directly from the key schedule
// and secret tree (the framing layer), without a Group: leaf 0 sends, leaf 1
// receives.
type appBenchEnv struct {
	cs         CipherSuite
	gc         []byte
	es         *EpochSecrets
	tx, rx     *SecretTree
	sigPriv    []byte
	sigPub     []byte
	groupID    []byte
	epoch      uint64
	payload    []byte
	authedData []byte
}

func newAppBenchEnv(tb testing.TB, cs CipherSuite, size int) *appBenchEnv {
	tb.Helper()
	gcs := GroupContext{Version: ProtocolVersionMLS10, CipherSuite: cs, GroupID: []byte("benchmark group"), Epoch: 7,
		TreeHash: bytes.Repeat([]byte{1}, cs.HashSize()), ConfirmedTranscriptHash: bytes.Repeat([]byte{2}, cs.HashSize())}
	gc, err := gcs.Marshal()
	if err != nil {
		tb.Fatal(err)
	}
	es, err := cs.KeySchedule(bytes.Repeat([]byte{3}, cs.HashSize()), bytes.Repeat([]byte{4}, cs.HashSize()), nil, gc)
	if err != nil {
		tb.Fatal(err)
	}
	cfg := SecretTreeConfig{MaxForwardDistance: 1 << 20}
	tx, _ := NewSecretTree(cs, es.EncryptionSecret, 2, cfg)
	rx, _ := NewSecretTree(cs, es.EncryptionSecret, 2, cfg)
	priv, pub, err := cs.GenerateSignatureKeyPair()
	if err != nil {
		tb.Fatal(err)
	}
	return &appBenchEnv{cs: cs, gc: gc, es: es, tx: tx, rx: rx, sigPriv: priv, sigPub: pub,
		groupID: gcs.GroupID, epoch: gcs.Epoch, payload: bytes.Repeat([]byte{0x5a}, size)}
}

// roundTrip signs, encrypts, encodes, decodes, decrypts and verifies one
// application message; sign selects whether signatures are made and checked.
func (e *appBenchEnv) roundTrip(tb testing.TB, sign bool) {
	fc := FramedContent{GroupID: e.groupID, Epoch: e.epoch, Sender: Sender{SenderType: SenderTypeMember, LeafIndex: 0},
		AuthenticatedData: e.authedData, ContentType: ContentTypeApplication, ApplicationData: e.payload}
	var ac *AuthenticatedContent
	var err error
	if sign {
		ac, err = SignFramedContent(e.cs, WireFormatPrivateMessage, &fc, e.gc, e.sigPriv)
		if err != nil {
			tb.Fatal(err)
		}
	} else {
		ac = &AuthenticatedContent{WireFormat: WireFormatPrivateMessage, Content: fc, Auth: FramedContentAuthData{Signature: make([]byte, 64)}}
	}
	pm, err := EncryptPrivateMessage(e.cs, e.tx, e.es.SenderDataSecret, ac, 0)
	if err != nil {
		tb.Fatal(err)
	}
	wire, err := (&MLSMessage{Version: ProtocolVersionMLS10, WireFormat: WireFormatPrivateMessage, PrivateMessage: pm}).Marshal()
	if err != nil {
		tb.Fatal(err)
	}
	var m MLSMessage
	if err := m.Unmarshal(wire); err != nil {
		tb.Fatal(err)
	}
	got, err := DecryptPrivateMessage(e.cs, e.rx, e.es.SenderDataSecret, m.PrivateMessage)
	if err != nil {
		tb.Fatal(err)
	}
	if sign {
		if err := got.VerifySignature(e.cs, e.sigPub, e.gc); err != nil {
			tb.Fatal(err)
		}
	}
	if len(got.Content.ApplicationData) != len(e.payload) {
		tb.Fatal("payload length mismatch")
	}
}

// BenchmarkApplicationMessage measures one complete 1 KiB application
// message between two members of a suite-1 Group: the sender's
// Group.Encrypt (frame, Ed25519 signature, secret-tree ratchet step,
// AES-128-GCM content and sender-data encryption, encoding) and the
// receiver's Group.Process (decoding, decryption, signature verification).
// Its floor is BenchmarkSignatureFloor plus the "nosig" framing benchmark
// (see the Performance section of the package documentation).
func BenchmarkApplicationMessage(b *testing.B) {
	b.Run("size=1KiB", func(b *testing.B) {
		cs := MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519
		alice, bob := newBenchGroupPair(b, cs)
		payload := bytes.Repeat([]byte{0x5a}, 1024)
		b.SetBytes(1024)
		b.ReportAllocs()
		for b.Loop() {
			msg, err := alice.Encrypt(payload, nil)
			if err != nil {
				b.Fatal(err)
			}
			p, err := bob.Process(msg)
			if err != nil {
				b.Fatal(err)
			}
			if len(p.ApplicationData) != len(payload) {
				b.Fatal("payload length mismatch")
			}
		}
	})
}

// newBenchGroupPair creates a group of two members through the public API:
// alice creates it and adds bob, who joins from the Welcome.
func newBenchGroupPair(tb testing.TB, cs CipherSuite) (alice, bob *Group) {
	tb.Helper()
	cfg := Config{MaxForwardDistance: 1 << 20}
	bundle := func(name string) *KeyPackageBundle {
		s, err := GenerateSigner(cs)
		if err != nil {
			tb.Fatal(err)
		}
		kb, err := NewKeyPackage(cs, s, NewBasicCredential([]byte(name)), KeyPackageOptions{})
		if err != nil {
			tb.Fatal(err)
		}
		return kb
	}
	alice, err := CreateGroup([]byte("benchmark group"), bundle("alice"), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	bb := bundle("bob")
	pc, err := alice.Commit(CommitParams{Adds: []*KeyPackage{&bb.KeyPackage}})
	if err != nil {
		tb.Fatal(err)
	}
	if err := alice.MergePendingCommit(); err != nil {
		tb.Fatal(err)
	}
	bob, err = JoinFromWelcome(pc.Welcome, bb, nil, cfg, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return alice, bob
}

// BenchmarkApplicationMessageFraming is the same round trip at the framing
// layer only (key schedule and secret trees set up directly, no Group):
// sign, EncryptPrivateMessage, encode, decode, DecryptPrivateMessage,
// verify. The signer uses the 64-byte expanded Ed25519 key (accepted by
// SignWithLabel), so the seed is not re-expanded per message. The "nosig"
// variant leaves out the Ed25519 signature and its verification: the
// symmetric part alone.
func BenchmarkApplicationMessageFraming(b *testing.B) {
	b.Run("size=1KiB", func(b *testing.B) { benchApp(b, true) })
	b.Run("size=1KiB,nosig", func(b *testing.B) { benchApp(b, false) })
}

func benchApp(b *testing.B, sign bool) {
	cs := MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519
	e := newAppBenchEnv(b, cs, 1024)
	e.sigPriv = ed25519.NewKeyFromSeed(e.sigPriv)
	b.SetBytes(1024)
	b.ReportAllocs()
	for b.Loop() {
		e.roundTrip(b, sign)
	}
}

func TestApplicationMessageRoundTrip(t *testing.T) {
	for _, cs := range []CipherSuite{1, 2, 3, 4, 5, 6, 7} {
		e := newAppBenchEnv(t, cs, 1024)
		for i := 0; i < 3; i++ {
			e.roundTrip(t, true)
		}
	}
}

// BenchmarkSignatureFloor is the floor of BenchmarkApplicationMessage set by
// RFC 9420's signature on every PrivateMessage content: one Ed25519 Sign
// (expanded key) and one Verify, with the standard library alone, of a
// message the size of the SignContent{FramedContentTBS} that a 1 KiB
// application message of the suite-1 benchmark group signs.
func BenchmarkSignatureFloor(b *testing.B) {
	b.Run("size=1KiB", func(b *testing.B) {
		cs := MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519
		alice, _ := newBenchGroupPair(b, cs)
		fc := &FramedContent{GroupID: alice.ctx.GroupID, Epoch: alice.ctx.Epoch,
			Sender:      Sender{SenderType: SenderTypeMember, LeafIndex: uint32(alice.priv.self)},
			ContentType: ContentTypeApplication, ApplicationData: bytes.Repeat([]byte{0x5a}, 1024)}
		w := getWriter()
		encodeFramedSignContent(w, WireFormatPrivateMessage, fc, alice.ctxEnc)
		msg := bytes.Clone(w.Bytes())
		putWriter(w)
		pub, priv, err := ed25519.GenerateKey(nil)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(len(msg)), "tbs-bytes")
		b.SetBytes(1024)
		b.ReportAllocs()
		for b.Loop() {
			sig := ed25519.Sign(priv, msg)
			if !ed25519.Verify(pub, msg, sig) {
				b.Fatal("verify")
			}
		}
	})
}
