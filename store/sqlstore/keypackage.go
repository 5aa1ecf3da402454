package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/parleyhq/parley"
)

// AddKeyPackages stores the device's KeyPackages in order (kp.Device is
// ignored: they belong to device). A last-resort one replaces the device's
// previous last-resort KeyPackage; of several in one call the last wins.
func (s *Store) AddKeyPackages(ctx context.Context, device parley.DeviceID, kps []parley.KeyPackage) error {
	if len(kps) == 0 {
		return nil
	}
	return s.write(ctx, "add key packages", func(tx Querier) error {
		for _, kp := range kps {
			if kp.LastResort {
				if _, err := tx.Exec(ctx, `DELETE FROM key_packages WHERE device_id = ? AND last_resort = TRUE`, device); err != nil {
					return err
				}
			}
			if _, err := tx.Exec(ctx, sqlKeyPackageInsert, device, kp.LastResort, nonNil(kp.Ref), nonNil(kp.Data)); err != nil {
				return err
			}
		}
		return nil
	})
}

// ClaimKeyPackage removes and returns the device's oldest one-time
// KeyPackage, or returns (without removing) its last-resort one when no
// one-time one is left. Concurrent claims never get the same one-time
// KeyPackage.
func (s *Store) ClaimKeyPackage(ctx context.Context, device parley.DeviceID) (parley.KeyPackage, error) {
	var kp parley.KeyPackage
	err := s.write(ctx, "claim key package", func(tx Querier) error {
		kp = parley.KeyPackage{Device: device}
		err := tx.QueryRow(ctx, `DELETE FROM key_packages WHERE id =
				(SELECT id FROM key_packages WHERE device_id = ? AND last_resort = FALSE ORDER BY id LIMIT 1 /*pg: FOR UPDATE SKIP LOCKED*/)
			RETURNING ref, data`, device).Scan(&kp.Ref, &kp.Data)
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		kp.LastResort = true
		err = tx.QueryRow(ctx, `SELECT ref, data FROM key_packages WHERE device_id = ? AND last_resort = TRUE`, device).Scan(&kp.Ref, &kp.Data)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("the device has no KeyPackage left")
		}
		return err
	})
	if err != nil {
		return parley.KeyPackage{}, err
	}
	return kp, nil
}

// CountKeyPackages counts the device's remaining one-time KeyPackages.
func (s *Store) CountKeyPackages(ctx context.Context, device parley.DeviceID) (int, error) {
	var n int
	err := s.r.QueryRow(ctx, `SELECT count(*) FROM key_packages WHERE device_id = ? AND last_resort = FALSE`, device).Scan(&n)
	if err != nil {
		return 0, s.wrap("count key packages", err)
	}
	return n, nil
}

const sqlKeyPackageInsert = `INSERT INTO key_packages (device_id, last_resort, ref, data) VALUES (?, ?, ?, ?)`
