package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/groups"
)

// The JSON answers. apiclient's admin types mirror them; docs/admin-api.md
// documents them.

// User is an account as the operator sees it.
type User struct {
	ID          parley.UserID `json:"id"`
	Phone       string        `json:"phone"`
	Name        string        `json:"name"`
	Username    string        `json:"username,omitempty"`
	CreatedAt   time.Time     `json:"created_at"`
	LastSeenAt  time.Time     `json:"last_seen_at,omitzero"`
	SuspendedAt time.Time     `json:"suspended_at,omitzero"`
	Devices     []Device      `json:"devices,omitempty"` // in a single user's answer
}

// Device is one device of an account.
type Device struct {
	ID        parley.DeviceID `json:"id"`
	User      parley.UserID   `json:"user"`
	Name      string          `json:"name"`
	Primary   bool            `json:"primary"`
	CreatedAt time.Time       `json:"created_at"`
	RevokedAt time.Time       `json:"revoked_at,omitzero"`
	Online    bool            `json:"online"` // a session on the node that answered
}

// Group is a group or community with its size.
type Group struct {
	ID        parley.ConversationID `json:"id"`
	Name      string                `json:"name"`
	Community bool                  `json:"community"`           // a community (its announcement group)
	In        parley.ConversationID `json:"in,omitempty"`        // the community of a sub-group
	Members   int                   `json:"members"`             // member users
	CreatedBy parley.UserID         `json:"created_by"`          //
	CreatedAt time.Time             `json:"created_at,omitzero"` //
}

// DeletedGroup is the answer of a group's deletion.
type DeletedGroup struct {
	ID      parley.ConversationID `json:"id"`
	Removed int                   `json:"removed"` // member users removed
}

// Business is a business profile as the operator sees it.
type Business struct {
	User       parley.UserID `json:"user"`
	Name       string        `json:"name"`
	Category   string        `json:"category,omitempty"`
	Verified   bool          `json:"verified"`
	VerifiedAt time.Time     `json:"verified_at,omitzero"`
	Hosted     bool          `json:"hosted"`
}

// Stats are the server's counts.
type Stats struct {
	Users         int            `json:"users"`
	Suspended     int            `json:"suspended"`
	Devices       int            `json:"devices"`        // active devices
	OnlineDevices int            `json:"online_devices"` // with a session on the node that answered
	Conversations map[string]int `json:"conversations"`  // by kind: direct, group
	Envelopes     int            `json:"envelopes"`      // messages stored (not yet pruned)
	Blobs         int            `json:"blobs"`
	BlobBytes     int64          `json:"blob_bytes"`
}

// AuditEntry is one entry of the audit log.
type AuditEntry struct {
	ID     int64           `json:"id"`
	At     time.Time       `json:"at"`
	Actor  string          `json:"actor"`
	Action string          `json:"action"`
	Target string          `json:"target"`
	Detail json.RawMessage `json:"detail,omitempty"`
}

// List is the {"data":[…]} envelope of every list.
type List[T any] struct {
	Data []T `json:"data"`
}

// SuspendRequest is the optional body of a suspension.
type SuspendRequest struct {
	Reason string `json:"reason,omitempty"`
}

// VerifiedRequest is the body of the verified mark's route.
type VerifiedRequest struct {
	Verified bool `json:"verified"`
}

// The audit log's actions.
const (
	ActionListUsers    = "list_users"
	ActionViewUser     = "view_user"
	ActionListDevices  = "list_devices"
	ActionRevokeDevice = "revoke_device"
	ActionSuspend      = "suspend"
	ActionUnsuspend    = "unsuspend"
	ActionDeleteGroup  = "delete_group"
	ActionVerify       = "verify"
	ActionUnverify     = "unverify"
)

// MaxReason bounds a suspension's reason.
const MaxReason = 500

