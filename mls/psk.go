package mls

import (
	"fmt"

	"github.com/parleyhq/parley/mls/codec"
)

// PSKWithSecret pairs a PreSharedKeyID with the PSK value it identifies.
type PSKWithSecret struct {
	ID  PreSharedKeyID
	PSK []byte
}

// ComputePSKSecret combines the PSKs of a commit or welcome into psk_secret
// (RFC 9420 §8.4):
//
//	psk_extracted_[i] = KDF.Extract(0, psk_[i])
//	psk_input_[i] = ExpandWithLabel(psk_extracted_[i], "derived psk", PSKLabel, KDF.Nh)
//	psk_secret_[i] = KDF.Extract(psk_input_[i], psk_secret_[i-1])
//
// with psk_secret_[0] = 0. With no PSKs the result is Nh zero bytes.
func (cs CipherSuite) ComputePSKSecret(psks []PSKWithSecret) ([]byte, error) {
	if !cs.Supported() {
		return nil, fmt.Errorf("mls: psk secret: %w: %d", ErrUnsupportedCipherSuite, uint16(cs))
	}
	if len(psks) > 0xffff {
		return nil, fmt.Errorf("mls: psk secret: too many PSKs (%d)", len(psks))
	}
	secret := cs.zeroSecret()
	for i, p := range psks {
		extracted, err := cs.Extract(nil, p.PSK)
		if err != nil {
			return nil, err
		}
		w := codec.NewWriter(64)
		p.ID.Encode(w)
		w.U16(uint16(i))
		w.U16(uint16(len(psks)))
		input, err := cs.ExpandWithLabel(extracted, "derived psk", w.Bytes(), cs.HashSize())
		clear(extracted)
		if err != nil {
			return nil, err
		}
		next, err := cs.Extract(input, secret)
		clear(input)
		if err != nil {
			return nil, err
		}
		clear(secret)
		secret = next
	}
	return secret, nil
}
