package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"

	"github.com/parleyhq/parley"
	natsbroker "github.com/parleyhq/parley/broker/nats"
)

// clusterFlags are the `parley serve` flags that make a process one node of
// a cluster (docs/cluster.md).
type clusterFlags struct {
	nats *string
}

func addClusterFlags(fs *flag.FlagSet, env func(name, def string) string) *clusterFlags {
	return &clusterFlags{
		nats: fs.String("nats", env("PARLEY_NATS", ""), "NATS URL(s), comma-separated, joining this node to a cluster (needs --postgres); empty: a single node with in-process routing [PARLEY_NATS]"),
	}
}

// errNATSNeedsPostgres refuses a cluster node on SQLite: the nodes of a
// cluster share one database, and SQLite is one process's file.
var errNATSNeedsPostgres = errors.New("serve: --nats needs --postgres: the nodes of a cluster share one PostgreSQL database, and the SQLite store belongs to one process")

// broker returns the NATS broker when --nats is set, with the function that
// closes it (after the server shut down), or a nil broker (the server's
// in-process default) and a no-op.
func (f *clusterFlags) broker(ctx context.Context, dsn, listen string, log *slog.Logger) (parley.Broker, func(), error) {
	if *f.nats == "" {
		return nil, func() {}, nil
	}
	if dsn == "" {
		return nil, nil, errNATSNeedsPostgres
	}
	host, _ := os.Hostname()
	b, err := natsbroker.Dial(ctx, *f.nats, natsbroker.Config{
		Name: "parley " + host + " " + listen,
		Log:  log.With("component", "nats"),
	})
	if err != nil {
		return nil, nil, fmt.Errorf("serve: --nats: %w", err)
	}
	log.Info("cluster node: routing through NATS", "nats", *f.nats)
	return b, func() { _ = b.Close() }, nil
}
