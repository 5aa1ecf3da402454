package parley

import (
	"context"
	"time"
)

// GroupRole is a member's role in a group.
type GroupRole string

// The roles.
const (
	RoleMember GroupRole = "member"
	RoleAdmin  GroupRole = "admin"
)

// GroupSettings are the switches admins control.
type GroupSettings struct {
	OnlyAdminsSend     bool // only admins may send application messages
	OnlyAdminsEditInfo bool // only admins may change name, description and icon
	// JoinApproval makes members of the community ask to join this
	// sub-group: an admin approves the request (which invites them) before
	// they can join. Without it any community member may join directly.
	JoinApproval bool
}

// Group is the server's record of a group conversation (KindGroup): its info
// and settings. Its ID is the conversation's ID. The group's members are
// users; their devices are the conversation's members.
type Group struct {
	ID          ConversationID
	Name        string
	Description string
	Icon        string // a media blob reference, or ""
	Settings    GroupSettings
	CreatedBy   UserID
	CreatedAt   time.Time
	// Community is the community the group belongs to: its own ID for a
	// community's announcement group (the community itself: every member
	// is in it, only admins post), the announcement group's ID for one of
	// the community's sub-groups, "" for a plain group.
	Community ConversationID
}

// IsCommunity reports whether g is a community (its announcement group).
func (g Group) IsCommunity() bool { return g.Community != "" && g.Community == g.ID }

// GroupMember is one user's membership of a group.
type GroupMember struct {
	Group    ConversationID
	User     UserID
	Role     GroupRole
	JoinedAt time.Time
}

// GroupInvitation is a pending invitation of a user to a group, made when the
// user's "who can add me to groups" privacy does not let the inviter add
// them directly. The user accepts by joining with an external commit.
type GroupInvitation struct {
	Group     ConversationID
	User      UserID
	InvitedBy UserID
	CreatedAt time.Time
}

// GroupInviteLink is a link that lets whoever has it join a group (or ask
// to, when Approve is set). The server keeps only a hash of its secret token.
type GroupInviteLink struct {
	ID        string // public handle: hex of the first 8 bytes of TokenHash
	TokenHash []byte // SHA-256 of the link's secret token
	Group     ConversationID
	CreatedBy UserID
	CreatedAt time.Time
	ExpiresAt time.Time // zero: never
	MaxUses   int       // 0: unlimited
	Uses      int
	Approve   bool // joining needs an admin's approval
	Revoked   bool
}

// GroupJoinRequest is a request to join a group made through a link that
// needs approval.
type GroupJoinRequest struct {
	Group     ConversationID
	User      UserID
	CreatedAt time.Time
}

// GroupCommit is an MLS commit to a group conversation together with the
// change it makes to the group's user-level membership record, applied by
// GroupStore.ApplyGroupCommit in one transaction.
type GroupCommit struct {
	Commit
	// AddUsers become members (role member) if they are not members yet.
	// Users whose every device the commit removes stop being members.
	AddUsers []UserID
	// RequireAdmin, when not 0, must be an admin of the group when the
	// commit is applied, else CodeForbidden "not_admin" and nothing changes.
	RequireAdmin UserID
	// ConsumeInvitation, when not 0, is a user whose pending invitation the
	// commit uses: it is deleted (CodeNotFound "no_invitation" if there is
	// none, and nothing changes).
	ConsumeInvitation UserID
	// MaxMembers, when > 0, bounds the member users after the commit
	// (CodeTooLarge "group_full").
	MaxMembers int
}

