package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/parleyhq/parley"
)

// PutVerification creates or replaces the pending verification of v.Phone.
func (s *Store) PutVerification(ctx context.Context, v parley.Verification) error {
	return s.write(ctx, "put verification", func(tx Querier) error {
		_, err := tx.Exec(ctx, `INSERT INTO verifications (phone, code_hash, name, attempts, sent, window_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (phone) DO UPDATE SET code_hash = excluded.code_hash, name = excluded.name,
				attempts = excluded.attempts, sent = excluded.sent, window_at = excluded.window_at, expires_at = excluded.expires_at`,
			v.Phone, nonNil(v.CodeHash), v.Name, v.Attempts, v.Sent, ns(v.WindowAt), ns(v.ExpiresAt))
		return err
	})
}

// Verification returns the pending verification of phone.
func (s *Store) Verification(ctx context.Context, phone string) (parley.Verification, error) {
	v := parley.Verification{Phone: phone}
	var window, expires int64
	err := s.r.QueryRow(ctx, `SELECT code_hash, name, attempts, sent, window_at, expires_at FROM verifications WHERE phone = ?`, phone).
		Scan(&v.CodeHash, &v.Name, &v.Attempts, &v.Sent, &window, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return parley.Verification{}, notFound("no pending verification for this phone number")
	}
	if err != nil {
		return parley.Verification{}, s.wrap("verification", err)
	}
	v.WindowAt, v.ExpiresAt = fromNS(window), fromNS(expires)
	return v, nil
}

// DeleteVerification deletes the pending verification of phone, if any.
func (s *Store) DeleteVerification(ctx context.Context, phone string) error {
	return s.write(ctx, "delete verification", func(tx Querier) error {
		_, err := tx.Exec(ctx, `DELETE FROM verifications WHERE phone = ?`, phone)
		return err
	})
}

func usernameKey(u string) any {
	if u == "" {
		return nil
	}
	return strings.ToLower(u)
}

func (s *Store) userConflict(err error) error {
	v := s.b.Violation(err)
	if !v.Unique {
		return err
	}
	switch v.Column {
	case "users.phone":
		return &parley.Error{Code: parley.CodeConflict, Reason: parley.ReasonPhoneTaken, Message: "phone number already registered", Err: err}
	case "users.username_key":
		return &parley.Error{Code: parley.CodeConflict, Reason: parley.ReasonUsernameTaken, Message: "username taken", Err: err}
	case "users.id":
		return fmt.Errorf("%w: %w", errUserIDTaken, err)
	}
	return err
}

