//go:build !js

package client

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/parleyhq/parley"
)

// The fast send path of always-online endpoints (endpoint.go) on the SQLite
// store: one transaction stores a pending message with its extras, its
// business content and the group's new state; one statement records the
// server's acceptance and moves the cursor past it. The general path takes
// four transactions and a chat summary query per message.

// fastSendStore is implemented by the SQLite stores (plain and sealed).
type fastSendStore interface {
	// putPending stores m (pending) with ext and the group state of conv.
	putPending(ctx context.Context, conv parley.ConversationID, state []byte, epoch parley.Epoch, m *MessageRecord, ext kindExt) error
	// markSentAdvance records the server's acceptance of m at seq and moves
	// conv's cursor to seq when it was seq-1.
	markSentAdvance(ctx context.Context, conv parley.ConversationID, client parley.ClientMessageID, seq parley.Seq) error
}

var _ fastSendStore = (*sqliteStore)(nil)
var _ fastSendStore = (*sealedStore)(nil)

// schemaOnce (by *sql.DB) makes sure the kinds and business tables exist before the
// fast path writes to them (their own paths create them lazily).
var schemaOnce sync.Map // *sql.DB → error

func (s *sqliteStore) ensureKindsSchema(ctx context.Context) error {
	if v, ok := schemaOnce.Load(s.db); ok && v == nil {
		return nil
	}
	if _, err := s.db.ExecContext(ctx, kindsSchema); err != nil {
		return fmt.Errorf("create message kinds schema: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, businessSchema); err != nil {
		return fmt.Errorf("create business schema: %w", err)
	}
	schemaOnce.Store(s.db, nil)
	return nil
}

func (s *sqliteStore) putPending(ctx context.Context, conv parley.ConversationID, state []byte, epoch parley.Epoch, m *MessageRecord, ext kindExt) error {
	if err := s.ensureKindsSchema(ctx); err != nil {
		return err
	}
	mentions, _ := json.Marshal(ext.Mentions)
	var poll any
	if ext.Poll != nil {
		b, _ := json.Marshal(ext.Poll)
		poll = string(b)
	}
	var media []byte
	if m.Media != nil {
		var err error
		if media, err = json.Marshal(m.Media); err != nil {
			return err
		}
	}
	var biz any
	if ext.Biz != nil {
		b, err := json.Marshal(ext.Biz)
		if err != nil {
			return err
		}
		biz = string(b)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	now := time.Now().UnixMilli()
	res, err := tx.ExecContext(ctx, `UPDATE chats SET grp = ?, epoch = ?, updated_at = ? WHERE id = ?`, state, int64(epoch), now, string(conv))
	if err != nil {
		return fmt.Errorf("write group %s: %w", conv, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return parley.Errorf(parley.CodeNotFound, "not_joined", "this device is not in chat %s", conv)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO messages (conversation, seq, client_id, sender, sender_device, outgoing, kind, text, sent_at, stored_at, status, payload, epoch, media, forwarded)
		VALUES (?, 0, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (conversation, sender_device, client_id) DO UPDATE SET
			payload = excluded.payload, epoch = excluded.epoch`,
		string(conv), string(m.ClientID), int64(m.Sender), int64(m.SenderDevice), m.Kind, m.Text, m.SentAt.UnixMilli(),
		m.StoredAt.UnixMilli(), string(m.Status), m.Payload, int64(m.Epoch), media, m.Forwarded); err != nil {
		return fmt.Errorf("write message %s/%s: %w", conv, m.ClientID, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO message_extras (conversation, sender_device, client_id, reply_to, mentions, everyone, poll)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		string(conv), int64(m.SenderDevice), string(m.ClientID), int64(ext.ReplyTo), string(mentions), ext.Everyone, poll); err != nil {
		return err
	}
	if biz != nil {
		if _, err := tx.ExecContext(ctx, `INSERT INTO message_business (conversation, sender_device, client_id, content)
			VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`, string(conv), int64(m.SenderDevice), string(m.ClientID), biz); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func (s *sqliteStore) markSentAdvance(ctx context.Context, conv parley.ConversationID, client parley.ClientMessageID, seq parley.Seq) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `UPDATE messages SET seq = ?, payload = NULL,
		status = CASE WHEN status = 'pending' THEN 'sent' ELSE status END
		WHERE conversation = ? AND client_id = ? AND outgoing = 1`, int64(seq), string(conv), string(client)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE chats SET cursor = ? WHERE id = ? AND cursor = ?`, int64(seq), string(conv), int64(seq-1)); err != nil {
		return err
	}
	return tx.Commit()
}

func (s *sealedStore) putPending(ctx context.Context, conv parley.ConversationID, state []byte, epoch parley.Epoch, m *MessageRecord, ext kindExt) error {
	return s.sqliteStore.putPending(ctx, conv, s.seal(state, "group:"+string(conv)), epoch, m, ext)
}