func (s *Service) routes() {
	s.handle("GET "+Path+"users", s.listUsers)
	s.handle("GET "+Path+"users/{user}", s.viewUser)
	s.handle("GET "+Path+"users/{user}/devices", s.listDevices)
	s.handle("POST "+Path+"users/{user}/devices/{device}/revoke", s.revokeDevice)
	s.handle("POST "+Path+"users/{user}/suspend", s.suspend)
	s.handle("POST "+Path+"users/{user}/unsuspend", s.unsuspend)
	s.handle("GET "+Path+"groups", s.listGroups)
	s.handle("DELETE "+Path+"groups/{id}", s.deleteGroup)
	s.handle("GET "+Path+"businesses", s.listBusinesses)
	s.handle("POST "+Path+"businesses/{user}/verified", s.setVerified)
	s.handle("GET "+Path+"stats", s.stats)
	s.handle("GET "+Path+"audit", s.auditLog)
	s.reportRoutes() // reports.go
	s.mux.HandleFunc(Path, func(w http.ResponseWriter, r *http.Request) {
		writeError(w, parley.Errorf(parley.CodeNotFound, parley.ReasonNotFound, "no admin route %s %s", r.Method, r.URL.Path))
	})
}

func userJSON(u parley.User) User {
	return User{ID: u.ID, Phone: u.Phone, Name: u.Name, Username: u.Username, CreatedAt: u.CreatedAt,
		LastSeenAt: u.LastSeenAt, SuspendedAt: u.SuspendedAt}
}

func (s *Service) deviceJSON(d parley.Device) Device {
	return Device{ID: d.ID, User: d.User, Name: d.Name, Primary: d.Primary, CreatedAt: d.CreatedAt,
		RevokedAt: d.RevokedAt, Online: d.Active() && s.cfg.Delivery.DeviceOnline(d.ID)}
}

// queryInt reads a non-negative integer query parameter (def when absent).
func queryInt(r *http.Request, name string, def int64) (int64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(strings.TrimPrefix(v, "u"), 10, 64)
	if err != nil || n < 0 {
		return 0, parley.Errorf(parley.CodeInvalid, ReasonBadQuery, "%s must be a non-negative number", name)
	}
	return n, nil
}

// pageLimit is a list's page size from its ?limit=: 1 to 1000, default 100.
func pageLimit(r *http.Request) (int, error) {
	limit, err := queryInt(r, "limit", 100)
	return int(min(max(limit, 1), 1000)), err
}

// FindUser resolves a user spec: +PHONE, @username, uID or ID.
func FindUser(ctx context.Context, st parley.AccountStore, spec string) (parley.User, error) {
	var u parley.User
	var err error
	switch {
	case strings.HasPrefix(spec, "+"):
		u, err = st.UserByPhone(ctx, spec)
	case strings.HasPrefix(spec, "@") && len(spec) > 1:
		u, err = st.UserByUsername(ctx, spec[1:])
	default:
		id, perr := strconv.ParseInt(strings.TrimPrefix(spec, "u"), 10, 64)
		if perr != nil || id <= 0 {
			return parley.User{}, parley.Errorf(parley.CodeInvalid, ReasonBadUser, "%q: a user is +PHONE, @username or uID", spec)
		}
		u, err = st.User(ctx, parley.UserID(id))
	}
	if parley.IsCode(err, parley.CodeNotFound) {
		return parley.User{}, parley.Errorf(parley.CodeNotFound, parley.ReasonUserNotFound, "no user %s", spec)
	}
	return u, err
}

func userTarget(id parley.UserID) string { return "user:" + strconv.FormatInt(int64(id), 10) }

func (s *Service) listUsers(r *http.Request) (any, error) {
	after, err := queryInt(r, "after", 0)
	if err != nil {
		return nil, err
	}
	limit, err := pageLimit(r)
	if err != nil {
		return nil, err
	}
	find := r.URL.Query().Get("find")
	us, err := s.cfg.Store.AdminUsers(r.Context(), parley.AdminUserQuery{Find: find, After: parley.UserID(after), Limit: limit})
	if err != nil {
		return nil, err
	}
	out := List[User]{Data: make([]User, 0, len(us))}
	for _, u := range us {
		out.Data = append(out.Data, userJSON(u))
	}
	detail := map[string]any{"results": len(out.Data)}
	if find != "" {
		detail["find"] = find
	}
	return out, s.audit(r.Context(), ActionListUsers, "users", detail)
}

