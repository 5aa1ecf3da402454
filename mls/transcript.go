package mls

import (
	"fmt"

	"github.com/parleyhq/parley/mls/codec"
)

// ConfirmedTranscriptHash computes confirmed_transcript_hash_[epoch] =
// Hash(interim_transcript_hash_[epoch-1] || ConfirmedTranscriptHashInput)
// where the input is {wire_format, content, signature} of the commit's
// AuthenticatedContent (RFC 9420 §8.2).
func (cs CipherSuite) ConfirmedTranscriptHash(interimBefore []byte, ac *AuthenticatedContent) ([]byte, error) {
	if !cs.Supported() {
		return nil, fmt.Errorf("mls: transcript hash: %w: %d", ErrUnsupportedCipherSuite, uint16(cs))
	}
	if ac.Content.ContentType != ContentTypeCommit {
		return nil, fmt.Errorf("mls: transcript hash: content type %d is not a commit", ac.Content.ContentType)
	}
	w := codec.NewWriter(len(interimBefore) + 512)
	w.Raw(interimBefore)
	w.U16(uint16(ac.WireFormat))
	ac.Content.Encode(w)
	w.Opaque(ac.Auth.Signature)
	if err := w.Err(); err != nil {
		return nil, fmt.Errorf("mls: transcript hash: %w", err)
	}
	return cs.Hash(w.Bytes()), nil
}

// InterimTranscriptHash computes interim_transcript_hash_[epoch] =
// Hash(confirmed_transcript_hash_[epoch] || InterimTranscriptHashInput)
// where the input is {MAC confirmation_tag} (RFC 9420 §8.2).
func (cs CipherSuite) InterimTranscriptHash(confirmed, confirmationTag []byte) ([]byte, error) {
	if !cs.Supported() {
		return nil, fmt.Errorf("mls: transcript hash: %w: %d", ErrUnsupportedCipherSuite, uint16(cs))
	}
	w := codec.NewWriter(len(confirmed) + len(confirmationTag) + 4)
	w.Raw(confirmed)
	w.Opaque(confirmationTag)
	return cs.Hash(w.Bytes()), nil
}

// ConfirmationTag computes MAC(confirmation_key, confirmed_transcript_hash)
// (RFC 9420 §6.1).
func (cs CipherSuite) ConfirmationTag(confirmationKey, confirmedTranscriptHash []byte) ([]byte, error) {
	return cs.MAC(confirmationKey, confirmedTranscriptHash)
}

// VerifyConfirmationTag reports, in constant time, whether tag is the
// confirmation tag of confirmedTranscriptHash under confirmationKey.
func (cs CipherSuite) VerifyConfirmationTag(confirmationKey, confirmedTranscriptHash, tag []byte) bool {
	return cs.VerifyMAC(confirmationKey, confirmedTranscriptHash, tag)
}
