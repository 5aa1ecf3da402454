package cluster

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/accounts"
)

// TestAuthLockoutAcrossNodes: the failed sign-ins a device may have
// (accounts.Limits.AuthFailuresPerDevice, 10 per 10 minutes) are counted
// in PostgreSQL: spent on node A, the next wrong secret is refused on node
// B with the same reason, while the right secret still signs in there.
func TestAuthLockoutAcrossNodes(t *testing.T) {
	nodes, accts, _, _ := startCluster(t, 2, 1, false)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dev := accts[0].Devices[0]
	wrong := make([]byte, 32)
	auth := func(n *node, secret []byte) error {
		c, err := dialClient(ctx, n.addr, dev, secret, nil)
		if err == nil {
			c.close()
		}
		return err
	}
	for i := range 10 {
		err := auth(nodes[0], wrong)
		if err == nil || !strings.Contains(err.Error(), "bad_credentials") {
			t.Fatalf("wrong secret %d on node A: %v, want bad_credentials", i+1, err)
		}
	}
	err := auth(nodes[1], wrong)
	if err == nil || !strings.Contains(err.Error(), accounts.ReasonAuthFailures) {
		t.Fatalf("11th wrong secret, on node B: %v, want %s (the budget spent on node A)", err, accounts.ReasonAuthFailures)
	}
	if err := auth(nodes[1], accts[0].Secrets[0]); err != nil {
		t.Fatalf("the right secret on node B: %v (valid credentials are never refused)", err)
	}
}
