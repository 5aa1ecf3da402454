package postgres_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver, to read the schema

	"github.com/parleyhq/parley/store/sqlite"
)

// schemaDifferences are the places where the two migrated schemas differ on
// purpose, each with its reason. TestSchemasAgree fails on any other
// difference, and on an entry here that no longer differs.
var schemaDifferences = map[string]string{
	// SQLite keys a conversation's envelopes by a small integer (rowid
	// tables, conversations.num) to keep appends on few pages; PostgreSQL
	// keys them by the conversation ID. See docs/storage.md.
	"column conversations.num":                                                 "SQLite only: the envelopes' compact conversation key",
	"column envelopes.conv":                                                    "SQLite only: conversations.num",
	"column envelopes.conversation_id":                                         "PostgreSQL only: the conversation's ID",
	"index envelopes (conv,seq) unique":                                        "SQLite: envelopes_seq on conversations.num",
	"index envelopes (client_id,sender_device,conv) unique partial":            "SQLite: idempotency, on conversations.num",
	"index envelopes (client_id,sender_device,conversation_id) unique partial": "PostgreSQL: idempotency, on the conversation ID",
	"pk envelopes":                    "PostgreSQL: (conversation_id, seq); SQLite: rowid (envelopes_seq is the unique key)",
	"index envelopes (created_at)":    "PostgreSQL only: retention; SQLite finds expired envelopes by rowid (migration 00810)",
	"pk conversations":                "SQLite: num (the rowid); PostgreSQL: id",
	"index conversations (id) unique": "SQLite: id is a unique key beside the rowid num; PostgreSQL's primary key",
}

