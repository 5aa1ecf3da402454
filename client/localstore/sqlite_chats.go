//go:build !js

package localstore

import (
	"context"
	"fmt"
	"strings"

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

// Search queries the FTS5 index (migration 00014) with a word-prefix
// query for each word of query (search.go), joined with messages for
// what may be a hit and the order.
func (s *sqliteStore) Search(ctx context.Context, query string, conv parley.ConversationID, limit int) ([]content.MessageRecord, error) {
	words := queryWords(query)
	if len(words) == 0 {
		return nil, nil
	}
	match := make([]string, len(words))
	for i, w := range words {
		match[i] = `"` + w + `"*` // a word is letters and digits only: nothing to escape
	}
	if limit <= 0 {
		limit = -1
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+prefixed("m.", messageColumns)+` FROM message_search s JOIN messages m ON m.rowid = s.rowid
		WHERE message_search MATCH ?1 AND m.seq > 0 AND (?2 = '' OR m.conversation = ?2) AND m.kind NOT IN (?3, ?4)
		ORDER BY m.stored_at DESC, m.conversation, m.seq DESC LIMIT ?5`,
		strings.Join(match, " AND "), string(conv), content.KindDeleted, content.KindUndecryptable, limit)
	if err != nil {
		return nil, fmt.Errorf("search messages: %w", err)
	}
	return scanMessages(rows)
}

// prefixed qualifies each column of a comma-separated list with prefix.
func prefixed(prefix, columns string) string {
	cols := strings.Split(columns, ",")
	for i, c := range cols {
		cols[i] = prefix + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}
