package main

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/cmd/internal/cmdline"
)

const groupIntro = `usage: parley group SUBCOMMAND (GROUP is a group id, or its name when unambiguous;
MEMBER is +PHONE, @USERNAME or a user id)`

// groupCommands are `parley group …`.
var groupCommands = []command{
	{Name: "create", Usage: "NAME [--member MEMBER]... [--description TEXT] [--icon REF]\n       [--only-admins-send] [--only-admins-edit]", Min: 1, Max: -1,
		Run: func(x *call) error {
			members, opts := groupOptionFlags(x.FS)
			onlySend := x.FS.Bool("only-admins-send", false, "only admins can send")
			onlyEdit := x.FS.Bool("only-admins-edit", false, "only admins can edit the group's info")
			icon := x.FS.String("icon", "", "the group's icon (a media blob reference)")
			return x.client(func(c *client.Client) error {
				opts.OnlyAdminsSend, opts.OnlyAdminsEditInfo, opts.Icon = *onlySend, *onlyEdit, *icon
				res, err := c.CreateGroup(x.Ctx, strings.Join(x.Pos, " "), *members, *opts)
				return x.printAdd("created", res, err)
			})
		}},
	{Name: "list", Run: do(func(x *call, c *client.Client) error {
		gs, err := c.Groups(x.Ctx)
		for _, g := range gs {
			x.out(withEvent("group", groupJSON(g)), fmt.Sprintf("%s\t%s\t%d members", g.ID, g.Name, len(g.Members)))
		}
		return err
	})},
	{Name: "info", Min: 1, Max: 1, Usage: "GROUP", Run: do(func(x *call, c *client.Client) error {
		g, err := c.Group(x.Ctx, x.Pos[0])
		return x.printGroup(c, g, err)
	})},
	{Name: "add", Usage: "GROUP MEMBER...\tadmins: add members (one MLS commit)", Min: 2, Max: -1, Run: do(func(x *call, c *client.Client) error {
		res, err := c.AddGroupMembers(x.Ctx, x.Pos[0], x.Pos[1:])
		return x.printAdd("added", res, err)
	})},
	{Name: "remove", Usage: "GROUP MEMBER\tadmins: remove a member (MLS commit)", Min: 2, Max: 2, Run: do(changeMember)},
	{Name: "promote", Usage: "GROUP MEMBER", Min: 2, Max: 2, Run: do(changeMember)},
	{Name: "demote", Usage: "GROUP MEMBER", Min: 2, Max: 2, Run: do(changeMember)},
	{Name: "settings", Min: 1, Max: 1, Usage: "GROUP [--name N] [--description D] [--icon REF]\n" +
		"       [--only-admins-send true|false] [--only-admins-edit true|false]\n       [--join-approval true|false]   (a community's sub-groups)",
		Run: func(x *call) error {
			var name, description, icon cmdline.OptString
			var onlySend, onlyEdit, joinApproval cmdline.OptBool
			x.FS.Var(&name, "name", "new name")
			x.FS.Var(&description, "description", "new description")
			x.FS.Var(&icon, "icon", "new icon (a media blob reference)")
			x.FS.Var(&onlySend, "only-admins-send", "true|false: only admins can send")
			x.FS.Var(&onlyEdit, "only-admins-edit", "true|false: only admins can edit the group's info")
			x.FS.Var(&joinApproval, "join-approval", "true|false: community members ask to join this sub-group and an admin approves")
			return x.client(func(c *client.Client) error {
				u := client.GroupUpdate{Name: name.V, Description: description.V, Icon: icon.V, OnlyAdminsSend: onlySend.V,
					OnlyAdminsEditInfo: onlyEdit.V, JoinApproval: joinApproval.V}
				if u == (client.GroupUpdate{}) {
					g, err := c.Group(x.Ctx, x.Pos[0])
					return x.printGroup(c, g, err)
				}
				g, err := c.UpdateGroup(x.Ctx, x.Pos[0], u)
				return x.printGroup(c, g, err)
			})
		}},
	{Name: "invite", Min: 1, Max: 1, Usage: "GROUP [--expires D] [--uses N] [--approve]\n\tadmins: create an invite link\n" +
		"GROUP --user MEMBER\tadmins: invite someone who must accept", Run: func(x *call) error {
		user := x.FS.String("user", "", "the person to invite: +PHONE, @USERNAME or user id")
		expires := x.FS.Duration("expires", 0, "the link expires after this long (default never)")
		uses := x.FS.Int("uses", 0, "the link can be used this many times (default unlimited)")
		approve := x.FS.Bool("approve", false, "joining needs an admin's approval")
		return x.client(func(c *client.Client) error {
			if *user != "" {
				return x.done(c.InviteToGroup(x.Ctx, x.Pos[0], *user), map[string]any{"event": "invited", "group": x.Pos[0], "user": *user}, "invited "+*user)
			}
			l, err := c.CreateInviteLink(x.Ctx, x.Pos[0], client.LinkOptions{ExpiresIn: *expires, MaxUses: *uses, Approve: *approve})
			return x.done(err, withEvent("invite_link", linkJSON(l)), l.Link)
		})
	}},
	{Name: "links", Min: 1, Max: 1, Usage: "GROUP\tadmins: the group's invite links", Run: do(func(x *call, c *client.Client) error {
		links, err := c.InviteLinks(x.Ctx, x.Pos[0])
		for _, l := range links {
			state := map[bool]string{false: "active", true: "revoked"}[l.Revoked]
			x.out(withEvent("invite_link", linkJSON(l)), fmt.Sprintf("%s\t%s\t%d uses", l.ID, state, l.Uses))
		}
		return err
	})},
	{Name: "revoke", Min: 2, Max: 2, Usage: "GROUP LINK|LINK_ID", Run: do(func(x *call, c *client.Client) error {
		return x.done(c.RevokeInviteLink(x.Ctx, x.Pos[0], x.Pos[1]), map[string]any{"event": "revoked", "group": x.Pos[0], "link": x.Pos[1]}, "revoked")
	})},
	{Name: "join", Min: 1, Max: 1, Usage: "LINK\tjoin (or ask to join) by an invite link", Run: do(func(x *call, c *client.Client) error {
		j, err := c.JoinByLink(x.Ctx, x.Pos[0])
		if err != nil {
			return err
		}
		if j.Pending {
			return x.print(map[string]any{"group": string(j.Group.ID), "name": j.Group.Name, "event": "join_requested"},
				fmt.Sprintf("asked to join %s: an admin must approve, then run group join again", j.Group.Name))
		}
		return x.print(withEvent("joined", groupJSON(j.Group)), fmt.Sprintf("joined %s (%s)", j.Group.Name, j.Group.ID))
	})},
	{Name: "requests", Min: 1, Max: 1, Usage: "GROUP\tadmins: join requests of approval links",
		Run: do(func(x *call, c *client.Client) error {
			reqs, err := c.JoinRequests(x.Ctx, x.Pos[0])
			for _, r := range reqs {
				x.out(map[string]any{"event": "join_request", "user": int64(r.User), "at_ms": r.At.UnixMilli()},
					fmt.Sprintf("%d\t%s", r.User, r.At.Format(time.RFC3339)))
			}
			return err
		})},
	{Name: "approve", Min: 2, Max: 2, Usage: "GROUP USER", Run: do(decideJoin)},
	{Name: "reject", Min: 2, Max: 2, Usage: "GROUP USER", Run: do(decideJoin)},
	{Name: "invitations", Usage: "\tgroups you were invited to", Run: do(func(x *call, c *client.Client) error {
		invs, err := c.GroupInvitations(x.Ctx)
		for _, inv := range invs {
			x.out(map[string]any{"event": "invitation", "group": string(inv.Group), "name": inv.Name,
				"invited_by": int64(inv.InvitedBy), "at_ms": inv.At.UnixMilli()},
				fmt.Sprintf("%s\t%s\tinvited by %s", inv.Group, inv.Name, c.Who(x.Ctx, inv.InvitedBy)))
		}
		return err
	})},
	{Name: "accept", Min: 1, Max: 1, Usage: "GROUP", Run: do(func(x *call, c *client.Client) error {
		g, err := c.AcceptGroupInvitation(x.Ctx, x.Pos[0])
		return x.done(err, withEvent("joined", groupJSON(g)), fmt.Sprintf("joined %s (%s)", g.Name, g.ID))
	})},
	{Name: "decline", Min: 1, Max: 1, Usage: "GROUP", Run: do(leaveGroup)},
	{Name: "leave", Min: 1, Max: 1, Usage: "GROUP", Run: do(leaveGroup)},
	{Name: "privacy", Min: 1, Max: 1, Usage: "everyone|contacts|nobody\twho can add me to groups", Run: do(func(x *call, c *client.Client) error {
		return x.done(c.SetGroupAddPrivacy(x.Ctx, x.Pos[0]), map[string]any{"event": "group_privacy", "add_me": x.Pos[0]}, "who can add me to groups: "+x.Pos[0])
	})},
}

