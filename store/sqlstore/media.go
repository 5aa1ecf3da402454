package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/parleyhq/parley"
)

// The Store also implements parley.MediaStore (schema in
// migrations/00100_media.sql).
var _ parley.MediaStore = (*Store)(nil)

// CreateBlob stores b and its conversation links.
func (s *Store) CreateBlob(ctx context.Context, b parley.Blob) error {
	return s.write(ctx, "create blob", func(tx Querier) error {
		_, err := tx.Exec(ctx, `INSERT INTO media_blobs (id, owner_id, owner_device, size, capability_hash, created_at, completed_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, b.ID, b.Owner, b.OwnerDevice, b.Size, nonNil(b.CapabilityHash), ns(b.CreatedAt), ns(b.CompletedAt))
		if s.b.Violation(err).Unique {
			return parley.Errorf(parley.CodeConflict, parley.ReasonBlobExists, "blob %s already exists", b.ID)
		}
		if err != nil {
			return err
		}
		for _, c := range b.Conversations {
			if _, err := tx.Exec(ctx, `INSERT INTO media_links (blob_id, conversation_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, b.ID, c); err != nil {
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
	err := s.r.QueryRow(ctx, `SELECT owner_id, owner_device, size, capability_hash, created_at, completed_at
		FROM media_blobs WHERE id = ?`, id).Scan(&b.Owner, &b.OwnerDevice, &b.Size, &b.CapabilityHash, &created, &completed)
	if errors.Is(err, sql.ErrNoRows) {
		return b, notFound("blob not found")
	}
	if err != nil {
		return b, s.wrap("blob", err)
	}
	b.CreatedAt, b.CompletedAt = fromNS(created), fromNS(completed)
	rows, err := s.r.Query(ctx, `SELECT conversation_id FROM media_links WHERE blob_id = ? ORDER BY conversation_id`, id)
	if err != nil {
		return b, s.wrap("blob", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c parley.ConversationID
		if err := rows.Scan(&c); err != nil {
			return b, s.wrap("blob", err)
		}
		b.Conversations = append(b.Conversations, c)
	}
	return b, s.wrap2("blob", rows.Err())
}

// CompleteBlob marks the upload complete; completing twice keeps the first time.
func (s *Store) CompleteBlob(ctx context.Context, id parley.BlobID, at time.Time) error {
	return s.write(ctx, "complete blob", func(tx Querier) error {
		res, err := tx.Exec(ctx, `UPDATE media_blobs SET completed_at = CASE WHEN completed_at = 0 THEN ? ELSE completed_at END WHERE id = ?`, ns(at), id)
		return blobTouched(res, err)
	})
}

// LinkBlob lets the members of conv fetch the blob.
func (s *Store) LinkBlob(ctx context.Context, id parley.BlobID, conv parley.ConversationID) error {
	return s.write(ctx, "link blob", func(tx Querier) error { return linkBlob(ctx, tx, id, conv) })
}

func linkBlob(ctx context.Context, tx Querier, id parley.BlobID, conv parley.ConversationID) error {
	res, err := tx.Exec(ctx, `INSERT INTO media_links (blob_id, conversation_id)
		SELECT id, ? FROM media_blobs WHERE id = ? ON CONFLICT DO NOTHING`, conv, id)
	if err != nil {
		return err
	}
	if res == 0 {
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM media_blobs WHERE id = ?`, id).Scan(&one); errors.Is(err, sql.ErrNoRows) {
			return notFound("blob not found")
		}
	}
	return nil
}

// ReferenceBlob records that envelope seq of conv references the blob.
func (s *Store) ReferenceBlob(ctx context.Context, id parley.BlobID, conv parley.ConversationID, seq parley.Seq) error {
	return s.write(ctx, "reference blob", func(tx Querier) error {
		if err := linkBlob(ctx, tx, id, conv); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO media_refs (blob_id, conversation_id, seq) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, id, conv, seq)
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
	return selectAll(ctx, s, "sweepable blobs", func(r Row) (parley.BlobID, error) {
		var id parley.BlobID
		err := r.Scan(&id)
		return id, err
	}, `SELECT b.id FROM media_blobs b
		WHERE (b.completed_at <> 0 AND b.created_at < ? AND (b.created_at < ? OR NOT EXISTS (
				SELECT 1 FROM media_refs r
				JOIN members m ON m.conversation_id = r.conversation_id AND m.cursor < r.seq
				WHERE r.blob_id = b.id)))
		   OR (b.completed_at = 0 AND b.created_at < ?)
		ORDER BY b.created_at, b.id LIMIT ?`, ns(sw.Before), ns(sw.Expired), ns(sw.Abandoned), limit)
}

// DeleteBlob deletes the record, its links and references.
func (s *Store) DeleteBlob(ctx context.Context, id parley.BlobID) error {
	return s.write(ctx, "delete blob", func(tx Querier) error {
		for _, q := range []string{`DELETE FROM media_refs WHERE blob_id = ?`, `DELETE FROM media_links WHERE blob_id = ?`} {
			if _, err := tx.Exec(ctx, q, id); err != nil {
				return err
			}
		}
		res, err := tx.Exec(ctx, `DELETE FROM media_blobs WHERE id = ?`, id)
		return blobTouched(res, err)
	})
}

// MediaUsage sums the sizes of the user's blobs.
func (s *Store) MediaUsage(ctx context.Context, user parley.UserID) (int64, error) {
	var n int64
	err := s.r.QueryRow(ctx, `SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM media_blobs WHERE owner_id = ?`, user).Scan(&n)
	return n, s.wrap2("media usage", err)
}

func blobTouched(n int64, err error) error {
	if err != nil {
		return err
	}
	if n == 0 {
		return notFound("blob not found")
	}
	return nil
}
