//go:build !js

package localstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/content"
)

// kindsTx runs f in a transaction (the kinds' tables: migrations/00001).
func (s *sqliteStore) kindsTx(ctx context.Context, f func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := f(tx); err != nil {
		return err
	}
	return tx.Commit()
}

func (s *sqliteStore) PutExtras(ctx context.Context, conv parley.ConversationID, device parley.DeviceID, client parley.ClientMessageID, ext content.Ext) error {
	mentions, _ := json.Marshal(ext.Mentions)
	var poll any
	if ext.Poll != nil {
		b, _ := json.Marshal(ext.Poll)
		poll = string(b)
	}
	var status any // a private reply's quote of a status post (store_status.go)
	if ext.Status != nil {
		b, _ := json.Marshal(ext.Status)
		status = string(b)
	}
	return s.kindsTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO message_extras (conversation, sender_device, client_id, reply_to, mentions, everyone, poll, status)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			string(conv), int64(device), string(client), int64(ext.ReplyTo), string(mentions), ext.Everyone, poll, status)
		if err != nil || ext.Biz == nil {
			return err
		}
		return putBusiness(ctx, tx, conv, device, client, ext.Biz) // sqlite_business.go
	})
}

func (s *sqliteStore) React(ctx context.Context, conv parley.ConversationID, target parley.Seq, user parley.UserID, emoji string, seq parley.Seq) error {
	return s.kindsTx(ctx, func(tx *sql.Tx) error {
		if emoji == "" {
			_, err := tx.ExecContext(ctx, `DELETE FROM reactions WHERE conversation = ? AND seq = ? AND user_id = ? AND at_seq <= ?`,
				string(conv), int64(target), int64(user), int64(seq))
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO reactions (conversation, seq, user_id, emoji, at_seq) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (conversation, seq, user_id) DO UPDATE SET emoji = excluded.emoji, at_seq = excluded.at_seq
			WHERE excluded.at_seq >= reactions.at_seq`, string(conv), int64(target), int64(user), emoji, int64(seq))
		return err
	})
}

func (s *sqliteStore) Edit(ctx context.Context, conv parley.ConversationID, target parley.Seq, text string, at time.Time, seq parley.Seq) error {
	return s.kindsTx(ctx, func(tx *sql.Tx) error {
		var last int64
		err := tx.QueryRowContext(ctx, `SELECT edit_seq FROM message_changes WHERE conversation = ? AND seq = ?`, string(conv), int64(target)).Scan(&last)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if last > int64(seq) {
			return nil // a later edit is applied already
		}
		if _, err := tx.ExecContext(ctx, `UPDATE messages SET text = ? WHERE conversation = ? AND seq = ?`, text, string(conv), int64(target)); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO message_changes (conversation, seq, edited_at, edit_seq) VALUES (?, ?, ?, ?)
			ON CONFLICT (conversation, seq) DO UPDATE SET edited_at = excluded.edited_at, edit_seq = excluded.edit_seq`,
			string(conv), int64(target), at.UnixMilli(), int64(seq))
		return err
	})
}

func (s *sqliteStore) DeleteMessage(ctx context.Context, conv parley.ConversationID, target parley.Seq, by parley.UserID, admin bool) error {
	return s.kindsTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE messages SET kind = ?, text = '', media = NULL WHERE conversation = ? AND seq = ?`,
			content.KindDeleted, string(conv), int64(target)); err != nil {
			return err
		}
		for _, q := range []string{`DELETE FROM reactions WHERE conversation = ? AND seq = ?`, `DELETE FROM poll_votes WHERE conversation = ? AND seq = ?`} {
			if _, err := tx.ExecContext(ctx, q, string(conv), int64(target)); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO message_changes (conversation, seq, deleted_by, deleted_admin) VALUES (?, ?, ?, ?)
			ON CONFLICT (conversation, seq) DO UPDATE SET deleted_by = excluded.deleted_by, deleted_admin = excluded.deleted_admin`,
			string(conv), int64(target), int64(by), admin)
		return err
	})
}

func (s *sqliteStore) Vote(ctx context.Context, conv parley.ConversationID, target parley.Seq, user parley.UserID, choices []int, seq parley.Seq) error {
	return s.kindsTx(ctx, func(tx *sql.Tx) error {
		if len(choices) == 0 {
			_, err := tx.ExecContext(ctx, `DELETE FROM poll_votes WHERE conversation = ? AND seq = ? AND user_id = ? AND at_seq <= ?`,
				string(conv), int64(target), int64(user), int64(seq))
			return err
		}
		b, _ := json.Marshal(choices)
		_, err := tx.ExecContext(ctx, `INSERT INTO poll_votes (conversation, seq, user_id, choices, at_seq) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (conversation, seq, user_id) DO UPDATE SET choices = excluded.choices, at_seq = excluded.at_seq
			WHERE excluded.at_seq >= poll_votes.at_seq`, string(conv), int64(target), int64(user), string(b), int64(seq))
		return err
	})
}

