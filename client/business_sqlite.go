//go:build !js

package client

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/parleyhq/parley"
)

// businessSchema keeps the structured content of business messages, keyed
// like messages (sender device, client id) so it is written with the
// message's extras, before the message's seq is known.
const businessSchema = `
CREATE TABLE IF NOT EXISTS message_business (
	conversation TEXT NOT NULL,
	sender_device INTEGER NOT NULL,
	client_id TEXT NOT NULL,
	content TEXT NOT NULL,
	PRIMARY KEY (conversation, sender_device, client_id)
);
CREATE TABLE IF NOT EXISTS business_auto_replies (
	conversation TEXT NOT NULL,
	what TEXT NOT NULL,
	at INTEGER NOT NULL,
	PRIMARY KEY (conversation, what)
);
`

// putBusiness records a message's business content in tx (idempotent).
func putBusiness(ctx context.Context, tx *sql.Tx, conv parley.ConversationID, device parley.DeviceID, client parley.ClientMessageID, bc *BusinessContent) error {
	if _, err := tx.ExecContext(ctx, businessSchema); err != nil {
		return fmt.Errorf("create business schema: %w", err)
	}
	data, err := json.Marshal(bc)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO message_business (conversation, sender_device, client_id, content)
		VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`, string(conv), int64(device), string(client), string(data))
	return err
}

// businessOf fills in the Business content of the business-kind messages
// of ms.
func (s *sqliteStore) businessOf(ctx context.Context, ms []MessageRecord) error {
	var stmt *sql.Stmt
	defer func() {
		if stmt != nil {
			stmt.Close()
		}
	}()
	for i := range ms {
		m := &ms[i]
		if !IsBusinessKind(m.Kind) || m.Business != nil {
			continue
		}
		if stmt == nil {
			if _, err := s.db.ExecContext(ctx, businessSchema); err != nil {
				return fmt.Errorf("create business schema: %w", err)
			}
			var err error
			if stmt, err = s.db.PrepareContext(ctx, `SELECT content FROM message_business WHERE conversation = ? AND sender_device = ? AND client_id = ?`); err != nil {
				return err
			}
		}
		var content string
		err := stmt.QueryRowContext(ctx, string(m.Conversation), int64(m.SenderDevice), string(m.ClientID)).Scan(&content)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return fmt.Errorf("read business content: %w", err)
		}
		var bc BusinessContent
		if json.Unmarshal([]byte(content), &bc) == nil {
			m.Business = &bc
		}
	}
	return nil
}

// autoReplied returns when this device last sent the auto reply what
// ("greeting" or "away") in conv (zero if never).
func (s *sqliteStore) autoReplied(ctx context.Context, conv parley.ConversationID, what string) (int64, error) {
	if _, err := s.db.ExecContext(ctx, businessSchema); err != nil {
		return 0, fmt.Errorf("create business schema: %w", err)
	}
	var at int64
	err := s.db.QueryRowContext(ctx, `SELECT at FROM business_auto_replies WHERE conversation = ? AND what = ?`, string(conv), what).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return at, err
}

// noteAutoReply records that the auto reply what was sent in conv at at
// (Unix milliseconds).
func (s *sqliteStore) noteAutoReply(ctx context.Context, conv parley.ConversationID, what string, at int64) error {
	if _, err := s.db.ExecContext(ctx, businessSchema); err != nil {
		return fmt.Errorf("create business schema: %w", err)
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO business_auto_replies (conversation, what, at) VALUES (?, ?, ?)
		ON CONFLICT (conversation, what) DO UPDATE SET at = excluded.at`, string(conv), what, at)
	return err
}
