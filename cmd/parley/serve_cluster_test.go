package main

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/parleyhq/parley/node"
)

func TestServeRefusesNATSWithSQLite(t *testing.T) {
	t.Setenv("PARLEY_POSTGRES", "")
	err := serveCommand(context.Background(), []string{"--nats", "nats://127.0.0.1:1", "--data", t.TempDir(), "--listen", "127.0.0.1:0"}, io.Discard, io.Discard)
	if !errors.Is(err, node.ErrNATSNeedsPostgres) {
		t.Fatalf("serve --nats without --postgres: %v, want %v", err, node.ErrNATSNeedsPostgres)
	}
}