// groupOptionFlags declares --member and --description of group create,
// community create and community new-group.
func groupOptionFlags(fs *flag.FlagSet) (*cmdline.Strings, *client.GroupOptions) {
	var members cmdline.Strings
	var opts client.GroupOptions
	fs.Var(&members, "member", "a member to add (repeatable): +PHONE, @USERNAME or user id")
	fs.StringVar(&opts.Description, "description", "", "a description")
	return &members, &opts
}

// changeMember is group remove, promote and demote (and community remove).
func changeMember(x *call, c *client.Client) error {
	sub := x.Name
	var err error
	if sub == "remove" {
		err = c.RemoveGroupMember(x.Ctx, x.Pos[0], x.Pos[1])
	} else {
		err = c.SetGroupAdmin(x.Ctx, x.Pos[0], x.Pos[1], sub == "promote")
	}
	if err != nil {
		return err
	}
	return x.print(map[string]any{"event": sub + "d", "group": x.Pos[0], "member": x.Pos[1]}, fmt.Sprintf("%sd %s", sub, x.Pos[1]))
}

// decideJoin is group approve and group reject.
func decideJoin(x *call, c *client.Client) error {
	u, err := userRef(x.Ctx, c, x.Pos[1])
	if err != nil {
		return err
	}
	return x.done(c.DecideJoinRequest(x.Ctx, x.Pos[0], u, x.Name == "approve"), map[string]any{"event": x.Name + "d", "group": x.Pos[0], "user": int64(u)}, fmt.Sprintf("%sd %d", x.Name, u))
}

