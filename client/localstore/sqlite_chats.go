//go:build !js

package localstore

import (
	"context"
	"fmt"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/content"
)

func (s *sqliteStore) SetChatFlags(ctx context.Context, id parley.ConversationID, f ChatFlags) (Chat, error) {
	ch, err := s.Chat(ctx, id)
	if err != nil {
		return ch, err
	}
	f.Apply(&ch)
	if _, err := s.db.ExecContext(ctx, `UPDATE chats SET muted = ?, pinned = ?, archived = ? WHERE id = ?`,
		ch.Muted, ch.Pinned, ch.Archived, string(id)); err != nil {
		return ch, fmt.Errorf("set chat flags %s: %w", id, err)
	}
	return ch, nil
}

// Search scans the messages with text or an attachment (newest first), so
// matching follows Go's Unicode case folding rather than SQLite's
// ASCII-only LIKE.
func (s *sqliteStore) Search(ctx context.Context, match func(*content.MessageRecord) bool, conv parley.ConversationID, limit int) ([]content.MessageRecord, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+messageColumns+` FROM messages
		WHERE seq > 0 AND (?1 = '' OR conversation = ?1) AND (text <> '' OR media IS NOT NULL)
		ORDER BY stored_at DESC, conversation, seq DESC`, string(conv))
	if err != nil {
		return nil, fmt.Errorf("search messages: %w", err)
	}
	all, err := scanMessages(rows)
	if err != nil {
		return nil, err
	}
	var out []content.MessageRecord
	for i := range all {
		if match(&all[i]) {
			out = append(out, all[i])
		}
	}
	sortHits(out)
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}
