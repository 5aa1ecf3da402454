package groups

// Reasons of the errors this package returns, beside their codes; every
// one is listed in docs/protocol.md (the root package's reasons test checks).
const (
	ReasonAdminsOnlyEditInfo      = "admins_only_edit_info"      // CodeForbidden: only admins can change this group's info
	ReasonAdminsOnlySend          = "admins_only_send"           // CodeForbidden: only admins can send messages to this group
	ReasonAnnouncementOnly        = "announcement_only"          // CodeInvalid: only admins post to a community's announcements
	ReasonApprovalNotRequired     = "approval_not_required"      // CodeInvalid: join this group directly: it needs no approval
	ReasonApprovalRequired        = "approval_required"          // CodeForbidden: an admin must approve your request to join this group
	ReasonBanAdmin                = "ban_admin"                  // CodeForbidden: an admin cannot be banned: demote them first
	ReasonBanSelf                 = "ban_self"                   // CodeInvalid: you cannot ban yourself
	ReasonDisappearDuration       = "disappear_duration"         // CodeInvalid: disappearing messages are off, 24h, 7d or 90d
	ReasonGroupDescriptionTooLong = "group_description_too_long" // CodeTooLarge: a group description has at most … bytes
	ReasonGroupIconTooLong        = "group_icon_too_long"        // CodeTooLarge: a group icon reference has at most … bytes
	ReasonGroupNameTooLong        = "group_name_too_long"        // CodeTooLarge: a group name has at most … bytes
	ReasonInCommunity             = "in_community"               // CodeConflict: the group already belongs to a community
	ReasonInviteRequired          = "invite_required"            // CodeForbidden: user … must be invited to groups
	ReasonNotInvited              = "not_invited"                // CodeForbidden: you need an invitation to join this group
	ReasonNotSubGroup             = "not_sub_group"              // CodeInvalid: only a community's sub-groups can ask members to request to join
	ReasonTooManyGroups           = "too_many_groups"            // CodeTooLarge: a community has at most … groups
)
