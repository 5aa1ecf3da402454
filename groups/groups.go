// Package groups is Parley's group service: the server's authority over
// group conversations (KindGroup). It keeps each group's record (name,
// description, icon, settings) and its members' roles, and decides every
// group operation: who may add, remove, promote, demote, change info or
// settings, send, join, and who must be invited instead of added.
//
// The service is crypto-blind like the delivery service: membership changes
// are MLS commits made by clients; delivery.Service hands each commit to a
// group conversation to AuthorizeCommit, which checks it and applies it with
// the group's user-level record in one transaction
// (parley.GroupStore.ApplyGroupCommit).
//
// Guarantees:
//   - Every refusal is a *parley.Error with a stable reason: CodeForbidden
//     "not_admin", "admins_only_send", "admins_only_edit_info",
//     "invite_required", "not_invited", "last_admin", "banned_from_group"
//     (bans.go); CodeNotFound
//     "group_not_found" (also for groups the caller is not in: groups are
//     never searchable), "not_member", "invite_not_found", "no_request";
//     CodeExpired "invite_expired", "invite_revoked", "invite_used_up";
//     CodeTooLarge "group_full";
//     CodeInvalid for malformed requests; CodeConflict "wrong_epoch" for a
//     commit that lost the race for its epoch.
//   - Admin-only commits are checked against the roles inside the commit's
//     transaction, so a concurrent demotion cannot let one through.
//   - Of concurrent commits for one epoch exactly one is applied; the others
//     get "wrong_epoch", process the winner and retry.
//   - The send check (AuthorizeSend) reads a per-group cache, invalidated by
//     every change made through this service and at most Config.CacheTTL
//     old otherwise.
package groups

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley"
)

// Store is what the service needs of the store.
type Store interface {
	parley.GroupStore
	IsContact(ctx context.Context, owner, other parley.UserID) (bool, error)
	IsBlocked(ctx context.Context, blocker, blocked parley.UserID) (bool, error)
	Members(ctx context.Context, id parley.ConversationID) ([]parley.Member, error)
	Devices(ctx context.Context, user parley.UserID) ([]parley.Device, error)
	Member(ctx context.Context, id parley.ConversationID, device parley.DeviceID) (parley.Member, error)
	BanStore // bans.go
}

// Publisher delivers what the service appended or changed to devices
// (delivery.Service implements it): the envelopes to their recipients and a
// "conversations changed" signal to every device in notify.
type Publisher interface {
	PublishGroupChange(ctx context.Context, id parley.ConversationID, envs []parley.Envelope, to, notify []parley.DeviceID)
}

// Config tunes the service. Zero fields take the defaults.
type Config struct {
	MaxMembers         int           // member users of a group; default 1024
	MaxCommunity       int           // member users of a community; default 5000
	MaxCommunityGroups int           // sub-groups of a community; default 100
	MaxNameLen         int           // bytes; default 100
	MaxDescriptionLen  int           // bytes; default 2048
	MaxIconLen         int           // bytes of the icon's blob reference; default 512
	CacheTTL           time.Duration // how long cached settings and roles are used; default 1m
	// PruneInterval is how often Run deletes disappeared messages from the
	// log; default 1m.
	PruneInterval time.Duration
}

func (c *Config) setDefaults() {
	if c.MaxMembers <= 0 {
		c.MaxMembers = 1024
	}
	if c.MaxCommunity <= 0 {
		c.MaxCommunity = 5000
	}
	if c.MaxCommunityGroups <= 0 {
		c.MaxCommunityGroups = 100
	}
	if c.MaxNameLen <= 0 {
		c.MaxNameLen = 100
	}
	if c.MaxDescriptionLen <= 0 {
		c.MaxDescriptionLen = 2048
	}
	if c.MaxIconLen <= 0 {
		c.MaxIconLen = 512
	}
	if c.CacheTTL <= 0 {
		c.CacheTTL = time.Minute
	}
	if c.PruneInterval <= 0 {
		c.PruneInterval = time.Minute
	}
}

// Service is the group service. It is safe for concurrent use.
type Service struct {
	store Store
	pub   Publisher
	clock parley.Clock
	log   *slog.Logger
	cfg   Config

	mu    sync.Mutex
	cache map[parley.ConversationID]*cached
}

// cached is a group's settings and roles as last loaded.
type cached struct {
	group  parley.Group
	roles  map[parley.UserID]parley.GroupRole
	loaded time.Time
}