// leaveGroup is group leave and group decline.
func leaveGroup(x *call, c *client.Client) error {
	leave := map[string]func(context.Context, string) error{"leave": c.LeaveGroup, "decline": c.DeclineGroupInvitation}[x.Name]
	if err := leave(x.Ctx, x.Pos[0]); err != nil {
		return err
	}
	past := map[string]string{"leave": "left", "decline": "declined"}[x.Name]
	return x.print(map[string]any{"event": past, "group": x.Pos[0]}, past+" "+x.Pos[0])
}

// withEvent is obj with its "event".
func withEvent(event string, obj map[string]any) map[string]any {
	obj["event"] = event
	return obj
}

func groupJSON(g client.Group) map[string]any {
	members := make([]map[string]any, 0, len(g.Members))
	for _, m := range g.Members {
		members = append(members, map[string]any{"user": int64(m.User), "admin": m.Admin, "joined_ms": m.JoinedAt.UnixMilli()})
	}
	return map[string]any{
		"group": string(g.ID), "name": g.Name, "description": g.Description, "icon": g.Icon,
		"only_admins_send": g.OnlyAdminsSend, "only_admins_edit": g.OnlyAdminsEditInfo, "join_approval": g.JoinApproval,
		"created_by": int64(g.CreatedBy), "created_ms": g.CreatedAt.UnixMilli(), "members": members,
		"community": string(g.Community), "is_community": g.IsCommunity(),
	}
}

