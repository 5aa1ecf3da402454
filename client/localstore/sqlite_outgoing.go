//go:build !js

package localstore

import (
	"context"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/content"
)

func (s *sqliteStore) OutgoingBetween(ctx context.Context, device parley.DeviceID, from, to time.Time, limit int) ([]content.MessageRecord, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+messageColumns+` FROM messages
		WHERE outgoing = 1 AND sender_device = ? AND seq > 0 AND status IN ('sent', 'delivered', 'read') AND sent_at >= ? AND sent_at < ?
		ORDER BY sent_at, seq LIMIT ?`, int64(device), from.UnixMilli(), to.UnixMilli(), limit)
	if err != nil {
		return nil, err
	}
	return scanMessages(rows)
}

func (s *sqliteStore) Undelivered(ctx context.Context, device parley.DeviceID, before time.Time, limit int) ([]content.MessageRecord, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+messageColumns+` FROM messages
		WHERE outgoing = 1 AND sender_device = ? AND seq > 0 AND status = 'sent' AND stored_at < ?
		ORDER BY stored_at, seq LIMIT ?`, int64(device), before.UnixMilli(), limit)
	if err != nil {
		return nil, err
	}
	return scanMessages(rows)
}

func (s *sqliteStore) MarkFailed(ctx context.Context, conv parley.ConversationID, seq parley.Seq) (bool, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE messages SET status = 'failed' WHERE conversation = ? AND seq = ? AND outgoing = 1 AND status = 'sent'`,
		string(conv), int64(seq))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}