// New returns a group service. pub may be nil (nothing is pushed).
func New(store Store, pub Publisher, clock parley.Clock, log *slog.Logger, cfg Config) *Service {
	cfg.setDefaults()
	if clock == nil {
		clock = parley.SystemClock{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{store: store, pub: pub, clock: clock, log: log, cfg: cfg, cache: make(map[parley.ConversationID]*cached)}
}

// Config returns the effective configuration.
func (s *Service) Config() Config { return s.cfg }

var errGroupNotFound = parley.Errorf(parley.CodeNotFound, parley.ReasonGroupNotFound, "no such group")

// load returns the group's cached record and roles.
func (s *Service) load(ctx context.Context, id parley.ConversationID) (*cached, error) {
	now := s.clock.Now()
	s.mu.Lock()
	c := s.cache[id]
	s.mu.Unlock()
	if c != nil && now.Sub(c.loaded) < s.cfg.CacheTTL && now.Sub(c.loaded) >= 0 {
		return c, nil
	}
	g, err := s.store.Group(ctx, id)
	if parley.IsCode(err, parley.CodeNotFound) {
		return nil, errGroupNotFound
	}
	if err != nil {
		return nil, err
	}
	ms, err := s.store.GroupMembers(ctx, id)
	if err != nil {
		return nil, err
	}
	c = &cached{group: g, roles: make(map[parley.UserID]parley.GroupRole, len(ms)), loaded: now}
	for _, m := range ms {
		c.roles[m.User] = m.Role
	}
	s.mu.Lock()
	if len(s.cache) > 100_000 {
		clear(s.cache)
	}
	s.cache[id] = c
	s.mu.Unlock()
	return c, nil
}

func (s *Service) invalidate(id parley.ConversationID) {
	s.mu.Lock()
	delete(s.cache, id)
	s.mu.Unlock()
}

// requireMember returns the group if user is a member; CodeNotFound
// "group_not_found" otherwise (a group is invisible to non-members).
func (s *Service) requireMember(ctx context.Context, id parley.ConversationID, user parley.UserID) (*cached, error) {
	if !id.Valid() {
		return nil, parley.Errorf(parley.CodeInvalid, parley.ReasonConversationID, "invalid group id")
	}
	c, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	if _, ok := c.roles[user]; !ok {
		return nil, errGroupNotFound
	}
	return c, nil
}

func notAdmin() error {
	return parley.Errorf(parley.CodeForbidden, parley.ReasonNotAdmin, "only group admins may do this")
}

// CanAdd reports whether adder may add user to a group directly, by the
// user's "who can add me to groups" privacy: everyone; contacts (the user
// has the adder in their contacts); nobody. Blocks refuse with CodeBlocked.
func (s *Service) CanAdd(ctx context.Context, adder, user parley.UserID) (bool, error) {
	if adder == user {
		return true, nil
	}
	for _, pair := range [][2]parley.UserID{{user, adder}, {adder, user}} {
		b, err := s.store.IsBlocked(ctx, pair[0], pair[1])
		if err != nil {
			return false, err
		}
		if b {
			if pair[0] == adder {
				return false, parley.Errorf(parley.CodeBlocked, parley.ReasonBlockedByYou, "you have blocked user %d", user)
			}
			return false, parley.Errorf(parley.CodeBlocked, parley.ReasonBlocked, "user %d has blocked you", user)
		}
	}
	v, err := s.store.GroupAddPrivacy(ctx, user)
	if err != nil {
		return false, err
	}
	switch v {
	case parley.VisibleNobody:
		return false, nil
	case parley.VisibleContacts:
		return s.store.IsContact(ctx, user, adder)
	}
	return true, nil
}

// CheckAdd splits users into those adder may add directly and those who must
// be invited.
func (s *Service) CheckAdd(ctx context.Context, adder parley.UserID, users []parley.UserID) (invite []parley.UserID, err error) {
	if len(users) > s.cfg.MaxMembers {
		return nil, parley.Errorf(parley.CodeTooLarge, parley.ReasonGroupFull, "a group has at most %d members", s.cfg.MaxMembers)
	}
	for _, u := range users {
		ok, err := s.CanAdd(ctx, adder, u)
		if err != nil {
			return nil, err
		}
		if !ok {
			invite = append(invite, u)
		}
	}
	return invite, nil
}

// Info is a group's details for display.
type Info struct {
	Group   parley.Group
	Members []parley.GroupMember
	// Devices are the members' active devices (with identity keys), filled
	// by Get only.
	Devices map[parley.UserID][]parley.Device
}

func (s *Service) validateInfo(g parley.Group) error {
	name := strings.TrimSpace(g.Name)
	switch {
	case name == "" || !utf8.ValidString(g.Name):
		return parley.Errorf(parley.CodeInvalid, parley.ReasonGroupName, "a group needs a name")
	case len(g.Name) > s.cfg.MaxNameLen:
		return parley.Errorf(parley.CodeTooLarge, ReasonGroupNameTooLong, "a group name has at most %d bytes", s.cfg.MaxNameLen)
	case len(g.Description) > s.cfg.MaxDescriptionLen || !utf8.ValidString(g.Description):
		return parley.Errorf(parley.CodeTooLarge, ReasonGroupDescriptionTooLong, "a group description has at most %d bytes", s.cfg.MaxDescriptionLen)
	case len(g.Icon) > s.cfg.MaxIconLen:
		return parley.Errorf(parley.CodeTooLarge, ReasonGroupIconTooLong, "a group icon reference has at most %d bytes", s.cfg.MaxIconLen)
	}
	return parley.CheckName(g.Name) // group and community names alike
}

// CreateGroup stores a new group conversation with its record: dev's user is
// its admin, the users of members its members. Every member user must be
// addable by the creator (CodeForbidden "invite_required" otherwise: invite
// them after creating the group). Called by delivery.Service.CreateConversation.
func (s *Service) CreateGroup(ctx context.Context, dev parley.Device, g parley.Group, c parley.Conversation, members []parley.Member, first []parley.Envelope) ([]parley.Envelope, error) {
	if err := s.validateInfo(g); err != nil {
		return nil, err
	}
	var users []parley.UserID
	for _, m := range members {
		if m.User != dev.User && !slices.Contains(users, m.User) {
			users = append(users, m.User)
		}
	}
	g.ID = c.ID
	switch {
	case g.Community == c.ID: // a new community: its announcement group
		g.Settings.OnlyAdminsSend = true
	case g.Community != "": // a new sub-group of a community
		if err := s.checkCommunityAdmin(ctx, dev, g.Community); err != nil {
			return nil, err
		}
		if err := s.checkCommunityRoom(ctx, g.Community); err != nil {
			return nil, err
		}
	}
	if limit := s.maxMembers(g); len(users)+1 > limit {
		return nil, parley.Errorf(parley.CodeTooLarge, parley.ReasonGroupFull, "at most %d members", limit)
	}
	for _, u := range users {
		ok, err := s.CanAdd(ctx, dev.User, u)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, parley.Errorf(parley.CodeForbidden, ReasonInviteRequired, "user %d must be invited to groups", u)
		}
	}
	g.ID, g.CreatedBy, g.CreatedAt = c.ID, dev.User, c.CreatedAt
	g.Name = strings.TrimSpace(g.Name)
	envs, err := s.store.CreateGroup(ctx, g, c, members, first)
	if err != nil {
		return nil, fmt.Errorf("create group %s: %w", c.ID, err)
	}
	s.invalidate(c.ID)
	return envs, nil
}

// AuthorizeCommit checks a commit to a group conversation and applies it
// with the group's membership record. members are the conversation's member
// devices before the commit; c.Remove lists only current members. Rules:
//   - adding users who are not members is for admins (CodeForbidden
//     "not_admin"), and only users whose privacy lets the committer add them
//     ("invite_required"), up to Config.MaxMembers users ("group_full");
//   - removing devices of another user is for admins;
//   - an external commit joins a device of a member user (a linked device)
//     or a user with a pending invitation, which it uses up ("not_invited");
//   - any member may commit key updates, its own devices' removal and the
//     removal of devices the server already dropped.
func (s *Service) AuthorizeCommit(ctx context.Context, dev parley.Device, members []parley.Member, c parley.Commit, external bool) ([]parley.Envelope, error) {
	gr, err := s.load(ctx, c.Conversation)
	if err != nil {
		return nil, err
	}
	limit := s.maxMembers(gr.group)
	gc := parley.GroupCommit{Commit: c, MaxMembers: limit}
	if external {
		if _, member := gr.roles[dev.User]; !member {
			if err := s.checkBanned(ctx, c.Conversation, dev.User); err != nil {
				return nil, err
			}
			_, err := s.store.GroupInvitation(ctx, c.Conversation, dev.User)
			switch {
			case err == nil:
				gc.ConsumeInvitation = dev.User
			case !parley.IsCode(err, parley.CodeNotFound):
				return nil, err
			case !s.inCommunityOf(ctx, gr.group, dev.User):
				return nil, parley.Errorf(parley.CodeForbidden, ReasonNotInvited, "you need an invitation to join this group")
			case gr.group.Settings.JoinApproval:
				return nil, errApprovalRequired
			}
			gc.AddUsers = []parley.UserID{dev.User}
		}
	} else {
		isAdmin := gr.roles[dev.User] == parley.RoleAdmin
		for _, m := range c.Add {
			if _, member := gr.roles[m.User]; member || slices.Contains(gc.AddUsers, m.User) {
				continue
			}
			if !isAdmin {
				return nil, notAdmin()
			}
			if err := s.checkOtherBanned(ctx, c.Conversation, m.User); err != nil {
				return nil, err
			}
			ok, err := s.CanAdd(ctx, dev.User, m.User)
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, parley.Errorf(parley.CodeForbidden, ReasonInviteRequired, "user %d must be invited to groups", m.User)
			}
			gc.AddUsers = append(gc.AddUsers, m.User)
			gc.RequireAdmin = dev.User
		}
		for _, d := range c.Remove {
			i := slices.IndexFunc(members, func(m parley.Member) bool { return m.Device == d })
			if i >= 0 && members[i].User != dev.User {
				if !isAdmin {
					return nil, notAdmin()
				}
				gc.RequireAdmin = dev.User
			}
		}
		if len(gr.roles)+len(gc.AddUsers) > limit {
			return nil, parley.Errorf(parley.CodeTooLarge, parley.ReasonGroupFull, "at most %d members", limit)
		}
	}
	envs, err := s.store.ApplyGroupCommit(ctx, gc)
	s.invalidate(c.Conversation)
	if err != nil {
		return nil, err
	}
	// The commit's own envelopes go back to delivery, which publishes them;
	// the community cascade's are published here.
	n := len(c.Envelopes)
	s.publishCascade(ctx, envs[n:], 0)
	return envs[:n], nil
}

