package postgres

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley"
)

// CreateDevice stores d with a fresh ID. CodeNotFound if d.User does not exist.
func (s *Store) CreateDevice(ctx context.Context, d parley.Device) (parley.Device, error) {
	err := s.tx(ctx, "create device", func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO devices (user_id, name, is_primary, secret_hash, identity_key, created_at, revoked_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
			d.User, d.Name, d.Primary, nonNil(d.SecretHash), nonNil(d.IdentityKey), ns(d.CreatedAt), ns(d.RevokedAt)).Scan(&d.ID)
		if _, _, fk := violation(err); fk {
			return &parley.Error{Code: parley.CodeNotFound, Reason: "not_found", Message: "no such user", Err: err}
		}
		return err
	})
	if err != nil {
		return parley.Device{}, err
	}
	return d, nil
}

const deviceCols = `id, user_id, name, is_primary, secret_hash, identity_key, created_at, revoked_at`

func scanDevice(row pgx.Row) (parley.Device, error) {
	var d parley.Device
	var created, revoked int64
	if err := row.Scan(&d.ID, &d.User, &d.Name, &d.Primary, &d.SecretHash, &d.IdentityKey, &created, &revoked); err != nil {
		return parley.Device{}, err
	}
	d.CreatedAt, d.RevokedAt = fromNS(created), fromNS(revoked)
	return d, nil
}

// Device returns the device with this ID, revoked or not.
func (s *Store) Device(ctx context.Context, id parley.DeviceID) (parley.Device, error) {
	d, err := scanDevice(s.pool.QueryRow(ctx, `SELECT `+deviceCols+` FROM devices WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return parley.Device{}, notFound("no such device")
	}
	if err != nil {
		return parley.Device{}, wrap("device", err)
	}
	return d, nil
}

// Devices lists the user's devices, revoked ones included, by ID.
func (s *Store) Devices(ctx context.Context, user parley.UserID) ([]parley.Device, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+deviceCols+` FROM devices WHERE user_id = $1 ORDER BY id`, user)
	if err != nil {
		return nil, wrap("devices", err)
	}
	ds, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (parley.Device, error) { return scanDevice(r) })
	if err != nil {
		return nil, wrap("devices", err)
	}
	return ds, nil
}

// RevokeDevice marks the device revoked, removes it from every conversation
// and deletes its KeyPackages. It returns the conversations it was removed
// from, by ID. Revoking a revoked device is a no-op returning none.
func (s *Store) RevokeDevice(ctx context.Context, id parley.DeviceID, at time.Time) ([]parley.ConversationID, error) {
	if at.IsZero() {
		at = time.Now()
	}
	var convs []parley.ConversationID
	err := s.tx(ctx, "revoke device", func(tx pgx.Tx) error {
		convs = nil
		tag, err := tx.Exec(ctx, `UPDATE devices SET revoked_at = $2 WHERE id = $1 AND revoked_at = 0`, id, ns(at))
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			var one int
			err := tx.QueryRow(ctx, `SELECT 1 FROM devices WHERE id = $1`, id).Scan(&one)
			if errors.Is(err, pgx.ErrNoRows) {
				return notFound("no such device")
			}
			return err // already revoked: nil
		}
		rows, err := tx.Query(ctx, `DELETE FROM members WHERE device_id = $1 RETURNING conversation_id`, id)
		if err != nil {
			return err
		}
		convs, err = pgx.CollectRows(rows, pgx.RowTo[parley.ConversationID])
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM key_packages WHERE device_id = $1`, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(convs)
	return convs, nil
}

// PutLinkCode stores a link code (replacing one with the same hash).
func (s *Store) PutLinkCode(ctx context.Context, c parley.LinkCode) error {
	return s.exec(ctx, "put link code", `INSERT INTO link_codes (code_hash, user_id, expires_at) VALUES ($1, $2, $3)
		ON CONFLICT (code_hash) DO UPDATE SET user_id = excluded.user_id, expires_at = excluded.expires_at`,
		nonNil(c.CodeHash), c.User, ns(c.ExpiresAt))
}

// TakeLinkCode returns and deletes the link code with this hash; of several
// concurrent calls exactly one gets it. Unknown codes return CodeNotFound.
func (s *Store) TakeLinkCode(ctx context.Context, codeHash []byte) (parley.LinkCode, error) {
	c := parley.LinkCode{CodeHash: codeHash}
	err := s.tx(ctx, "take link code", func(tx pgx.Tx) error {
		var expires int64
		err := tx.QueryRow(ctx, `DELETE FROM link_codes WHERE code_hash = $1 RETURNING user_id, expires_at`, nonNil(codeHash)).Scan(&c.User, &expires)
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound("no such link code")
		}
		c.ExpiresAt = fromNS(expires)
		return err
	})
	if err != nil {
		return parley.LinkCode{}, err
	}
	return c, nil
}
