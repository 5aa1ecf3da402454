package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/parleyhq/parley"
)

// The Store also implements parley.BackupStore (schema in
// migrations/01600_client_backups.sql).
var _ parley.BackupStore = (*Store)(nil)

// PutClientBackup creates or replaces b.User's backup in one statement;
// see parley.BackupStore.
func (s *Store) PutClientBackup(ctx context.Context, b parley.ClientBackup) error {
	return s.bizWrite(ctx, "put client backup", func(tx Querier) error {
		_, err := tx.Exec(ctx, `INSERT INTO client_backups (user_id, device_id, data, created_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (user_id) DO UPDATE SET device_id = excluded.device_id, data = excluded.data, created_at = excluded.created_at`,
			b.User, b.Device, nonNil(b.Data), ns(b.CreatedAt))
		return err
	})
}

// ClientBackup returns user's backup; see parley.BackupStore.
func (s *Store) ClientBackup(ctx context.Context, user parley.UserID) (parley.ClientBackup, error) {
	b := parley.ClientBackup{User: user}
	var created int64
	err := s.r.QueryRow(ctx, `SELECT device_id, data, created_at FROM client_backups WHERE user_id = ?`, user).Scan(&b.Device, &b.Data, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return b, parley.Errorf(parley.CodeNotFound, parley.ReasonBackupNotFound, "this account has no backup on the server")
	}
	if err != nil {
		return b, s.wrap("client backup", err)
	}
	b.CreatedAt = fromNS(created)
	return b, nil
}

// DeleteClientBackup removes user's backup; see parley.BackupStore.
func (s *Store) DeleteClientBackup(ctx context.Context, user parley.UserID) error {
	return s.bizWrite(ctx, "delete client backup", func(tx Querier) error {
		_, err := tx.Exec(ctx, `DELETE FROM client_backups WHERE user_id = ?`, user)
		return err
	})
}