// AuthorizeSend refuses an application message from user when the group
// allows only admins to send (CodeForbidden "admins_only_send"). It reads
// the cache: cheap enough for every send.
func (s *Service) AuthorizeSend(ctx context.Context, id parley.ConversationID, user parley.UserID) error {
	c, err := s.load(ctx, id)
	if err != nil {
		if parley.IsCode(err, parley.CodeNotFound) {
			return nil // a group conversation without a record: no settings
		}
		return err
	}
	if c.group.Settings.OnlyAdminsSend && c.roles[user] != parley.RoleAdmin {
		return parley.Errorf(parley.CodeForbidden, ReasonAdminsOnlySend, "only admins can send messages to this group")
	}
	return nil
}

// CanJoin reports (nil) whether dev may fetch the group's GroupInfo to join
// it by external commit: its user is a member or has an invitation.
// CodeNotFound "group_not_found" otherwise.
func (s *Service) CanJoin(ctx context.Context, dev parley.Device, id parley.ConversationID) error {
	c, err := s.load(ctx, id)
	if err != nil {
		return err
	}
	if _, ok := c.roles[dev.User]; ok {
		return nil
	}
	if err := s.checkBanned(ctx, id, dev.User); err != nil {
		return err
	}
	if !c.group.Settings.JoinApproval && s.inCommunityOf(ctx, c.group, dev.User) {
		return nil
	}
	if _, err := s.store.GroupInvitation(ctx, id, dev.User); err == nil {
		return nil
	} else if !parley.IsCode(err, parley.CodeNotFound) {
		return err
	}
	return errGroupNotFound
}

