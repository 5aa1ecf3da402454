package main

import (
	"context"
	"errors"
	"io"
	"testing"
)

func TestServeRefusesNATSWithSQLite(t *testing.T) {
	t.Setenv("PARLEY_POSTGRES", "")
	err := serveCommand(context.Background(), []string{"--nats", "nats://127.0.0.1:1", "--data", t.TempDir(), "--listen", "127.0.0.1:0"}, io.Discard, io.Discard)
	if !errors.Is(err, errNATSNeedsPostgres) {
		t.Fatalf("serve --nats without --postgres: %v, want %v", err, errNATSNeedsPostgres)
	}
}
