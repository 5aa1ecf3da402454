package parley

import (
	"context"
	"log/slog"
	"time"
)

// SweepEvery runs sweep at once and then every interval until ctx ends,
// logging a failure ("<what> failed") or how many it deleted. It is the
// loop of the services that delete what has expired (media blobs, ratchet
// trees, status posts); it returns nil when ctx ends.
func SweepEvery(ctx context.Context, interval time.Duration, log *slog.Logger, what string, sweep func(context.Context) (int, error)) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n, err := sweep(ctx); err != nil && ctx.Err() == nil {
			log.Error(what+" failed", "err", err, "deleted", n)
		} else if n > 0 {
			log.Info(what, "deleted", n)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