// Get returns a group's details, with its members' devices and identity
// keys, to one of its members or to a user invited to it (who validates the
// members' credentials before joining).
func (s *Service) Get(ctx context.Context, user parley.UserID, id parley.ConversationID) (Info, error) {
	if !id.Valid() {
		return Info{}, parley.Errorf(parley.CodeInvalid, parley.ReasonConversationID, "invalid group id")
	}
	if err := s.CanJoin(ctx, parley.Device{User: user}, id); err != nil {
		return Info{}, err
	}
	g, err := s.store.Group(ctx, id)
	if err != nil {
		return Info{}, err
	}
	ms, err := s.store.GroupMembers(ctx, id)
	if err != nil {
		return Info{}, err
	}
	info := Info{Group: g, Members: ms, Devices: make(map[parley.UserID][]parley.Device, len(ms))}
	for _, m := range ms {
		ds, err := s.store.Devices(ctx, m.User)
		if err != nil {
			return Info{}, err
		}
		info.Devices[m.User] = slices.DeleteFunc(ds, func(d parley.Device) bool { return !d.Active() })
	}
	return info, nil
}

// List returns the groups the user is a member of, with their members.
func (s *Service) List(ctx context.Context, user parley.UserID) ([]Info, error) {
	gs, err := s.store.GroupsOfUser(ctx, user)
	if err != nil {
		return nil, err
	}
	out := make([]Info, 0, len(gs))
	for _, g := range gs {
		ms, err := s.store.GroupMembers(ctx, g.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, Info{Group: g, Members: ms})
	}
	return out, nil
}

// Update is a change of a group's info or settings; nil fields stay.
type Update struct {
	Name, Description, Icon            *string
	OnlyAdminsSend, OnlyAdminsEditInfo *bool
	JoinApproval                       *bool // sub-groups of a community only
}

// changeEnvelope is the system envelope carrying p.
func (s *Service) changeEnvelope(id parley.ConversationID, p parley.GroupChange) parley.Envelope {
	now := s.clock.Now()
	payload, _ := json.Marshal(p)
	return parley.Envelope{Conversation: id, ClientID: parley.ClientMessageID(fmt.Sprintf("%s/%d/%d", p.Change, p.By, now.UnixNano())),
		Kind: parley.EnvelopeSystem, Payload: payload, CreatedAt: now}
}

// Update changes a group's info (admins only when OnlyAdminsEditInfo is set:
// CodeForbidden "admins_only_edit_info") or settings (admins only:
// "not_admin"; JoinApproval only on a community's sub-group: CodeInvalid
// "not_sub_group"), and appends a system envelope with a parley.GroupChange that
// reaches every member device.
func (s *Service) Update(ctx context.Context, dev parley.Device, id parley.ConversationID, u Update) error {
	c, err := s.requireMember(ctx, id, dev.User)
	if err != nil {
		return err
	}
	g, err := s.store.Group(ctx, id)
	if err != nil {
		return err
	}
	admin := c.roles[dev.User] == parley.RoleAdmin
	if (u.OnlyAdminsSend != nil || u.OnlyAdminsEditInfo != nil || u.JoinApproval != nil) && !admin {
		return notAdmin()
	}
	if u.OnlyAdminsSend != nil && !*u.OnlyAdminsSend && g.IsCommunity() {
		return parley.Errorf(parley.CodeInvalid, ReasonAnnouncementOnly, "only admins post to a community's announcements")
	}
	if u.JoinApproval != nil && (g.Community == "" || g.IsCommunity()) {
		return parley.Errorf(parley.CodeInvalid, ReasonNotSubGroup, "only a community's sub-groups can ask members to request to join")
	}
	if (u.Name != nil || u.Description != nil || u.Icon != nil) && g.Settings.OnlyAdminsEditInfo && !admin {
		return parley.Errorf(parley.CodeForbidden, ReasonAdminsOnlyEditInfo, "only admins can change this group's info")
	}
	p := parley.GroupChange{Change: "info", By: dev.User}
	if u.Name != nil {
		g.Name = strings.TrimSpace(*u.Name)
		p.Name = &g.Name
	}
	if u.Description != nil {
		g.Description = *u.Description
		p.Description = u.Description
	}
	if u.Icon != nil {
		g.Icon = *u.Icon
		p.Icon = u.Icon
	}
	if u.OnlyAdminsSend != nil {
		g.Settings.OnlyAdminsSend = *u.OnlyAdminsSend
		p.OnlyAdminsSend = u.OnlyAdminsSend
	}
	if u.OnlyAdminsEditInfo != nil {
		g.Settings.OnlyAdminsEditInfo = *u.OnlyAdminsEditInfo
		p.OnlyAdminsEditInfo = u.OnlyAdminsEditInfo
	}
	if u.JoinApproval != nil {
		g.Settings.JoinApproval = *u.JoinApproval
		p.JoinApproval = u.JoinApproval
	}
	if err := s.validateInfo(g); err != nil {
		return err
	}
	env, err := s.store.UpdateGroup(ctx, g, s.changeEnvelope(id, p))
	s.invalidate(id)
	if err != nil {
		return err
	}
	s.announce(ctx, id, env)
	return nil
}

// SetRole promotes (admin) or demotes a member, appending a system envelope
// with a parley.GroupChange that reaches every member device. Admins only;
// demoting the last admin is refused (CodeForbidden "last_admin").
func (s *Service) SetRole(ctx context.Context, dev parley.Device, id parley.ConversationID, user parley.UserID, admin bool) error {
	c, err := s.requireMember(ctx, id, dev.User)
	if err != nil {
		return err
	}
	if c.roles[dev.User] != parley.RoleAdmin {
		return notAdmin()
	}
	if _, ok := c.roles[user]; !ok {
		return parley.Errorf(parley.CodeNotFound, parley.ReasonNotMember, "user %d is not a member of the group", user)
	}
	role := parley.RoleMember
	if admin {
		role = parley.RoleAdmin
	}
	env, err := s.store.SetGroupRole(ctx, id, user, role, s.changeEnvelope(id, parley.GroupChange{Change: "role", By: dev.User, User: user, Admin: &admin}))
	s.invalidate(id)
	if err != nil {
		return err
	}
	s.announce(ctx, id, env)
	return nil
}

