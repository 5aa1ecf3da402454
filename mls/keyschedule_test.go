package mls

import (
	"bytes"
	"testing"
)

type keyScheduleVector struct {
	CipherSuite       CipherSuite `json:"cipher_suite"`
	GroupID           hexBytes    `json:"group_id"`
	InitialInitSecret hexBytes    `json:"initial_init_secret"`
	Epochs            []struct {
		TreeHash                hexBytes `json:"tree_hash"`
		CommitSecret            hexBytes `json:"commit_secret"`
		PSKSecret               hexBytes `json:"psk_secret"`
		ConfirmedTranscriptHash hexBytes `json:"confirmed_transcript_hash"`
		GroupContext            hexBytes `json:"group_context"`
		JoinerSecret            hexBytes `json:"joiner_secret"`
		WelcomeSecret           hexBytes `json:"welcome_secret"`
		InitSecret              hexBytes `json:"init_secret"`
		SenderDataSecret        hexBytes `json:"sender_data_secret"`
		EncryptionSecret        hexBytes `json:"encryption_secret"`
		ExporterSecret          hexBytes `json:"exporter_secret"`
		EpochAuthenticator      hexBytes `json:"epoch_authenticator"`
		ExternalSecret          hexBytes `json:"external_secret"`
		ConfirmationKey         hexBytes `json:"confirmation_key"`
		MembershipKey           hexBytes `json:"membership_key"`
		ResumptionPSK           hexBytes `json:"resumption_psk"`
		ExternalPub             hexBytes `json:"external_pub"`
		Exporter                struct {
			// The generator uses the JSON string itself (hex digits)
			// as the exporter label.
			Label   string   `json:"label"`
			Context hexBytes `json:"context"`
			Length  int      `json:"length"`
			Secret  hexBytes `json:"secret"`
		} `json:"exporter"`
	} `json:"epochs"`
}

func TestKeyScheduleVectors(t *testing.T) {
	const file = "key-schedule.json"
	var vs []keyScheduleVector
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
		initSecret := []byte(v.InitialInitSecret)
		for e, ep := range v.Epochs {
			gc := GroupContext{
				Version:                 ProtocolVersionMLS10,
				CipherSuite:             cs,
				GroupID:                 v.GroupID,
				Epoch:                   uint64(e),
				TreeHash:                ep.TreeHash,
				ConfirmedTranscriptHash: ep.ConfirmedTranscriptHash,
			}
			gcBytes, err := gc.Marshal()
			if err != nil || !bytes.Equal(gcBytes, ep.GroupContext) {
				t.Fatalf("vector %d epoch %d: group context %x, %v; want %x", i, e, gcBytes, err, []byte(ep.GroupContext))
			}
			es, err := cs.KeySchedule(initSecret, ep.CommitSecret, ep.PSKSecret, gcBytes)
			if err != nil {
				t.Fatalf("vector %d epoch %d: %v", i, e, err)
			}
			for _, c := range []struct {
				name      string
				got, want []byte
			}{
				{"joiner_secret", es.JoinerSecret, ep.JoinerSecret},
				{"welcome_secret", es.WelcomeSecret, ep.WelcomeSecret},
				{"init_secret", es.InitSecret, ep.InitSecret},
				{"sender_data_secret", es.SenderDataSecret, ep.SenderDataSecret},
				{"encryption_secret", es.EncryptionSecret, ep.EncryptionSecret},
				{"exporter_secret", es.ExporterSecret, ep.ExporterSecret},
				{"epoch_authenticator", es.EpochAuthenticator, ep.EpochAuthenticator},
				{"external_secret", es.ExternalSecret, ep.ExternalSecret},
				{"confirmation_key", es.ConfirmationKey, ep.ConfirmationKey},
				{"membership_key", es.MembershipKey, ep.MembershipKey},
				{"resumption_psk", es.ResumptionPSK, ep.ResumptionPSK},
			} {
				if !bytes.Equal(c.got, c.want) {
					t.Errorf("vector %d epoch %d: %s = %x; want %x", i, e, c.name, c.got, c.want)
				}
			}
			_, pub, err := es.ExternalKeyPair()
			if err != nil || !bytes.Equal(pub, ep.ExternalPub) {
				t.Errorf("vector %d epoch %d: external_pub = %x, %v; want %x", i, e, pub, err, []byte(ep.ExternalPub))
			}
			x := ep.Exporter
			out, err := es.Export(x.Label, x.Context, x.Length)
			if err != nil || !bytes.Equal(out, x.Secret) {
				t.Errorf("vector %d epoch %d: exporter = %x, %v; want %x", i, e, out, err, []byte(x.Secret))
			}
			initSecret = es.InitSecret
		}
	}
	reportVectors(file, ran, skipped)
}

