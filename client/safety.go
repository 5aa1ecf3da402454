package client

import (
	"context"

	"github.com/parleyhq/parley/client/mlsengine"
)

// SafetyNumber returns the safety number between this user and another:
// 60 digits in 12 groups of 5. It is computed from both users' active
// devices' identity keys as the server publishes them, so it is the same on
// both sides and on every device, and changes when either user adds or
// removes a device (or the server substitutes a key). Users compare it in
// person or over another channel.
func (c *Client) SafetyNumber(ctx context.Context, who string) (string, Contact, error) {
	ct, err := c.Resolve(ctx, who)
	if err != nil {
		return "", ct, err
	}
	mine, err := c.Devices(ctx)
	if err != nil {
		return "", ct, err
	}
	me := c.Account().User
	return mlsengine.SafetyNumber(me, activeKeys(mine), ct.User, activeKeys(ct.Devices)), ct, nil
}

func activeKeys(ds []DeviceKey) [][]byte {
	var out [][]byte
	for _, d := range ds {
		if !d.Revoked {
			out = append(out, d.IdentityKey)
		}
	}
	return out
}