// announce publishes a system envelope to every member device and tells
// them the group changed.
func (s *Service) announce(ctx context.Context, id parley.ConversationID, env parley.Envelope) {
	ms, err := s.store.Members(ctx, id)
	if err != nil {
		s.log.Warn("group members", "group", id, "err", err)
		return
	}
	all := make([]parley.DeviceID, 0, len(ms))
	for _, m := range ms {
		all = append(all, m.Device)
	}
	s.publish(ctx, id, []parley.Envelope{env}, all, all)
}

// LeftPayload is the JSON payload of the system envelope appended when a
// user leaves a group, or is removed from a community's sub-group because
// they left the community (Community set). Remaining devices then commit
// the MLS removal of the departed devices (as for a revoked device).
type LeftPayload struct {
	LeftUser  parley.UserID `json:"left_user"`
	Community bool          `json:"community,omitempty"`
}

// Leave removes the user and all their devices from the group at once; if
// they were the last admin, the longest-standing member becomes admin. A
// system envelope {"left_user":U} tells the remaining devices, which commit
// the MLS removal.
func (s *Service) Leave(ctx context.Context, dev parley.Device, id parley.ConversationID) error {
	if _, err := s.requireMember(ctx, id, dev.User); err != nil {
		return err
	}
	payload, _ := json.Marshal(LeftPayload{LeftUser: dev.User})
	env := parley.Envelope{Conversation: id, ClientID: parley.ClientMessageID(fmt.Sprintf("left/%d/%d", dev.User, s.clock.Now().UnixNano())),
		Kind: parley.EnvelopeSystem, Payload: payload, CreatedAt: s.clock.Now()}
	removed, envs, err := s.store.LeaveGroup(ctx, id, dev.User, env)
	s.invalidate(id)
	if err != nil {
		return err
	}
	s.publishRemoval(ctx, envs[:1], removed)
	s.publishCascade(ctx, envs[1:], dev.User)
	return nil
}

// publishRemoval publishes envelopes announcing a removal to the remaining
// member devices and to the removed ones.
func (s *Service) publishRemoval(ctx context.Context, envs []parley.Envelope, removed []parley.DeviceID) {
	for _, e := range envs {
		ms, err := s.store.Members(ctx, e.Conversation)
		if err != nil {
			s.log.Warn("members after removal", "group", e.Conversation, "err", err)
		}
		to := make([]parley.DeviceID, 0, len(ms)+len(removed))
		for _, m := range ms {
			to = append(to, m.Device)
		}
		to = append(to, removed...)
		s.publish(ctx, e.Conversation, []parley.Envelope{e}, to, to)
	}
}

// publishCascade publishes the system envelopes the community cascade
// appended to sub-groups; users are those removed (nil: read from the
// payloads).
func (s *Service) publishCascade(ctx context.Context, envs []parley.Envelope, user parley.UserID) {
	for _, e := range envs {
		s.invalidate(e.Conversation)
		u := user
		if u == 0 {
			var p LeftPayload
			_ = json.Unmarshal(e.Payload, &p)
			u = p.LeftUser
		}
		var removed []parley.DeviceID
		if ds, err := s.store.Devices(ctx, u); err == nil {
			for _, d := range ds {
				removed = append(removed, d.ID)
			}
		}
		s.publishRemoval(ctx, []parley.Envelope{e}, removed)
	}
}

// Invite invites a user who is not a member (admins only). The invitation
// lets them fetch the GroupInfo and join by external commit.
func (s *Service) Invite(ctx context.Context, dev parley.Device, id parley.ConversationID, user parley.UserID) error {
	c, err := s.requireMember(ctx, id, dev.User)
	if err != nil {
		return err
	}
	if c.roles[dev.User] != parley.RoleAdmin {
		return notAdmin()
	}
	if _, ok := c.roles[user]; ok {
		return parley.Errorf(parley.CodeConflict, parley.ReasonAlreadyMember, "user %d is already a member", user)
	}
	if limit := s.maxMembers(c.group); len(c.roles) >= limit {
		return parley.Errorf(parley.CodeTooLarge, parley.ReasonGroupFull, "at most %d members", limit)
	}
	if err := s.checkOtherBanned(ctx, id, user); err != nil {
		return err
	}
	if b, err := s.store.IsBlocked(ctx, user, dev.User); err != nil {
		return err
	} else if b {
		return parley.Errorf(parley.CodeBlocked, parley.ReasonBlocked, "user %d has blocked you", user)
	}
	return s.store.PutGroupInvitation(ctx, parley.GroupInvitation{Group: id, User: user, InvitedBy: dev.User, CreatedAt: s.clock.Now()})
}

// Invitation is a pending invitation with the group's name.
type Invitation struct {
	parley.GroupInvitation
	Name string
}

// Invitations lists the user's pending invitations.
func (s *Service) Invitations(ctx context.Context, user parley.UserID) ([]Invitation, error) {
	invs, err := s.store.GroupInvitations(ctx, user)
	if err != nil {
		return nil, err
	}
	out := make([]Invitation, 0, len(invs))
	for _, inv := range invs {
		g, err := s.store.Group(ctx, inv.Group)
		if err != nil {
			continue
		}
		out = append(out, Invitation{GroupInvitation: inv, Name: g.Name})
	}
	return out, nil
}

// Decline deletes the user's invitation to a group.
func (s *Service) Decline(ctx context.Context, user parley.UserID, id parley.ConversationID) error {
	return s.store.DeleteGroupInvitation(ctx, id, user)
}

