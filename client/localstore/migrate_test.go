//go:build !js

package localstore

import (
	"context"
	"database/sql"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/content"
)

// oldestSchema is the local store as the first client versions created it,
// before the ad-hoc code added media and forwarded to messages, the chat
// flags, and lazily the kinds' and business tables.
const oldestSchema = `
CREATE TABLE account (id INTEGER PRIMARY KEY CHECK (id = 1), data BLOB NOT NULL);
CREATE TABLE key_packages (ref BLOB PRIMARY KEY, private BLOB NOT NULL, last_resort INTEGER NOT NULL);
CREATE TABLE chats (id TEXT PRIMARY KEY, kind TEXT NOT NULL, peer INTEGER NOT NULL, title TEXT NOT NULL,
	cursor INTEGER NOT NULL DEFAULT 0, epoch INTEGER NOT NULL DEFAULT 0, grp BLOB, updated_at INTEGER NOT NULL);
CREATE TABLE messages (conversation TEXT NOT NULL, seq INTEGER NOT NULL, client_id TEXT NOT NULL, sender INTEGER NOT NULL,
	sender_device INTEGER NOT NULL, outgoing INTEGER NOT NULL, kind TEXT NOT NULL, text TEXT NOT NULL, sent_at INTEGER NOT NULL,
	stored_at INTEGER NOT NULL, status TEXT NOT NULL, payload BLOB, epoch INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (conversation, sender_device, client_id));
CREATE INDEX messages_seq ON messages (conversation, seq);
CREATE TABLE contacts (user_id INTEGER PRIMARY KEY, data BLOB NOT NULL);
INSERT INTO account (id, data) VALUES (1, '{"ServerURL":"http://127.0.0.1:1","User":7,"Device":70,"Name":"Seven"}');
INSERT INTO chats (id, kind, peer, title, cursor, epoch, grp, updated_at) VALUES ('caaaaaaaaaaaa', 'direct', 8, 'Eight', 1, 2, x'6731', 1700000000000);
INSERT INTO messages VALUES ('caaaaaaaaaaaa', 1, 'c1', 8, 80, 0, 'text', 'kept across the upgrade', 1700000000000, 1700000000000, 'received', NULL, 2);
`

// TestMigrateOldProfile: a profile created by the pre-migration code opens
// with the migrations, keeps its data, gains the columns and tables it
// lacked, and opens again without change.
func TestMigrateOldProfile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "parley.db")
	db, err := sql.Open("sqlite", "file:"+path)
	must(t, err)
	_, err = db.ExecContext(ctx, oldestSchema)
	must(t, err)
	must(t, db.Close())

	for range 2 {
		s, err := OpenSQLite(ctx, path)
		must(t, err)
		if a, err := s.Account(ctx); err != nil || a.User != 7 || a.Name != "Seven" {
			t.Fatalf("account after the upgrade: %+v, %v", a, err)
		}
		if g, err := s.Group(ctx, convA); err != nil || string(g) != "g1" {
			t.Fatalf("group after the upgrade: %q, %v", g, err)
		}
		m, err := s.Message(ctx, convA, 1)
		if err != nil || m.Text != "kept across the upgrade" || m.Media != nil || m.Forwarded {
			t.Fatalf("message after the upgrade: %+v, %v", m, err)
		}
		yes := true
		if ch, err := s.SetChatFlags(ctx, convA, ChatFlags{Pinned: &yes}); err != nil || !ch.Pinned || ch.Unread != 1 {
			t.Fatalf("chat flags after the upgrade: %+v, %v", ch, err)
		}
		must(t, s.React(ctx, convA, 1, 7, "👍", 2))
		if ex, err := s.Extras(ctx, convA, []parley.Seq{1}); err != nil || ex[1].Reactions[7] != "👍" {
			t.Fatalf("kinds after the upgrade: %+v, %v", ex, err)
		}
		must(t, s.NoteAutoReply(ctx, convA, "greeting", 5))
		fwd := msg(convA, 2, "c2", false, "forwarded", content.StatusRead, time.UnixMilli(1_700_000_001_000))
		fwd.Forwarded = true
		must(t, s.Apply(ctx, Applied{Conversation: convA, Seq: 2, Message: fwd}))
		if m, err := s.Message(ctx, convA, 2); err != nil || !m.Forwarded {
			t.Fatalf("a new column after the upgrade: %+v, %v", m, err)
		}
		must(t, s.Close())
	}

	db, err = sql.Open("sqlite", "file:"+path)
	must(t, err)
	defer db.Close()
	var version int64
	must(t, db.QueryRowContext(ctx, `SELECT MAX(version_id) FROM goose_db_version`).Scan(&version))
	if want := newestMigration(t); version != want {
		t.Fatalf("schema version %d, want %d", version, want)
	}
}

// newestMigration is the version of the newest embedded migration (2, the
// Go one, at least).
func newestMigration(t *testing.T) int64 {
	entries, err := migrations.ReadDir("migrations")
	must(t, err)
	newest := int64(2)
	for _, e := range entries {
		v, _, _ := strings.Cut(e.Name(), "_")
		n, err := strconv.ParseInt(v, 10, 64)
		must(t, err)
		newest = max(newest, n)
	}
	return newest
}

// TestMigrationsFresh: a new profile gets the same columns an upgraded
// one has (00002 changes nothing on it).
func TestMigrationsFresh(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "parley.db")
	s, err := OpenSQLite(ctx, path)
	must(t, err)
	must(t, s.Close())
	db, err := sql.Open("sqlite", "file:"+path)
	must(t, err)
	defer db.Close()
	for _, c := range legacyColumns {
		var n int
		must(t, db.QueryRowContext(ctx, `SELECT COUNT(*) FROM pragma_table_info(?) WHERE name = ?`, c.table, c.column).Scan(&n))
		if n != 1 {
			t.Fatalf("%s.%s missing from a new profile", c.table, c.column)
		}
	}
}
