package apiclient

import (
	"context"
	"encoding/json"
	"net/url"
	"strconv"
	"time"

	"github.com/parleyhq/parley"
)

// AdminPath is the prefix of the operator's admin API (docs/admin-api.md);
// its routes take the operator token (New with Bearer).
const AdminPath = "/admin/v1"

// AdminUser is an account as the admin API shows it.
type AdminUser struct {
	ID          parley.UserID `json:"id"`
	Phone       string        `json:"phone"`
	Name        string        `json:"name"`
	Username    string        `json:"username,omitempty"`
	CreatedAt   time.Time     `json:"created_at"`
	LastSeenAt  time.Time     `json:"last_seen_at,omitzero"`
	SuspendedAt time.Time     `json:"suspended_at,omitzero"`
	Devices     []AdminDevice `json:"devices,omitempty"`
}

// AdminDevice is one device of an account.
type AdminDevice struct {
	ID        parley.DeviceID `json:"id"`
	User      parley.UserID   `json:"user"`
	Name      string          `json:"name"`
	Primary   bool            `json:"primary"`
	CreatedAt time.Time       `json:"created_at"`
	RevokedAt time.Time       `json:"revoked_at,omitzero"`
	Online    bool            `json:"online"`
}

// AdminGroup is a group or community with its size.
type AdminGroup struct {
	ID        parley.ConversationID `json:"id"`
	Name      string                `json:"name"`
	Community bool                  `json:"community"`
	In        parley.ConversationID `json:"in,omitempty"`
	Members   int                   `json:"members"`
	CreatedBy parley.UserID         `json:"created_by"`
	CreatedAt time.Time             `json:"created_at,omitzero"`
}

// AdminDeletedGroup is the answer of a group's deletion.
type AdminDeletedGroup struct {
	ID      parley.ConversationID `json:"id"`
	Removed int                   `json:"removed"`
}

// AdminBusiness is a business profile as the admin API shows it.
type AdminBusiness struct {
	User       parley.UserID `json:"user"`
	Name       string        `json:"name"`
	Category   string        `json:"category,omitempty"`
	Verified   bool          `json:"verified"`
	VerifiedAt time.Time     `json:"verified_at,omitzero"`
	Hosted     bool          `json:"hosted"`
}

// AdminStats are the server's counts.
type AdminStats struct {
	Users         int            `json:"users"`
	Suspended     int            `json:"suspended"`
	Devices       int            `json:"devices"`
	OnlineDevices int            `json:"online_devices"`
	Conversations map[string]int `json:"conversations"`
	Envelopes     int            `json:"envelopes"`
	Blobs         int            `json:"blobs"`
	BlobBytes     int64          `json:"blob_bytes"`
}

// AuditEntry is one entry of the admin audit log.
type AuditEntry struct {
	ID     int64           `json:"id"`
	At     time.Time       `json:"at"`
	Actor  string          `json:"actor"`
	Action string          `json:"action"`
	Target string          `json:"target"`
	Detail json.RawMessage `json:"detail,omitempty"`
}

func adminQuery(kv ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" && kv[i+1] != "0" {
			q.Set(kv[i], kv[i+1])
		}
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

// AdminUsers lists accounts by ID after `after` (find: by phone prefix,
// username prefix or name).
func (c *Client) AdminUsers(ctx context.Context, find string, after parley.UserID, limit int) ([]AdminUser, error) {
	var l list[AdminUser]
	q := adminQuery("find", find, "after", strconv.FormatInt(int64(after), 10), "limit", strconv.Itoa(limit))
	return l.Data, c.Call(ctx, "GET", AdminPath+"/users"+q, nil, &l)
}

// AdminUser shows one account with its devices; user is +PHONE, @username
// or uID.
func (c *Client) AdminUser(ctx context.Context, user string) (AdminUser, error) {
	var u AdminUser
	return u, c.Call(ctx, "GET", AdminPath+"/users/"+url.PathEscape(user), nil, &u)
}