// SetAddPrivacy sets who may add the user to groups.
func (s *Service) SetAddPrivacy(ctx context.Context, user parley.UserID, v parley.Visibility) error {
	if v == "" || !v.Valid() {
		return parley.Errorf(parley.CodeInvalid, parley.ReasonVisibility, "who can add me must be everyone, contacts or nobody")
	}
	return s.store.SetGroupAddPrivacy(ctx, user, v)
}

func (s *Service) publish(ctx context.Context, id parley.ConversationID, envs []parley.Envelope, to, notify []parley.DeviceID) {
	if s.pub != nil {
		s.pub.PublishGroupChange(ctx, id, envs, to, notify)
	}
}

// UserDevices returns user's devices (revoked ones included, for old
// commits) to a viewer who shares a group with them now or shared one in
// the past (parley.GroupStore.SharesGroup): members validate the
// credentials of everyone in the group's MLS history, including users who
// have left. CodeNotFound "user_not_found" otherwise.
func (s *Service) UserDevices(ctx context.Context, viewer, user parley.UserID) ([]parley.Device, error) {
	ok, err := s.store.SharesGroup(ctx, viewer, user)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, parley.Errorf(parley.CodeNotFound, parley.ReasonUserNotFound, "no such user")
	}
	return s.store.Devices(ctx, user)
}

// LinkOptions are an invite link's limits.
type LinkOptions struct {
	ExpiresIn time.Duration // 0: never
	MaxUses   int           // 0: unlimited
	Approve   bool          // joining needs an admin's approval
}

var tokenEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// TokenHash is the hash the server keeps of an invite link's token.
func TokenHash(token string) []byte {
	h := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(token))))
	return h[:]
}

// LinkID is the public handle of the link with this token hash.
func LinkID(hash []byte) string { return hex.EncodeToString(hash[:8]) }

func (s *Service) requireAdmin(ctx context.Context, dev parley.Device, id parley.ConversationID) error {
	c, err := s.requireMember(ctx, id, dev.User)
	if err != nil {
		return err
	}
	if c.roles[dev.User] != parley.RoleAdmin {
		return notAdmin()
	}
	return nil
}

