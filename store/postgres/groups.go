package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley"
)

var _ parley.GroupStore = (*Store)(nil)

// Group changes lock the group's row first (lockGroup), so concurrent
// changes of one group's membership and roles are serialised and the
// never-without-an-admin rule cannot be raced; the conversation's row is
// locked after it, in the same order everywhere.

func lockGroup(ctx context.Context, tx pgx.Tx, id parley.ConversationID) error {
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM groups WHERE id = $1 FOR UPDATE`, id).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return notFound("no such group")
	}
	return err
}

// CreateGroup stores the conversation, its members and first envelopes, the
// group record and its member users (the creator as admin) in one
// transaction.
func (s *Store) CreateGroup(ctx context.Context, g parley.Group, c parley.Conversation, members []parley.Member, first []parley.Envelope) ([]parley.Envelope, error) {
	if c.Kind != parley.KindGroup || g.ID != c.ID {
		return nil, parley.Errorf(parley.CodeInvalid, "kind", "a group's conversation has kind group and the group's id")
	}
	devs, users := memberArrays(members)
	roleUsers := []int64{int64(g.CreatedBy)}
	for _, u := range users {
		if !slices.Contains(roleUsers, u) {
			roleUsers = append(roleUsers, u)
		}
	}
	var out []parley.Envelope
	err := s.tx(ctx, "create group", func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO conversations (id, kind, epoch, last_seq, group_info, created_by, created_at)
			VALUES ($1, $2, $3, 0, $4, $5, $6)`, c.ID, string(c.Kind), int64(c.Epoch), c.GroupInfo, c.CreatedBy, ns(c.CreatedAt))
		if _, unique, _ := violation(err); unique {
			return &parley.Error{Code: parley.CodeConflict, Reason: "conversation_exists", Message: "conversation exists", Err: err}
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO members (conversation_id, device_id, user_id, from_seq, cursor)
			SELECT $1, d, u, 0, 0 FROM unnest($2::bigint[], $3::bigint[]) AS a(d, u) ON CONFLICT DO NOTHING`, c.ID, devs, users); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO groups (id, name, description, icon, only_admins_send, only_admins_edit, created_by, created_at, community_id, join_approval)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, g.ID, g.Name, g.Description, g.Icon, g.Settings.OnlyAdminsSend,
			g.Settings.OnlyAdminsEditInfo, g.CreatedBy, ns(g.CreatedAt), nullable(string(g.Community)), g.Settings.JoinApproval); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO group_members (group_id, user_id, role, joined_at)
			SELECT $1, u, CASE WHEN u = $3 THEN 'admin' ELSE 'member' END, $4 FROM unnest($2::bigint[]) AS a(u)`,
			g.ID, roleUsers, int64(g.CreatedBy), ns(g.CreatedAt)); err != nil {
			return err
		}
		out, err = appendAll(ctx, tx, c.ID, first)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

const groupCols = `id, name, description, icon, only_admins_send, only_admins_edit, created_by, created_at, COALESCE(community_id, ''), join_approval`

func scanGroup(row pgx.Row) (parley.Group, error) {
	var g parley.Group
	var created int64
	if err := row.Scan(&g.ID, &g.Name, &g.Description, &g.Icon, &g.Settings.OnlyAdminsSend, &g.Settings.OnlyAdminsEditInfo, &g.CreatedBy, &created, &g.Community,
		&g.Settings.JoinApproval); err != nil {
		return parley.Group{}, err
	}
	g.CreatedAt = fromNS(created)
	return g, nil
}

