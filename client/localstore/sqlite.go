//go:build !js

package localstore

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"time"

	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // the pure-Go SQLite driver

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/attachment"
	"github.com/parleyhq/parley/content"
)

// migrations is the local store's schema, applied in order by goose (the
// tool the server's store/sqlite uses) when a store opens. 00001 is the
// schema as the old ad-hoc code left it; 00002 (legacyColumns, in Go) adds
// the columns a profile from before those columns lacks. Later changes are
// new files.
//
//go:embed migrations/*.sql
var migrations embed.FS

// legacyColumns are the columns the pre-migration code added to older
// profiles one by one; migration 00002 adds those a profile lacks (a new
// one has them all from 00001).
var legacyColumns = []struct{ table, column, def string }{
	{"messages", "media", "BLOB"},
	{"messages", "forwarded", "INTEGER NOT NULL DEFAULT 0"},
	{"chats", "muted", "INTEGER NOT NULL DEFAULT 0"},
	{"chats", "pinned", "INTEGER NOT NULL DEFAULT 0"},
	{"chats", "archived", "INTEGER NOT NULL DEFAULT 0"},
}

func addLegacyColumns(ctx context.Context, tx *sql.Tx) error {
	for _, c := range legacyColumns {
		var n int
		err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM pragma_table_info(?) WHERE name = ?`, c.table, c.column).Scan(&n)
		if err == nil && n == 0 {
			_, err = tx.ExecContext(ctx, `ALTER TABLE `+c.table+` ADD COLUMN `+c.column+` `+c.def)
		}
		if err != nil {
			return fmt.Errorf("%s.%s: %w", c.table, c.column, err)
		}
	}
	return nil
}

// migrate brings db's schema to the newest migration.
func migrate(ctx context.Context, db *sql.DB) error {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, fsys, goose.WithDisableGlobalRegistry(true),
		goose.WithGoMigrations(goose.NewGoMigration(2, &goose.GoFunc{RunTx: addLegacyColumns}, nil)))
	if err != nil {
		return fmt.Errorf("migrate local store: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate local store: %w", err)
	}
	return nil
}

type sqliteStore struct {
	db *sql.DB
}

// OpenSQLite opens (creating if needed) the SQLite local store at path,
// in WAL mode.
func OpenSQLite(ctx context.Context, path string) (Store, error) {
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() +
		"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open local store: %w", err)
	}
	db.SetMaxOpenConns(1)
	if err := migrate(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	return &sqliteStore{db: db}, nil
}

func (s *sqliteStore) Close() error { return s.db.Close() }

func (s *sqliteStore) Account(ctx context.Context) (Account, error) {
	var data []byte
	err := s.db.QueryRowContext(ctx, `SELECT data FROM account WHERE id = 1`).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return Account{}, notFound("account")
	}
	if err != nil {
		return Account{}, fmt.Errorf("read account: %w", err)
	}
	var a Account
	if err := json.Unmarshal(data, &a); err != nil {
		return Account{}, fmt.Errorf("decode account: %w", err)
	}
	return a, nil
}

func (s *sqliteStore) PutAccount(ctx context.Context, a Account) error {
	data, err := json.Marshal(a)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO account (id, data) VALUES (1, ?)
		ON CONFLICT (id) DO UPDATE SET data = excluded.data`, data)
	if err != nil {
		return fmt.Errorf("write account: %w", err)
	}
	return nil
}

func (s *sqliteStore) PutKeyPackages(ctx context.Context, kps []KeyPackageSecret) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, kp := range kps {
		if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO key_packages (ref, private, last_resort) VALUES (?, ?, ?)`,
			kp.Ref, kp.Private, kp.LastResort); err != nil {
			return fmt.Errorf("write key package: %w", err)
		}
	}
	return tx.Commit()
}

func (s *sqliteStore) KeyPackages(ctx context.Context) ([]KeyPackageSecret, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT ref, private, last_resort FROM key_packages`)
	if err != nil {
		return nil, fmt.Errorf("read key packages: %w", err)
	}
	defer rows.Close()
	var out []KeyPackageSecret
	for rows.Next() {
		var kp KeyPackageSecret
		if err := rows.Scan(&kp.Ref, &kp.Private, &kp.LastResort); err != nil {
			return nil, err
		}
		out = append(out, kp)
	}
	return out, rows.Err()
}