// CreateLink creates an invite link (admins only) and returns its secret
// token (128 random bits; the server keeps only its hash).
func (s *Service) CreateLink(ctx context.Context, dev parley.Device, id parley.ConversationID, o LinkOptions) (string, parley.GroupInviteLink, error) {
	if err := s.requireAdmin(ctx, dev, id); err != nil {
		return "", parley.GroupInviteLink{}, err
	}
	if o.ExpiresIn < 0 || o.MaxUses < 0 {
		return "", parley.GroupInviteLink{}, parley.Errorf(parley.CodeInvalid, parley.ReasonInviteLimits, "expiry and use limit must not be negative")
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	token := strings.ToLower(tokenEncoding.EncodeToString(b[:]))
	hash := TokenHash(token)
	now := s.clock.Now()
	l := parley.GroupInviteLink{ID: LinkID(hash), TokenHash: hash, Group: id, CreatedBy: dev.User, CreatedAt: now,
		MaxUses: o.MaxUses, Approve: o.Approve}
	if o.ExpiresIn > 0 {
		l.ExpiresAt = now.Add(o.ExpiresIn)
	}
	if err := s.store.PutInviteLink(ctx, l); err != nil {
		return "", parley.GroupInviteLink{}, err
	}
	return token, l, nil
}

// Links lists a group's invite links (admins only).
func (s *Service) Links(ctx context.Context, dev parley.Device, id parley.ConversationID) ([]parley.GroupInviteLink, error) {
	if err := s.requireAdmin(ctx, dev, id); err != nil {
		return nil, err
	}
	return s.store.InviteLinks(ctx, id)
}

// RevokeLink revokes an invite link (admins only): it can no longer be
// used; invitations it already gave stay.
func (s *Service) RevokeLink(ctx context.Context, dev parley.Device, id parley.ConversationID, linkID string) error {
	if err := s.requireAdmin(ctx, dev, id); err != nil {
		return err
	}
	return s.store.RevokeInviteLink(ctx, id, linkID)
}

// Redeemed is the outcome of using an invite link.
type Redeemed struct {
	Group   parley.ConversationID
	Name    string
	Pending bool // a join request waits for an admin's approval
}

// Redeem uses an invite link: the caller is invited (and joins by external
// commit from the group's GroupInfo, no admin online needed) or, when the
// link needs approval, asks to join. Errors: CodeNotFound
// "invite_not_found"; CodeExpired "invite_expired", "invite_revoked",
// "invite_used_up"; CodeConflict "already_member".
func (s *Service) Redeem(ctx context.Context, dev parley.Device, token string) (Redeemed, error) {
	l, err := s.store.RedeemInviteLink(ctx, TokenHash(token), dev.User, s.clock.Now())
	if err != nil {
		return Redeemed{}, err
	}
	g, err := s.store.Group(ctx, l.Group)
	if err != nil {
		return Redeemed{}, err
	}
	_, err = s.store.GroupInvitation(ctx, l.Group, dev.User)
	if err != nil && !parley.IsCode(err, parley.CodeNotFound) {
		return Redeemed{}, err
	}
	// Pending until an admin approved (which turns the request into an invitation).
	return Redeemed{Group: l.Group, Name: g.Name, Pending: err != nil}, nil
}

// JoinRequests lists a group's pending join requests (admins only).
func (s *Service) JoinRequests(ctx context.Context, dev parley.Device, id parley.ConversationID) ([]parley.GroupJoinRequest, error) {
	if err := s.requireAdmin(ctx, dev, id); err != nil {
		return nil, err
	}
	return s.store.JoinRequests(ctx, id)
}

// DecideJoinRequest approves (the user is invited and may join) or rejects
// a join request (admins only). CodeNotFound "no_request".
func (s *Service) DecideJoinRequest(ctx context.Context, dev parley.Device, id parley.ConversationID, user parley.UserID, approve bool) error {
	if err := s.requireAdmin(ctx, dev, id); err != nil {
		return err
	}
	return s.store.DecideJoinRequest(ctx, id, user, approve, dev.User, s.clock.Now())
}

// DisappearDurations are the disappearing-messages timers a chat may have
// (0: off).
var DisappearDurations = []time.Duration{0, 24 * time.Hour, 7 * 24 * time.Hour, 90 * 24 * time.Hour}

// TimerPayload is the JSON payload of the system envelope announcing a
// chat's disappearing-messages timer.
type TimerPayload struct {
	DisappearSeconds int64         `json:"disappear_s"`
	By               parley.UserID `json:"by"`
}

// SetTimer sets a chat's disappearing-messages timer (one of
// DisappearDurations; CodeInvalid "disappear_duration"). Any member device
// of the chat may, except in a group whose info only admins edit
// (CodeForbidden "admins_only_edit_info"). A system envelope tells every
// device, which deletes messages older than the timer; the server deletes
// them from the log (Run).
func (s *Service) SetTimer(ctx context.Context, dev parley.Device, id parley.ConversationID, ttl time.Duration) error {
	if !slices.Contains(DisappearDurations, ttl) {
		return parley.Errorf(parley.CodeInvalid, ReasonDisappearDuration, "disappearing messages are off, 24h, 7d or 90d")
	}
	if err := s.requireDevice(ctx, dev, id); err != nil {
		return err
	}
	if c, err := s.load(ctx, id); err == nil {
		if c.group.Settings.OnlyAdminsEditInfo && c.roles[dev.User] != parley.RoleAdmin {
			return parley.Errorf(parley.CodeForbidden, ReasonAdminsOnlyEditInfo, "only admins can change this group's settings")
		}
	} else if !parley.IsCode(err, parley.CodeNotFound) {
		return err
	}
	now := s.clock.Now()
	payload, _ := json.Marshal(TimerPayload{DisappearSeconds: int64(ttl / time.Second), By: dev.User})
	env, err := s.store.SetChatTimer(ctx, id, ttl, parley.Envelope{Conversation: id, ClientID: parley.ClientMessageID(fmt.Sprintf("timer/%d", now.UnixNano())),
		Kind: parley.EnvelopeSystem, Payload: payload, CreatedAt: now})
	if err != nil {
		return err
	}
	ms, err := s.store.Members(ctx, id)
	if err != nil {
		return err
	}
	to := make([]parley.DeviceID, 0, len(ms))
	for _, m := range ms {
		to = append(to, m.Device)
	}
	s.publish(ctx, id, []parley.Envelope{env}, to, nil)
	return nil
}

// Timer returns a chat's disappearing-messages timer to a member device.
func (s *Service) Timer(ctx context.Context, dev parley.Device, id parley.ConversationID) (time.Duration, error) {
	if err := s.requireDevice(ctx, dev, id); err != nil {
		return 0, err
	}
	return s.store.ChatTimer(ctx, id)
}

// requireDevice refuses a device that is not a member of the conversation
// (CodeNotFound "conversation_not_found", as for a missing one).
func (s *Service) requireDevice(ctx context.Context, dev parley.Device, id parley.ConversationID) error {
	if !id.Valid() {
		return parley.Errorf(parley.CodeInvalid, parley.ReasonConversationID, "invalid conversation id")
	}
	if _, err := s.store.Member(ctx, id, dev.ID); err != nil {
		if parley.IsCode(err, parley.CodeNotFound) {
			return parley.Errorf(parley.CodeNotFound, parley.ReasonConversationNotFound, "no such conversation")
		}
		return err
	}
	return nil
}

// PruneDisappearing deletes the disappeared messages from the log now.
func (s *Service) PruneDisappearing(ctx context.Context) (int, error) {
	return s.store.PruneDisappearing(ctx, s.clock.Now())
}

// Run deletes disappeared messages from the log every
// Config.PruneInterval until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	t := time.NewTicker(s.cfg.PruneInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if n, err := s.PruneDisappearing(ctx); err != nil && ctx.Err() == nil {
				s.log.Error("prune disappearing messages", "err", err)
			} else if n > 0 {
				s.log.Info("pruned disappearing messages", "count", n)
			}
		}
	}
}

// maxMembers is the member limit of g.
func (s *Service) maxMembers(g parley.Group) int {
	if g.IsCommunity() {
		return s.cfg.MaxCommunity
	}
	return s.cfg.MaxMembers
}

// inCommunityOf reports whether user is a member of the community g is a
// sub-group of (community members may join its sub-groups).
func (s *Service) inCommunityOf(ctx context.Context, g parley.Group, user parley.UserID) bool {
	if g.Community == "" || g.IsCommunity() {
		return false
	}
	c, err := s.load(ctx, g.Community)
	if err != nil {
		return false
	}
	_, ok := c.roles[user]
	return ok
}

// checkCommunityAdmin refuses dev unless it is an admin of the community id.
func (s *Service) checkCommunityAdmin(ctx context.Context, dev parley.Device, id parley.ConversationID) error {
	c, err := s.requireMember(ctx, id, dev.User)
	if err != nil {
		return err
	}
	if !c.group.IsCommunity() {
		return parley.Errorf(parley.CodeInvalid, parley.ReasonNotCommunity, "%s is not a community", id)
	}
	if c.roles[dev.User] != parley.RoleAdmin {
		return notAdmin()
	}
	return nil
}

