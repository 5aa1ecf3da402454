package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/parleyhq/parley"
)

// The Store implements parley.GroupStore with its dialect's PruneDisappearing.

// Group changes lock the group's row first (lockGroup; on PostgreSQL), so
// concurrent changes of one group's membership and roles are serialised and
// the never-without-an-admin rule cannot be raced; the conversation's row is
// locked after it, in the same order everywhere. (SQLite's single writer
// serialises them anyway.)
func lockGroup(ctx context.Context, tx Querier, id parley.ConversationID) error {
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM groups WHERE id = ? /*pg: FOR UPDATE*/`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return notFound("no such group")
	}
	return err
}

// CreateGroup stores the conversation, its members and first envelopes, the
// group record and its member users (the creator as admin) in one
// transaction.
func (s *Store) CreateGroup(ctx context.Context, g parley.Group, c parley.Conversation, members []parley.Member, first []parley.Envelope) ([]parley.Envelope, error) {
	if c.Kind != parley.KindGroup || g.ID != c.ID {
		return nil, parley.Errorf(parley.CodeInvalid, parley.ReasonKind, "a group's conversation has kind group and the group's id")
	}
	out := make([]parley.Envelope, len(first))
	err := s.write(ctx, "create group", func(tx Querier) error {
		_, err := tx.Exec(ctx, `INSERT INTO conversations (id, kind, epoch, last_seq, group_info, created_by, created_at)
			VALUES (?, ?, ?, 0, ?, ?, ?)`, c.ID, string(c.Kind), int64(c.Epoch), c.GroupInfo, c.CreatedBy, ns(c.CreatedAt))
		if s.b.Violation(err).Unique {
			return &parley.Error{Code: parley.CodeConflict, Reason: parley.ReasonConversationExists, Message: "conversation exists", Err: err}
		}
		if err != nil {
			return err
		}
		if err := s.addMembers(ctx, tx, c.ID, members, 0); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO groups (id, name, description, icon, only_admins_send, only_admins_edit, created_by, created_at, community_id, join_approval)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, g.ID, g.Name, g.Description, g.Icon, g.Settings.OnlyAdminsSend,
			g.Settings.OnlyAdminsEditInfo, g.CreatedBy, ns(g.CreatedAt), nullable(string(g.Community)), g.Settings.JoinApproval); err != nil {
			return err
		}
		users := []parley.UserID{g.CreatedBy}
		for _, m := range members {
			if !slices.Contains(users, m.User) {
				users = append(users, m.User)
			}
		}
		for _, u := range users {
			role := parley.RoleMember
			if u == g.CreatedBy {
				role = parley.RoleAdmin
			}
			if _, err := tx.Exec(ctx, `INSERT INTO group_members (group_id, user_id, role, joined_at) VALUES (?, ?, ?, ?)`,
				g.ID, u, string(role), ns(g.CreatedAt)); err != nil {
				return err
			}
		}
		return s.b.AppendAll(ctx, tx, c.ID, first, out)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

const groupCols = `id, name, description, icon, only_admins_send, only_admins_edit, created_by, created_at, COALESCE(community_id, ''), join_approval`

func scanGroup(row Row) (parley.Group, error) {
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
	g, err := scanGroup(s.r.QueryRow(ctx, `SELECT `+groupCols+` FROM groups WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return parley.Group{}, notFound("no such group")
	}
	if err != nil {
		return parley.Group{}, s.wrap("group", err)
	}
	return g, nil
}

// UpdateGroup replaces the group's info and settings and appends env.
func (s *Store) UpdateGroup(ctx context.Context, g parley.Group, env parley.Envelope) (parley.Envelope, error) {
	out := make([]parley.Envelope, 1)
	err := s.write(ctx, "update group", func(tx Querier) error {
		res, err := tx.Exec(ctx, `UPDATE groups SET name = ?, description = ?, icon = ?, only_admins_send = ?, only_admins_edit = ?, community_id = ?, join_approval = ? WHERE id = ?`,
			g.Name, g.Description, g.Icon, g.Settings.OnlyAdminsSend, g.Settings.OnlyAdminsEditInfo, nullable(string(g.Community)),
			g.Settings.JoinApproval, g.ID)
		if err != nil {
			return err
		}
		if res == 0 {
			return notFound("no such group")
		}
		return s.b.AppendAll(ctx, tx, g.ID, []parley.Envelope{env}, out)
	})
	if err != nil {
		return parley.Envelope{}, err
	}
	return out[0], nil
}