// AdminDevices lists an account's devices, revoked ones included.
func (c *Client) AdminDevices(ctx context.Context, user string) ([]AdminDevice, error) {
	var l list[AdminDevice]
	return l.Data, c.Call(ctx, "GET", AdminPath+"/users/"+url.PathEscape(user)+"/devices", nil, &l)
}

// AdminRevokeDevice revokes one device of an account.
func (c *Client) AdminRevokeDevice(ctx context.Context, user string, device parley.DeviceID) (AdminDevice, error) {
	var d AdminDevice
	return d, c.Call(ctx, "POST", AdminPath+"/users/"+url.PathEscape(user)+"/devices/"+strconv.FormatInt(int64(device), 10)+"/revoke", nil, &d)
}

// AdminSuspend suspends an account, closing its sessions.
func (c *Client) AdminSuspend(ctx context.Context, user, reason string) (AdminUser, error) {
	var u AdminUser
	return u, c.Call(ctx, "POST", AdminPath+"/users/"+url.PathEscape(user)+"/suspend", map[string]string{"reason": reason}, &u)
}

// AdminUnsuspend lifts an account's suspension.
func (c *Client) AdminUnsuspend(ctx context.Context, user string) (AdminUser, error) {
	var u AdminUser
	return u, c.Call(ctx, "POST", AdminPath+"/users/"+url.PathEscape(user)+"/unsuspend", nil, &u)
}

// AdminGroups lists groups and communities with at least minMembers
// members (0 includes deleted groups, which have none), largest first.
func (c *Client) AdminGroups(ctx context.Context, minMembers, limit int) ([]AdminGroup, error) {
	var l list[AdminGroup]
	q := "?min_members=" + strconv.Itoa(minMembers)
	if limit > 0 {
		q += "&limit=" + strconv.Itoa(limit)
	}
	return l.Data, c.Call(ctx, "GET", AdminPath+"/groups"+q, nil, &l)
}

// AdminDeleteGroup removes every member of a group or community and
// closes its invitations and links.
func (c *Client) AdminDeleteGroup(ctx context.Context, id parley.ConversationID) (AdminDeletedGroup, error) {
	var d AdminDeletedGroup
	return d, c.Call(ctx, "DELETE", AdminPath+"/groups/"+url.PathEscape(string(id)), nil, &d)
}

// AdminBusinesses lists business profiles by user ID after `after`.
func (c *Client) AdminBusinesses(ctx context.Context, after parley.UserID, limit int) ([]AdminBusiness, error) {
	var l list[AdminBusiness]
	q := adminQuery("after", strconv.FormatInt(int64(after), 10), "limit", strconv.Itoa(limit))
	return l.Data, c.Call(ctx, "GET", AdminPath+"/businesses"+q, nil, &l)
}

// AdminSetVerified sets or clears a business's verified mark.
func (c *Client) AdminSetVerified(ctx context.Context, user string, verified bool) (AdminBusiness, error) {
	var b AdminBusiness
	return b, c.Call(ctx, "POST", AdminPath+"/businesses/"+url.PathEscape(user)+"/verified", map[string]bool{"verified": verified}, &b)
}

// AdminStats reads the server's counts.
func (c *Client) AdminStats(ctx context.Context) (AdminStats, error) {
	var s AdminStats
	return s, c.Call(ctx, "GET", AdminPath+"/stats", nil, &s)
}

// AdminAudit lists the audit log newest first, entries below before (0:
// from the newest).
func (c *Client) AdminAudit(ctx context.Context, before int64, limit int) ([]AuditEntry, error) {
	var l list[AuditEntry]
	q := adminQuery("before", strconv.FormatInt(before, 10), "limit", strconv.Itoa(limit))
	return l.Data, c.Call(ctx, "GET", AdminPath+"/audit"+q, nil, &l)
}
