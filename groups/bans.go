package groups

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/parleyhq/parley"
)

// Bans. An admin of a group, or of the community it belongs to, may ban a
// user from it: the user is removed at once if a member (as if they had
// left: the {"left_user"} system envelope, the remaining devices commit the
// MLS removal), their pending invitation and join request are dropped, and
// from then on every way back in is refused CodeForbidden
// "banned_from_group" — invite links (before a use is counted), join
// requests, invitations, being added by an admin, and joining by external
// commit — until an admin lifts the ban. A user is banned by account, so a
// number re-registered on a new phone stays banned.

// BanStore is what bans need of the store.
type BanStore interface {
	BanFromGroup(ctx context.Context, b parley.GroupBan) error
	UnbanFromGroup(ctx context.Context, group parley.ConversationID, user parley.UserID) error
	GroupBans(ctx context.Context, group parley.ConversationID) ([]parley.GroupBan, error)
	BannedFromGroup(ctx context.Context, group parley.ConversationID, user parley.UserID) (bool, error)
}

var errBanned = parley.Errorf(parley.CodeForbidden, parley.ReasonBannedFromGroup, "you are banned from this group")

// checkBanned refuses a banned user (CodeForbidden "banned_from_group").
func (s *Service) checkBanned(ctx context.Context, id parley.ConversationID, user parley.UserID) error {
	banned, err := s.store.BannedFromGroup(ctx, id, user)
	if err != nil {
		return err
	}
	if banned {
		return errBanned
	}
	return nil
}

// checkOtherBanned refuses adding or inviting a banned user
// (CodeForbidden "banned_from_group").
func (s *Service) checkOtherBanned(ctx context.Context, id parley.ConversationID, user parley.UserID) error {
	banned, err := s.store.BannedFromGroup(ctx, id, user)
	if err != nil {
		return err
	}
	if banned {
		return parley.Errorf(parley.CodeForbidden, parley.ReasonBannedFromGroup, "user %d is banned from this group: unban them first", user)
	}
	return nil
}

// RequireModerator checks that user administers the group or the
// community it belongs to (CodeForbidden "not_admin"; CodeNotFound
// "group_not_found" when they are in neither).
func (s *Service) RequireModerator(ctx context.Context, user parley.UserID, id parley.ConversationID) error {
	if !id.Valid() {
		return parley.Errorf(parley.CodeInvalid, parley.ReasonConversationID, "invalid group id")
	}
	c, err := s.load(ctx, id)
	if err != nil {
		return err
	}
	if c.roles[user] == parley.RoleAdmin {
		return nil
	}
	if comm := c.group.Community; comm != "" && comm != id {
		if cc, err := s.load(ctx, comm); err == nil && cc.roles[user] == parley.RoleAdmin {
			return nil
		}
	}
	if _, member := c.roles[user]; member {
		return notAdmin()
	}
	return errGroupNotFound
}

// Ban bans user from the group and removes them if a member (admins of the
// group or its community; see the package's Bans). An admin cannot be
// banned (CodeForbidden ReasonBanAdmin: demote them first), nor oneself
// (CodeInvalid ReasonBanSelf). Banning twice changes nothing.
func (s *Service) Ban(ctx context.Context, dev parley.Device, id parley.ConversationID, user parley.UserID) error {
	if err := s.RequireModerator(ctx, dev.User, id); err != nil {
		return err
	}
	if user == dev.User {
		return parley.Errorf(parley.CodeInvalid, ReasonBanSelf, "you cannot ban yourself")
	}
	c, err := s.load(ctx, id)
	if err != nil {
		return err
	}
	role, member := c.roles[user]
	if role == parley.RoleAdmin {
		return parley.Errorf(parley.CodeForbidden, ReasonBanAdmin, "user %d is an admin of this group: demote them first", user)
	}
	now := s.clock.Now()
	if err := s.store.BanFromGroup(ctx, parley.GroupBan{Group: id, User: user, By: dev.User, At: now}); err != nil {
		return err
	}
	if !member {
		return nil
	}
	payload, _ := json.Marshal(LeftPayload{LeftUser: user})
	env := parley.Envelope{Conversation: id, ClientID: parley.ClientMessageID(fmt.Sprintf("banned/%d/%d", user, now.UnixNano())),
		Kind: parley.EnvelopeSystem, Payload: payload, CreatedAt: now}
	removed, envs, err := s.store.LeaveGroup(ctx, id, user, env)
	s.invalidate(id)
	if parley.IsCode(err, parley.CodeNotFound) {
		return nil // left meanwhile
	}
	if err != nil {
		return err
	}
	s.publishRemoval(ctx, envs[:1], removed)
	s.publishCascade(ctx, envs[1:], user)
	return nil
}

// Unban lifts a ban (admins of the group or its community); lifting a ban
// that does not exist changes nothing. The user may then join again by
// the usual ways.
func (s *Service) Unban(ctx context.Context, dev parley.Device, id parley.ConversationID, user parley.UserID) error {
	if err := s.RequireModerator(ctx, dev.User, id); err != nil {
		return err
	}
	return s.store.UnbanFromGroup(ctx, id, user)
}

// Bans lists a group's bans (admins of the group or its community).
func (s *Service) Bans(ctx context.Context, dev parley.Device, id parley.ConversationID) ([]parley.GroupBan, error) {
	if err := s.RequireModerator(ctx, dev.User, id); err != nil {
		return nil, err
	}
	return s.store.GroupBans(ctx, id)
}
