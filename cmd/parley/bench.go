package main

import (
	"context"
	"errors"
	"io"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/bench"
	"github.com/parleyhq/parley/node"
	"github.com/parleyhq/parley/store/sqlite"
)

// benchCommand runs `parley bench` (package bench's Command) with this
// binary's store: the bench seeds the data directory its server opens.
func benchCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	err := bench.Command(ctx, args, stdout, stderr, func(ctx context.Context, dir string) (parley.Store, error) {
		// Seeding is not measured: no fsync per seeded row (the server the
		// bench then starts runs with the default, full durability).
		return node.OpenStore(ctx, dir, "", sqlite.WithSynchronousNormal())
	})
	if ue := (*bench.UsageError)(nil); errors.As(err, &ue) {
		return usageError(ue.Msg)
	}
	return err
}