// Group returns the group's record.
func (s *Store) Group(ctx context.Context, id parley.ConversationID) (parley.Group, error) {
	g, err := scanGroup(s.pool.QueryRow(ctx, `SELECT `+groupCols+` FROM groups WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return parley.Group{}, notFound("no such group")
	}
	if err != nil {
		return parley.Group{}, wrap("group", err)
	}
	return g, nil
}

// UpdateGroup replaces the group's info and settings and appends env.
func (s *Store) UpdateGroup(ctx context.Context, g parley.Group, env parley.Envelope) (parley.Envelope, error) {
	var out []parley.Envelope
	err := s.tx(ctx, "update group", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE groups SET name = $2, description = $3, icon = $4, only_admins_send = $5, only_admins_edit = $6, community_id = $7,
			join_approval = $8 WHERE id = $1`,
			g.ID, g.Name, g.Description, g.Icon, g.Settings.OnlyAdminsSend, g.Settings.OnlyAdminsEditInfo, nullable(string(g.Community)), g.Settings.JoinApproval)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return notFound("no such group")
		}
		out, err = appendAll(ctx, tx, g.ID, []parley.Envelope{env})
		return err
	})
	if err != nil {
		return parley.Envelope{}, err
	}
	return out[0], nil
}

// GroupMembers lists the member users by JoinedAt, then UserID.
func (s *Store) GroupMembers(ctx context.Context, id parley.ConversationID) ([]parley.GroupMember, error) {
	rows, err := s.pool.Query(ctx, `SELECT user_id, role, joined_at FROM group_members WHERE group_id = $1 ORDER BY joined_at, user_id`, id)
	if err != nil {
		return nil, wrap("group members", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (parley.GroupMember, error) {
		m := parley.GroupMember{Group: id}
		var role string
		var joined int64
		err := r.Scan(&m.User, &role, &joined)
		m.Role, m.JoinedAt = parley.GroupRole(role), fromNS(joined)
		return m, err
	})
	if err != nil {
		return nil, wrap("group members", err)
	}
	if len(out) == 0 {
		if _, err := s.Group(ctx, id); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// GroupsOfUser lists the user's groups by ID.
func (s *Store) GroupsOfUser(ctx context.Context, user parley.UserID) ([]parley.Group, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+groupCols+` FROM groups WHERE id IN (SELECT group_id FROM group_members WHERE user_id = $1) ORDER BY id`, user)
	if err != nil {
		return nil, wrap("groups of user", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (parley.Group, error) { return scanGroup(r) })
	if err != nil {
		return nil, wrap("groups of user", err)
	}
	return out, nil
}

// SetGroupRole sets a member's role, refusing to leave the group without an admin.
func (s *Store) SetGroupRole(ctx context.Context, id parley.ConversationID, user parley.UserID, role parley.GroupRole, env parley.Envelope) (parley.Envelope, error) {
	if role != parley.RoleAdmin && role != parley.RoleMember {
		return parley.Envelope{}, parley.Errorf(parley.CodeInvalid, "role", "role must be admin or member")
	}
	var out []parley.Envelope
	err := s.tx(ctx, "set group role", func(tx pgx.Tx) error {
		if err := lockGroup(ctx, tx, id); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE group_members SET role = $3 WHERE group_id = $1 AND user_id = $2`, id, user, string(role))
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return parley.Errorf(parley.CodeNotFound, "not_member", "user %d is not a member of the group", user)
		}
		var admins int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM group_members WHERE group_id = $1 AND role = 'admin'`, id).Scan(&admins); err != nil {
			return err
		}
		if admins == 0 {
			return parley.Errorf(parley.CodeForbidden, "last_admin", "the group must keep an admin: promote someone first")
		}
		out, err = appendAll(ctx, tx, id, []parley.Envelope{env})
		return err
	})
	if err != nil {
		return parley.Envelope{}, err
	}
	return out[0], nil
}

// RequestToJoin records a join request (see parley.GroupStore).
func (s *Store) RequestToJoin(ctx context.Context, id parley.ConversationID, user parley.UserID, now time.Time) error {
	return s.tx(ctx, "request to join", func(tx pgx.Tx) error {
		var group, member, pending bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM groups WHERE id = $1),
			EXISTS (SELECT 1 FROM group_members WHERE group_id = $1 AND user_id = $2),
			EXISTS (SELECT 1 FROM group_invitations WHERE group_id = $1 AND user_id = $2)
			OR EXISTS (SELECT 1 FROM group_join_requests WHERE group_id = $1 AND user_id = $2)`, id, user).Scan(&group, &member, &pending); err != nil {
			return err
		}
		switch {
		case !group:
			return notFound("no such group")
		case member:
			return parley.Errorf(parley.CodeConflict, "already_member", "you are already a member of this group")
		case pending:
			return nil
		}
		_, err := tx.Exec(ctx, `INSERT INTO group_join_requests (group_id, user_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, id, user, ns(now))
		return err
	})
}

// ApplyGroupCommit applies a commit and its user-level membership change in
// one transaction.
func (s *Store) ApplyGroupCommit(ctx context.Context, c parley.GroupCommit) ([]parley.Envelope, error) {
	id := c.Conversation
	devs, users := memberArrays(c.Add)
	removed := make([]int64, len(c.Remove))
	for i, d := range c.Remove {
		removed[i] = int64(d)
	}
	addUsers := make([]int64, len(c.AddUsers))
	for i, u := range c.AddUsers {
		addUsers[i] = int64(u)
	}
	var out []parley.Envelope
	err := s.tx(ctx, "apply group commit", func(tx pgx.Tx) error {
		if err := lockGroup(ctx, tx, id); err != nil {
			return err
		}
		if c.RequireAdmin != 0 {
			var role string
			err := tx.QueryRow(ctx, `SELECT role FROM group_members WHERE group_id = $1 AND user_id = $2`, id, c.RequireAdmin).Scan(&role)
			if err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
			if role != string(parley.RoleAdmin) {
				return parley.Errorf(parley.CodeForbidden, "not_admin", "only admins may do this")
			}
		}
		if c.ConsumeInvitation != 0 {
			tag, err := tx.Exec(ctx, `DELETE FROM group_invitations WHERE group_id = $1 AND user_id = $2`, id, c.ConsumeInvitation)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 0 {
				return parley.Errorf(parley.CodeNotFound, "no_invitation", "there is no invitation to this group")
			}
		}
		var touched []int64
		if len(removed) > 0 {
			rows, err := tx.Query(ctx, `SELECT DISTINCT user_id FROM members WHERE conversation_id = $1 AND device_id = ANY($2)`, id, removed)
			if err != nil {
				return err
			}
			if touched, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil {
				return err
			}
		}
		var last parley.Seq
		err := tx.QueryRow(ctx, `UPDATE conversations SET epoch = epoch + 1, group_info = $3 WHERE id = $1 AND epoch = $2 RETURNING last_seq`,
			id, int64(c.Epoch), c.GroupInfo).Scan(&last)
		if errors.Is(err, pgx.ErrNoRows) {
			var epoch int64
			if err := tx.QueryRow(ctx, `SELECT epoch FROM conversations WHERE id = $1`, id).Scan(&epoch); err != nil {
				return err
			}
			return parley.Errorf(parley.CodeConflict, "wrong_epoch", "the conversation is at epoch %d, not %d", epoch, c.Epoch)
		}
		if err != nil {
			return err
		}
		if err := bindTreeTx(ctx, tx, c.Commit); err != nil {
			return err
		}
		from := last
		if len(c.Envelopes) > 0 && c.Envelopes[0].Kind == parley.EnvelopeCommit {
			from = last + 1
		}
		now := int64(0)
		if len(c.Envelopes) > 0 {
			now = ns(c.Envelopes[0].CreatedAt)
		}
		var b pgx.Batch
		if len(removed) > 0 {
			b.Queue(`DELETE FROM members WHERE conversation_id = $1 AND device_id = ANY($2)`, id, removed)
		}
		if len(devs) > 0 {
			b.Queue(`INSERT INTO members (conversation_id, device_id, user_id, from_seq, cursor)
				SELECT $1, d, u, $4, $4 FROM unnest($2::bigint[], $3::bigint[]) AS a(d, u) ON CONFLICT DO NOTHING`, id, devs, users, from)
		}
		if len(addUsers) > 0 {
			b.Queue(`INSERT INTO group_members (group_id, user_id, role, joined_at)
				SELECT $1, u, 'member', $3 FROM unnest($2::bigint[]) AS a(u) ON CONFLICT DO NOTHING`, id, addUsers, now)
			b.Queue(`DELETE FROM group_invitations WHERE group_id = $1 AND user_id = ANY($2)`, id, addUsers)
		}
		if b.Len() > 0 {
			if err := tx.SendBatch(ctx, &b).Close(); err != nil {
				return err
			}
		}
		var dropped []int64
		if len(touched) > 0 {
			rows, err := tx.Query(ctx, `WITH gone AS (DELETE FROM group_members gm WHERE gm.group_id = $1 AND gm.user_id = ANY($2)
					AND NOT EXISTS (SELECT 1 FROM members m WHERE m.conversation_id = $1 AND m.user_id = gm.user_id) RETURNING gm.user_id),
				former AS (INSERT INTO group_former_members (group_id, user_id) SELECT $1, user_id FROM gone ON CONFLICT DO NOTHING)
				SELECT user_id FROM gone`, id, touched)
			if err != nil {
				return err
			}
			if dropped, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil {
				return err
			}
		}
		if c.MaxMembers > 0 {
			var n int
			if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM group_members WHERE group_id = $1`, id).Scan(&n); err != nil {
				return err
			}
			if n > c.MaxMembers {
				return parley.Errorf(parley.CodeTooLarge, "group_full", "a group has at most %d members", c.MaxMembers)
			}
		}
		if err := ensureAdmin(ctx, tx, id); err != nil {
			return err
		}
		if out, err = appendAll(ctx, tx, id, c.Envelopes); err != nil {
			return err
		}
		extra, err := cascade(ctx, tx, id, dropped, now)
		out = append(out, extra...)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ensureAdmin promotes the longest-standing member when the group has
// members but no admin.
func ensureAdmin(ctx context.Context, tx pgx.Tx, id parley.ConversationID) error {
	_, err := tx.Exec(ctx, `UPDATE group_members SET role = 'admin' WHERE group_id = $1 AND user_id = (
			SELECT user_id FROM group_members WHERE group_id = $1 ORDER BY joined_at, user_id LIMIT 1)
		AND NOT EXISTS (SELECT 1 FROM group_members WHERE group_id = $1 AND role = 'admin')`, id)
	return err
}

// LeaveGroup removes the user's devices and membership and appends env.
func (s *Store) LeaveGroup(ctx context.Context, id parley.ConversationID, user parley.UserID, env parley.Envelope) ([]parley.DeviceID, []parley.Envelope, error) {
	var removed []parley.DeviceID
	var out []parley.Envelope
	err := s.tx(ctx, "leave group", func(tx pgx.Tx) error {
		if err := lockGroup(ctx, tx, id); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM group_members WHERE group_id = $1 AND user_id = $2`, id, user)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return parley.Errorf(parley.CodeNotFound, "not_member", "you are not a member of this group")
		}
		if _, err := tx.Exec(ctx, `INSERT INTO group_former_members (group_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, id, user); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `DELETE FROM members WHERE conversation_id = $1 AND user_id = $2 RETURNING device_id`, id, user)
		if err != nil {
			return err
		}
		if removed, err = pgx.CollectRows(rows, pgx.RowTo[parley.DeviceID]); err != nil {
			return err
		}
		if err := ensureAdmin(ctx, tx, id); err != nil {
			return err
		}
		if out, err = appendAll(ctx, tx, id, []parley.Envelope{env}); err != nil {
			return err
		}
		extra, err := cascade(ctx, tx, id, []int64{int64(user)}, ns(env.CreatedAt))
		out = append(out, extra...)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	slices.Sort(removed)
	return removed, out, nil
}

// cascade removes users who left the community id (if id is one) from
// every sub-group of it, appending a system envelope to each.
func cascade(ctx context.Context, tx pgx.Tx, id parley.ConversationID, users []int64, now int64) ([]parley.Envelope, error) {
	if len(users) == 0 {
		return nil, nil
	}
	var community *string
	if err := tx.QueryRow(ctx, `SELECT community_id FROM groups WHERE id = $1`, id).Scan(&community); err != nil {
		return nil, err
	}
	if community == nil || *community != string(id) {
		return nil, nil
	}
	var out []parley.Envelope
	for _, u := range users {
		rows, err := tx.Query(ctx, `SELECT gm.group_id FROM group_members gm JOIN groups g ON g.id = gm.group_id
			WHERE gm.user_id = $1 AND g.community_id = $2 AND g.id <> $2 ORDER BY gm.group_id FOR UPDATE OF g`, u, id)
		if err != nil {
			return nil, err
		}
		subs, err := pgx.CollectRows(rows, pgx.RowTo[parley.ConversationID])
		if err != nil {
			return nil, err
		}
		for _, g := range subs {
			var b pgx.Batch
			b.Queue(`DELETE FROM group_members WHERE group_id = $1 AND user_id = $2`, g, u)
			b.Queue(`DELETE FROM members WHERE conversation_id = $1 AND user_id = $2`, g, u)
			b.Queue(`INSERT INTO group_former_members (group_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, g, u)
			if err := tx.SendBatch(ctx, &b).Close(); err != nil {
				return nil, err
			}
			if err := ensureAdmin(ctx, tx, g); err != nil {
				return nil, err
			}
			env := parley.Envelope{ClientID: parley.ClientMessageID(fmt.Sprintf("community-left/%d/%d", u, now)), Kind: parley.EnvelopeSystem,
				Payload: []byte(fmt.Sprintf(`{"left_user":%d,"community":true}`, u)), CreatedAt: fromNS(now)}
			one, err := appendAll(ctx, tx, g, []parley.Envelope{env})
			if err != nil {
				return nil, err
			}
			out = append(out, one...)
		}
	}
	return out, nil
}

// CommunityGroups lists a community's sub-groups by ID.
func (s *Store) CommunityGroups(ctx context.Context, community parley.ConversationID) ([]parley.Group, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+groupCols+` FROM groups WHERE community_id = $1 AND id <> $1 ORDER BY id`, community)
	if err != nil {
		return nil, wrap("community groups", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (parley.Group, error) { return scanGroup(r) })
	if err != nil {
		return nil, wrap("community groups", err)
	}
	return out, nil
}

// PutGroupInvitation creates or refreshes an invitation.
func (s *Store) PutGroupInvitation(ctx context.Context, inv parley.GroupInvitation) error {
	return s.tx(ctx, "put group invitation", func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO group_invitations (group_id, user_id, invited_by, created_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (group_id, user_id) DO UPDATE SET invited_by = excluded.invited_by, created_at = excluded.created_at`,
			inv.Group, inv.User, inv.InvitedBy, ns(inv.CreatedAt))
		if _, _, fk := violation(err); fk {
			return notFound("no such group")
		}
		return err
	})
}

func (s *Store) invitations(ctx context.Context, query string, args ...any) ([]parley.GroupInvitation, error) {
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, wrap("group invitations", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (parley.GroupInvitation, error) {
		var inv parley.GroupInvitation
		var at int64
		err := r.Scan(&inv.Group, &inv.User, &inv.InvitedBy, &at)
		inv.CreatedAt = fromNS(at)
		return inv, err
	})
	if err != nil {
		return nil, wrap("group invitations", err)
	}
	return out, nil
}

// GroupInvitations lists the user's invitations, oldest first.
func (s *Store) GroupInvitations(ctx context.Context, user parley.UserID) ([]parley.GroupInvitation, error) {
	return s.invitations(ctx, `SELECT group_id, user_id, invited_by, created_at FROM group_invitations WHERE user_id = $1 ORDER BY created_at, group_id`, user)
}

// GroupInvitation returns one invitation.
func (s *Store) GroupInvitation(ctx context.Context, id parley.ConversationID, user parley.UserID) (parley.GroupInvitation, error) {
	invs, err := s.invitations(ctx, `SELECT group_id, user_id, invited_by, created_at FROM group_invitations WHERE group_id = $1 AND user_id = $2`, id, user)
	if err != nil {
		return parley.GroupInvitation{}, err
	}
	if len(invs) == 0 {
		return parley.GroupInvitation{}, notFound("no invitation")
	}
	return invs[0], nil
}

// DeleteGroupInvitation deletes an invitation (a no-op when missing).
func (s *Store) DeleteGroupInvitation(ctx context.Context, id parley.ConversationID, user parley.UserID) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM group_invitations WHERE group_id = $1 AND user_id = $2`, id, user); err != nil {
		return wrap("delete group invitation", err)
	}
	return nil
}

// SharesGroup reports whether viewer is a member of, or invited to, a group
// that user is, was, or is invited to be a member of.
func (s *Store) SharesGroup(ctx context.Context, viewer, user parley.UserID) (bool, error) {
	return s.exists(ctx, "shares group", `SELECT 1 FROM (
			SELECT group_id FROM group_members WHERE user_id = $1
			UNION SELECT group_id FROM group_invitations WHERE user_id = $1) v
		WHERE v.group_id IN (
			SELECT group_id FROM group_members WHERE user_id = $2
			UNION SELECT group_id FROM group_former_members WHERE user_id = $2
			UNION SELECT group_id FROM group_invitations WHERE user_id = $2)
		LIMIT 1`, viewer, user)
}

// GroupAddPrivacy returns who may add the user to groups.
func (s *Store) GroupAddPrivacy(ctx context.Context, user parley.UserID) (parley.Visibility, error) {
	var v string
	err := s.pool.QueryRow(ctx, `SELECT add_me FROM group_add_privacy WHERE user_id = $1`, user).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return parley.VisibleEveryone, nil
	}
	if err != nil {
		return "", wrap("group add privacy", err)
	}
	return parley.Visibility(v), nil
}

// SetGroupAddPrivacy sets who may add the user to groups.
func (s *Store) SetGroupAddPrivacy(ctx context.Context, user parley.UserID, v parley.Visibility) error {
	if !v.Valid() {
		return parley.Errorf(parley.CodeInvalid, "visibility", "must be everyone, contacts or nobody")
	}
	if v == "" {
		v = parley.VisibleEveryone
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO group_add_privacy (user_id, add_me) VALUES ($1, $2)
		ON CONFLICT (user_id) DO UPDATE SET add_me = excluded.add_me`, user, string(v)); err != nil {
		return wrap("set group add privacy", err)
	}
	return nil
}

// PutInviteLink stores a new link.
func (s *Store) PutInviteLink(ctx context.Context, l parley.GroupInviteLink) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO group_invite_links (id, token_hash, group_id, created_by, created_at, expires_at, max_uses, uses, approve, revoked)
		VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, false)`, l.ID, l.TokenHash, l.Group, l.CreatedBy, ns(l.CreatedAt), ns(l.ExpiresAt), l.MaxUses, l.Approve)
	if _, unique, fk := violation(err); unique {
		return &parley.Error{Code: parley.CodeConflict, Reason: "invite_exists", Message: "invite link exists", Err: err}
	} else if fk {
		return notFound("no such group")
	}
	if err != nil {
		return wrap("put invite link", err)
	}
	return nil
}

const linkCols = `id, token_hash, group_id, created_by, created_at, expires_at, max_uses, uses, approve, revoked`

func scanLink(row pgx.Row) (parley.GroupInviteLink, error) {
	var l parley.GroupInviteLink
	var created, expires int64
	if err := row.Scan(&l.ID, &l.TokenHash, &l.Group, &l.CreatedBy, &created, &expires, &l.MaxUses, &l.Uses, &l.Approve, &l.Revoked); err != nil {
		return parley.GroupInviteLink{}, err
	}
	l.CreatedAt, l.ExpiresAt = fromNS(created), fromNS(expires)
	return l, nil
}

// InviteLinks lists a group's links, oldest first.
func (s *Store) InviteLinks(ctx context.Context, id parley.ConversationID) ([]parley.GroupInviteLink, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+linkCols+` FROM group_invite_links WHERE group_id = $1 ORDER BY created_at, id`, id)
	if err != nil {
		return nil, wrap("invite links", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (parley.GroupInviteLink, error) { return scanLink(r) })
	if err != nil {
		return nil, wrap("invite links", err)
	}
	return out, nil
}

// RevokeInviteLink revokes a link.
func (s *Store) RevokeInviteLink(ctx context.Context, id parley.ConversationID, linkID string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE group_invite_links SET revoked = true WHERE group_id = $1 AND id = $2`, id, linkID)
	if err != nil {
		return wrap("revoke invite link", err)
	}
	if tag.RowsAffected() == 0 {
		return parley.Errorf(parley.CodeNotFound, "invite_not_found", "no such invite link")
	}
	return nil
}

// RedeemInviteLink uses a link: an invitation, or a join request.
func (s *Store) RedeemInviteLink(ctx context.Context, tokenHash []byte, user parley.UserID, now time.Time) (parley.GroupInviteLink, error) {
	var l parley.GroupInviteLink
	err := s.tx(ctx, "redeem invite link", func(tx pgx.Tx) error {
		var err error
		l, err = scanLink(tx.QueryRow(ctx, `SELECT `+linkCols+` FROM group_invite_links WHERE token_hash = $1 FOR UPDATE`, tokenHash))
		if errors.Is(err, pgx.ErrNoRows) {
			return parley.Errorf(parley.CodeNotFound, "invite_not_found", "no such invite link")
		}
		if err != nil {
			return err
		}
		if err := linkUsable(l, now); err != nil {
			return err
		}
		var member, pending bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM group_members WHERE group_id = $1 AND user_id = $2),
			EXISTS (SELECT 1 FROM group_invitations WHERE group_id = $1 AND user_id = $2)
			OR EXISTS (SELECT 1 FROM group_join_requests WHERE group_id = $1 AND user_id = $2)`, l.Group, user).Scan(&member, &pending); err != nil {
			return err
		}
		if member {
			return parley.Errorf(parley.CodeConflict, "already_member", "you are already a member of this group")
		}
		if pending {
			return nil
		}
		if l.Approve {
			_, err = tx.Exec(ctx, `INSERT INTO group_join_requests (group_id, user_id, created_at) VALUES ($1, $2, $3)`, l.Group, user, ns(now))
		} else {
			_, err = tx.Exec(ctx, `INSERT INTO group_invitations (group_id, user_id, invited_by, created_at) VALUES ($1, $2, $3, $4)`, l.Group, user, l.CreatedBy, ns(now))
		}
		if err != nil {
			return err
		}
		l.Uses++
		_, err = tx.Exec(ctx, `UPDATE group_invite_links SET uses = uses + 1 WHERE id = $1`, l.ID)
		return err
	})
	if err != nil {
		return parley.GroupInviteLink{}, err
	}
	return l, nil
}

