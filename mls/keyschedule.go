package mls

import (
	"fmt"
)

// EpochSecrets holds the outputs of the key schedule for one epoch
// (RFC 9420 §8, Table 4). All fields are Nh bytes long.
type EpochSecrets struct {
	CipherSuite CipherSuite

	JoinerSecret  []byte
	WelcomeSecret []byte
	EpochSecret   []byte

	SenderDataSecret   []byte
	EncryptionSecret   []byte
	ExporterSecret     []byte
	ExternalSecret     []byte
	ConfirmationKey    []byte
	MembershipKey      []byte
	ResumptionPSK      []byte
	EpochAuthenticator []byte
	InitSecret         []byte // init_secret of the next epoch
}

// Labels of the secrets derived from epoch_secret (RFC 9420 §8, Table 4).
const (
	labelSenderData     = "sender data"
	labelEncryption     = "encryption"
	labelExporter       = "exporter"
	labelExternal       = "external"
	labelConfirm        = "confirm"
	labelMembership     = "membership"
	labelResumption     = "resumption"
	labelAuthentication = "authentication"
	labelInit           = "init"
)

// zeroSecret returns Nh zero bytes, the value used for an absent
// commit_secret or psk_secret.
func (cs CipherSuite) zeroSecret() []byte { return make([]byte, cs.HashSize()) }

// ComputeJoinerSecret computes joiner_secret = ExpandWithLabel(
// Extract(init_secret, commit_secret), "joiner", GroupContext, Nh)
// (RFC 9420 §8). groupContext is the encoded GroupContext of the new epoch;
// a nil commitSecret means the all-zero secret.
func (cs CipherSuite) ComputeJoinerSecret(initSecret, commitSecret, groupContext []byte) ([]byte, error) {
	if commitSecret == nil {
		commitSecret = cs.zeroSecret()
	}
	prk, err := cs.Extract(initSecret, commitSecret)
	if err != nil {
		return nil, fmt.Errorf("mls: key schedule: %w", err)
	}
	defer clear(prk)
	return cs.ExpandWithLabel(prk, "joiner", groupContext, cs.HashSize())
}

// DeriveEpochSecrets runs the key schedule from joiner_secret (RFC 9420
// §8): it mixes in pskSecret (nil means the all-zero secret), derives
// welcome_secret and epoch_secret, and every secret derived from the latter.
// groupContext is the encoded GroupContext of the new epoch.
func (cs CipherSuite) DeriveEpochSecrets(joinerSecret, pskSecret, groupContext []byte) (*EpochSecrets, error) {
	if !cs.Supported() {
		return nil, fmt.Errorf("mls: key schedule: %w: %d", ErrUnsupportedCipherSuite, uint16(cs))
	}
	if pskSecret == nil {
		pskSecret = cs.zeroSecret()
	}
	prk, err := cs.Extract(joinerSecret, pskSecret)
	if err != nil {
		return nil, err
	}
	defer clear(prk)
	es := &EpochSecrets{CipherSuite: cs, JoinerSecret: append([]byte(nil), joinerSecret...)}
	if es.WelcomeSecret, err = cs.DeriveSecret(prk, "welcome"); err != nil {
		return nil, err
	}
	if es.EpochSecret, err = cs.ExpandWithLabel(prk, "epoch", groupContext, cs.HashSize()); err != nil {
		return nil, err
	}
	for _, d := range []struct {
		dst   *[]byte
		label string
	}{
		{&es.SenderDataSecret, labelSenderData},
		{&es.EncryptionSecret, labelEncryption},
		{&es.ExporterSecret, labelExporter},
		{&es.ExternalSecret, labelExternal},
		{&es.ConfirmationKey, labelConfirm},
		{&es.MembershipKey, labelMembership},
		{&es.ResumptionPSK, labelResumption},
		{&es.EpochAuthenticator, labelAuthentication},
		{&es.InitSecret, labelInit},
	} {
		if *d.dst, err = cs.DeriveSecret(es.EpochSecret, d.label); err != nil {
			return nil, fmt.Errorf("mls: key schedule %q: %w", d.label, err)
		}
	}
	return es, nil
}

