//go:build !js

package localstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/content"
)

// putBusiness records a message's business content in tx (idempotent).
func putBusiness(ctx context.Context, tx *sql.Tx, conv parley.ConversationID, device parley.DeviceID, client parley.ClientMessageID, bc *content.BusinessContent) error {
	data, err := json.Marshal(bc)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO message_business (conversation, sender_device, client_id, content)
		VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`, string(conv), int64(device), string(client), string(data))
	return err
}

// BusinessOf fills in the Business content of the business-kind messages
// of ms.
func (s *sqliteStore) BusinessOf(ctx context.Context, ms []content.MessageRecord) error {
	var stmt *sql.Stmt
	defer func() {
		if stmt != nil {
			stmt.Close()
		}
	}()
	for i := range ms {
		m := &ms[i]
		if !content.IsBusinessKind(m.Kind) || m.Business != nil {
			continue
		}
		if stmt == nil {
			var err error
			if stmt, err = s.db.PrepareContext(ctx, `SELECT content FROM message_business WHERE conversation = ? AND sender_device = ? AND client_id = ?`); err != nil {
				return err
			}
		}
		var data string
		err := stmt.QueryRowContext(ctx, string(m.Conversation), int64(m.SenderDevice), string(m.ClientID)).Scan(&data)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return fmt.Errorf("read business content: %w", err)
		}
		var bc content.BusinessContent
		if json.Unmarshal([]byte(data), &bc) == nil {
			m.Business = &bc
		}
	}
	return nil
}

// AutoReplied returns when this device last sent the auto reply what
// ("greeting" or "away") in conv (zero if never).
func (s *sqliteStore) AutoReplied(ctx context.Context, conv parley.ConversationID, what string) (int64, error) {
	var at int64
	err := s.db.QueryRowContext(ctx, `SELECT at FROM business_auto_replies WHERE conversation = ? AND what = ?`, string(conv), what).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return at, err
}

// NoteAutoReply records that the auto reply what was sent in conv at at
// (Unix milliseconds).
func (s *sqliteStore) NoteAutoReply(ctx context.Context, conv parley.ConversationID, what string, at int64) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO business_auto_replies (conversation, what, at) VALUES (?, ?, ?)
		ON CONFLICT (conversation, what) DO UPDATE SET at = excluded.at`, string(conv), what, at)
	return err
}
