package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/parleyhq/parley"
)

// The Store also implements parley.StatusStore (schema in
// migrations/01900_status.sql).
var _ parley.StatusStore = (*Store)(nil)

const statusCols = `id, poster, poster_device, client_id, key_id, ciphertext, media_blob, media_size, created_at, expires_at`

// audienceBatch bounds the rows of one INSERT of an audience (well under
// both dialects' limits on bound parameters).
const audienceBatch = 500

func scanStatus(r Row) (parley.StatusPost, error) {
	var (
		p                parley.StatusPost
		created, expires int64
	)
	err := r.Scan(&p.ID, &p.Poster, &p.PosterDevice, &p.ClientID, &p.KeyID, &p.Ciphertext, &p.Media, &p.MediaSize, &created, &expires)
	p.CreatedAt, p.ExpiresAt = fromNS(created), fromNS(expires)
	return p, err
}

func statusNotFound() error {
	return parley.Errorf(parley.CodeNotFound, parley.ReasonStatusNotFound, "no such status post")
}

// CreateStatusPost stores p and its audience in one transaction; see
// parley.StatusStore.
func (s *Store) CreateStatusPost(ctx context.Context, p parley.StatusPost) (parley.StatusPost, bool, error) {
	var (
		stored  parley.StatusPost
		created bool
	)
	err := s.bizWrite(ctx, "create status post", func(tx Querier) error {
		created = false
		old, err := scanStatus(tx.QueryRow(ctx, `SELECT `+statusCols+` FROM status_posts WHERE poster = ? AND client_id = ?`, p.Poster, p.ClientID))
		if err == nil {
			stored = old
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO status_posts (`+statusCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			p.ID, p.Poster, p.PosterDevice, p.ClientID, p.KeyID, nonNil(p.Ciphertext), p.Media, p.MediaSize, ns(p.CreatedAt), ns(p.ExpiresAt)); err != nil {
			return err
		}
		for i := 0; i < len(p.Audience); i += audienceBatch {
			batch := p.Audience[i:min(i+audienceBatch, len(p.Audience))]
			args := make([]any, 0, 2*len(batch))
			for _, u := range batch {
				args = append(args, p.ID, u)
			}
			q := `INSERT INTO status_audience (post_id, user_id) VALUES (?, ?)` + strings.Repeat(", (?, ?)", len(batch)-1) + ` ON CONFLICT DO NOTHING`
			if _, err := tx.Exec(ctx, q, args...); err != nil {
				return err
			}
		}
		stored, created = p, true
		return nil
	})
	if err != nil {
		return parley.StatusPost{}, false, s.wrap("create status post", err)
	}
	return stored, created, nil
}

// StatusPost returns the post without its audience; see parley.StatusStore.
func (s *Store) StatusPost(ctx context.Context, id parley.StatusID) (parley.StatusPost, error) {
	p, err := scanStatus(s.r.QueryRow(ctx, `SELECT `+statusCols+` FROM status_posts WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return p, statusNotFound()
	}
	return p, s.wrap2("status post", err)
}

// StatusAudience returns a post's audience; see parley.StatusStore.
func (s *Store) StatusAudience(ctx context.Context, id parley.StatusID) ([]parley.UserID, error) {
	return selectAll(ctx, s, "status audience", scanOne[parley.UserID], `SELECT user_id FROM status_audience WHERE post_id = ? ORDER BY user_id`, id)
}

// InStatusAudience reports audience membership; see parley.StatusStore.
func (s *Store) InStatusAudience(ctx context.Context, id parley.StatusID, user parley.UserID) (bool, error) {
	var n int
	if err := s.r.QueryRow(ctx, `SELECT COUNT(*) FROM status_audience WHERE post_id = ? AND user_id = ?`, id, user).Scan(&n); err != nil {
		return false, s.wrap("in status audience", err)
	}
	return n > 0, nil
}

// StatusFeed returns viewer's feed; see parley.StatusStore.
func (s *Store) StatusFeed(ctx context.Context, viewer parley.UserID, now time.Time, limit int) ([]parley.StatusFeedItem, error) {
	cols := `p.id, p.poster, p.poster_device, p.client_id, p.key_id, p.ciphertext, p.media_blob, p.media_size, p.created_at, p.expires_at`
	scan := func(r Row) (parley.StatusFeedItem, error) {
		var (
			it               parley.StatusFeedItem
			created, expires int64
			viewed, mine     int64
		)
		err := r.Scan(&it.ID, &it.Poster, &it.PosterDevice, &it.ClientID, &it.KeyID, &it.Ciphertext, &it.Media, &it.MediaSize, &created, &expires, &viewed, &mine)
		it.CreatedAt, it.ExpiresAt = fromNS(created), fromNS(expires)
		if viewed != 0 {
			it.ViewedAt = fromNS(viewed)
		}
		it.Mine = it.Poster == viewer
		if it.Mine {
			it.Views = int(mine)
		}
		return it, err
	}
	return selectAll(ctx, s, "status feed", scan, `SELECT `+cols+`, a.viewed_at, 0 FROM status_audience a JOIN status_posts p ON p.id = a.post_id
			WHERE a.user_id = ? AND p.expires_at > ? AND p.poster <> ?
		UNION ALL
		SELECT `+cols+`, 0, (SELECT COUNT(*) FROM status_audience v WHERE v.post_id = p.id AND v.viewed_at <> 0) FROM status_posts p
			WHERE p.poster = ? AND p.expires_at > ?
		ORDER BY 9 DESC, 1 LIMIT ?`, viewer, ns(now), viewer, viewer, ns(now), limit)
}

// CountStatusPosts counts poster's posts since; see parley.StatusStore.
func (s *Store) CountStatusPosts(ctx context.Context, poster parley.UserID, since time.Time) (int, error) {
	var n int
	if err := s.r.QueryRow(ctx, `SELECT COUNT(*) FROM status_posts WHERE poster = ? AND created_at >= ?`, poster, ns(since)).Scan(&n); err != nil {
		return 0, s.wrap("count status posts", err)
	}
	return n, nil
}

// MarkStatusViewed records a view; see parley.StatusStore.
func (s *Store) MarkStatusViewed(ctx context.Context, id parley.StatusID, viewer parley.UserID, at time.Time) error {
	return s.bizWrite(ctx, "mark status viewed", func(tx Querier) error {
		var viewed int64
		err := tx.QueryRow(ctx, `SELECT viewed_at FROM status_audience WHERE post_id = ? AND user_id = ?`, id, viewer).Scan(&viewed)
		if errors.Is(err, sql.ErrNoRows) {
			return statusNotFound()
		}
		if err != nil || viewed != 0 {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE status_audience SET viewed_at = ? WHERE post_id = ? AND user_id = ?`, ns(at), id, viewer)
		return err
	})
}

// StatusViews returns the views of a post; see parley.StatusStore.
func (s *Store) StatusViews(ctx context.Context, id parley.StatusID) ([]parley.StatusView, error) {
	return selectAll(ctx, s, "status views", func(r Row) (parley.StatusView, error) {
		var (
			v  parley.StatusView
			at int64
		)
		err := r.Scan(&v.User, &at)
		v.At = fromNS(at)
		return v, err
	}, `SELECT user_id, viewed_at FROM status_audience WHERE post_id = ? AND viewed_at <> 0 ORDER BY viewed_at, user_id`, id)
}

// DeleteStatusPost deletes a post and its audience; see parley.StatusStore.
func (s *Store) DeleteStatusPost(ctx context.Context, id parley.StatusID) error {
	return s.bizWrite(ctx, "delete status post", func(tx Querier) error {
		if _, err := tx.Exec(ctx, `DELETE FROM status_audience WHERE post_id = ?`, id); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM status_posts WHERE id = ?`, id)
		return err
	})
}

// ExpiredStatusPosts lists expired posts; see parley.StatusStore.
func (s *Store) ExpiredStatusPosts(ctx context.Context, now time.Time, limit int) ([]parley.StatusPost, error) {
	if limit <= 0 {
		limit = 100
	}
	return selectAll(ctx, s, "expired status posts", scanStatus,
		`SELECT `+statusCols+` FROM status_posts WHERE expires_at <= ? ORDER BY expires_at, id LIMIT ?`, ns(now), limit)
}