func userIDs(us []parley.UserID) []int64 {
	out := make([]int64, 0, len(us))
	for _, u := range us {
		out = append(out, int64(u))
	}
	return out
}

// printAdd prints the group a create or add made, unless err.
func (x *call) printAdd(event string, res client.GroupAddResult, err error) error {
	if err != nil {
		return err
	}
	obj := groupJSON(res.Group)
	obj["event"], obj["added"], obj["invited"] = event, userIDs(res.Added), userIDs(res.Invited)
	text := fmt.Sprintf("%s %s (%s): %d members", event, res.Group.Name, res.Group.ID, len(res.Group.Members))
	if len(res.Invited) > 0 {
		text += fmt.Sprintf(", %d invited (their privacy settings require an invitation)", len(res.Invited))
	}
	return x.print(obj, text)
}

// printGroup prints a group with its members, unless err.
func (x *call) printGroup(c *client.Client, g client.Group, err error) error {
	if err != nil {
		return err
	}
	obj := withEvent("group", groupJSON(g))
	var b strings.Builder
	fmt.Fprintf(&b, "%s\t%s\n", g.ID, g.Name)
	if g.Description != "" {
		fmt.Fprintf(&b, "  %s\n", g.Description)
	}
	fmt.Fprintf(&b, "  only admins send: %v; only admins edit info: %v\n", g.OnlyAdminsSend, g.OnlyAdminsEditInfo)
	if g.Community != "" && !g.IsCommunity() {
		fmt.Fprintf(&b, "  joining needs an admin's approval: %v\n", g.JoinApproval)
	}
	for i, m := range g.Members {
		role := "member"
		if m.Admin {
			role = "admin"
		}
		fmt.Fprintf(&b, "  %s\t%s", c.Who(x.Ctx, m.User), role)
		if i < len(g.Members)-1 {
			b.WriteByte('\n')
		}
	}
	return x.print(obj, b.String())
}

func linkJSON(l client.InviteLink) map[string]any {
	obj := map[string]any{"id": l.ID, "group": string(l.Group), "created_by": int64(l.CreatedBy), "created_ms": l.CreatedAt.UnixMilli(),
		"max_uses": l.MaxUses, "uses": l.Uses, "approve": l.Approve, "revoked": l.Revoked}
	if l.Link != "" {
		obj["link"] = l.Link
	}
	if !l.ExpiresAt.IsZero() {
		obj["expires_ms"] = l.ExpiresAt.UnixMilli()
	}
	return obj
}

// userRef is a user id ("12" or "u12", as join requests list them), or a
// person resolved by +PHONE or @USERNAME.
func userRef(ctx context.Context, c *client.Client, ref string) (parley.UserID, error) {
	// A phone number (+E164) is resolved, not read as an id: ParseInt
	// accepts a leading '+'.
	if n, err := strconv.ParseInt(strings.TrimPrefix(ref, "u"), 10, 64); err == nil && n > 0 && !strings.HasPrefix(ref, "+") {
		return parley.UserID(n), nil
	}
	ct, err := c.Resolve(ctx, ref)
	return ct.User, err
}