// linkUsable refuses a revoked, expired or used-up link.
func linkUsable(l parley.GroupInviteLink, now time.Time) error {
	switch {
	case l.Revoked:
		return parley.Errorf(parley.CodeExpired, "invite_revoked", "this invite link was revoked")
	case !l.ExpiresAt.IsZero() && !now.Before(l.ExpiresAt):
		return parley.Errorf(parley.CodeExpired, "invite_expired", "this invite link has expired")
	case l.MaxUses > 0 && l.Uses >= l.MaxUses:
		return parley.Errorf(parley.CodeExpired, "invite_used_up", "this invite link has been used the most times allowed")
	}
	return nil
}

// JoinRequests lists a group's pending join requests, oldest first.
func (s *Store) JoinRequests(ctx context.Context, id parley.ConversationID) ([]parley.GroupJoinRequest, error) {
	rows, err := s.pool.Query(ctx, `SELECT user_id, created_at FROM group_join_requests WHERE group_id = $1 ORDER BY created_at, user_id`, id)
	if err != nil {
		return nil, wrap("join requests", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (parley.GroupJoinRequest, error) {
		jr := parley.GroupJoinRequest{Group: id}
		var at int64
		err := r.Scan(&jr.User, &at)
		jr.CreatedAt = fromNS(at)
		return jr, err
	})
	if err != nil {
		return nil, wrap("join requests", err)
	}
	return out, nil
}

// DecideJoinRequest approves (an invitation) or rejects a join request.
func (s *Store) DecideJoinRequest(ctx context.Context, id parley.ConversationID, user parley.UserID, approve bool, by parley.UserID, now time.Time) error {
	return s.tx(ctx, "decide join request", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM group_join_requests WHERE group_id = $1 AND user_id = $2`, id, user)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return parley.Errorf(parley.CodeNotFound, "no_request", "user %d has not asked to join", user)
		}
		if !approve {
			return nil
		}
		_, err = tx.Exec(ctx, `INSERT INTO group_invitations (group_id, user_id, invited_by, created_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (group_id, user_id) DO UPDATE SET invited_by = excluded.invited_by, created_at = excluded.created_at`, id, user, by, ns(now))
		return err
	})
}

// SetChatTimer sets a conversation's disappearing-messages timer and
// appends env, in one transaction.
func (s *Store) SetChatTimer(ctx context.Context, id parley.ConversationID, ttl time.Duration, env parley.Envelope) (parley.Envelope, error) {
	var out []parley.Envelope
	err := s.tx(ctx, "set chat timer", func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO chat_timers (conversation_id, ttl) VALUES ($1, $2)
			ON CONFLICT (conversation_id) DO UPDATE SET ttl = excluded.ttl`, id, int64(ttl))
		if _, _, fk := violation(err); fk {
			return notFound("no such conversation")
		}
		if err != nil {
			return err
		}
		out, err = appendAll(ctx, tx, id, []parley.Envelope{env})
		return err
	})
	if err != nil {
		return parley.Envelope{}, err
	}
	return out[0], nil
}