func (s *sqliteStore) Apply(ctx context.Context, a Applied) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	now := time.Now().UnixMilli()
	if a.Chat != nil {
		_, err := tx.ExecContext(ctx, `INSERT INTO chats (id, kind, peer, title, updated_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, peer = excluded.peer,
				title = CASE WHEN excluded.title = '' THEN chats.title ELSE excluded.title END`,
			string(a.Conversation), string(a.Chat.Kind), int64(a.Chat.Peer), a.Chat.Title, now)
		if err != nil {
			return fmt.Errorf("write chat %s: %w", a.Conversation, err)
		}
	}
	if a.Group != nil {
		res, err := tx.ExecContext(ctx, `UPDATE chats SET grp = ?, epoch = ? WHERE id = ?`, a.Group, int64(a.Epoch), string(a.Conversation))
		if err != nil {
			return fmt.Errorf("write group %s: %w", a.Conversation, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO chats (id, kind, peer, title, grp, epoch, updated_at) VALUES (?, 'direct', 0, '', ?, ?, ?)`,
				string(a.Conversation), a.Group, int64(a.Epoch), now); err != nil {
				return fmt.Errorf("write group %s: %w", a.Conversation, err)
			}
		}
	}
	if a.Seq != 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE chats SET cursor = MAX(cursor, ?) WHERE id = ?`, int64(a.Seq), string(a.Conversation)); err != nil {
			return fmt.Errorf("move cursor %s: %w", a.Conversation, err)
		}
	}
	if m := a.Message; m != nil {
		var media []byte
		if m.Media != nil {
			if media, err = json.Marshal(m.Media); err != nil {
				return fmt.Errorf("write message %s/%s: %w", m.Conversation, m.ClientID, err)
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO messages (conversation, seq, client_id, sender, sender_device, outgoing, kind, text, sent_at, stored_at, status, payload, epoch, media, forwarded)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (conversation, sender_device, client_id) DO UPDATE SET
				seq = CASE WHEN excluded.seq <> 0 THEN excluded.seq ELSE messages.seq END,
				status = CASE WHEN messages.status = 'pending' THEN excluded.status ELSE messages.status END,
				payload = excluded.payload, epoch = excluded.epoch`,
			string(m.Conversation), int64(m.Seq), string(m.ClientID), int64(m.Sender), int64(m.SenderDevice), m.Outgoing,
			m.Kind, m.Text, m.SentAt.UnixMilli(), m.StoredAt.UnixMilli(), string(m.Status), m.Payload, int64(m.Epoch), media, m.Forwarded)
		if err != nil {
			return fmt.Errorf("write message %s/%s: %w", m.Conversation, m.ClientID, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE chats SET updated_at = ? WHERE id = ?`, now, string(a.Conversation)); err != nil {
			return err
		}
	}
	if a.UsedKeyPackage != nil {
		if _, err := tx.ExecContext(ctx, `DELETE FROM key_packages WHERE ref = ? AND last_resort = 0`, a.UsedKeyPackage); err != nil {
			return fmt.Errorf("delete key package: %w", err)
		}
	}
	return tx.Commit()
}

func (s *sqliteStore) Group(ctx context.Context, id parley.ConversationID) ([]byte, error) {
	var g []byte
	err := s.db.QueryRowContext(ctx, `SELECT grp FROM chats WHERE id = ?`, string(id)).Scan(&g)
	if errors.Is(err, sql.ErrNoRows) || err == nil && g == nil {
		return nil, notFound("group " + string(id))
	}
	if err != nil {
		return nil, fmt.Errorf("read group %s: %w", id, err)
	}
	return g, nil
}

func (s *sqliteStore) DeleteGroup(ctx context.Context, id parley.ConversationID) error {
	_, err := s.db.ExecContext(ctx, `UPDATE chats SET grp = NULL WHERE id = ?`, string(id))
	return err
}

const chatColumns = `c.id, c.kind, c.peer, c.title, c.cursor, c.epoch, c.updated_at, c.muted, c.pinned, c.archived,
	(SELECT COUNT(*) FROM messages m WHERE m.conversation = c.id AND m.status = 'received'),
	COALESCE((SELECT CASE WHEN m.media IS NULL THEN m.text ELSE TRIM('[' || m.kind || '] ' || m.text) END
		FROM messages m WHERE m.conversation = c.id ORDER BY m.seq = 0, m.seq DESC, m.stored_at DESC LIMIT 1), '')`

func scanChat(sc interface{ Scan(...any) error }) (Chat, error) {
	var c Chat
	var id, kind string
	var peer, cursor, epoch, updated int64
	if err := sc.Scan(&id, &kind, &peer, &c.Title, &cursor, &epoch, &updated, &c.Muted, &c.Pinned, &c.Archived, &c.Unread, &c.LastText); err != nil {
		return Chat{}, err
	}
	c.ID, c.Kind, c.Peer, c.Cursor, c.Epoch = parley.ConversationID(id), parley.ConversationKind(kind), parley.UserID(peer), parley.Seq(cursor), parley.Epoch(epoch)
	c.UpdatedAt = time.UnixMilli(updated)
	return c, nil
}

func (s *sqliteStore) Chat(ctx context.Context, id parley.ConversationID) (Chat, error) {
	c, err := scanChat(s.db.QueryRowContext(ctx, `SELECT `+chatColumns+` FROM chats c WHERE c.id = ?`, string(id)))
	if errors.Is(err, sql.ErrNoRows) {
		return Chat{}, notFound("chat " + string(id))
	}
	return c, err
}

func (s *sqliteStore) Chats(ctx context.Context) ([]Chat, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+chatColumns+` FROM chats c ORDER BY c.updated_at DESC, c.id`)
	if err != nil {
		return nil, fmt.Errorf("list chats: %w", err)
	}
	defer rows.Close()
	var out []Chat
	for rows.Next() {
		c, err := scanChat(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

const messageColumns = `conversation, seq, client_id, sender, sender_device, outgoing, kind, text, sent_at, stored_at, status, payload, epoch, media, forwarded`

func scanMessages(rows *sql.Rows) ([]content.MessageRecord, error) {
	defer rows.Close()
	var out []content.MessageRecord
	for rows.Next() {
		var m content.MessageRecord
		var conv, client, status string
		var seq, sender, device, sent, stored, epoch int64
		var media []byte
		if err := rows.Scan(&conv, &seq, &client, &sender, &device, &m.Outgoing, &m.Kind, &m.Text, &sent, &stored, &status, &m.Payload, &epoch, &media, &m.Forwarded); err != nil {
			return nil, err
		}
		if len(media) > 0 {
			m.Media = new(attachment.Descriptor)
			if err := json.Unmarshal(media, m.Media); err != nil {
				return nil, fmt.Errorf("decode attachment of %s/%d: %w", conv, seq, err)
			}
		}
		m.Conversation, m.Seq, m.ClientID = parley.ConversationID(conv), parley.Seq(seq), parley.ClientMessageID(client)
		m.Sender, m.SenderDevice, m.Status, m.Epoch = parley.UserID(sender), parley.DeviceID(device), content.Status(status), parley.Epoch(epoch)
		m.SentAt, m.StoredAt = time.UnixMilli(sent), time.UnixMilli(stored)
		out = append(out, m)
	}
	return out, rows.Err()
}

func (s *sqliteStore) Messages(ctx context.Context, id parley.ConversationID, limit int) ([]content.MessageRecord, error) {
	if limit <= 0 {
		limit = 1 << 30
	}
	rows, err := s.db.QueryContext(ctx, `SELECT * FROM (SELECT `+messageColumns+` FROM messages WHERE conversation = ?
		ORDER BY seq = 0 DESC, seq DESC, stored_at DESC LIMIT ?) ORDER BY seq = 0, seq, stored_at`, string(id), limit)
	if err != nil {
		return nil, fmt.Errorf("read messages %s: %w", id, err)
	}
	return scanMessages(rows)
}

func (s *sqliteStore) Message(ctx context.Context, id parley.ConversationID, seq parley.Seq) (content.MessageRecord, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+messageColumns+` FROM messages WHERE conversation = ? AND seq = ? LIMIT 1`, string(id), int64(seq))
	if err != nil {
		return content.MessageRecord{}, fmt.Errorf("read message %s:%d: %w", id, seq, err)
	}
	ms, err := scanMessages(rows)
	if err != nil {
		return content.MessageRecord{}, err
	}
	if len(ms) == 0 || seq <= 0 {
		return content.MessageRecord{}, parley.Errorf(parley.CodeNotFound, ReasonNoMessage, "no message %s:%d on this device", id, seq)
	}
	return ms[0], nil
}

func (s *sqliteStore) PendingMessages(ctx context.Context) ([]content.MessageRecord, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+messageColumns+` FROM messages WHERE status = 'pending' ORDER BY stored_at`)
	if err != nil {
		return nil, fmt.Errorf("read pending messages: %w", err)
	}
	return scanMessages(rows)
}

func (s *sqliteStore) MarkSent(ctx context.Context, id parley.ConversationID, client parley.ClientMessageID, seq parley.Seq) error {
	_, err := s.db.ExecContext(ctx, `UPDATE messages SET seq = ?, payload = NULL,
		status = CASE WHEN status = 'pending' THEN 'sent' ELSE status END
		WHERE conversation = ? AND client_id = ? AND outgoing = 1`, int64(seq), string(id), string(client))
	return err
}

func (s *sqliteStore) RaiseStatus(ctx context.Context, id parley.ConversationID, upto parley.Seq, status content.Status) ([]content.MessageRecord, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	lower := []string{"'sent'"}
	if status == content.StatusRead {
		lower = append(lower, "'delivered'")
	}
	where := `conversation = ? AND outgoing = 1 AND seq > 0 AND seq <= ? AND status IN (` + lower[0]
	for _, l := range lower[1:] {
		where += ", " + l
	}
	where += ")"
	rows, err := tx.QueryContext(ctx, `SELECT `+messageColumns+` FROM messages WHERE `+where+` ORDER BY seq`, string(id), int64(upto))
	if err != nil {
		return nil, err
	}
	changed, err := scanMessages(rows)
	if err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE messages SET status = ? WHERE `+where, string(status), string(id), int64(upto)); err != nil {
		return nil, err
	}
	for i := range changed {
		changed[i].Status = status
	}
	return changed, tx.Commit()
}

func (s *sqliteStore) MarkRead(ctx context.Context, id parley.ConversationID, upto parley.Seq) error {
	_, err := s.db.ExecContext(ctx, `UPDATE messages SET status = 'read' WHERE conversation = ? AND outgoing = 0 AND seq <= ? AND status = 'received'`,
		string(id), int64(upto))
	return err
}

func (s *sqliteStore) PutContact(ctx context.Context, c Contact) error {
	data, err := json.Marshal(c)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO contacts (user_id, data) VALUES (?, ?)
		ON CONFLICT (user_id) DO UPDATE SET data = excluded.data`, int64(c.User), data)
	return err
}

func (s *sqliteStore) Contact(ctx context.Context, user parley.UserID) (Contact, error) {
	var data []byte
	err := s.db.QueryRowContext(ctx, `SELECT data FROM contacts WHERE user_id = ?`, int64(user)).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return Contact{}, notFound("contact " + user.String())
	}
	if err != nil {
		return Contact{}, err
	}
	var c Contact
	return c, json.Unmarshal(data, &c)
}

func (s *sqliteStore) Contacts(ctx context.Context) ([]Contact, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT data FROM contacts ORDER BY user_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Contact
	for rows.Next() {
		var data []byte
		if err := rows.Scan(&data); err != nil {
			return nil, err
		}
		var c Contact
		if err := json.Unmarshal(data, &c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