type pskSecretVector struct {
	CipherSuite CipherSuite `json:"cipher_suite"`
	PSKs        []struct {
		PSKID    hexBytes `json:"psk_id"`
		PSK      hexBytes `json:"psk"`
		PSKNonce hexBytes `json:"psk_nonce"`
	} `json:"psks"`
	PSKSecret hexBytes `json:"psk_secret"`
}

func TestPSKSecretVectors(t *testing.T) {
	const file = "psk_secret.json"
	var vs []pskSecretVector
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
		var psks []PSKWithSecret
		for _, p := range v.PSKs {
			psks = append(psks, PSKWithSecret{
				ID:  PreSharedKeyID{PSKType: PSKTypeExternal, PSKID: p.PSKID, PSKNonce: p.PSKNonce},
				PSK: p.PSK,
			})
		}
		out, err := cs.ComputePSKSecret(psks)
		if err != nil || !bytes.Equal(out, v.PSKSecret) {
			t.Errorf("vector %d: psk_secret = %x, %v; want %x", i, out, err, []byte(v.PSKSecret))
		}
	}
	reportVectors(file, ran, skipped)
}

type transcriptVector struct {
	CipherSuite                  CipherSuite `json:"cipher_suite"`
	ConfirmationKey              hexBytes    `json:"confirmation_key"`
	AuthenticatedContent         hexBytes    `json:"authenticated_content"`
	InterimTranscriptHashBefore  hexBytes    `json:"interim_transcript_hash_before"`
	ConfirmedTranscriptHashAfter hexBytes    `json:"confirmed_transcript_hash_after"`
	InterimTranscriptHashAfter   hexBytes    `json:"interim_transcript_hash_after"`
}

func TestTranscriptHashesVectors(t *testing.T) {
	const file = "transcript-hashes.json"
	var vs []transcriptVector
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
		var ac AuthenticatedContent
		if err := ac.Unmarshal(v.AuthenticatedContent); err != nil {
			t.Errorf("vector %d: %v", i, err)
			continue
		}
		if !cs.VerifyConfirmationTag(v.ConfirmationKey, v.ConfirmedTranscriptHashAfter, ac.Auth.ConfirmationTag) {
			t.Errorf("vector %d: confirmation tag does not verify", i)
		}
		confirmed, err := cs.ConfirmedTranscriptHash(v.InterimTranscriptHashBefore, &ac)
		if err != nil || !bytes.Equal(confirmed, v.ConfirmedTranscriptHashAfter) {
			t.Errorf("vector %d: confirmed = %x, %v; want %x", i, confirmed, err, []byte(v.ConfirmedTranscriptHashAfter))
		}
		interim, err := cs.InterimTranscriptHash(confirmed, ac.Auth.ConfirmationTag)
		if err != nil || !bytes.Equal(interim, v.InterimTranscriptHashAfter) {
			t.Errorf("vector %d: interim = %x, %v; want %x", i, interim, err, []byte(v.InterimTranscriptHashAfter))
		}
	}
	reportVectors(file, ran, skipped)
}

func TestExternalInitRoundTrip(t *testing.T) {
	for _, cs := range []CipherSuite{1, 2, 3, 4, 5, 6, 7} {
		es := &EpochSecrets{CipherSuite: cs, ExternalSecret: bytes.Repeat([]byte{9}, cs.HashSize())}
		priv, pub, err := es.ExternalKeyPair()
		if err != nil {
			t.Fatalf("suite %d: %v", cs, err)
		}
		kem, secret, err := cs.ExternalInitSecret(pub)
		if err != nil {
			t.Fatalf("suite %d: %v", cs, err)
		}
		got, err := cs.ExternalInitSecretFromKEMOutput(priv, kem)
		if err != nil || !bytes.Equal(got, secret) || len(secret) != cs.HashSize() {
			t.Errorf("suite %d: external init secret mismatch (%v)", cs, err)
		}
		kem[len(kem)-1] ^= 1
		if got, err := cs.ExternalInitSecretFromKEMOutput(priv, kem); err == nil && bytes.Equal(got, secret) {
			t.Errorf("suite %d: tampered kem output gave the same secret", cs)
		}
	}
}
