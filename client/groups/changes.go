package groups

import (
	"fmt"
	"strings"

	"github.com/parleyhq/parley"
)

// DescribeChange says what a group change (a system envelope's
// parley.GroupChange) did, in the words a chat shows: "Ann made Bob an
// admin". who names a user; "" means the change shows nothing.
func DescribeChange(p parley.GroupChange, who func(parley.UserID) string) string {
	by := who(p.By)
	onOff := func(b *bool, on, off string) string {
		if *b {
			return on
		}
		return off
	}
	var parts []string
	switch p.Change {
	case "info":
		if p.Name != nil {
			parts = append(parts, fmt.Sprintf("changed the group name to %q", *p.Name))
		}
		if p.Description != nil {
			parts = append(parts, "changed the group description")
		}
		if p.Icon != nil {
			parts = append(parts, "changed the group icon")
		}
		if p.OnlyAdminsSend != nil {
			parts = append(parts, onOff(p.OnlyAdminsSend, "allowed only admins to send messages", "allowed all members to send messages"))
		}
		if p.OnlyAdminsEditInfo != nil {
			parts = append(parts, onOff(p.OnlyAdminsEditInfo, "allowed only admins to edit the group info", "allowed all members to edit the group info"))
		}
		if p.JoinApproval != nil {
			parts = append(parts, onOff(p.JoinApproval, "asked community members to request to join", "let community members join without approval"))
		}
	case "role":
		if p.Admin == nil {
			return ""
		}
		member := who(p.User)
		if *p.Admin {
			parts = append(parts, "made "+member+" an admin")
		} else {
			parts = append(parts, "removed "+member+" as admin")
		}
	case "community":
		if p.Community == nil || *p.Community == "" {
			parts = append(parts, "removed this group from its community")
		} else {
			parts = append(parts, "added this group to a community")
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return sentence(by + " " + strings.Join(parts, "; "))
}
