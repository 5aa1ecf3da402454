package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/parleyhq/parley"
	natsbroker "github.com/parleyhq/parley/broker/nats"
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