// GroupStore keeps groups. It is separate from Store: a Store that also
// implements GroupStore enables groups (server wiring checks by type
// assertion). Implementations pass the contract suite in groups/grouptest.
//
// Guarantees, beyond those of Store:
//   - The user-level membership record never drifts from the conversation's
//     member devices: it changes only in the same transaction as them
//     (CreateGroup, ApplyGroupCommit, LeaveGroup).
//   - A group with at least one member always has an admin: when the last
//     admin leaves or is removed, the longest-standing remaining member
//     (earliest JoinedAt, then lowest UserID) becomes admin in the same
//     transaction; demoting the last admin is refused (CodeForbidden
//     "last_admin").
//   - ApplyGroupCommit has ApplyCommit's epoch check: of concurrent commits
//     for one epoch exactly one succeeds, the others get CodeConflict
//     "wrong_epoch".
type GroupStore interface {
	// CreateGroup stores the conversation (as CreateConversation does, c.Kind
	// must be KindGroup), g, g.CreatedBy as admin and every other user of
	// members as member, in one transaction. An existing ID returns
	// CodeConflict "conversation_exists".
	CreateGroup(ctx context.Context, g Group, c Conversation, members []Member, first []Envelope) ([]Envelope, error)
	// Group returns the group's record; CodeNotFound if there is none.
	Group(ctx context.Context, id ConversationID) (Group, error)
	// UpdateGroup replaces the group's name, description, icon, settings
	// and community and appends env, the system envelope announcing the
	// change, in one transaction. It returns env with its Seq.
	UpdateGroup(ctx context.Context, g Group, env Envelope) (Envelope, error)
	// GroupMembers lists the member users, by JoinedAt then UserID.
	GroupMembers(ctx context.Context, id ConversationID) ([]GroupMember, error)
	// GroupsOfUser lists the groups the user is a member of, by ID.
	GroupsOfUser(ctx context.Context, user UserID) ([]Group, error)
	// SetGroupRole sets a member's role and appends env, the system
	// envelope announcing it, in one transaction; it returns env with its
	// Seq. CodeNotFound "not_member" if the user is not a member;
	// CodeForbidden "last_admin" if it would leave the group without an
	// admin.
	SetGroupRole(ctx context.Context, id ConversationID, user UserID, role GroupRole, env Envelope) (Envelope, error)
	// ApplyGroupCommit applies c.Commit as ConversationStore.ApplyCommit does
	// and changes the user-level record as GroupCommit describes, in one
	// transaction (with the community cascade, see LeaveGroup). It returns
	// c.Envelopes with their Seq, then the cascade's system envelopes.
	ApplyGroupCommit(ctx context.Context, c GroupCommit) ([]Envelope, error)
	// LeaveGroup removes every device of user from the conversation and the
	// user from the group (promoting an admin if needed) and appends env, in
	// one transaction. It returns the removed devices and the appended
	// envelopes: env with its Seq, then those of the community cascade.
	// CodeNotFound "not_member" if the user is not a member.
	//
	// Community cascade (here and in ApplyGroupCommit): a user who stops
	// being a member of a community (its announcement group) is removed, in
	// the same transaction, from every sub-group of the community, each
	// getting a system envelope {"left_user":U,"community":true} appended.
	LeaveGroup(ctx context.Context, id ConversationID, user UserID, env Envelope) ([]DeviceID, []Envelope, error)
	// CommunityGroups lists a community's sub-groups, by ID.
	CommunityGroups(ctx context.Context, community ConversationID) ([]Group, error)

	// PutGroupInvitation creates or refreshes an invitation.
	PutGroupInvitation(ctx context.Context, inv GroupInvitation) error
	// GroupInvitations lists the user's pending invitations, oldest first.
	GroupInvitations(ctx context.Context, user UserID) ([]GroupInvitation, error)
	// GroupInvitation returns one invitation; CodeNotFound if there is none.
	GroupInvitation(ctx context.Context, id ConversationID, user UserID) (GroupInvitation, error)
	// DeleteGroupInvitation deletes an invitation; deleting a missing one is
	// a no-op.
	DeleteGroupInvitation(ctx context.Context, id ConversationID, user UserID) error

	// PutInviteLink stores a new link.
	PutInviteLink(ctx context.Context, l GroupInviteLink) error
	// InviteLinks lists a group's links, revoked ones included, oldest first.
	InviteLinks(ctx context.Context, id ConversationID) ([]GroupInviteLink, error)
	// RevokeInviteLink revokes a link of the group; revoking twice is a
	// no-op. CodeNotFound "invite_not_found" for an unknown link.
	RevokeInviteLink(ctx context.Context, id ConversationID, linkID string) error
	// RedeemInviteLink uses the link with this token hash for user at now,
	// in one transaction: CodeNotFound "invite_not_found"; CodeExpired
	// "invite_revoked", "invite_expired" or "invite_used_up"; CodeConflict
	// "already_member"; CodeForbidden "banned_from_group" for a user banned
	// from the group (ModerationStore). Otherwise it counts a use and creates an invitation
	// for the user (InvitedBy = the link's creator), or, for a link that
	// needs approval, a join request. Redeeming while an invitation or a
	// request of the user is pending changes nothing and counts no use.
	RedeemInviteLink(ctx context.Context, tokenHash []byte, user UserID, now time.Time) (GroupInviteLink, error)
	// RequestToJoin records user's request to join the group at now (a
	// community member asking to join a sub-group that needs approval).
	// CodeConflict "already_member" if the user is a member; a request or
	// invitation already pending changes nothing.
	RequestToJoin(ctx context.Context, id ConversationID, user UserID, now time.Time) error
	// JoinRequests lists a group's pending join requests, oldest first.
	JoinRequests(ctx context.Context, id ConversationID) ([]GroupJoinRequest, error)
	// DecideJoinRequest deletes a pending request and, when approve is set,
	// turns it into an invitation from by. CodeNotFound "no_request".
	DecideJoinRequest(ctx context.Context, id ConversationID, user UserID, approve bool, by UserID, now time.Time) error

	// SetChatTimer sets the disappearing-messages timer of a conversation
	// of any kind (0: off) and appends env, the system envelope announcing
	// it, in one transaction. CodeNotFound for an unknown conversation.
	SetChatTimer(ctx context.Context, id ConversationID, ttl time.Duration, env Envelope) (Envelope, error)
	// ChatTimer returns a conversation's timer (0 when off or never set).
	ChatTimer(ctx context.Context, id ConversationID) (time.Duration, error)
	// PruneDisappearing deletes, in bounded transactions, the application
	// envelopes of conversations with a timer that were created before now
	// minus the timer (handshake envelopes stay, so devices catch up on the
	// group's state). It returns how many it deleted.
	PruneDisappearing(ctx context.Context, now time.Time) (int, error)

	// GroupAddPrivacy returns who may add the user to groups (VisibleEveryone
	// when never set).
	// SharesGroup reports whether viewer is a member of, or invited to, a
	// group that user is, was (left or removed), or is invited to be a
	// member of: viewer may then see user's device identity keys, to
	// validate their credentials in the group's MLS history.
	SharesGroup(ctx context.Context, viewer, user UserID) (bool, error)

	GroupAddPrivacy(ctx context.Context, user UserID) (Visibility, error)
	SetGroupAddPrivacy(ctx context.Context, user UserID, v Visibility) error
}

// GroupChange is the JSON payload of the system envelope the server appends,
// in the same transaction, when a group's info, settings or a member's role
// changes, so that every device (including those offline at the time) has
// the change in the chat's history. Change is "info" (the fields set are
// the new values), "role" (User became an admin or a member) or
// "community" (the group joined or left a community).
type GroupChange struct {
	Change             string  `json:"group_change"`
	By                 UserID  `json:"by"`
	Name               *string `json:"name,omitempty"`
	Description        *string `json:"description,omitempty"`
	Icon               *string `json:"icon,omitempty"`
	OnlyAdminsSend     *bool   `json:"only_admins_send,omitempty"`
	OnlyAdminsEditInfo *bool   `json:"only_admins_edit_info,omitempty"`
	JoinApproval       *bool   `json:"join_approval,omitempty"`
	User               UserID  `json:"user,omitempty"`
	Admin              *bool   `json:"admin,omitempty"`
	// Community is the community the group joined ("" when it left one)
	// for Change "community".
	Community *ConversationID `json:"community,omitempty"`
}
