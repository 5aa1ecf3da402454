package media

import (
	"context"
	"errors"
	"io/fs"
	"os"

	"github.com/parleyhq/parley"
)

// Sweep deletes the blobs nobody needs any more and returns how many it
// deleted:
//   - complete blobs older than Retention that no undelivered envelope
//     references (see parley.BlobSweep), or older than MaxAge, and
//   - uploads still incomplete AbandonAfter after they were created.
//
// The ciphertext is deleted first, then the record, so a crash in between
// leaves a record the next sweep deletes again (the store's Delete of a
// missing blob is not an error here).
func (s *Service) Sweep(ctx context.Context) (int, error) {
	now := s.cfg.Clock.Now()
	const batch = 100
	total := 0
	for {
		ids, err := s.cfg.Store.SweepableBlobs(ctx, parley.BlobSweep{
			Before:    now.Add(-s.cfg.Retention),
			Expired:   now.Add(-s.cfg.MaxAge),
			Abandoned: now.Add(-s.cfg.AbandonAfter),
			Limit:     batch,
		})
		if err != nil {
			return total, err
		}
		for _, id := range ids {
			if err := s.cfg.Blobs.Delete(ctx, id); err != nil && !parley.IsCode(err, parley.CodeNotFound) {
				return total, err
			}
			if err := os.Remove(s.staging(id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return total, err
			}
			if err := s.cfg.Store.DeleteBlob(ctx, id); err != nil && !parley.IsCode(err, parley.CodeNotFound) {
				return total, err
			}
			total++
		}
		if len(ids) < batch {
			return total, nil
		}
	}
}

func (s *Service) staging(id parley.BlobID) string { return (&staging{s: s}).path(id) }

// Run sweeps every SweepInterval until ctx is cancelled, logging
// failures. It returns nil when ctx is done.
func (s *Service) Run(ctx context.Context) error {
	return parley.SweepEvery(ctx, s.cfg.SweepInterval, s.log, "media sweep", s.Sweep)
}
