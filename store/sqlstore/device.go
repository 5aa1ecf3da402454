package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"time"

	"github.com/parleyhq/parley"
)

// CreateDevice stores d with a fresh ID. CodeNotFound if d.User does not exist.
func (s *Store) CreateDevice(ctx context.Context, d parley.Device) (parley.Device, error) {
	err := s.write(ctx, "create device", func(tx Querier) error {
		err := tx.QueryRow(ctx, `INSERT INTO devices (user_id, name, is_primary, secret_hash, identity_key, created_at, revoked_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			d.User, d.Name, d.Primary, nonNil(d.SecretHash), nonNil(d.IdentityKey), ns(d.CreatedAt), ns(d.RevokedAt)).Scan(&d.ID)
		if s.b.Violation(err).FK {
			return &parley.Error{Code: parley.CodeNotFound, Reason: parley.ReasonNotFound, Message: "no such user", Err: err}
		}
		return err
	})
	if err != nil {
		return parley.Device{}, err
	}
	return d, nil
}

const deviceCols = `id, user_id, name, is_primary, secret_hash, identity_key, created_at, revoked_at`

func scanDevice(row Row) (parley.Device, error) {
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
	d, err := scanDevice(s.r.QueryRow(ctx, `SELECT `+deviceCols+` FROM devices WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return parley.Device{}, notFound("no such device")
	}
	if err != nil {
		return parley.Device{}, s.wrap("device", err)
	}
	return d, nil
}

// Devices lists the user's devices, revoked ones included, by ID.
func (s *Store) Devices(ctx context.Context, user parley.UserID) ([]parley.Device, error) {
	rows, err := s.r.Query(ctx, `SELECT `+deviceCols+` FROM devices WHERE user_id = ? ORDER BY id`, user)
	if err != nil {
		return nil, s.wrap("devices", err)
	}
	defer rows.Close()
	var ds []parley.Device
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return nil, s.wrap("devices", err)
		}
		ds = append(ds, d)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("devices", err)
	}
	return ds, nil
}

// RevokeDevice marks the device revoked, removes it from every conversation
// and deletes its KeyPackages. It returns the conversations it was removed
// from, by ID. Revoking a revoked device is a no-op returning none.
func (s *Store) RevokeDevice(ctx context.Context, id parley.DeviceID, at time.Time) ([]parley.ConversationID, error) {
	var convs []parley.ConversationID
	err := s.write(ctx, "revoke device", func(tx Querier) error {
		var revoked int64
		convs = nil
		err := tx.QueryRow(ctx, `SELECT revoked_at FROM devices WHERE id = ? /*pg: FOR UPDATE*/`, id).Scan(&revoked)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("no such device")
		}
		if err != nil {
			return err
		}
		if revoked != 0 {
			return nil
		}
		if at.IsZero() {
			at = time.Now()
		}
		if _, err := tx.Exec(ctx, `UPDATE devices SET revoked_at = ? WHERE id = ?`, ns(at), id); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `DELETE FROM members WHERE device_id = ? RETURNING conversation_id`, id)
		if err != nil {
			return err
		}
		for rows.Next() {
			var c parley.ConversationID
			if err := rows.Scan(&c); err != nil {
				rows.Close()
				return err
			}
			convs = append(convs, c)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM key_packages WHERE device_id = ?`, id)
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
	return s.write(ctx, "put link code", func(tx Querier) error {
		_, err := tx.Exec(ctx, `INSERT INTO link_codes (code_hash, user_id, expires_at) VALUES (?, ?, ?)
			ON CONFLICT (code_hash) DO UPDATE SET user_id = excluded.user_id, expires_at = excluded.expires_at`,
			nonNil(c.CodeHash), c.User, ns(c.ExpiresAt))
		return err
	})
}

// TakeLinkCode returns and deletes the link code with this hash; of several
// concurrent calls exactly one gets it. Unknown codes return CodeNotFound.
func (s *Store) TakeLinkCode(ctx context.Context, codeHash []byte) (parley.LinkCode, error) {
	c := parley.LinkCode{CodeHash: codeHash}
	err := s.write(ctx, "take link code", func(tx Querier) error {
		var expires int64
		err := tx.QueryRow(ctx, `DELETE FROM link_codes WHERE code_hash = ? RETURNING user_id, expires_at`, nonNil(codeHash)).Scan(&c.User, &expires)
		if errors.Is(err, sql.ErrNoRows) {
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