// GroupMembers lists the member users by JoinedAt, then UserID.
func (s *Store) GroupMembers(ctx context.Context, id parley.ConversationID) ([]parley.GroupMember, error) {
	rows, err := s.r.Query(ctx, `SELECT user_id, role, joined_at FROM group_members WHERE group_id = ? ORDER BY joined_at, user_id`, id)
	if err != nil {
		return nil, s.wrap("group members", err)
	}
	defer rows.Close()
	var out []parley.GroupMember
	for rows.Next() {
		m := parley.GroupMember{Group: id}
		var role string
		var joined int64
		if err := rows.Scan(&m.User, &role, &joined); err != nil {
			return nil, s.wrap("group members", err)
		}
		m.Role, m.JoinedAt = parley.GroupRole(role), fromNS(joined)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("group members", err)
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
	return selectAll(ctx, s, "groups of user", scanGroup, `SELECT `+groupCols+` FROM groups WHERE id IN (SELECT group_id FROM group_members WHERE user_id = ?) ORDER BY id`, user)
}

// SetGroupRole sets a member's role, refusing to leave the group without an admin.
func (s *Store) SetGroupRole(ctx context.Context, id parley.ConversationID, user parley.UserID, role parley.GroupRole, env parley.Envelope) (parley.Envelope, error) {
	if role != parley.RoleAdmin && role != parley.RoleMember {
		return parley.Envelope{}, parley.Errorf(parley.CodeInvalid, parley.ReasonRole, "role must be admin or member")
	}
	out := make([]parley.Envelope, 1)
	err := s.write(ctx, "set group role", func(tx Querier) error {
		if err := lockGroup(ctx, tx, id); err != nil {
			return err
		}
		res, err := tx.Exec(ctx, `UPDATE group_members SET role = ? WHERE group_id = ? AND user_id = ?`, string(role), id, user)
		if err != nil {
			return err
		}
		if res == 0 {
			return parley.Errorf(parley.CodeNotFound, parley.ReasonNotMember, "user %d is not a member of the group", user)
		}
		var admins int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM group_members WHERE group_id = ? AND role = 'admin'`, id).Scan(&admins); err != nil {
			return err
		}
		if admins == 0 {
			return parley.Errorf(parley.CodeForbidden, parley.ReasonLastAdmin, "the group must keep an admin: promote someone first")
		}
		return s.b.AppendAll(ctx, tx, id, []parley.Envelope{env}, out)
	})
	if err != nil {
		return parley.Envelope{}, err
	}
	return out[0], nil
}

// RequestToJoin records a join request (see parley.GroupStore).
func (s *Store) RequestToJoin(ctx context.Context, id parley.ConversationID, user parley.UserID, now time.Time) error {
	return s.write(ctx, "request to join", func(tx Querier) error {
		if ok, err := existsTx(ctx, tx, `SELECT 1 FROM groups WHERE id = ?`, id); err != nil || !ok {
			if err == nil {
				err = notFound("no such group")
			}
			return err
		}
		member, err := existsTx(ctx, tx, `SELECT 1 FROM group_members WHERE group_id = ? AND user_id = ?`, id, user)
		if err != nil {
			return err
		}
		if member {
			return parley.Errorf(parley.CodeConflict, parley.ReasonAlreadyMember, "you are already a member of this group")
		}
		pending, err := existsTx(ctx, tx, `SELECT 1 FROM group_invitations WHERE group_id = ?1 AND user_id = ?2
			UNION ALL SELECT 1 FROM group_join_requests WHERE group_id = ?1 AND user_id = ?2`, id, user)
		if err != nil || pending {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO group_join_requests (group_id, user_id, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, id, user, ns(now))
		return err
	})
}

// ApplyGroupCommit applies a commit and its user-level membership change in
// one transaction.
func (s *Store) ApplyGroupCommit(ctx context.Context, c parley.GroupCommit) ([]parley.Envelope, error) {
	var out []parley.Envelope
	id := c.Conversation
	err := s.write(ctx, "apply group commit", func(tx Querier) error {
		out = make([]parley.Envelope, len(c.Envelopes))
		if err := lockGroup(ctx, tx, id); err != nil {
			return err
		}
		if c.RequireAdmin != 0 {
			var role string
			err := tx.QueryRow(ctx, `SELECT role FROM group_members WHERE group_id = ? AND user_id = ?`, id, c.RequireAdmin).Scan(&role)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			if role != string(parley.RoleAdmin) {
				return parley.Errorf(parley.CodeForbidden, parley.ReasonNotAdmin, "only admins may do this")
			}
		}
		if c.ConsumeInvitation != 0 {
			res, err := tx.Exec(ctx, `DELETE FROM group_invitations WHERE group_id = ? AND user_id = ?`, id, c.ConsumeInvitation)
			if err != nil {
				return err
			}
			if res == 0 {
				return parley.Errorf(parley.CodeNotFound, parley.ReasonNoInvitation, "there is no invitation to this group")
			}
		}
		var touched []parley.UserID
		for _, d := range c.Remove {
			var u parley.UserID
			err := tx.QueryRow(ctx, `SELECT user_id FROM members WHERE conversation_id = ? AND device_id = ?`, id, d).Scan(&u)
			if err == nil && !slices.Contains(touched, u) {
				touched = append(touched, u)
			} else if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		if err := s.applyCommitTx(ctx, tx, c.Commit, out); err != nil {
			return err
		}
		now := int64(0)
		if len(c.Envelopes) > 0 {
			now = ns(c.Envelopes[0].CreatedAt)
		}
		for _, u := range c.AddUsers {
			if _, err := tx.Exec(ctx, `INSERT INTO group_members (group_id, user_id, role, joined_at) VALUES (?, ?, 'member', ?)
				ON CONFLICT DO NOTHING`, id, u, now); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `DELETE FROM group_invitations WHERE group_id = ? AND user_id = ?`, id, u); err != nil {
				return err
			}
		}
		dropped, err := dropDeviceless(ctx, tx, id, touched)
		if err != nil {
			return err
		}
		if c.MaxMembers > 0 {
			var n int
			if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM group_members WHERE group_id = ?`, id).Scan(&n); err != nil {
				return err
			}
			if n > c.MaxMembers {
				return parley.Errorf(parley.CodeTooLarge, parley.ReasonGroupFull, "a group has at most %d members", c.MaxMembers)
			}
		}
		if err := ensureAdmin(ctx, tx, id); err != nil {
			return err
		}
		extra, err := s.cascade(ctx, tx, id, dropped, now)
		out = append(out, extra...)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// dropDeviceless removes from the group the users among users who have no
// member device left, and returns them.
func dropDeviceless(ctx context.Context, tx Querier, id parley.ConversationID, users []parley.UserID) ([]parley.UserID, error) {
	var dropped []parley.UserID
	for _, u := range users {
		res, err := tx.Exec(ctx, `DELETE FROM group_members WHERE group_id = ? AND user_id = ?
			AND NOT EXISTS (SELECT 1 FROM members WHERE conversation_id = ? AND user_id = ?)`, id, u, id, u)
		if err != nil {
			return nil, err
		}
		if res > 0 {
			if err := addFormer(ctx, tx, id, u); err != nil {
				return nil, err
			}
			dropped = append(dropped, u)
		}
	}
	return dropped, nil
}

// cascade removes users who left the community id (if id is one) from
// every sub-group of it, appending a system envelope to each.
func (s *Store) cascade(ctx context.Context, tx Querier, id parley.ConversationID, users []parley.UserID, now int64) ([]parley.Envelope, error) {
	if len(users) == 0 {
		return nil, nil
	}
	var community sql.NullString
	if err := tx.QueryRow(ctx, `SELECT community_id FROM groups WHERE id = ?`, id).Scan(&community); err != nil {
		return nil, err
	}
	if !community.Valid || community.String != string(id) {
		return nil, nil
	}
	var out []parley.Envelope
	for _, u := range users {
		rows, err := tx.Query(ctx, `SELECT gm.group_id FROM group_members gm JOIN groups g ON g.id = gm.group_id
			WHERE gm.user_id = ? AND g.community_id = ? AND g.id <> ? ORDER BY gm.group_id /*pg: FOR UPDATE OF g*/`, u, id, id)
		if err != nil {
			return nil, err
		}
		var subs []parley.ConversationID
		for rows.Next() {
			var g parley.ConversationID
			if err := rows.Scan(&g); err != nil {
				rows.Close()
				return nil, err
			}
			subs = append(subs, g)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		for _, g := range subs {
			for _, q := range []string{`DELETE FROM group_members WHERE group_id = ? AND user_id = ?`, `DELETE FROM members WHERE conversation_id = ? AND user_id = ?`} {
				if _, err := tx.Exec(ctx, q, g, u); err != nil {
					return nil, err
				}
			}
			if err := addFormer(ctx, tx, g, u); err != nil {
				return nil, err
			}
			if err := ensureAdmin(ctx, tx, g); err != nil {
				return nil, err
			}
			env := parley.Envelope{ClientID: parley.ClientMessageID(fmt.Sprintf("community-left/%d/%d", u, now)), Kind: parley.EnvelopeSystem,
				Payload: []byte(fmt.Sprintf(`{"left_user":%d,"community":true}`, u)), CreatedAt: fromNS(now)}
			one := make([]parley.Envelope, 1)
			if err := s.b.AppendAll(ctx, tx, g, []parley.Envelope{env}, one); err != nil {
				return nil, err
			}
			out = append(out, one[0])
		}
	}
	return out, nil
}

// CommunityGroups lists a community's sub-groups by ID.
func (s *Store) CommunityGroups(ctx context.Context, community parley.ConversationID) ([]parley.Group, error) {
	return selectAll(ctx, s, "community groups", scanGroup, `SELECT `+groupCols+` FROM groups WHERE community_id = ? AND id <> ? ORDER BY id`, community, community)
}

func addFormer(ctx context.Context, tx Querier, id parley.ConversationID, u parley.UserID) error {
	_, err := tx.Exec(ctx, `INSERT INTO group_former_members (group_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, id, u)
	return err
}

// ensureAdmin promotes the longest-standing member when the group has
// members but no admin.
func ensureAdmin(ctx context.Context, tx Querier, id parley.ConversationID) error {
	_, err := tx.Exec(ctx, `UPDATE group_members SET role = 'admin' WHERE group_id = ? AND user_id = (
			SELECT user_id FROM group_members WHERE group_id = ? ORDER BY joined_at, user_id LIMIT 1)
		AND NOT EXISTS (SELECT 1 FROM group_members WHERE group_id = ? AND role = 'admin')`, id, id, id)
	return err
}

// LeaveGroup removes the user's devices and membership and appends env.
func (s *Store) LeaveGroup(ctx context.Context, id parley.ConversationID, user parley.UserID, env parley.Envelope) ([]parley.DeviceID, []parley.Envelope, error) {
	var removed []parley.DeviceID
	var out []parley.Envelope
	err := s.write(ctx, "leave group", func(tx Querier) error {
		removed, out = nil, make([]parley.Envelope, 1)
		if err := lockGroup(ctx, tx, id); err != nil {
			return err
		}
		res, err := tx.Exec(ctx, `DELETE FROM group_members WHERE group_id = ? AND user_id = ?`, id, user)
		if err != nil {
			return err
		}
		if res == 0 {
			return parley.Errorf(parley.CodeNotFound, parley.ReasonNotMember, "you are not a member of this group")
		}
		if err := addFormer(ctx, tx, id, user); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `DELETE FROM members WHERE conversation_id = ? AND user_id = ? RETURNING device_id`, id, user)
		if err != nil {
			return err
		}
		for rows.Next() {
			var d parley.DeviceID
			if err := rows.Scan(&d); err != nil {
				rows.Close()
				return err
			}
			removed = append(removed, d)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if err := ensureAdmin(ctx, tx, id); err != nil {
			return err
		}
		if err := s.b.AppendAll(ctx, tx, id, []parley.Envelope{env}, out); err != nil {
			return err
		}
		extra, err := s.cascade(ctx, tx, id, []parley.UserID{user}, ns(env.CreatedAt))
		out = append(out, extra...)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	slices.Sort(removed)
	return removed, out, nil
}

// PutGroupInvitation creates or refreshes an invitation.
func (s *Store) PutGroupInvitation(ctx context.Context, inv parley.GroupInvitation) error {
	return s.write(ctx, "put group invitation", func(tx Querier) error {
		_, err := tx.Exec(ctx, `INSERT INTO group_invitations (group_id, user_id, invited_by, created_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (group_id, user_id) DO UPDATE SET invited_by = excluded.invited_by, created_at = excluded.created_at`,
			inv.Group, inv.User, inv.InvitedBy, ns(inv.CreatedAt))
		if s.b.Violation(err).FK {
			return notFound("no such group")
		}
		return err
	})
}

func (s *Store) scanInvitations(ctx context.Context, query string, args ...any) ([]parley.GroupInvitation, error) {
	return selectAll(ctx, s, "group invitations", func(r Row) (parley.GroupInvitation, error) {
		var inv parley.GroupInvitation
		var at int64
		if err := r.Scan(&inv.Group, &inv.User, &inv.InvitedBy, &at); err != nil {
			return inv, err
		}
		inv.CreatedAt = fromNS(at)
		return inv, nil
	}, query, args...)
}

// GroupInvitations lists the user's invitations, oldest first.
func (s *Store) GroupInvitations(ctx context.Context, user parley.UserID) ([]parley.GroupInvitation, error) {
	return s.scanInvitations(ctx, `SELECT group_id, user_id, invited_by, created_at FROM group_invitations WHERE user_id = ? ORDER BY created_at, group_id`, user)
}

// GroupInvitation returns one invitation.
func (s *Store) GroupInvitation(ctx context.Context, id parley.ConversationID, user parley.UserID) (parley.GroupInvitation, error) {
	invs, err := s.scanInvitations(ctx, `SELECT group_id, user_id, invited_by, created_at FROM group_invitations WHERE group_id = ? AND user_id = ?`, id, user)
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
	return s.write(ctx, "delete group invitation", func(tx Querier) error {
		_, err := tx.Exec(ctx, `DELETE FROM group_invitations WHERE group_id = ? AND user_id = ?`, id, user)
		return err
	})
}

// GroupAddPrivacy returns who may add the user to groups.
func (s *Store) GroupAddPrivacy(ctx context.Context, user parley.UserID) (parley.Visibility, error) {
	var v string
	err := s.r.QueryRow(ctx, `SELECT add_me FROM group_add_privacy WHERE user_id = ?`, user).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return parley.VisibleEveryone, nil
	}
	if err != nil {
		return "", s.wrap("group add privacy", err)
	}
	return parley.Visibility(v), nil
}

// SetGroupAddPrivacy sets who may add the user to groups.
func (s *Store) SetGroupAddPrivacy(ctx context.Context, user parley.UserID, v parley.Visibility) error {
	if !v.Valid() {
		return parley.Errorf(parley.CodeInvalid, parley.ReasonVisibility, "must be everyone, contacts or nobody")
	}
	if v == "" {
		v = parley.VisibleEveryone
	}
	return s.write(ctx, "set group add privacy", func(tx Querier) error {
		_, err := tx.Exec(ctx, `INSERT INTO group_add_privacy (user_id, add_me) VALUES (?, ?)
			ON CONFLICT (user_id) DO UPDATE SET add_me = excluded.add_me`, user, strings.ToLower(string(v)))
		return err
	})
}

// SharesGroup reports whether viewer is a member of, or invited to, a group
// that user is, was, or is invited to be a member of.
func (s *Store) SharesGroup(ctx context.Context, viewer, user parley.UserID) (bool, error) {
	return s.exists(ctx, "shares group", `SELECT 1 FROM (
			SELECT group_id FROM group_members WHERE user_id = ?1
			UNION SELECT group_id FROM group_invitations WHERE user_id = ?1) v
		WHERE v.group_id IN (
			SELECT group_id FROM group_members WHERE user_id = ?2
			UNION SELECT group_id FROM group_former_members WHERE user_id = ?2
			UNION SELECT group_id FROM group_invitations WHERE user_id = ?2)
		LIMIT 1`, viewer, user)
}

// PutInviteLink stores a new link.
func (s *Store) PutInviteLink(ctx context.Context, l parley.GroupInviteLink) error {
	return s.write(ctx, "put invite link", func(tx Querier) error {
		_, err := tx.Exec(ctx, `INSERT INTO group_invite_links (id, token_hash, group_id, created_by, created_at, expires_at, max_uses, uses, approve, revoked)
			VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, FALSE)`, l.ID, l.TokenHash, l.Group, l.CreatedBy, ns(l.CreatedAt), ns(l.ExpiresAt), l.MaxUses, l.Approve)
		if v := s.b.Violation(err); v.Unique {
			return &parley.Error{Code: parley.CodeConflict, Reason: parley.ReasonInviteExists, Message: "invite link exists", Err: err}
		} else if v.FK {
			return notFound("no such group")
		}
		return err
	})
}

const linkCols = `id, token_hash, group_id, created_by, created_at, expires_at, max_uses, uses, approve, revoked`

func scanLink(row Row) (parley.GroupInviteLink, error) {
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
	return selectAll(ctx, s, "invite links", scanLink, `SELECT `+linkCols+` FROM group_invite_links WHERE group_id = ? ORDER BY created_at, id`, id)
}

// RevokeInviteLink revokes a link.
func (s *Store) RevokeInviteLink(ctx context.Context, id parley.ConversationID, linkID string) error {
	return s.write(ctx, "revoke invite link", func(tx Querier) error {
		res, err := tx.Exec(ctx, `UPDATE group_invite_links SET revoked = TRUE WHERE group_id = ? AND id = ?`, id, linkID)
		if err != nil {
			return err
		}
		if res == 0 {
			return parley.Errorf(parley.CodeNotFound, parley.ReasonInviteNotFound, "no such invite link")
		}
		return nil
	})
}

// RedeemInviteLink uses a link: an invitation, or a join request.
func (s *Store) RedeemInviteLink(ctx context.Context, tokenHash []byte, user parley.UserID, now time.Time) (parley.GroupInviteLink, error) {
	var l parley.GroupInviteLink
	err := s.write(ctx, "redeem invite link", func(tx Querier) error {
		var err error
		l, err = scanLink(tx.QueryRow(ctx, `SELECT `+linkCols+` FROM group_invite_links WHERE token_hash = ? /*pg: FOR UPDATE*/`, tokenHash))
		if errors.Is(err, sql.ErrNoRows) {
			return parley.Errorf(parley.CodeNotFound, parley.ReasonInviteNotFound, "no such invite link")
		}
		if err != nil {
			return err
		}
		if err := linkUsable(l, now); err != nil {
			return err
		}
		member, err := existsTx(ctx, tx, `SELECT 1 FROM group_members WHERE group_id = ? AND user_id = ?`, l.Group, user)
		if err != nil {
			return err
		}
		if member {
			return parley.Errorf(parley.CodeConflict, parley.ReasonAlreadyMember, "you are already a member of this group")
		}
		// A banned user is refused before a use is counted (moderation.go).
		if banned, err := existsTx(ctx, tx, `SELECT 1 FROM group_bans WHERE group_id = ? AND user_id = ?`, l.Group, user); err != nil {
			return err
		} else if banned {
			return errBannedFromGroup
		}
		pending, err := existsTx(ctx, tx, `SELECT 1 FROM group_invitations WHERE group_id = ?1 AND user_id = ?2
			UNION ALL SELECT 1 FROM group_join_requests WHERE group_id = ?1 AND user_id = ?2`, l.Group, user)
		if err != nil || pending {
			return err
		}
		if l.Approve {
			_, err = tx.Exec(ctx, `INSERT INTO group_join_requests (group_id, user_id, created_at) VALUES (?, ?, ?)`, l.Group, user, ns(now))
		} else {
			_, err = tx.Exec(ctx, `INSERT INTO group_invitations (group_id, user_id, invited_by, created_at) VALUES (?, ?, ?, ?)`, l.Group, user, l.CreatedBy, ns(now))
		}
		if err != nil {
			return err
		}
		l.Uses++
		_, err = tx.Exec(ctx, `UPDATE group_invite_links SET uses = uses + 1 WHERE id = ?`, l.ID)
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
		return parley.Errorf(parley.CodeExpired, parley.ReasonInviteRevoked, "this invite link was revoked")
	case !l.ExpiresAt.IsZero() && !now.Before(l.ExpiresAt):
		return parley.Errorf(parley.CodeExpired, parley.ReasonInviteExpired, "this invite link has expired")
	case l.MaxUses > 0 && l.Uses >= l.MaxUses:
		return parley.Errorf(parley.CodeExpired, parley.ReasonInviteUsedUp, "this invite link has been used the most times allowed")
	}
	return nil
}

func existsTx(ctx context.Context, tx Querier, query string, args ...any) (bool, error) {
	var one int
	err := tx.QueryRow(ctx, query, args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// JoinRequests lists a group's pending join requests, oldest first.
func (s *Store) JoinRequests(ctx context.Context, id parley.ConversationID) ([]parley.GroupJoinRequest, error) {
	rows, err := s.r.Query(ctx, `SELECT user_id, created_at FROM group_join_requests WHERE group_id = ? ORDER BY created_at, user_id`, id)
	if err != nil {
		return nil, s.wrap("join requests", err)
	}
	defer rows.Close()
	var out []parley.GroupJoinRequest
	for rows.Next() {
		r := parley.GroupJoinRequest{Group: id}
		var at int64
		if err := rows.Scan(&r.User, &at); err != nil {
			return nil, s.wrap("join requests", err)
		}
		r.CreatedAt = fromNS(at)
		out = append(out, r)
	}
	return out, s.wrap2("join requests", rows.Err())
}

// DecideJoinRequest approves (an invitation) or rejects a join request.
func (s *Store) DecideJoinRequest(ctx context.Context, id parley.ConversationID, user parley.UserID, approve bool, by parley.UserID, now time.Time) error {
	return s.write(ctx, "decide join request", func(tx Querier) error {
		res, err := tx.Exec(ctx, `DELETE FROM group_join_requests WHERE group_id = ? AND user_id = ?`, id, user)
		if err != nil {
			return err
		}
		if res == 0 {
			return parley.Errorf(parley.CodeNotFound, parley.ReasonNoRequest, "user %d has not asked to join", user)
		}
		if !approve {
			return nil
		}
		_, err = tx.Exec(ctx, `INSERT INTO group_invitations (group_id, user_id, invited_by, created_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (group_id, user_id) DO UPDATE SET invited_by = excluded.invited_by, created_at = excluded.created_at`, id, user, by, ns(now))
		return err
	})
}

// SetChatTimer sets a conversation's disappearing-messages timer and
// appends env, in one transaction.
func (s *Store) SetChatTimer(ctx context.Context, id parley.ConversationID, ttl time.Duration, env parley.Envelope) (parley.Envelope, error) {
	out := make([]parley.Envelope, 1)
	err := s.write(ctx, "set chat timer", func(tx Querier) error {
		_, err := tx.Exec(ctx, `INSERT INTO chat_timers (conversation_id, ttl) VALUES (?, ?)
			ON CONFLICT (conversation_id) DO UPDATE SET ttl = excluded.ttl`, id, int64(ttl))
		if s.b.Violation(err).FK {
			return notFound("no such conversation")
		}
		if err != nil {
			return err
		}
		return s.b.AppendAll(ctx, tx, id, []parley.Envelope{env}, out)
	})
	if err != nil {
		return parley.Envelope{}, err
	}
	return out[0], nil
}

// ChatTimer returns a conversation's disappearing-messages timer.
func (s *Store) ChatTimer(ctx context.Context, id parley.ConversationID) (time.Duration, error) {
	var ttl int64
	err := s.r.QueryRow(ctx, `SELECT ttl FROM chat_timers WHERE conversation_id = ?`, id).Scan(&ttl)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, s.wrap("chat timer", err)
	}
	return time.Duration(ttl), nil
}
