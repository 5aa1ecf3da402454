package mls

import (
	"fmt"

	"github.com/parleyhq/parley/mls/codec"
)

// SenderData identifies the sender and key generation of a PrivateMessage
// (RFC 9420 §6.3.2).
type SenderData struct {
	LeafIndex  uint32
	Generation uint32
	ReuseGuard [4]byte
}

// Encode appends the encoding of sd.
func (sd *SenderData) Encode(w *codec.Writer) {
	w.U32(sd.LeafIndex)
	w.U32(sd.Generation)
	w.Raw(sd.ReuseGuard[:])
}

// Decode reads a SenderData.
func (sd *SenderData) Decode(r *codec.Reader) {
	sd.LeafIndex = r.U32()
	sd.Generation = r.U32()
	copy(sd.ReuseGuard[:], r.Raw(4))
}

// SenderDataKeyNonce derives the key and nonce that protect a
// PrivateMessage's sender data from the epoch's sender_data_secret and the
// message ciphertext (RFC 9420 §6.3.2): the first Nh bytes of the
// ciphertext (all of it if shorter) are the context of ExpandWithLabel.
func (cs CipherSuite) SenderDataKeyNonce(senderDataSecret, ciphertext []byte) (key, nonce []byte, err error) {
	sample := ciphertext
	if nh := cs.HashSize(); len(sample) > nh {
		sample = sample[:nh]
	}
	key, err = cs.ExpandWithLabel(senderDataSecret, "key", sample, cs.AEADKeySize())
	if err != nil {
		return nil, nil, fmt.Errorf("mls: sender data key: %w", err)
	}
	nonce, err = cs.ExpandWithLabel(senderDataSecret, "nonce", sample, cs.AEADNonceSize())
	if err != nil {
		return nil, nil, fmt.Errorf("mls: sender data nonce: %w", err)
	}
	return key, nonce, nil
}
