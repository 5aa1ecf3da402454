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
)

const groupIntro = `usage: parley group SUBCOMMAND (GROUP is a group id, or its name when unambiguous;
MEMBER is +PHONE, @USERNAME or a user id)`

// multiFlag is a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// optBool is a flag that is nil unless given (true|false).
type optBool struct{ v *bool }

func (o *optBool) String() string {
	if o.v == nil {
		return ""
	}
	return strconv.FormatBool(*o.v)
}

func (o *optBool) Set(s string) error {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("want true or false")
	}
	o.v = &b
	return nil
}

// optString is a flag that is nil unless given.
type optString struct{ v *string }

func (o *optString) String() string {
	if o.v == nil {
		return ""
	}
	return *o.v
}

func (o *optString) Set(s string) error { o.v = &s; return nil }

// groupCommands are `parley group …`.
var groupCommands = []command{
	{name: "create", usage: "NAME [--member MEMBER]... [--description TEXT] [--icon REF]\n       [--only-admins-send] [--only-admins-edit]", min: 1, max: -1,
		run: func(x *call) error {
			members, opts := groupOptionFlags(x.fs)
			onlySend := x.fs.Bool("only-admins-send", false, "only admins can send")
			onlyEdit := x.fs.Bool("only-admins-edit", false, "only admins can edit the group's info")
			icon := x.fs.String("icon", "", "the group's icon (a media blob reference)")
			return x.client(func(c *client.Client) error {
				opts.OnlyAdminsSend, opts.OnlyAdminsEditInfo, opts.Icon = *onlySend, *onlyEdit, *icon
				res, err := c.CreateGroup(x.ctx, strings.Join(x.pos, " "), *members, *opts)
				return x.printAdd("created", res, err)
			})
		}},
	{name: "list", do: func(x *call, c *client.Client) error {
		gs, err := c.Groups(x.ctx)
		for _, g := range gs {
			x.out(withEvent("group", groupJSON(g)), fmt.Sprintf("%s\t%s\t%d members", g.ID, g.Name, len(g.Members)))
		}
		return err
	}},
	{name: "info", min: 1, max: 1, usage: "GROUP", do: func(x *call, c *client.Client) error {
		g, err := c.Group(x.ctx, x.pos[0])
		return x.printGroup(c, g, err)
	}},
	{name: "add", usage: "GROUP MEMBER...\tadmins: add members (one MLS commit)", min: 2, max: -1, do: func(x *call, c *client.Client) error {
		res, err := c.AddGroupMembers(x.ctx, x.pos[0], x.pos[1:])
		return x.printAdd("added", res, err)
	}},
	{name: "remove", usage: "GROUP MEMBER\tadmins: remove a member (MLS commit)", min: 2, max: 2, do: changeMember},
	{name: "promote", usage: "GROUP MEMBER", min: 2, max: 2, do: changeMember},
	{name: "demote", usage: "GROUP MEMBER", min: 2, max: 2, do: changeMember},
	{name: "settings", min: 1, max: 1, usage: "GROUP [--name N] [--description D] [--icon REF]\n" +
		"       [--only-admins-send true|false] [--only-admins-edit true|false]\n       [--join-approval true|false]   (a community's sub-groups)",
		run: func(x *call) error {
			var name, description, icon optString
			var onlySend, onlyEdit, joinApproval optBool
			x.fs.Var(&name, "name", "new name")
			x.fs.Var(&description, "description", "new description")
			x.fs.Var(&icon, "icon", "new icon (a media blob reference)")
			x.fs.Var(&onlySend, "only-admins-send", "true|false: only admins can send")
			x.fs.Var(&onlyEdit, "only-admins-edit", "true|false: only admins can edit the group's info")
			x.fs.Var(&joinApproval, "join-approval", "true|false: community members ask to join this sub-group and an admin approves")
			return x.client(func(c *client.Client) error {
				u := client.GroupUpdate{Name: name.v, Description: description.v, Icon: icon.v, OnlyAdminsSend: onlySend.v,
					OnlyAdminsEditInfo: onlyEdit.v, JoinApproval: joinApproval.v}
				if u == (client.GroupUpdate{}) {
					g, err := c.Group(x.ctx, x.pos[0])
					return x.printGroup(c, g, err)
				}
				g, err := c.UpdateGroup(x.ctx, x.pos[0], u)
				return x.printGroup(c, g, err)
			})
		}},
	{name: "invite", min: 1, max: 1, usage: "GROUP [--expires D] [--uses N] [--approve]\n\tadmins: create an invite link\n" +
		"GROUP --user MEMBER\tadmins: invite someone who must accept", run: func(x *call) error {
		user := x.fs.String("user", "", "the person to invite: +PHONE, @USERNAME or user id")
		expires := x.fs.Duration("expires", 0, "the link expires after this long (default never)")
		uses := x.fs.Int("uses", 0, "the link can be used this many times (default unlimited)")
		approve := x.fs.Bool("approve", false, "joining needs an admin's approval")
		return x.client(func(c *client.Client) error {
			if *user != "" {
				return x.done(c.InviteToGroup(x.ctx, x.pos[0], *user), map[string]any{"event": "invited", "group": x.pos[0], "user": *user}, "invited "+*user)
			}
			l, err := c.CreateInviteLink(x.ctx, x.pos[0], client.LinkOptions{ExpiresIn: *expires, MaxUses: *uses, Approve: *approve})
			if err != nil {
				return err
			}
			return x.print(withEvent("invite_link", linkJSON(l)), l.Link)
		})
	}},
	{name: "links", min: 1, max: 1, usage: "GROUP\tadmins: the group's invite links", do: func(x *call, c *client.Client) error {
		links, err := c.InviteLinks(x.ctx, x.pos[0])
		for _, l := range links {
			state := map[bool]string{false: "active", true: "revoked"}[l.Revoked]
			x.out(withEvent("invite_link", linkJSON(l)), fmt.Sprintf("%s\t%s\t%d uses", l.ID, state, l.Uses))
		}
		return err
	}},
	{name: "revoke", min: 2, max: 2, usage: "GROUP LINK|LINK_ID", do: func(x *call, c *client.Client) error {
		return x.done(c.RevokeInviteLink(x.ctx, x.pos[0], x.pos[1]), map[string]any{"event": "revoked", "group": x.pos[0], "link": x.pos[1]}, "revoked")
	}},
	{name: "join", min: 1, max: 1, usage: "LINK\tjoin (or ask to join) by an invite link", do: func(x *call, c *client.Client) error {
		j, err := c.JoinByLink(x.ctx, x.pos[0])
		if err != nil {
			return err
		}
		if j.Pending {
			return x.print(map[string]any{"group": string(j.Group.ID), "name": j.Group.Name, "event": "join_requested"},
				fmt.Sprintf("asked to join %s: an admin must approve, then run group join again", j.Group.Name))
		}
		return x.print(withEvent("joined", groupJSON(j.Group)), fmt.Sprintf("joined %s (%s)", j.Group.Name, j.Group.ID))
	}},
	{name: "requests", min: 1, max: 1, usage: "GROUP\tadmins: join requests of approval links",
		do: func(x *call, c *client.Client) error {
			reqs, err := c.JoinRequests(x.ctx, x.pos[0])
			for _, r := range reqs {
				x.out(map[string]any{"event": "join_request", "user": int64(r.User), "at_ms": r.At.UnixMilli()},
					fmt.Sprintf("%d\t%s", r.User, r.At.Format(time.RFC3339)))
			}
			return err
		}},
	{name: "approve", min: 2, max: 2, usage: "GROUP USER", do: decideJoin},
	{name: "reject", min: 2, max: 2, usage: "GROUP USER", do: decideJoin},
	{name: "invitations", usage: "\tgroups you were invited to", do: func(x *call, c *client.Client) error {
		invs, err := c.GroupInvitations(x.ctx)
		for _, inv := range invs {
			x.out(map[string]any{"event": "invitation", "group": string(inv.Group), "name": inv.Name,
				"invited_by": int64(inv.InvitedBy), "at_ms": inv.At.UnixMilli()},
				fmt.Sprintf("%s\t%s\tinvited by %s", inv.Group, inv.Name, c.Who(x.ctx, inv.InvitedBy)))
		}
		return err
	}},
	{name: "accept", min: 1, max: 1, usage: "GROUP", do: func(x *call, c *client.Client) error {
		g, err := c.AcceptGroupInvitation(x.ctx, x.pos[0])
		if err != nil {
			return err
		}
		return x.print(withEvent("joined", groupJSON(g)), fmt.Sprintf("joined %s (%s)", g.Name, g.ID))
	}},
	{name: "decline", min: 1, max: 1, usage: "GROUP", do: leaveGroup},
	{name: "leave", min: 1, max: 1, usage: "GROUP", do: leaveGroup},
	{name: "privacy", min: 1, max: 1, usage: "everyone|contacts|nobody\twho can add me to groups", do: func(x *call, c *client.Client) error {
		return x.done(c.SetGroupAddPrivacy(x.ctx, x.pos[0]), map[string]any{"event": "group_privacy", "add_me": x.pos[0]}, "who can add me to groups: "+x.pos[0])
	}},
}