// CreateUser stores u with a fresh random ID (parley.NewUserID). A
// registered phone number returns CodeConflict "phone_taken"; a taken
// username "username_taken".
func (s *Store) CreateUser(ctx context.Context, u parley.User) (parley.User, error) {
	for attempt := 1; ; attempt++ {
		u.ID = parley.NewUserID()
		err := s.write(ctx, "create user", func(tx Querier) error {
			_, err := tx.Exec(ctx, `INSERT INTO users (id, phone, name, username, username_key, find_by_phone, last_seen_vis, pin_hash, created_at, last_seen_at, about, photo_vis)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				u.ID, u.Phone, u.Name, nullable(u.Username), usernameKey(u.Username), string(u.Privacy.FindByPhone), string(u.Privacy.LastSeen),
				u.PINHash, ns(u.CreatedAt), ns(u.LastSeenAt), u.About, string(u.Privacy.Photo))
			return s.userConflict(err)
		})
		if errors.Is(err, errUserIDTaken) && attempt < 4 {
			continue
		}
		if err != nil {
			return parley.User{}, err
		}
		return u, nil
	}
}

// errUserIDTaken: a random user ID was already taken (CreateUser draws again).
var errUserIDTaken = errors.New("user id taken")

const userCols = `id, phone, name, COALESCE(username, ''), find_by_phone, last_seen_vis, pin_hash, created_at, last_seen_at, suspended_at, about, photo_vis, photo_tag`

func (s *Store) scanUser(row Row) (parley.User, error) {
	var u parley.User
	var fbp, ls, photo string
	var created, seen, suspended int64
	err := row.Scan(&u.ID, &u.Phone, &u.Name, &u.Username, &fbp, &ls, &u.PINHash, &created, &seen, &suspended, &u.About, &photo, &u.PhotoTag)
	if errors.Is(err, sql.ErrNoRows) {
		return parley.User{}, notFound("no such user")
	}
	if err != nil {
		return parley.User{}, s.wrap("user", err)
	}
	u.Privacy = parley.Privacy{FindByPhone: parley.Visibility(fbp), LastSeen: parley.Visibility(ls), Photo: parley.Visibility(photo)}
	u.CreatedAt, u.LastSeenAt = fromNS(created), fromNS(seen)
	u.SuspendedAt = fromNS(suspended)
	return u, nil
}

// User returns the user with this ID.
func (s *Store) User(ctx context.Context, id parley.UserID) (parley.User, error) {
	return s.scanUser(s.r.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, id))
}

// UserByPhone returns the user registered with this phone number.
func (s *Store) UserByPhone(ctx context.Context, phone string) (parley.User, error) {
	return s.scanUser(s.r.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE phone = ?`, phone))
}

// UserByUsername returns the user with this username, compared
// case-insensitively.
func (s *Store) UserByUsername(ctx context.Context, username string) (parley.User, error) {
	if username == "" {
		return parley.User{}, notFound("no such user")
	}
	return s.scanUser(s.r.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE username_key = ?`, strings.ToLower(username)))
}

// UpdateUser replaces u's mutable fields: name, about, username, privacy,
// PIN hash and last seen (not the photo: SetProfilePhoto).
func (s *Store) UpdateUser(ctx context.Context, u parley.User) error {
	return s.write(ctx, "update user", func(tx Querier) error {
		n, err := tx.Exec(ctx, `UPDATE users SET name = ?, username = ?, username_key = ?, find_by_phone = ?, last_seen_vis = ?, pin_hash = ?, last_seen_at = ?,
			about = ?, photo_vis = ? WHERE id = ?`,
			u.Name, nullable(u.Username), usernameKey(u.Username), string(u.Privacy.FindByPhone), string(u.Privacy.LastSeen), u.PINHash, ns(u.LastSeenAt),
			u.About, string(u.Privacy.Photo), u.ID)
		if err != nil {
			return s.userConflict(err)
		}
		if n == 0 {
			return notFound("no such user")
		}
		return nil
	})
}

// SetProfilePhoto replaces (nil photo: removes) the user's profile photo
// and its tag in one transaction.
func (s *Store) SetProfilePhoto(ctx context.Context, user parley.UserID, photo []byte, tag string) error {
	return s.write(ctx, "set profile photo", func(tx Querier) error {
		n, err := tx.Exec(ctx, `UPDATE users SET photo_tag = ? WHERE id = ?`, tag, user)
		if err != nil {
			return err
		}
		if n == 0 {
			return notFound("no such user")
		}
		if photo == nil {
			_, err = tx.Exec(ctx, `DELETE FROM profile_photos WHERE user_id = ?`, user)
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO profile_photos (user_id, photo) VALUES (?, ?)
			ON CONFLICT (user_id) DO UPDATE SET photo = excluded.photo`, user, photo)
		return err
	})
}

// ProfilePhoto returns the user's profile photo (CodeNotFound: none).
func (s *Store) ProfilePhoto(ctx context.Context, user parley.UserID) ([]byte, error) {
	var photo []byte
	err := s.r.QueryRow(ctx, `SELECT photo FROM profile_photos WHERE user_id = ?`, user).Scan(&photo)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("no profile photo")
	}
	if err != nil {
		return nil, s.wrap("profile photo", err)
	}
	return photo, nil
}