func (s *sqliteStore) Extras(ctx context.Context, conv parley.ConversationID, seqs []parley.Seq) (map[parley.Seq]content.Extras, error) {
	out := make(map[parley.Seq]content.Extras, len(seqs))
	err := s.kindsTx(ctx, func(tx *sql.Tx) error {
		for _, seq := range seqs {
			var ex content.Extras
			var has bool
			var mentions string
			var poll, status sql.NullString
			err := tx.QueryRowContext(ctx, `SELECT x.reply_to, x.mentions, x.everyone, x.poll, x.status FROM message_extras x
				JOIN messages m ON m.conversation = x.conversation AND m.sender_device = x.sender_device AND m.client_id = x.client_id
				WHERE m.conversation = ? AND m.seq = ?`, string(conv), int64(seq)).Scan(&ex.ReplyTo, &mentions, &ex.Everyone, &poll, &status)
			switch {
			case err == nil:
				has = true
				_ = json.Unmarshal([]byte(mentions), &ex.Mentions)
				if status.Valid {
					ex.Status = new(content.StatusQuote)
					_ = json.Unmarshal([]byte(status.String), ex.Status)
				}
				if poll.Valid {
					ex.Poll = &content.PollResult{Votes: map[parley.UserID][]int{}}
					if err := json.Unmarshal([]byte(poll.String), &ex.Poll.PollSpec); err != nil {
						return fmt.Errorf("decode poll %s:%d: %w", conv, seq, err)
					}
					ex.Poll.Tallies = make([]int, len(ex.Poll.Options))
				}
			case !errors.Is(err, sql.ErrNoRows):
				return err
			}
			var editedAt, deletedBy int64
			var deletedAdmin bool
			err = tx.QueryRowContext(ctx, `SELECT edited_at, deleted_by, deleted_admin FROM message_changes WHERE conversation = ? AND seq = ?`,
				string(conv), int64(seq)).Scan(&editedAt, &deletedBy, &deletedAdmin)
			switch {
			case err == nil:
				has = true
				if editedAt != 0 {
					ex.Edited, ex.EditedAt = true, time.UnixMilli(editedAt)
				}
				ex.Deleted, ex.DeletedByAdmin = deletedBy != 0, deletedAdmin
			case !errors.Is(err, sql.ErrNoRows):
				return err
			}
			if err := scanRows(ctx, tx, `SELECT user_id, emoji FROM reactions WHERE conversation = ? AND seq = ?`, []any{string(conv), int64(seq)}, func(r *sql.Rows) error {
				var u int64
				var e string
				if err := r.Scan(&u, &e); err != nil {
					return err
				}
				if ex.Reactions == nil {
					ex.Reactions = map[parley.UserID]string{}
				}
				ex.Reactions[parley.UserID(u)] = e
				has = true
				return nil
			}); err != nil {
				return err
			}
			if ex.Poll != nil {
				if err := scanRows(ctx, tx, `SELECT user_id, choices FROM poll_votes WHERE conversation = ? AND seq = ?`, []any{string(conv), int64(seq)}, func(r *sql.Rows) error {
					var u int64
					var cs string
					if err := r.Scan(&u, &cs); err != nil {
						return err
					}
					var choices []int
					_ = json.Unmarshal([]byte(cs), &choices)
					ex.Poll.Votes[parley.UserID(u)] = choices
					for _, ch := range choices {
						if ch >= 0 && ch < len(ex.Poll.Tallies) {
							ex.Poll.Tallies[ch]++
						}
					}
					return nil
				}); err != nil {
					return err
				}
			}
			if has {
				out[seq] = ex
			}
		}
		return nil
	})
	return out, err
}

func scanRows(ctx context.Context, tx *sql.Tx, query string, args []any, f func(*sql.Rows) error) error {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := f(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (s *sqliteStore) SetTimer(ctx context.Context, conv parley.ConversationID, ttl time.Duration) error {
	return s.kindsTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO chat_timers (conversation, ttl_ms) VALUES (?, ?)
			ON CONFLICT (conversation) DO UPDATE SET ttl_ms = excluded.ttl_ms`, string(conv), ttl.Milliseconds())
		return err
	})
}

func (s *sqliteStore) Timers(ctx context.Context) (map[parley.ConversationID]time.Duration, error) {
	out := map[parley.ConversationID]time.Duration{}
	err := s.kindsTx(ctx, func(tx *sql.Tx) error {
		return scanRows(ctx, tx, `SELECT conversation, ttl_ms FROM chat_timers WHERE ttl_ms > 0`, nil, func(r *sql.Rows) error {
			var c string
			var ms int64
			if err := r.Scan(&c, &ms); err != nil {
				return err
			}
			out[parley.ConversationID(c)] = time.Duration(ms) * time.Millisecond
			return nil
		})
	})
	return out, err
}

// Expire deletes the sent or received messages of conv sent before
// before, with everything the kinds recorded about them.
func (s *sqliteStore) Expire(ctx context.Context, conv parley.ConversationID, before time.Time) (int, error) {
	var n int64
	err := s.kindsTx(ctx, func(tx *sql.Tx) error {
		c, b := string(conv), before.UnixMilli()
		const expired = `SELECT seq FROM messages WHERE conversation = ?1 AND seq > 0 AND sent_at < ?2`
		for _, q := range []string{
			`DELETE FROM message_extras WHERE conversation = ?1 AND (sender_device, client_id) IN
				(SELECT sender_device, client_id FROM messages WHERE conversation = ?1 AND seq > 0 AND sent_at < ?2)`,
			`DELETE FROM reactions WHERE conversation = ?1 AND seq IN (` + expired + `)`,
			`DELETE FROM poll_votes WHERE conversation = ?1 AND seq IN (` + expired + `)`,
			`DELETE FROM message_changes WHERE conversation = ?1 AND seq IN (` + expired + `)`,
		} {
			if _, err := tx.ExecContext(ctx, q, c, b); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM messages WHERE conversation = ? AND seq > 0 AND sent_at < ?`, c, b)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}