// groupOptionFlags declares --member and --description of group create,
// community create and community new-group.
func groupOptionFlags(fs *flag.FlagSet) (*multiFlag, *client.GroupOptions) {
	var members multiFlag
	var opts client.GroupOptions
	fs.Var(&members, "member", "a member to add (repeatable): +PHONE, @USERNAME or user id")
	fs.StringVar(&opts.Description, "description", "", "a description")
	return &members, &opts
}

// changeMember is group remove, promote and demote (and community remove).
func changeMember(x *call, c *client.Client) error {
	sub := x.cmd.name
	var err error
	if sub == "remove" {
		err = c.RemoveGroupMember(x.ctx, x.pos[0], x.pos[1])
	} else {
		err = c.SetGroupAdmin(x.ctx, x.pos[0], x.pos[1], sub == "promote")
	}
	if err != nil {
		return err
	}
	return x.print(map[string]any{"event": sub + "d", "group": x.pos[0], "member": x.pos[1]}, fmt.Sprintf("%sd %s", sub, x.pos[1]))
}

// decideJoin is group approve and group reject.
func decideJoin(x *call, c *client.Client) error {
	u, err := userRef(x.ctx, c, x.pos[1])
	if err != nil {
		return err
	}
	return x.done(c.DecideJoinRequest(x.ctx, x.pos[0], u, x.cmd.name == "approve"), map[string]any{"event": x.cmd.name + "d", "group": x.pos[0], "user": int64(u)}, fmt.Sprintf("%sd %d", x.cmd.name, u))
}