func (s *Service) devices(ctx context.Context, u parley.UserID) ([]Device, error) {
	ds, err := s.cfg.Store.Devices(ctx, u)
	if err != nil {
		return nil, err
	}
	out := make([]Device, 0, len(ds))
	for _, d := range ds {
		out = append(out, s.deviceJSON(d))
	}
	return out, nil
}

func (s *Service) viewUser(r *http.Request) (any, error) {
	u, err := FindUser(r.Context(), s.cfg.Store, r.PathValue("user"))
	if err != nil {
		return nil, err
	}
	out := userJSON(u)
	if out.Devices, err = s.devices(r.Context(), u.ID); err != nil {
		return nil, err
	}
	return out, s.audit(r.Context(), ActionViewUser, userTarget(u.ID), nil)
}

func (s *Service) listDevices(r *http.Request) (any, error) {
	u, err := FindUser(r.Context(), s.cfg.Store, r.PathValue("user"))
	if err != nil {
		return nil, err
	}
	ds, err := s.devices(r.Context(), u.ID)
	if err != nil {
		return nil, err
	}
	return List[Device]{Data: ds}, s.audit(r.Context(), ActionListDevices, userTarget(u.ID), nil)
}

// revokeDevice revokes any device of the user, the primary included (the
// account then signs in again by re-registering its number), as the
// account's own removal does: the device leaves its conversations (each
// gets the system envelope of the removal) and its sessions close (4003).
func (s *Service) revokeDevice(r *http.Request) (any, error) {
	ctx := r.Context()
	u, err := FindUser(ctx, s.cfg.Store, r.PathValue("user"))
	if err != nil {
		return nil, err
	}
	id, err := strconv.ParseInt(strings.TrimPrefix(r.PathValue("device"), "d"), 10, 64)
	if err != nil || id <= 0 {
		return nil, parley.Errorf(parley.CodeInvalid, parley.ReasonDeviceNotFound, "%q is not a device ID", r.PathValue("device"))
	}
	d, err := s.cfg.Store.Device(ctx, parley.DeviceID(id))
	if parley.IsCode(err, parley.CodeNotFound) {
		return nil, parley.Errorf(parley.CodeNotFound, parley.ReasonDeviceNotFound, "no such device")
	}
	if err != nil {
		return nil, err
	}
	if d.User != u.ID {
		return nil, parley.Errorf(parley.CodeNotFound, ReasonWrongUser, "device %d is not a device of user %d", d.ID, u.ID)
	}
	already := !d.Active()
	convs, err := s.cfg.Store.RevokeDevice(ctx, d.ID, s.cfg.Clock.Now())
	if err != nil {
		return nil, err
	}
	if err := s.cfg.Delivery.DeviceRevoked(ctx, d, convs); err != nil {
		s.cfg.Log.WarnContext(ctx, "admin revoke: tell conversations", "device", d.ID, "err", err)
	}
	if d, err = s.cfg.Store.Device(ctx, d.ID); err != nil {
		return nil, err
	}
	out := s.deviceJSON(d)
	return out, s.audit(ctx, ActionRevokeDevice, "device:"+strconv.FormatInt(id, 10),
		map[string]any{"user": u.ID, "conversations": len(convs), "already_revoked": already})
}

func (s *Service) suspend(r *http.Request) (any, error) {
	var req SuspendRequest
	if err := decodeBody(r, &req); err != nil {
		return nil, err
	}
	if len(req.Reason) > MaxReason {
		return nil, parley.Errorf(parley.CodeTooLarge, ReasonBodyTooLarge, "a reason is at most %d bytes", MaxReason)
	}
	return s.setSuspended(r, true, req.Reason)
}

func (s *Service) unsuspend(r *http.Request) (any, error) { return s.setSuspended(r, false, "") }

