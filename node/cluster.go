package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/parleyhq/parley"
	natsbroker "github.com/parleyhq/parley/broker/nats"
	"github.com/parleyhq/parley/ratelimit"
)

// ErrNATSNeedsPostgres refuses a cluster node on SQLite: the nodes of a
// cluster share one database, and SQLite is one process's file.
var ErrNATSNeedsPostgres = errors.New("serve: --nats needs --postgres: the nodes of a cluster share one PostgreSQL database, and the SQLite store belongs to one process")

// openBroker returns the NATS broker when natsURL is set (a cluster node,
// docs/cluster.md), with the function that closes it (after the server
// shut down), or a nil broker (the server's in-process default) and a no-op.
func openBroker(ctx context.Context, natsURL, dsn, listen string, log *slog.Logger) (parley.Broker, func(), error) {
	if natsURL == "" {
		return nil, func() {}, nil
	}
	if dsn == "" {
		return nil, nil, ErrNATSNeedsPostgres
	}
	host, _ := os.Hostname()
	b, err := natsbroker.Dial(ctx, natsURL, natsbroker.Config{
		Name: "parley " + host + " " + listen,
		Log:  log.With("component", "nats"),
	})
	if err != nil {
		return nil, nil, fmt.Errorf("serve: --nats: %w", err)
	}
	log.Info("cluster node: routing through NATS", "nats", natsURL)
	return b, func() { _ = b.Close() }, nil
}

// sharedLimiter returns the limiter of a node on PostgreSQL: counters in
// the database (ratelimit.Shared), so a limit or lockout reached through
// one node holds on every node of the cluster, and across restarts. On
// SQLite (one process) it returns nil: the server's in-process default,
// which costs no write.
func sharedLimiter(st parley.Store, dsn string) parley.Limiter {
	if dsn == "" {
		return nil
	}
	return ratelimit.NewShared(st, nil, 0)
}
