package mls

import (
	"errors"
	"fmt"
)

// ErrNotForUs means a Welcome has no EncryptedGroupSecrets for the given
// KeyPackageRef.
var ErrNotForUs = errors.New("mls: welcome not addressed to this key package")

// EncryptGroupInfo encrypts an encoded, signed GroupInfo with the key and
// nonce derived from welcome_secret (RFC 9420 §12.4.3.1); the result is the
// Welcome's encrypted_group_info.
func (cs CipherSuite) EncryptGroupInfo(welcomeSecret []byte, gi *GroupInfo) ([]byte, error) {
	enc, err := Marshal(gi)
	if err != nil {
		return nil, err
	}
	return cs.encryptGroupInfo(welcomeSecret, enc)
}

// encryptGroupInfo is EncryptGroupInfo of an already encoded GroupInfo.
func (cs CipherSuite) encryptGroupInfo(welcomeSecret, enc []byte) ([]byte, error) {
	key, nonce, err := cs.WelcomeKeyNonce(welcomeSecret)
	if err != nil {
		return nil, fmt.Errorf("mls: encrypt group info: %w", err)
	}
	defer clear(key)
	return cs.AEADSeal(nil, key, nonce, nil, enc)
}

// EncryptGroupSecrets encrypts gs to the init key of the joiner's
// KeyPackage kp: EncryptWithLabel(init_key, "Welcome",
// encrypted_group_info, GroupSecrets) (RFC 9420 §12.4.3.1).
func EncryptGroupSecrets(kp *KeyPackage, encryptedGroupInfo []byte, gs *GroupSecrets) (EncryptedGroupSecrets, error) {
	seal, err := kp.CipherSuite.welcomeSealer(encryptedGroupInfo)
	if err != nil {
		return EncryptedGroupSecrets{}, fmt.Errorf("mls: encrypt group secrets: %w", err)
	}
	return encryptGroupSecrets(kp, seal, gs)
}

// welcomeSealer returns the EncryptWithLabel(., "Welcome",
// encrypted_group_info, .) of every joiner of one Welcome, with the HPKE
// info (which holds the whole encrypted GroupInfo) encoded and hashed once
// (see hpke_batch.go). It is safe for concurrent use.
func (cs CipherSuite) welcomeSealer(encryptedGroupInfo []byte) (hpkeSealer, error) {
	return cs.encryptWithLabelBatch(labelWelcome, encryptedGroupInfo)
}

// encryptGroupSecrets is EncryptGroupSecrets with a welcomeSealer of kp's
// suite.
func encryptGroupSecrets(kp *KeyPackage, seal hpkeSealer, gs *GroupSecrets) (EncryptedGroupSecrets, error) {
	ref, err := kp.Ref()
	if err != nil {
		return EncryptedGroupSecrets{}, fmt.Errorf("mls: encrypt group secrets: %w", err)
	}
	pt, err := Marshal(gs)
	if err != nil {
		return EncryptedGroupSecrets{}, err
	}
	defer clear(pt)
	kem, ct, err := seal(kp.InitKey, pt)
	if err != nil {
		return EncryptedGroupSecrets{}, fmt.Errorf("mls: encrypt group secrets: %w", err)
	}
	return EncryptedGroupSecrets{NewMember: ref, EncryptedGroupSecrets: HPKECiphertext{KEMOutput: kem, Ciphertext: ct}}, nil
}

// DecryptGroupSecrets finds the entry of wm addressed to keyPackageRef and
// decrypts it with the KeyPackage's encoded init private key. It fails with
// ErrNotForUs if there is no such entry.
func (wm *Welcome) DecryptGroupSecrets(keyPackageRef, initPriv []byte) (*GroupSecrets, error) {
	egs, ok := wm.Find(keyPackageRef)
	if !ok {
		return nil, ErrNotForUs
	}
	pt, err := wm.CipherSuite.DecryptWithLabel(initPriv, labelWelcome, wm.EncryptedGroupInfo,
		egs.EncryptedGroupSecrets.KEMOutput, egs.EncryptedGroupSecrets.Ciphertext)
	if err != nil {
		return nil, fmt.Errorf("mls: decrypt group secrets: %w", err)
	}
	defer clear(pt)
	var gs GroupSecrets
	if err := Unmarshal(pt, &gs); err != nil {
		return nil, fmt.Errorf("mls: decrypt group secrets: %w", err)
	}
	return &gs, nil
}

// WelcomeSecret derives welcome_secret from joiner_secret and psk_secret
// (nil means the all-zero psk_secret) (RFC 9420 §8).
func (cs CipherSuite) WelcomeSecret(joinerSecret, pskSecret []byte) ([]byte, error) {
	if pskSecret == nil {
		pskSecret = cs.zeroSecret()
	}
	prk, err := cs.Extract(joinerSecret, pskSecret)
	if err != nil {
		return nil, err
	}
	defer clear(prk)
	return cs.DeriveSecret(prk, "welcome")
}

// DecryptGroupInfo decrypts wm's encrypted_group_info with the welcome
// secret derived from joinerSecret and pskSecret (nil for none). The
// GroupInfo's signature and confirmation tag are not checked here: the
// signer's key is in the ratchet tree and the confirmation key comes from
// the key schedule.
func (wm *Welcome) DecryptGroupInfo(joinerSecret, pskSecret []byte) (*GroupInfo, error) {
	cs := wm.CipherSuite
	ws, err := cs.WelcomeSecret(joinerSecret, pskSecret)
	if err != nil {
		return nil, fmt.Errorf("mls: decrypt group info: %w", err)
	}
	defer clear(ws)
	key, nonce, err := cs.WelcomeKeyNonce(ws)
	if err != nil {
		return nil, fmt.Errorf("mls: decrypt group info: %w", err)
	}
	defer clear(key)
	pt, err := cs.AEADOpen(nil, key, nonce, nil, wm.EncryptedGroupInfo)
	if err != nil {
		return nil, fmt.Errorf("mls: decrypt group info: %w", err)
	}
	var gi GroupInfo
	if err := Unmarshal(pt, &gi); err != nil {
		return nil, fmt.Errorf("mls: decrypt group info: %w", err)
	}
	if gi.GroupContext.CipherSuite != cs {
		return nil, fmt.Errorf("mls: decrypt group info: suite %d differs from welcome suite %d", gi.GroupContext.CipherSuite, cs)
	}
	return &gi, nil
}