func (s *Service) setSuspended(r *http.Request, suspend bool, reason string) (any, error) {
	ctx := r.Context()
	u, err := FindUser(ctx, s.cfg.Store, r.PathValue("user"))
	if err != nil {
		return nil, err
	}
	was := !u.SuspendedAt.IsZero()
	if suspend != was {
		at := time.Time{}
		if suspend {
			at = s.cfg.Clock.Now()
		}
		if err := s.cfg.Store.SetSuspended(ctx, u.ID, at); err != nil {
			return nil, err
		}
		u.SuspendedAt = at
		s.cfg.Delivery.SuspensionChanged(ctx, u.ID)
	}
	closed := 0
	if suspend {
		// Close every live session, also when the account was already
		// suspended (a session that signed in just before): the
		// revocation event of each device; on reconnecting, sign-in is
		// refused "account_suspended".
		ds, err := s.cfg.Store.Devices(ctx, u.ID)
		if err != nil {
			return nil, err
		}
		for _, d := range ds {
			if d.Active() {
				if err := s.cfg.Delivery.DeviceRevoked(ctx, d, nil); err != nil {
					return nil, err
				}
				closed++
			}
		}
	}
	action, detail := ActionUnsuspend, map[string]any{"changed": suspend != was}
	if suspend {
		action, detail["devices"] = ActionSuspend, closed
		if reason != "" {
			detail["reason"] = reason
		}
	}
	return userJSON(u), s.audit(ctx, action, userTarget(u.ID), detail)
}

func groupJSON(g parley.AdminGroup) Group {
	out := Group{ID: g.ID, Name: g.Name, Community: g.IsCommunity(), Members: g.Members, CreatedBy: g.CreatedBy, CreatedAt: g.CreatedAt}
	if !out.Community {
		out.In = g.Community
	}
	return out
}

// listGroups lists groups with at least min_members member users (default
// 1: a deleted group, with none, is listed only with min_members=0).
func (s *Service) listGroups(r *http.Request) (any, error) {
	minMembers, err := queryInt(r, "min_members", 1)
	if err != nil {
		return nil, err
	}
	limit, err := pageLimit(r)
	if err != nil {
		return nil, err
	}
	gs, err := s.cfg.Store.AdminGroups(r.Context(), int(min(minMembers, 1<<30)), limit)
	if err != nil {
		return nil, err
	}
	out := List[Group]{Data: make([]Group, 0, len(gs))}
	for _, g := range gs {
		out.Data = append(out.Data, groupJSON(g))
	}
	return out, nil
}

// deleteGroup removes every member user from the group (for a community,
// the cascade removes them from its sub-groups too) and closes every way
// back in (invitations, invite links, join requests). Each member's
// clients get the group's "left" system envelope for every member, as when
// members leave, and the group drops from their lists; the group's record
// and log stay until retention prunes the log, with no member.
func (s *Service) deleteGroup(r *http.Request) (any, error) {
	ctx := r.Context()
	id := parley.ConversationID(r.PathValue("id"))
	g, err := s.cfg.Store.Group(ctx, id)
	if parley.IsCode(err, parley.CodeNotFound) || !id.Valid() {
		return nil, parley.Errorf(parley.CodeNotFound, ReasonNotGroup, "no group or community %s", id)
	}
	if err != nil {
		return nil, err
	}
	members, err := s.cfg.Store.GroupMembers(ctx, id)
	if err != nil {
		return nil, err
	}
	closeIDs := []parley.ConversationID{id}
	if g.IsCommunity() {
		subs, err := s.cfg.Store.CommunityGroups(ctx, id)
		if err != nil {
			return nil, err
		}
		for _, sg := range subs {
			closeIDs = append(closeIDs, sg.ID)
		}
	}
	// Close the entries first, so nobody joins while members are removed.
	for _, c := range closeIDs {
		if err := s.cfg.Store.CloseGroupEntry(ctx, c); err != nil {
			return nil, err
		}
	}
	removed := 0
	now := s.cfg.Clock.Now()
	for _, m := range members {
		payload, _ := json.Marshal(groups.LeftPayload{LeftUser: m.User})
		env := parley.Envelope{Conversation: id, ClientID: parley.ClientMessageID(fmt.Sprintf("admin-deleted/%d/%d", m.User, now.UnixNano())),
			Kind: parley.EnvelopeSystem, Payload: payload, CreatedAt: now}
		devs, envs, err := s.cfg.Store.LeaveGroup(ctx, id, m.User, env)
		if parley.IsCode(err, parley.CodeNotFound) {
			continue // left meanwhile
		}
		if err != nil {
			return nil, err
		}
		removed++
		s.publishRemoval(ctx, envs, devs)
	}
	s.cfg.Groups.Forget(closeIDs)
	return DeletedGroup{ID: id, Removed: removed}, s.audit(ctx, ActionDeleteGroup, "group:"+string(id),
		map[string]any{"name": g.Name, "community": g.IsCommunity(), "members": removed})
}

