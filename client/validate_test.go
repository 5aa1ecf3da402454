package client

import (
	"context"
	"testing"

	"github.com/parleyhq/parley"
)

func TestValidator(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // no server: any fetch fails at once
	c := &Client{ctx: ctx, clock: parley.SystemClock{}, acct: Account{User: 99, Device: 1},
		keys: map[parley.UserID]deviceKeys{7: {at: parley.SystemClock{}.Now(), keys: []DeviceKey{
			{User: 7, Device: 70, IdentityKey: []byte("key-70")},
			{User: 7, Device: 71, IdentityKey: []byte("key-71"), Revoked: true},
		}}}}
	v := c.validator(context.Background())
	tests := map[string]struct {
		cred string
		key  string
		ok   bool
	}{
		"published key":           {"7:70", "key-70", true},
		"revoked device, its key": {"7:71", "key-71", true},
		"substituted key":         {"7:70", "key-71", false},
		"device of another user":  {"8:70", "key-70", false},
		"unknown device":          {"7:72", "key-70", false},
		"malformed credential":    {"alice", "key-70", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := v(tc.cred, []byte(tc.key))
			if (err == nil) != tc.ok {
				t.Fatalf("validate(%s, %s) = %v, want ok=%v", tc.cred, tc.key, err, tc.ok)
			}
		})
	}
}
