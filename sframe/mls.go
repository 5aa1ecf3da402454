package sframe

import (
	"crypto/hkdf"
	"encoding/binary"

	"github.com/parleyhq/parley"
)

// ExporterLabel is the MLS exporter label of RFC 9605 §5.2.
const ExporterLabel = "SFrame 1.0 Base Key"

// EpochBits is how many low bits of a KID carry the MLS epoch (mod 2^8);
// the bits above carry the sender's leaf index (RFC 9605 §5.2 with E = 8
// and no context bits). A receiver can so hold the keys of the previous
// and current epochs while a commit settles, and tell them apart.
const EpochBits = 8

// MaxLeaf is the largest leaf index a KID can carry (2^32-1).
const MaxLeaf = 1<<32 - 1

// KIDFor is the key id of the member at leaf in epoch.
func KIDFor(leaf uint32, epoch uint64) uint64 {
	return uint64(leaf)<<EpochBits | epoch&(1<<EpochBits-1)
}

// SplitKID returns the leaf index and the epoch's low bits of a KID made by
// KIDFor.
func SplitKID(kid uint64) (leaf uint64, epochLow uint64) {
	return kid >> EpochBits, kid & (1<<EpochBits - 1)
}

// Exporter is what an MLS group offers SFrame: its exporter (RFC 9420
// §8.5) in the current epoch. *mls.Group satisfies it.
type Exporter interface {
	Export(label string, context []byte, length int) ([]byte, error)
	Epoch() uint64
}

// EpochSecret is one MLS epoch's SFrame secret, from which every member's
// frame key in that epoch derives. Members of the epoch all compute the
// same EpochSecret; nobody outside it can (a member removed by the commit
// that started the epoch does not know its exporter secret).
type EpochSecret struct {
	suite  Suite
	epoch  uint64
	secret []byte
}

// NewEpochSecret exports sframe_epoch_secret = MLS-Exporter("SFrame 1.0
// Base Key", "", Nk) from the group's current epoch.
func NewEpochSecret(suite Suite, g Exporter) (*EpochSecret, error) {
	p, ok := suite.params()
	if !ok {
		return nil, errUnknownSuite("sframe: epoch secret", suite)
	}
	s, err := g.Export(ExporterLabel, nil, p.nk)
	if err != nil {
		return nil, err
	}
	return &EpochSecret{suite: suite, epoch: g.Epoch(), secret: s}, nil
}

// Epoch is the MLS epoch the secret belongs to.
func (e *EpochSecret) Epoch() uint64 { return e.epoch }

// SenderKey derives the frame key of the member at leaf:
// base_key = HKDF-Expand(sframe_epoch_secret, leaf as 4 bytes, Nk), under
// KID KIDFor(leaf, epoch).
func (e *EpochSecret) SenderKey(leaf uint64) (*Key, error) {
	if leaf > MaxLeaf {
		return nil, parley.Errorf(parley.CodeInvalid, ReasonKIDTooLarge, "sframe: sender key: leaf %d exceeds %d", leaf, uint64(MaxLeaf))
	}
	p, _ := e.suite.params()
	var info [4]byte
	binary.BigEndian.PutUint32(info[:], uint32(leaf))
	base, err := hkdf.Expand(p.hash, e.secret, string(info[:]), p.nk)
	if err != nil {
		return nil, err
	}
	return DeriveKey(e.suite, KIDFor(uint32(leaf), e.epoch), base)
}