// KeySchedule runs the full key schedule of RFC 9420 §8 from the previous
// epoch's init_secret, the commit_secret and the psk_secret (nil for the
// all-zero values), for the new epoch's encoded GroupContext.
func (cs CipherSuite) KeySchedule(initSecret, commitSecret, pskSecret, groupContext []byte) (*EpochSecrets, error) {
	joiner, err := cs.ComputeJoinerSecret(initSecret, commitSecret, groupContext)
	if err != nil {
		return nil, err
	}
	return cs.DeriveEpochSecrets(joiner, pskSecret, groupContext)
}

// WelcomeKeyNonce derives the AEAD key and nonce that protect a Welcome's
// GroupInfo from welcome_secret (RFC 9420 §12.4.3.1).
func (cs CipherSuite) WelcomeKeyNonce(welcomeSecret []byte) (key, nonce []byte, err error) {
	key, err = cs.ExpandWithLabel(welcomeSecret, "key", nil, cs.AEADKeySize())
	if err != nil {
		return nil, nil, err
	}
	nonce, err = cs.ExpandWithLabel(welcomeSecret, "nonce", nil, cs.AEADNonceSize())
	if err != nil {
		return nil, nil, err
	}
	return key, nonce, nil
}

// Export implements MLS-Exporter(Label, Context, Length) = ExpandWithLabel(
// DeriveSecret(exporter_secret, Label), "exported", Hash(Context), Length)
// (RFC 9420 §8.5).
func (es *EpochSecrets) Export(label string, context []byte, length int) ([]byte, error) {
	return es.CipherSuite.Export(es.ExporterSecret, label, context, length)
}

// Export implements MLS-Exporter with an explicit exporter_secret.
func (cs CipherSuite) Export(exporterSecret []byte, label string, context []byte, length int) ([]byte, error) {
	derived, err := cs.DeriveSecret(exporterSecret, label)
	if err != nil {
		return nil, fmt.Errorf("mls: exporter: %w", err)
	}
	defer clear(derived)
	return cs.ExpandWithLabel(derived, "exported", cs.Hash(context), length)
}

// ExternalKeyPair returns the epoch's external HPKE key pair,
// DeriveKeyPair(external_secret) (RFC 9420 §8.3). The public key is the
// payload of the external_pub extension.
func (es *EpochSecrets) ExternalKeyPair() (priv, pub []byte, err error) {
	return es.CipherSuite.DeriveKeyPair(es.ExternalSecret)
}

// ExternalInitSecret is the joiner side of external initialisation
// (RFC 9420 §8.3): it encapsulates to the group's external public key and
// returns the ExternalInit kem_output and the init_secret to use in place of
// the previous epoch's.
func (cs CipherSuite) ExternalInitSecret(externalPub []byte) (kemOutput, initSecret []byte, err error) {
	return cs.HPKEExportSender(externalPub, nil, labelExternalInitSecretCtx, cs.HashSize())
}

// ExternalInitSecretFromKEMOutput is the member side of external
// initialisation: it recovers the init_secret from an ExternalInit
// proposal's kem_output with the epoch's external private key.
func (cs CipherSuite) ExternalInitSecretFromKEMOutput(externalPriv, kemOutput []byte) ([]byte, error) {
	return cs.HPKEExportRecipient(externalPriv, kemOutput, nil, labelExternalInitSecretCtx, cs.HashSize())
}

// Wipe overwrites every secret with zeros. The EpochSecrets must not be used
// afterwards.
func (es *EpochSecrets) Wipe() {
	for _, s := range [][]byte{es.JoinerSecret, es.WelcomeSecret, es.EpochSecret, es.SenderDataSecret,
		es.EncryptionSecret, es.ExporterSecret, es.ExternalSecret, es.ConfirmationKey, es.MembershipKey,
		es.ResumptionPSK, es.EpochAuthenticator, es.InitSecret} {
		clear(s)
	}
}