// leaveGroup is group leave and group decline.
func leaveGroup(x *call, c *client.Client) error {
	leave := map[string]func(context.Context, string) error{"leave": c.LeaveGroup, "decline": c.DeclineGroupInvitation}[x.cmd.name]
	if err := leave(x.ctx, x.pos[0]); err != nil {
		return err
	}
	past := map[string]string{"leave": "left", "decline": "declined"}[x.cmd.name]
	return x.print(map[string]any{"event": past, "group": x.pos[0]}, past+" "+x.pos[0])
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
		fmt.Fprintf(&b, "  %s\t%s", c.Who(x.ctx, m.User), role)
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
	{name: "create", min: 1, max: -1, usage: "NAME [--member MEMBER]... [--description TEXT]", run: func(x *call) error {
		members, opts := groupOptionFlags(x.fs)
		return x.client(func(c *client.Client) error {
			res, err := c.CreateCommunity(x.ctx, strings.Join(x.pos, " "), *members, *opts)
			return x.printAdd("created", res, err)
		})
	}},
	{name: "add", min: 2, max: -1, usage: "COMMUNITY MEMBER...\tadmins: add members (they get the announcements)", do: func(x *call, c *client.Client) error {
		res, err := c.AddGroupMembers(x.ctx, x.pos[0], x.pos[1:])
		return x.printAdd("added", res, err)
	}},
	{name: "remove", min: 2, max: 2, usage: "COMMUNITY MEMBER\tadmins: remove a member from the community and all its groups", do: changeMember},
	{name: "new-group", min: 2, max: -1, usage: "COMMUNITY NAME [--member MEMBER]...\tadmins: create a sub-group", run: func(x *call) error {
		members, opts := groupOptionFlags(x.fs)
		return x.client(func(c *client.Client) error {
			res, err := c.CreateCommunityGroup(x.ctx, x.pos[0], strings.Join(x.pos[1:], " "), *members, *opts)
			return x.printAdd("created", res, err)
		})
	}},
	{name: "add-group", min: 2, max: -1, usage: "COMMUNITY GROUP\tadmins: put an existing group under the community", do: communityGroup},
	{name: "remove-group", min: 2, max: -1, usage: "COMMUNITY GROUP\tadmins: take a group out of the community", do: communityGroup},
	{name: "groups", min: 1, max: -1, usage: "COMMUNITY\tlist the community's groups", do: func(x *call, c *client.Client) error {
		list, err := c.CommunityGroups(x.ctx, strings.Join(x.pos, " "))
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
	}},
	{name: "join-group", min: 2, max: -1, usage: "COMMUNITY GROUP\tjoin one of them", do: func(x *call, c *client.Client) error {
		r, err := c.JoinCommunityGroup(x.ctx, x.pos[0], strings.Join(x.pos[1:], " "))
		if err != nil {
			return err
		}
		if r.Pending {
			return x.print(map[string]any{"event": "join_requested", "group": string(r.Group.ID), "name": r.Group.Name},
				fmt.Sprintf("asked to join %s (%s): an admin must approve; run join-group again once approved", r.Group.Name, r.Group.ID))
		}
		return x.print(withEvent("joined", groupJSON(r.Group)), fmt.Sprintf("joined %s (%s)", r.Group.Name, r.Group.ID))
	}},
}

// communityGroup is community add-group and remove-group.
func communityGroup(x *call, c *client.Client) error {
	sub, group := x.cmd.name, strings.Join(x.pos[1:], " ")
	change := map[string]func(context.Context, string, string) error{"add-group": c.AddCommunityGroup, "remove-group": c.RemoveCommunityGroup}[sub]
	return x.done(change(x.ctx, x.pos[0], group), map[string]any{"event": strings.ReplaceAll(sub, "-", "_"), "community": x.pos[0], "group": group}, sub+": done")
}

// announce posts to a community's announcement group.
func announce(x *call, c *client.Client) error {
	m, err := c.Announce(x.ctx, x.pos[0], strings.Join(x.pos[1:], " "))
	if err != nil {
		return err
	}
	x.printSent(x.pos[0], m)
	return nil
}
