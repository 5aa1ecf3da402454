// Package groups is how people get into groups beyond being added:
// invite links (with limits and admin approval), join requests, and
// communities with their sub-groups (docs/groups.md). It also holds the
// group types the client's group API uses.
//
// Access runs inside a client.Client, which embeds it: its methods are the
// Client's (c.CreateInviteLink, c.JoinByLink, c.CreateCommunity, …). It
// reaches the client only through Core.
package groups

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client/localstore"
	"github.com/parleyhq/parley/content"
	"github.com/parleyhq/parley/proto/parleypb"
)

// Group is a group as the server describes it to a member.
type Group struct {
	ID                 parley.ConversationID
	Name               string
	Description        string
	Icon               string
	OnlyAdminsSend     bool
	OnlyAdminsEditInfo bool
	// JoinApproval: community members ask to join this sub-group and an
	// admin approves (JoinCommunityGroup sends the request).
	JoinApproval bool
	CreatedBy    parley.UserID
	CreatedAt    time.Time
	Members      []GroupMember
	// Community is the group's community: its own ID for a community (its
	// announcement group), the community's for a sub-group, else "".
	Community parley.ConversationID
}

// IsCommunity reports whether g is a community's announcement group.
func (g Group) IsCommunity() bool { return g.Community != "" && g.Community == g.ID }

// GroupMember is one member user of a group.
type GroupMember struct {
	User     parley.UserID
	Admin    bool
	JoinedAt time.Time
	Devices  []localstore.DeviceKey // filled by Group (not Groups)
}

// IsAdmin reports whether user is an admin of g.
func (g Group) IsAdmin(user parley.UserID) bool {
	return slices.ContainsFunc(g.Members, func(m GroupMember) bool { return m.User == user && m.Admin })
}

// IsMember reports whether user is a member of g.
func (g Group) IsMember(user parley.UserID) bool {
	return slices.ContainsFunc(g.Members, func(m GroupMember) bool { return m.User == user })
}

// GroupOptions are a new group's optional info and settings.
type GroupOptions struct {
	Description        string
	Icon               string // a media blob reference
	OnlyAdminsSend     bool
	OnlyAdminsEditInfo bool
	// Community, when set, creates the group as a sub-group of this
	// community (its admins only).
	Community parley.ConversationID
}

// GroupAddResult reports who a create or add put in the group directly and
// who was invited instead (their "who can add me to groups" privacy, or no
// device able to receive a Welcome).
type GroupAddResult struct {
	Group   Group
	Added   []parley.UserID
	Invited []parley.UserID
}

// GroupUpdate changes a group's info or settings; nil fields stay.
type GroupUpdate struct {
	Name, Description, Icon            *string
	OnlyAdminsSend, OnlyAdminsEditInfo *bool
	JoinApproval                       *bool // a community's sub-groups only
}

// GroupInvitation is a pending invitation to a group.
type GroupInvitation struct {
	Group     parley.ConversationID
	Name      string
	InvitedBy parley.UserID
	At        time.Time
}

// LinkPrefix starts every invite link: the rest is the link's secret token.
const LinkPrefix = "parley://join/"

// InviteLink is a group's invite link. Link (with the secret token) is known
// only to the admin who created it, right after creating it.
type InviteLink struct {
	ID        string
	Link      string
	Group     parley.ConversationID
	CreatedBy parley.UserID
	CreatedAt time.Time
	ExpiresAt time.Time // zero: never
	MaxUses   int       // 0: unlimited
	Uses      int
	Approve   bool
	Revoked   bool
}

// LinkOptions are a new invite link's limits.
type LinkOptions struct {
	ExpiresIn time.Duration // 0: never
	MaxUses   int           // 0: unlimited
	Approve   bool          // joining needs an admin's approval
}

// JoinResult is the outcome of JoinByLink.
type JoinResult struct {
	Group   Group // for a pending request only ID and Name are set
	Pending bool  // an admin must approve; run JoinByLink again afterwards
}

// JoinRequest is a request to join a group, made through a link that needs
// approval.
type JoinRequest struct {
	User parley.UserID
	At   time.Time
}

// CommunityGroup is a community's sub-group as a member sees it.
type CommunityGroup struct {
	ID          parley.ConversationID
	Name        string
	Description string
	Members     int
	Member      bool // this user is a member
	// JoinApproval: joining needs an admin's approval; Pending: this user
	// asked and waits for it.
	JoinApproval bool
	Pending      bool
}

// Core is what Access needs of the client it runs in.
type Core interface {
	// Request sends a request on an authenticated session (retrying once
	// on a lost connection) and returns the reply; an Error reply is a
	// *parley.Error.
	Request(ctx context.Context, f *parleypb.ClientFrame) (*parleypb.ServerFrame, error)
	// RequestOnce is Request without the retry, for a request that
	// creates something new.
	RequestOnce(ctx context.Context, f *parleypb.ClientFrame) (*parleypb.ServerFrame, error)
	Account() localstore.Account
	Store() localstore.Store
	// Group returns a group by id or unambiguous name, with its members.
	Group(ctx context.Context, ref string) (Group, error)
	// NewGroup creates a group (a community when community is set).
	NewGroup(ctx context.Context, name string, members []string, opts GroupOptions, community bool) (GroupAddResult, error)
	GroupInvitations(ctx context.Context) ([]GroupInvitation, error)
	AcceptGroupInvitation(ctx context.Context, ref string) (Group, error)
	// JoinExternal joins the group conv by an MLS external commit.
	JoinExternal(ctx context.Context, conv parley.ConversationID) error
	SendText(ctx context.Context, chat, text string, replyTo parley.Seq) (content.MessageRecord, error)
}

// Access is the invite-link and community side of one client. Its zero
// value is not usable: New makes one.
type Access struct {
	core Core
}

// New returns the Access of the client core.
func New(core Core) *Access { return &Access{core: core} }

func errorf(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", op, err)
}
