package mls

import (
	"bytes"
	"testing"
)

type passiveClientVector struct {
	CipherSuite  CipherSuite `json:"cipher_suite"`
	ExternalPSKs []struct {
		PSKID hexBytes `json:"psk_id"`
		PSK   hexBytes `json:"psk"`
	} `json:"external_psks"`
	KeyPackage                hexBytes `json:"key_package"`
	SignaturePriv             hexBytes `json:"signature_priv"`
	EncryptionPriv            hexBytes `json:"encryption_priv"`
	InitPriv                  hexBytes `json:"init_priv"`
	Welcome                   hexBytes `json:"welcome"`
	RatchetTree               hexBytes `json:"ratchet_tree"`
	InitialEpochAuthenticator hexBytes `json:"initial_epoch_authenticator"`
	Epochs                    []struct {
		Proposals          []hexBytes `json:"proposals"`
		Commit             hexBytes   `json:"commit"`
		EpochAuthenticator hexBytes   `json:"epoch_authenticator"`
	} `json:"epochs"`
}

func runPassiveClientFile(t *testing.T, file string) {
	var vs []passiveClientVector
	loadVectors(t, file, &vs)
	ran, skipped := 0, 0
	for i := range vs {
		v := &vs[i]
		if !suiteSupported(v.CipherSuite) {
			skipSuite(t, file, i, v.CipherSuite)
			skipped++
			continue
		}
		if err := runPassiveClient(t, v); err != "" {
			t.Errorf("%s vector %d (suite %d): %s", file, i, v.CipherSuite, err)
		}
		ran++
	}
	reportVectors(file, ran, skipped)
}

func runPassiveClient(t *testing.T, v *passiveClientVector) string {
	t.Helper()
	kp, err := UnmarshalKeyPackage(v.KeyPackage)
	if err != nil {
		return "key package: " + err.Error()
	}
	bundle := &KeyPackageBundle{KeyPackage: *kp, InitPrivate: v.InitPriv, LeafPrivate: v.EncryptionPriv, SignaturePrivate: v.SignaturePriv}
	psks := map[string][]byte{}
	for _, p := range v.ExternalPSKs {
		psks[string(p.PSKID)] = p.PSK
	}
	var tree []byte
	if v.RatchetTree != nil {
		tree = v.RatchetTree
	}
	g, err := JoinFromWelcome(v.Welcome, bundle, tree, Config{}, psks)
	if err != nil {
		return "join: " + err.Error()
	}
	if !bytes.Equal(g.EpochAuthenticator(), v.InitialEpochAuthenticator) {
		return "initial epoch authenticator mismatch"
	}
	for e, ep := range v.Epochs {
		for j, p := range ep.Proposals {
			if _, err := g.Process(p); err != nil {
				return "epoch " + itoa(e) + " proposal " + itoa(j) + ": " + err.Error()
			}
		}
		if _, err := g.Process(ep.Commit); err != nil {
			return "epoch " + itoa(e) + " commit: " + err.Error()
		}
		if !bytes.Equal(g.EpochAuthenticator(), ep.EpochAuthenticator) {
			return "epoch " + itoa(e) + ": epoch authenticator mismatch"
		}
	}
	return ""
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for i > 0 {
		b = append([]byte{byte('0' + i%10)}, b...)
		i /= 10
	}
	return string(b)
}

func TestPassiveClientWelcome(t *testing.T) { runPassiveClientFile(t, "passive-client-welcome.json") }

func TestPassiveClientHandlingCommit(t *testing.T) {
	runPassiveClientFile(t, "passive-client-handling-commit.json")
}

func TestPassiveClientRandom(t *testing.T) { runPassiveClientFile(t, "passive-client-random.json") }
