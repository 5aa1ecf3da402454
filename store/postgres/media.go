package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/parleyhq/parley"
)

// The Store also implements parley.MediaStore (schema in
// migrations/00100_media.sql).
var _ parley.MediaStore = (*Store)(nil)

// CreateBlob stores b and its conversation links.
func (s *Store) CreateBlob(ctx context.Context, b parley.Blob) error {
	return s.tx(ctx, "create blob", func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO media_blobs (id, owner_id, owner_device, size, capability_hash, created_at, completed_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, b.ID, b.Owner, b.OwnerDevice, b.Size, nonNil(b.CapabilityHash), ns(b.CreatedAt), ns(b.CompletedAt))
		if _, unique, _ := violation(err); unique {
			return parley.Errorf(parley.CodeConflict, "blob_exists", "blob %s already exists", b.ID)
		}
		if err != nil {
			return err
		}
		for _, c := range b.Conversations {
			if _, err := tx.Exec(ctx, `INSERT INTO media_links (blob_id, conversation_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, b.ID, c); err != nil {
				return err
			}
		}
		return nil
	})
}

// Blob returns the record and its links, ordered by conversation ID.
func (s *Store) Blob(ctx context.Context, id parley.BlobID) (parley.Blob, error) {
	b := parley.Blob{ID: id}
	var created, completed int64
	err := s.pool.QueryRow(ctx, `SELECT owner_id, owner_device, size, capability_hash, created_at, completed_at
		FROM media_blobs WHERE id = $1`, id).Scan(&b.Owner, &b.OwnerDevice, &b.Size, &b.CapabilityHash, &created, &completed)
	if errors.Is(err, pgx.ErrNoRows) {
		return b, notFound("blob not found")
	}
	if err != nil {
		return b, wrap("blob", err)
	}
	b.CreatedAt, b.CompletedAt = fromNS(created), fromNS(completed)
	rows, err := s.pool.Query(ctx, `SELECT conversation_id FROM media_links WHERE blob_id = $1 ORDER BY conversation_id`, id)
	if err != nil {
		return b, wrap("blob", err)
	}
	b.Conversations, err = pgx.CollectRows(rows, pgx.RowTo[parley.ConversationID])
	if err != nil {
		return b, wrap("blob", err)
	}
	return b, nil
}

// CompleteBlob marks the upload complete; completing twice keeps the first time.
func (s *Store) CompleteBlob(ctx context.Context, id parley.BlobID, at time.Time) error {
	return s.tx(ctx, "complete blob", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE media_blobs SET completed_at = CASE WHEN completed_at = 0 THEN $1 ELSE completed_at END WHERE id = $2`, ns(at), id)
		return blobTouched(tag, err)
	})
}

// LinkBlob lets the members of conv fetch the blob.
func (s *Store) LinkBlob(ctx context.Context, id parley.BlobID, conv parley.ConversationID) error {
	return s.tx(ctx, "link blob", func(tx pgx.Tx) error { return linkBlob(ctx, tx, id, conv) })
}

func linkBlob(ctx context.Context, tx pgx.Tx, id parley.BlobID, conv parley.ConversationID) error {
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM media_blobs WHERE id = $1 FOR SHARE`, id).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return notFound("blob not found")
	}
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO media_links (blob_id, conversation_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, id, conv)
	return err
}

// ReferenceBlob records that envelope seq of conv references the blob.
func (s *Store) ReferenceBlob(ctx context.Context, id parley.BlobID, conv parley.ConversationID, seq parley.Seq) error {
	return s.tx(ctx, "reference blob", func(tx pgx.Tx) error {
		if err := linkBlob(ctx, tx, id, conv); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO media_refs (blob_id, conversation_id, seq) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, id, conv, seq)
		return err
	})
}

// SweepableBlobs lists blobs to delete, oldest first: complete ones created
// before sw.Before with no undelivered referencing envelope (one with a
// member device whose cursor is below it) or created before sw.Expired, and
// incomplete ones created before sw.Abandoned.
func (s *Store) SweepableBlobs(ctx context.Context, sw parley.BlobSweep) ([]parley.BlobID, error) {
	limit := sw.Limit
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.pool.Query(ctx, `SELECT b.id FROM media_blobs b
		WHERE (b.completed_at <> 0 AND b.created_at < $1 AND (b.created_at < $2 OR NOT EXISTS (
				SELECT 1 FROM media_refs r
				JOIN members m ON m.conversation_id = r.conversation_id AND m.cursor < r.seq
				WHERE r.blob_id = b.id)))
		   OR (b.completed_at = 0 AND b.created_at < $3)
		ORDER BY b.created_at, b.id LIMIT $4`, ns(sw.Before), ns(sw.Expired), ns(sw.Abandoned), limit)
	if err != nil {
		return nil, wrap("sweepable blobs", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[parley.BlobID])
	if err != nil {
		return nil, wrap("sweepable blobs", err)
	}
	return ids, nil
}

// DeleteBlob deletes the record, its links and references.
func (s *Store) DeleteBlob(ctx context.Context, id parley.BlobID) error {
	return s.tx(ctx, "delete blob", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM media_blobs WHERE id = $1`, id) // links and refs cascade
		return blobTouched(tag, err)
	})
}

// MediaUsage sums the sizes of the user's blobs.
func (s *Store) MediaUsage(ctx context.Context, user parley.UserID) (int64, error) {
	var n int64
	if err := s.pool.QueryRow(ctx, `SELECT COALESCE(SUM(size), 0)::bigint FROM media_blobs WHERE owner_id = $1`, user).Scan(&n); err != nil {
		return 0, fmt.Errorf("postgres: media usage: %w", err)
	}
	return n, nil
}

func blobTouched(tag pgconn.CommandTag, err error) error {
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return notFound("blob not found")
	}
	return nil
}