// TestSchemasAgree migrates a fresh SQLite database and a fresh PostgreSQL
// schema and compares them table by table, column by column (name,
// normalised type, nullability), primary key and index by index (columns,
// uniqueness, partial or not): a migration added to one dialect only fails
// it.
func TestSchemasAgree(t *testing.T) {
	ctx := t.Context()
	pg := open(t) // migrated, in a schema of its own (dropped when the test ends)
	pg.Close()
	dbsMu.Lock()
	name := dbs[t]
	dbsMu.Unlock()
	conn, err := pgx.Connect(ctx, dsn(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	pgSchema, err := postgresSchema(ctx, conn, name)
	if err != nil {
		t.Fatal(err)
	}

	path := filepath.Join(t.TempDir(), "schema.db")
	lite, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	lite.Close()
	liteSchema, err := sqliteSchema(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if len(liteSchema) < 100 || len(pgSchema) < 100 {
		t.Fatalf("read %d SQLite and %d PostgreSQL facts: too few to be the schema", len(liteSchema), len(pgSchema))
	}

	d := diff(liteSchema, pgSchema)
	var keys []string
	for k := range d {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if _, ok := schemaDifferences[k]; !ok {
			t.Errorf("%s: %s", k, d[k])
		}
	}
	for k := range schemaDifferences {
		if _, ok := d[k]; !ok {
			t.Errorf("%s is listed in schemaDifferences but no longer differs: remove it", k)
		}
	}
}

// schema is a migrated schema as a set of facts, one a line:
// "column t.c integer not null", "pk t (a,b)", "index t (a,b) unique".
type schema map[string]string

func normType(typ string) string {
	t := strings.ToLower(typ)
	switch {
	case strings.Contains(t, "int"), t == "boolean":
		return "integer"
	case strings.Contains(t, "char"), strings.Contains(t, "text"):
		return "text"
	case strings.Contains(t, "blob"), t == "bytea":
		return "blob"
	case strings.Contains(t, "real"), strings.Contains(t, "double"), strings.Contains(t, "float"):
		return "real"
	}
	return t
}

func sqliteSchema(ctx context.Context, path string) (schema, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	out := schema{}
	tables, err := strings1(ctx, db, `SELECT name FROM sqlite_master WHERE type = 'table'
		AND name NOT LIKE 'sqlite_%' AND name <> 'goose_db_version' ORDER BY name`)
	if err != nil {
		return nil, err
	}
	for _, tbl := range tables {
		rows, err := db.QueryContext(ctx, `SELECT name, type, "notnull", pk FROM pragma_table_info(?)`, tbl)
		if err != nil {
			return nil, err
		}
		var pk []string
		pkPos := map[string]int{}
		for rows.Next() {
			var name, typ string
			var notNull, pos int
			if err := rows.Scan(&name, &typ, &notNull, &pos); err != nil {
				rows.Close()
				return nil, err
			}
			null := "null"
			if notNull == 1 || pos > 0 {
				null = "not null"
			}
			out["column "+tbl+"."+name] = normType(typ) + " " + null
			if pos > 0 {
				pk = append(pk, name)
				pkPos[name] = pos
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		slices.SortFunc(pk, func(a, b string) int { return pkPos[a] - pkPos[b] })
		if len(pk) > 0 {
			out["pk "+tbl] = "(" + strings.Join(pk, ",") + ")"
		}
		idx, err := db.QueryContext(ctx, `SELECT name, "unique", origin, partial FROM pragma_index_list(?)`, tbl)
		if err != nil {
			return nil, err
		}
		type index struct {
			name            string
			unique, partial bool
			origin          string
		}
		var idxs []index
		for idx.Next() {
			var i index
			if err := idx.Scan(&i.name, &i.unique, &i.origin, &i.partial); err != nil {
				idx.Close()
				return nil, err
			}
			idxs = append(idxs, i)
		}
		idx.Close()
		for _, i := range idxs {
			if i.origin == "pk" {
				continue
			}
			cols, err := strings1(ctx, db, `SELECT name FROM pragma_index_info(?) ORDER BY seqno`, i.name)
			if err != nil {
				return nil, err
			}
			out[indexFact(tbl, cols, i.unique, i.partial)] = ""
		}
	}
	return out, nil
}

func indexFact(tbl string, cols []string, unique, partial bool) string {
	f := "index " + tbl + " (" + strings.Join(cols, ",") + ")"
	if unique {
		f += " unique"
	}
	if partial {
		f += " partial"
	}
	return f
}

func strings1(ctx context.Context, db *sql.DB, q string, args ...any) ([]string, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func postgresSchema(ctx context.Context, conn *pgx.Conn, schemaName string) (schema, error) {
	out := schema{}
	rows, err := conn.Query(ctx, `SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns
		WHERE table_schema = $1 AND table_name <> 'goose_db_version'`, schemaName)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var tbl, col, typ, nullable string
		if err := rows.Scan(&tbl, &col, &typ, &nullable); err != nil {
			rows.Close()
			return nil, err
		}
		null := "null"
		if nullable == "NO" {
			null = "not null"
		}
		out["column "+tbl+"."+col] = normType(typ) + " " + null
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = conn.Query(ctx, `SELECT t.relname, ix.indisprimary, ix.indisunique, ix.indpred IS NOT NULL,
			array_agg(a.attname::text ORDER BY k.ord)
		FROM pg_index ix
		JOIN pg_class i ON i.oid = ix.indexrelid
		JOIN pg_class t ON t.oid = ix.indrelid
		JOIN pg_namespace n ON n.oid = t.relnamespace
		CROSS JOIN LATERAL unnest(ix.indkey) WITH ORDINALITY AS k(attnum, ord)
		JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
		WHERE n.nspname = $1 AND t.relname <> 'goose_db_version'
		GROUP BY t.relname, i.relname, ix.indisprimary, ix.indisunique, ix.indpred IS NOT NULL`, schemaName)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var tbl string
		var primary, unique, partial bool
		var cols []string
		if err := rows.Scan(&tbl, &primary, &unique, &partial, &cols); err != nil {
			return nil, err
		}
		if primary {
			out["pk "+tbl] = "(" + strings.Join(cols, ",") + ")"
			continue
		}
		out[indexFact(tbl, cols, unique, partial)] = ""
	}
	return out, rows.Err()
}

// diff lists the facts of a and b that differ, by key.
func diff(a, b schema) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		if w, ok := b[k]; !ok {
			out[k] = fmt.Sprintf("SQLite only (%s)", v)
		} else if v != w {
			out[k] = fmt.Sprintf("SQLite %q, PostgreSQL %q", v, w)
		}
	}
	for k, v := range b {
		if _, ok := a[k]; !ok {
			out[k] = fmt.Sprintf("PostgreSQL only (%s)", v)
		}
	}
	return out
}

// migrationsOfOneDialect are the migrations only one dialect has, with why.
var migrationsOfOneDialect = map[string]string{
	"00810_envelopes_no_created_index.sql": "SQLite: retention by rowid needs no index on created_at",
	"00930_users_random_ids.sql":           "PostgreSQL: users.id was GENERATED ALWAYS; SQLite's AUTOINCREMENT already takes given IDs",
}

// TestMigrationHistoriesAgree checks that both dialects have the same
// migrations, by file name, but for migrationsOfOneDialect.
func TestMigrationHistoriesAgree(t *testing.T) {
	names := func(dir string) map[string]bool {
		es, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, e := range es {
			out[e.Name()] = true
		}
		return out
	}
	lite, pg := names("../sqlite/migrations"), names("migrations")
	for n := range lite {
		if !pg[n] && migrationsOfOneDialect[n] == "" {
			t.Errorf("migration %s is in store/sqlite only", n)
		}
	}
	for n := range pg {
		if !lite[n] && migrationsOfOneDialect[n] == "" {
			t.Errorf("migration %s is in store/postgres only", n)
		}
	}
	for n := range migrationsOfOneDialect {
		if lite[n] == pg[n] {
			t.Errorf("%s is listed in migrationsOfOneDialect but both dialects or neither have it", n)
		}
	}
}