// communityCommands are `parley community …` (COMMUNITY and GROUP: an
// id, or an unambiguous name).
var communityCommands = []command{
	{Name: "create", Min: 1, Max: -1, Usage: "NAME [--member MEMBER]... [--description TEXT]", Run: func(x *call) error {
		members, opts := groupOptionFlags(x.FS)
		return x.client(func(c *client.Client) error {
			res, err := c.CreateCommunity(x.Ctx, strings.Join(x.Pos, " "), *members, *opts)
			return x.printAdd("created", res, err)
		})
	}},
	{Name: "add", Min: 2, Max: -1, Usage: "COMMUNITY MEMBER...\tadmins: add members (they get the announcements)", Run: do(func(x *call, c *client.Client) error {
		res, err := c.AddGroupMembers(x.Ctx, x.Pos[0], x.Pos[1:])
		return x.printAdd("added", res, err)
	})},
	{Name: "remove", Min: 2, Max: 2, Usage: "COMMUNITY MEMBER\tadmins: remove a member from the community and all its groups", Run: do(changeMember)},
	{Name: "new-group", Min: 2, Max: -1, Usage: "COMMUNITY NAME [--member MEMBER]...\tadmins: create a sub-group", Run: func(x *call) error {
		members, opts := groupOptionFlags(x.FS)
		return x.client(func(c *client.Client) error {
			res, err := c.CreateCommunityGroup(x.Ctx, x.Pos[0], strings.Join(x.Pos[1:], " "), *members, *opts)
			return x.printAdd("created", res, err)
		})
	}},
	{Name: "add-group", Min: 2, Max: -1, Usage: "COMMUNITY GROUP\tadmins: put an existing group under the community", Run: do(communityGroup)},
	{Name: "remove-group", Min: 2, Max: -1, Usage: "COMMUNITY GROUP\tadmins: take a group out of the community", Run: do(communityGroup)},
	{Name: "groups", Min: 1, Max: -1, Usage: "COMMUNITY\tlist the community's groups", Run: do(func(x *call, c *client.Client) error {
		list, err := c.CommunityGroups(x.Ctx, strings.Join(x.Pos, " "))
		for _, g := range list {
			mark := ""
			switch {
			case g.Member:
				mark = "\t(member)"
			case g.Pending:
				mark = "\t(asked to join)"
			case g.JoinApproval:
				mark = "\t(ask to join)"
			}
			x.out(map[string]any{"event": "community_group", "group": string(g.ID), "name": g.Name, "description": g.Description,
				"members": g.Members, "member": g.Member, "join_approval": g.JoinApproval, "pending": g.Pending},
				fmt.Sprintf("%s\t%s\t%d members%s", g.ID, g.Name, g.Members, mark))
		}
		return err
	})},
	{Name: "join-group", Min: 2, Max: -1, Usage: "COMMUNITY GROUP\tjoin one of them", Run: do(func(x *call, c *client.Client) error {
		r, err := c.JoinCommunityGroup(x.Ctx, x.Pos[0], strings.Join(x.Pos[1:], " "))
		if err != nil {
			return err
		}
		if r.Pending {
			return x.print(map[string]any{"event": "join_requested", "group": string(r.Group.ID), "name": r.Group.Name},
				fmt.Sprintf("asked to join %s (%s): an admin must approve; run join-group again once approved", r.Group.Name, r.Group.ID))
		}
		return x.print(withEvent("joined", groupJSON(r.Group)), fmt.Sprintf("joined %s (%s)", r.Group.Name, r.Group.ID))
	})},
}

// communityGroup is community add-group and remove-group.
func communityGroup(x *call, c *client.Client) error {
	sub, group := x.Name, strings.Join(x.Pos[1:], " ")
	change := map[string]func(context.Context, string, string) error{"add-group": c.AddCommunityGroup, "remove-group": c.RemoveCommunityGroup}[sub]
	return x.done(change(x.Ctx, x.Pos[0], group), map[string]any{"event": strings.ReplaceAll(sub, "-", "_"), "community": x.Pos[0], "group": group}, sub+": done")
}

// announce posts to a community's announcement group.
func announce(x *call, c *client.Client) error {
	m, err := c.Announce(x.Ctx, x.Pos[0], strings.Join(x.Pos[1:], " "))
	if err != nil {
		return err
	}
	x.printSent(x.Pos[0], m)
	return nil
}