// ChatTimer returns a conversation's disappearing-messages timer.
func (s *Store) ChatTimer(ctx context.Context, id parley.ConversationID) (time.Duration, error) {
	var ttl int64
	err := s.pool.QueryRow(ctx, `SELECT ttl FROM chat_timers WHERE conversation_id = $1`, id).Scan(&ttl)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, wrap("chat timer", err)
	}
	return time.Duration(ttl), nil
}

// PruneDisappearing deletes expired application envelopes of conversations
// with a timer, in bounded transactions.
func (s *Store) PruneDisappearing(ctx context.Context, now time.Time) (int, error) {
	rows, err := s.pool.Query(ctx, `SELECT conversation_id, ttl FROM chat_timers WHERE ttl > 0`)
	if err != nil {
		return 0, wrap("prune disappearing", err)
	}
	type timer struct {
		id  string
		ttl int64
	}
	timers, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (timer, error) {
		var t timer
		err := r.Scan(&t.id, &t.ttl)
		return t, err
	})
	if err != nil {
		return 0, wrap("prune disappearing", err)
	}
	total := 0
	for _, t := range timers {
		for {
			tag, err := s.pool.Exec(ctx, `DELETE FROM envelopes WHERE (conversation_id, seq) IN (SELECT conversation_id, seq FROM envelopes
				WHERE conversation_id = $1 AND kind = $2 AND created_at < $3 LIMIT 4096)`, t.id, int(parley.EnvelopeApplication), now.UnixNano()-t.ttl)
			if err != nil {
				return total, wrap("prune disappearing", err)
			}
			total += int(tag.RowsAffected())
			if tag.RowsAffected() < 4096 {
				break
			}
		}
	}
	return total, nil
}
