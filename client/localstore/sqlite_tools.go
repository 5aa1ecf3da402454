//go:build !js

package localstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/content"
)

func (s *sqliteStore) Star(ctx context.Context, conv parley.ConversationID, seq parley.Seq, on bool, at time.Time) error {
	if _, err := s.Message(ctx, conv, seq); err != nil {
		return err
	}
	var err error
	if on {
		_, err = s.db.ExecContext(ctx, `INSERT INTO stars (conversation, seq, starred_at) VALUES (?, ?, ?)
			ON CONFLICT DO UPDATE SET starred_at = excluded.starred_at`, string(conv), int64(seq), at.UnixMilli())
	} else {
		_, err = s.db.ExecContext(ctx, `DELETE FROM stars WHERE conversation = ? AND seq = ?`, string(conv), int64(seq))
	}
	if err != nil {
		return fmt.Errorf("star %s:%d: %w", conv, seq, err)
	}
	return nil
}

func (s *sqliteStore) Starred(ctx context.Context, conv parley.ConversationID) ([]content.MessageRecord, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+messageColumns+` FROM messages WHERE seq > 0 AND (conversation, seq) IN
		(SELECT conversation, seq FROM stars WHERE ?1 = '' OR conversation = ?1)`, string(conv))
	if err != nil {
		return nil, fmt.Errorf("starred messages: %w", err)
	}
	ms, err := scanMessages(rows)
	if err != nil {
		return nil, err
	}
	at := map[string]int64{}
	rows, err = s.db.QueryContext(ctx, `SELECT conversation, seq, starred_at FROM stars WHERE ?1 = '' OR conversation = ?1`, string(conv))
	if err != nil {
		return nil, fmt.Errorf("starred messages: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c string
		var seq, t int64
		if err := rows.Scan(&c, &seq, &t); err != nil {
			return nil, fmt.Errorf("starred messages: %w", err)
		}
		at[content.FormatMessageID(parley.ConversationID(c), parley.Seq(seq))] = t
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("starred messages: %w", err)
	}
	sortStarred(ms, func(m *content.MessageRecord) int64 { return at[content.FormatMessageID(m.Conversation, m.Seq)] })
	return ms, nil
}

func (s *sqliteStore) DeleteForMe(ctx context.Context, conv parley.ConversationID, seq parley.Seq) error {
	m, err := s.Message(ctx, conv, seq)
	if err != nil {
		return err
	}
	err = s.kindsTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM message_extras WHERE conversation = ? AND sender_device = ? AND client_id = ?`,
			string(conv), int64(m.SenderDevice), string(m.ClientID)); err != nil {
			return err
		}
		for _, table := range []string{"reactions", "poll_votes", "message_changes", "stars", "messages"} {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE conversation = ? AND seq = ?`, string(conv), int64(seq)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete %s:%d for me: %w", conv, seq, err)
	}
	return nil
}

func (s *sqliteStore) NoteReceipt(ctx context.Context, conv parley.ConversationID, user parley.UserID, kind parley.ReceiptKind, seq parley.Seq, at time.Time) error {
	if _, err := s.db.ExecContext(ctx, `INSERT INTO member_receipts (conversation, user_id, kind, seq, at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT DO UPDATE SET at = min(at, excluded.at)`, string(conv), int64(user), int(kind), int64(seq), at.UnixMilli()); err != nil {
		return fmt.Errorf("note receipt %s: %w", conv, err)
	}
	return nil
}

func (s *sqliteStore) Receipts(ctx context.Context, conv parley.ConversationID, seq parley.Seq) ([]MemberReceipt, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT user_id, kind, min(at) FROM member_receipts
		WHERE conversation = ? AND seq >= ? GROUP BY user_id, kind`, string(conv), int64(seq))
	if err != nil {
		return nil, fmt.Errorf("receipts %s:%d: %w", conv, seq, err)
	}
	defer rows.Close()
	by := map[parley.UserID]*MemberReceipt{}
	for rows.Next() {
		var user, at int64
		var kind int
		if err := rows.Scan(&user, &kind, &at); err != nil {
			return nil, fmt.Errorf("receipts %s:%d: %w", conv, seq, err)
		}
		setReceipt(by, parley.UserID(user), parley.ReceiptKind(kind), at)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("receipts %s:%d: %w", conv, seq, err)
	}
	return receiptList(by), nil
}

func (s *sqliteStore) SetChatMarks(ctx context.Context, conv parley.ConversationID, m ChatMarks) error {
	var err error
	if m.IsZero() {
		_, err = s.db.ExecContext(ctx, `DELETE FROM chat_marks WHERE conversation = ?`, string(conv))
	} else {
		_, err = s.db.ExecContext(ctx, `INSERT INTO chat_marks (conversation, muted_until, unread) VALUES (?, ?, ?)
			ON CONFLICT DO UPDATE SET muted_until = excluded.muted_until, unread = excluded.unread`,
			string(conv), unixMs(m.MutedUntil), m.Unread)
	}
	if err != nil {
		return fmt.Errorf("set chat marks %s: %w", conv, err)
	}
	return nil
}

func (s *sqliteStore) ChatMarks(ctx context.Context) (map[parley.ConversationID]ChatMarks, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT conversation, muted_until, unread FROM chat_marks`)
	if err != nil {
		return nil, fmt.Errorf("chat marks: %w", err)
	}
	defer rows.Close()
	out := map[parley.ConversationID]ChatMarks{}
	for rows.Next() {
		var c string
		var until int64
		var m ChatMarks
		if err := rows.Scan(&c, &until, &m.Unread); err != nil {
			return nil, fmt.Errorf("chat marks: %w", err)
		}
		if until != 0 {
			m.MutedUntil = time.UnixMilli(until)
		}
		out[parley.ConversationID(c)] = m
	}
	return out, rows.Err()
}