// checkCommunityRoom refuses a new sub-group when the community has
// MaxCommunityGroups (CodeTooLarge "too_many_groups").
func (s *Service) checkCommunityRoom(ctx context.Context, id parley.ConversationID) error {
	subs, err := s.store.CommunityGroups(ctx, id)
	if err != nil {
		return err
	}
	if len(subs) >= s.cfg.MaxCommunityGroups {
		return parley.Errorf(parley.CodeTooLarge, ReasonTooManyGroups, "a community has at most %d groups", s.cfg.MaxCommunityGroups)
	}
	return nil
}

// AttachGroup puts an existing group under a community (admins of both).
// CodeConflict "in_community" if it already belongs to one.
func (s *Service) AttachGroup(ctx context.Context, dev parley.Device, community, id parley.ConversationID) error {
	if err := s.checkCommunityAdmin(ctx, dev, community); err != nil {
		return err
	}
	if err := s.requireAdmin(ctx, dev, id); err != nil {
		return err
	}
	g, err := s.store.Group(ctx, id)
	if err != nil {
		return err
	}
	if g.Community == community {
		return nil
	}
	if g.Community != "" {
		return parley.Errorf(parley.CodeConflict, ReasonInCommunity, "the group already belongs to a community")
	}
	if err := s.checkCommunityRoom(ctx, community); err != nil {
		return err
	}
	g.Community = community
	env, err := s.store.UpdateGroup(ctx, g, s.changeEnvelope(id, parley.GroupChange{Change: "community", By: dev.User, Community: &community}))
	s.invalidate(id)
	if err != nil {
		return err
	}
	s.announce(ctx, id, env)
	return nil
}

// DetachGroup removes a sub-group from its community (community admins);
// it stays a plain group with its members.
func (s *Service) DetachGroup(ctx context.Context, dev parley.Device, community, id parley.ConversationID) error {
	if err := s.checkCommunityAdmin(ctx, dev, community); err != nil {
		return err
	}
	g, err := s.store.Group(ctx, id)
	if err != nil || g.Community != community || g.IsCommunity() {
		return errGroupNotFound
	}
	g.Community, g.Settings.JoinApproval = "", false
	none := parley.ConversationID("")
	env, err := s.store.UpdateGroup(ctx, g, s.changeEnvelope(id, parley.GroupChange{Change: "community", By: dev.User, Community: &none}))
	s.invalidate(id)
	if err != nil {
		return err
	}
	s.announce(ctx, id, env)
	return nil
}

// errApprovalRequired refuses a community member's direct join of a
// sub-group that needs an admin's approval.
var errApprovalRequired = parley.Errorf(parley.CodeForbidden, ReasonApprovalRequired, "an admin must approve your request to join this group")

// RequestJoin asks to join a sub-group, of a community the caller is in,
// whose admins approve new members (JoinApproval); the request appears in
// JoinRequests and an approval invites the user, who then joins by
// external commit. Asking again while a request is pending changes
// nothing. Errors: CodeNotFound "group_not_found" (not a sub-group of a
// community the caller is in), CodeInvalid "approval_not_required" (join
// directly), CodeConflict "already_member".
func (s *Service) RequestJoin(ctx context.Context, dev parley.Device, id parley.ConversationID) error {
	c, err := s.load(ctx, id)
	if err != nil {
		return err
	}
	if _, member := c.roles[dev.User]; member {
		return parley.Errorf(parley.CodeConflict, parley.ReasonAlreadyMember, "you are already a member of this group")
	}
	if c.group.IsCommunity() || !s.inCommunityOf(ctx, c.group, dev.User) {
		return errGroupNotFound
	}
	if err := s.checkBanned(ctx, id, dev.User); err != nil {
		return err
	}
	if !c.group.Settings.JoinApproval {
		return parley.Errorf(parley.CodeInvalid, ReasonApprovalNotRequired, "join this group directly: it needs no approval")
	}
	if err := s.store.RequestToJoin(ctx, id, dev.User, s.clock.Now()); err != nil {
		return err
	}
	// Tell the admins' devices, so their clients can show the request.
	var admins []parley.DeviceID
	for u, role := range c.roles {
		if role != parley.RoleAdmin {
			continue
		}
		devs, err := s.store.Devices(ctx, u)
		if err != nil {
			s.log.Warn("admin devices", "group", id, "err", err)
			continue
		}
		for _, d := range devs {
			if d.Active() {
				admins = append(admins, d.ID)
			}
		}
	}
	s.publish(ctx, id, nil, nil, admins)
	return nil
}

// CommunityGroup is a community's sub-group as a member sees it.
type CommunityGroup struct {
	Group   parley.Group
	Members int
	Member  bool // the viewer is a member
	Pending bool // the viewer asked to join and awaits an admin's approval
}

// CommunityGroups lists a community's sub-groups to its members.
func (s *Service) CommunityGroups(ctx context.Context, user parley.UserID, community parley.ConversationID) ([]CommunityGroup, error) {
	c, err := s.requireMember(ctx, community, user)
	if err != nil {
		return nil, err
	}
	if !c.group.IsCommunity() {
		return nil, parley.Errorf(parley.CodeInvalid, parley.ReasonNotCommunity, "%s is not a community", community)
	}
	subs, err := s.store.CommunityGroups(ctx, community)
	if err != nil {
		return nil, err
	}
	out := make([]CommunityGroup, 0, len(subs))
	for _, g := range subs {
		gc, err := s.load(ctx, g.ID)
		if err != nil {
			return nil, err
		}
		_, member := gc.roles[user]
		pending := false
		if !member && g.Settings.JoinApproval {
			reqs, err := s.store.JoinRequests(ctx, g.ID)
			if err != nil {
				return nil, err
			}
			pending = slices.ContainsFunc(reqs, func(r parley.GroupJoinRequest) bool { return r.User == user })
		}
		out = append(out, CommunityGroup{Group: g, Members: len(gc.roles), Member: member, Pending: pending})
	}
	return out, nil
}
