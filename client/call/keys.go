package call

import (
	"fmt"

	"github.com/parleyhq/parley/sframe"
)

// Suite is the SFrame cipher suite of Parley calls.
const Suite = sframe.AES128GCMSHA256

// Keys derives, from one MLS epoch, this member's frame key and the frame
// keys of the other leaves, and installs them: the sealer switches to the
// new key, the receiver gains the others' keys and keeps only this epoch's
// and the previous epoch's (frames in flight across a commit still
// decrypt; older epochs, including a removed member's, do not).
func Keys(g sframe.Exporter, own uint32, leaves []uint32, sealer *sframe.Sealer, recv *sframe.Receiver) (*sframe.Sealer, error) {
	es, err := sframe.NewEpochSecret(Suite, g)
	if err != nil {
		return nil, fmt.Errorf("call: keys: %w", err)
	}
	ownKey, err := es.SenderKey(uint64(own))
	if err != nil {
		return nil, fmt.Errorf("call: keys: %w", err)
	}
	epoch := es.Epoch()
	recv.Retain(func(kid uint64) bool {
		_, low := sframe.SplitKID(kid)
		return low == (epoch-1)&0xff
	})
	for _, l := range leaves {
		if l == own {
			continue
		}
		k, err := es.SenderKey(uint64(l))
		if err != nil {
			return nil, fmt.Errorf("call: keys: %w", err)
		}
		recv.Add(k)
	}
	if sealer == nil {
		return sframe.NewSealer(ownKey), nil
	}
	sealer.Rekey(ownKey)
	return sealer, nil
}
