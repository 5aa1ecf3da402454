package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"time"

	"github.com/parleyhq/parley"
)

// maxAdminPage bounds every admin listing.
const maxAdminPage = 1000

func adminLimit(n int) int {
	if n <= 0 || n > maxAdminPage {
		return maxAdminPage
	}
	return n
}

// likeEscape escapes LIKE's wildcards in s (the escape character is \).
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// AdminUsers lists users by ID after q.After, filtered by q.Find (see
// parley.AdminStore).
func (s *Store) AdminUsers(ctx context.Context, q parley.AdminUserQuery) ([]parley.User, error) {
	limit := adminLimit(q.Limit)
	scan := func(r Row) (parley.User, error) { return s.scanUser(r) }
	if q.Find == "" {
		return selectAll(ctx, s, "admin users", scan,
			`SELECT `+userCols+` FROM users WHERE id > ? ORDER BY id LIMIT ?`, q.After, limit)
	}
	phone := "+" + likeEscape(strings.TrimPrefix(q.Find, "+")) + "%"
	username := likeEscape(strings.ToLower(strings.TrimPrefix(q.Find, "@"))) + "%"
	name := "%" + likeEscape(strings.ToLower(q.Find)) + "%"
	return selectAll(ctx, s, "admin users", scan,
		`SELECT `+userCols+` FROM users WHERE id > ?
			AND (phone LIKE ? ESCAPE '\' OR username_key LIKE ? ESCAPE '\' OR lower(name) LIKE ? ESCAPE '\')
			ORDER BY id LIMIT ?`, q.After, phone, username, name, limit)
}

// SetSuspended suspends the user at `at`, or lifts the suspension (zero at).
func (s *Store) SetSuspended(ctx context.Context, user parley.UserID, at time.Time) error {
	return s.bizWrite(ctx, "set suspended", func(tx Querier) error {
		n, err := tx.Exec(ctx, `UPDATE users SET suspended_at = ? WHERE id = ?`, ns(at), user)
		if err != nil {
			return err
		}
		if n == 0 {
			return notFound("no such user")
		}
		return nil
	})
}

// AdminGroups lists groups with at least minMembers member users, largest first.
func (s *Store) AdminGroups(ctx context.Context, minMembers, limit int) ([]parley.AdminGroup, error) {
	scan := func(r Row) (parley.AdminGroup, error) {
		var g parley.AdminGroup
		var created int64
		err := r.Scan(&g.ID, &g.Name, &g.Description, &g.Icon, &g.Settings.OnlyAdminsSend, &g.Settings.OnlyAdminsEditInfo,
			&g.CreatedBy, &created, &g.Community, &g.Settings.JoinApproval, &g.Members)
		g.CreatedAt = fromNS(created)
		return g, err
	}
	return selectAll(ctx, s, "admin groups", scan,
		`SELECT g.id, g.name, g.description, g.icon, g.only_admins_send, g.only_admins_edit, g.created_by, g.created_at,
			COALESCE(g.community_id, ''), g.join_approval, COUNT(m.user_id) AS n
		FROM groups g LEFT JOIN group_members m ON m.group_id = g.id
		GROUP BY g.id, g.name, g.description, g.icon, g.only_admins_send, g.only_admins_edit, g.created_by, g.created_at,
			g.community_id, g.join_approval
		HAVING COUNT(m.user_id) >= ?
		ORDER BY n DESC, g.id LIMIT ?`, minMembers, adminLimit(limit))
}

// CloseGroupEntry deletes the group's invitations, invite links and join requests.
func (s *Store) CloseGroupEntry(ctx context.Context, id parley.ConversationID) error {
	return s.bizWrite(ctx, "close group entry", func(tx Querier) error {
		for _, q := range []string{
			`DELETE FROM group_invitations WHERE group_id = ?`,
			`DELETE FROM group_invite_links WHERE group_id = ?`,
			`DELETE FROM group_join_requests WHERE group_id = ?`,
		} {
			if _, err := tx.Exec(ctx, q, id); err != nil {
				return err
			}
		}
		return nil
	})
}

// AdminStats counts users, devices, conversations, envelopes and blobs.
func (s *Store) AdminStats(ctx context.Context) (parley.AdminStats, error) {
	st := parley.AdminStats{Conversations: map[parley.ConversationKind]int{}}
	for _, c := range []struct {
		q   string
		dst any
	}{
		{`SELECT COUNT(*) FROM users`, &st.Users},
		{`SELECT COUNT(*) FROM users WHERE suspended_at <> 0`, &st.Suspended},
		{`SELECT COUNT(*) FROM devices WHERE revoked_at = 0`, &st.Devices},
		{`SELECT COUNT(*) FROM envelopes`, &st.Envelopes},
		{`SELECT COUNT(*) FROM media_blobs WHERE completed_at <> 0`, &st.Blobs},
		{`SELECT COALESCE(SUM(size), 0) FROM media_blobs WHERE completed_at <> 0`, &st.BlobBytes},
	} {
		if err := s.r.QueryRow(ctx, c.q).Scan(c.dst); err != nil {
			return parley.AdminStats{}, s.wrap("admin stats", err)
		}
	}
	type kindCount struct {
		kind string
		n    int
	}
	kinds, err := selectAll(ctx, s, "admin stats", func(r Row) (kindCount, error) {
		var k kindCount
		return k, r.Scan(&k.kind, &k.n)
	}, `SELECT kind, COUNT(*) FROM conversations GROUP BY kind`)
	if err != nil {
		return parley.AdminStats{}, err
	}
	for _, k := range kinds {
		st.Conversations[parley.ConversationKind(k.kind)] = k.n
	}
	return st, nil
}

// AppendAudit appends an entry to the audit log.
func (s *Store) AppendAudit(ctx context.Context, e parley.AuditEntry) (parley.AuditEntry, error) {
	var detail any
	if len(e.Detail) > 0 {
		detail = string(e.Detail)
	}
	err := s.bizWrite(ctx, "append audit", func(tx Querier) error {
		return tx.QueryRow(ctx, `INSERT INTO admin_audit (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?) RETURNING id`,
			ns(e.At), e.Actor, e.Action, e.Target, detail).Scan(&e.ID)
	})
	if err != nil {
		return parley.AuditEntry{}, err
	}
	return e, nil
}

// AuditLog lists audit entries newest first, below before (0: all).
func (s *Store) AuditLog(ctx context.Context, before int64, limit int) ([]parley.AuditEntry, error) {
	if before <= 0 {
		before = 1<<63 - 1
	}
	return selectAll(ctx, s, "audit log", func(r Row) (parley.AuditEntry, error) {
		var e parley.AuditEntry
		var at int64
		var detail sql.NullString
		if err := r.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.Target, &detail); err != nil {
			return e, err
		}
		e.At = fromNS(at)
		if detail.Valid && detail.String != "" {
			e.Detail = json.RawMessage(detail.String)
		}
		return e, nil
	}, `SELECT id, at, actor, action, target, detail FROM admin_audit WHERE id < ? ORDER BY id DESC LIMIT ?`, before, adminLimit(limit))
}
