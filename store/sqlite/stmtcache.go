package sqlite

import (
	"context"
	"database/sql"
)

// hotWriterSQL lists statements run often inside write transactions (the
// webhook outbox's). Open prepares each once on the writer connection; run
// through execTx and queryRowTx they skip SQLite's parse and plan, which
// costs more than the work of such a small statement.
var hotWriterSQL = []string{
	sqlWebhookKeyBusy, sqlWebhookInsert, sqlWebhookFinishHead, sqlWebhookDelete,
	sqlWebhookUnblock, sqlWebhookDue, sqlWebhookLease,
}

// execTx runs query in tx, prepared if it is in hotWriterSQL.
func (s *Store) execTx(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	if st := s.hot[query]; st != nil {
		return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, query, args...)
}

// queryRowTx is QueryRowContext in tx, prepared if query is in
// hotWriterSQL.
func (s *Store) queryRowTx(ctx context.Context, tx *sql.Tx, query string, args ...any) *sql.Row {
	if st := s.hot[query]; st != nil {
		return tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return tx.QueryRowContext(ctx, query, args...)
}

// queryTx is QueryContext in tx, prepared if query is in hotWriterSQL.
func (s *Store) queryTx(ctx context.Context, tx *sql.Tx, query string, args ...any) (*sql.Rows, error) {
	if st := s.hot[query]; st != nil {
		return tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return tx.QueryContext(ctx, query, args...)
}