// publishRemoval delivers removal envelopes to each conversation's
// remaining members and the removed devices, as the group service does.
func (s *Service) publishRemoval(ctx context.Context, envs []parley.Envelope, removed []parley.DeviceID) {
	for _, e := range envs {
		ms, err := s.cfg.Store.Members(ctx, e.Conversation)
		if err != nil {
			s.cfg.Log.WarnContext(ctx, "admin delete group: members", "group", e.Conversation, "err", err)
		}
		to := make([]parley.DeviceID, 0, len(ms)+len(removed))
		for _, m := range ms {
			to = append(to, m.Device)
		}
		to = append(to, removed...)
		s.cfg.Delivery.PublishGroupChange(ctx, e.Conversation, []parley.Envelope{e}, to, to)
	}
}

func businessJSON(p parley.BusinessProfile) Business {
	return Business{User: p.User, Name: p.Name, Category: p.Category, Verified: p.Verified, VerifiedAt: p.VerifiedAt, Hosted: p.Hosted}
}

func (s *Service) listBusinesses(r *http.Request) (any, error) {
	after, err := queryInt(r, "after", 0)
	if err != nil {
		return nil, err
	}
	limit, err := pageLimit(r)
	if err != nil {
		return nil, err
	}
	ps, err := s.cfg.Store.BusinessProfiles(r.Context(), parley.UserID(after), limit)
	if err != nil {
		return nil, err
	}
	out := List[Business]{Data: make([]Business, 0, len(ps))}
	for _, p := range ps {
		out.Data = append(out.Data, businessJSON(p))
	}
	return out, nil
}

func (s *Service) setVerified(r *http.Request) (any, error) {
	ctx := r.Context()
	var req VerifiedRequest
	if err := decodeBody(r, &req); err != nil {
		return nil, err
	}
	u, err := FindUser(ctx, s.cfg.Store, r.PathValue("user"))
	if err != nil {
		return nil, err
	}
	if _, err := s.cfg.Store.BusinessProfile(ctx, u.ID); parley.IsCode(err, parley.CodeNotFound) {
		return nil, parley.Errorf(parley.CodeNotFound, parley.ReasonNotBusiness, "user %d has no business profile", u.ID)
	} else if err != nil {
		return nil, err
	}
	if err := s.cfg.Business.SetVerified(ctx, u.ID, req.Verified); err != nil {
		return nil, err
	}
	p, err := s.cfg.Store.BusinessProfile(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	action := ActionVerify
	if !req.Verified {
		action = ActionUnverify
	}
	return businessJSON(p), s.audit(ctx, action, userTarget(u.ID), nil)
}

func (s *Service) stats(r *http.Request) (any, error) {
	st, err := s.cfg.Store.AdminStats(r.Context())
	if err != nil {
		return nil, err
	}
	out := Stats{Users: st.Users, Suspended: st.Suspended, Devices: st.Devices, OnlineDevices: s.cfg.Delivery.OnlineDevices(),
		Conversations: map[string]int{}, Envelopes: st.Envelopes, Blobs: st.Blobs, BlobBytes: st.BlobBytes}
	for k, n := range st.Conversations {
		out.Conversations[string(k)] = n
	}
	return out, nil
}

func (s *Service) auditLog(r *http.Request) (any, error) {
	before, err := queryInt(r, "before", 0)
	if err != nil {
		return nil, err
	}
	limit, err := pageLimit(r)
	if err != nil {
		return nil, err
	}
	es, err := s.cfg.Store.AuditLog(r.Context(), before, limit)
	if err != nil {
		return nil, err
	}
	out := List[AuditEntry]{Data: make([]AuditEntry, 0, len(es))}
	for _, e := range es {
		out.Data = append(out.Data, AuditEntry(e))
	}
	return out, nil
}
