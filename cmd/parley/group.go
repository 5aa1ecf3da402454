package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client"
)

const groupUsage = `usage: parley group SUBCOMMAND (GROUP is a group id, or its name when unambiguous;
MEMBER is +PHONE, @USERNAME or a user id)
  group create NAME [--member MEMBER]... [--description TEXT] [--icon REF]
               [--only-admins-send] [--only-admins-edit]
  group list | group info GROUP
  group add GROUP MEMBER...          admins: add members (one MLS commit)
  group remove GROUP MEMBER          admins: remove a member (MLS commit)
  group promote GROUP MEMBER | group demote GROUP MEMBER
  group settings GROUP [--name N] [--description D] [--icon REF]
               [--only-admins-send true|false] [--only-admins-edit true|false]
               [--join-approval true|false]   (a community's sub-groups)
  group invite GROUP [--expires D] [--uses N] [--approve]
                                     admins: create an invite link
  group invite GROUP --user MEMBER   admins: invite someone who must accept
  group links GROUP | group revoke GROUP LINK|LINK_ID     admins
  group join LINK                    join (or ask to join) by an invite link
  group requests GROUP | group approve GROUP USER | group reject GROUP USER
                                     admins: join requests of approval links
  group invitations | group accept GROUP | group decline GROUP
  group leave GROUP
  group privacy everyone|contacts|nobody   who can add me to groups`

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

func (e *env) group(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(e.stdout, groupUsage)
		if len(args) == 0 {
			return usageError("group: a subcommand is required")
		}
		return nil
	}
	sub, args := args[0], args[1:]
	fs := newFlags("group "+sub, e)
	var members multiFlag
	var name, description, icon optString
	var onlySend, onlyEdit, joinApproval optBool
	var createOnlySend, createOnlyEdit *bool
	var user *string
	var expires *time.Duration
	var uses *int
	var approve *bool
	switch sub {
	case "create":
		fs.Var(&members, "member", "a member to add (repeatable): +PHONE, @USERNAME or user id")
		fs.Var(&description, "description", "the group's description")
		fs.Var(&icon, "icon", "the group's icon (a media blob reference)")
		createOnlySend = fs.Bool("only-admins-send", false, "only admins can send")
		createOnlyEdit = fs.Bool("only-admins-edit", false, "only admins can edit the group's info")
	case "settings":
		fs.Var(&name, "name", "new name")
		fs.Var(&description, "description", "new description")
		fs.Var(&icon, "icon", "new icon (a media blob reference)")
		fs.Var(&onlySend, "only-admins-send", "true|false: only admins can send")
		fs.Var(&onlyEdit, "only-admins-edit", "true|false: only admins can edit the group's info")
		fs.Var(&joinApproval, "join-approval", "true|false: community members ask to join this sub-group and an admin approves")
	case "invite":
		user = fs.String("user", "", "the person to invite: +PHONE, @USERNAME or user id")
		expires = fs.Duration("expires", 0, "the link expires after this long (default never)")
		uses = fs.Int("uses", 0, "the link can be used this many times (default unlimited)")
		approve = fs.Bool("approve", false, "joining needs an admin's approval")
	}
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	need := func(n int, usage string) error {
		if len(pos) != n {
			return usageError("usage: parley group " + usage)
		}
		return nil
	}
	switch sub {
	case "create":
		if len(pos) == 0 {
			return usageError("usage: parley group create NAME [--member MEMBER]...")
		}
		opts := client.GroupOptions{OnlyAdminsSend: *createOnlySend, OnlyAdminsEditInfo: *createOnlyEdit}
		if description.v != nil {
			opts.Description = *description.v
		}
		if icon.v != nil {
			opts.Icon = *icon.v
		}
		return e.withClient(ctx, func(ctx context.Context, c *client.Client) error {
			res, err := c.CreateGroup(ctx, strings.Join(pos, " "), members, opts)
			if err != nil {
				return err
			}
			e.printAdd("created", c, res)
			return nil
		})
	case "list":
		return e.withClient(ctx, func(ctx context.Context, c *client.Client) error {
			gs, err := c.Groups(ctx)
			if err != nil {
				return err
			}
			for _, g := range gs {
				obj := groupJSON(g)
				obj["event"] = "group"
				e.out(obj, fmt.Sprintf("%s\t%s\t%d members", g.ID, g.Name, len(g.Members)))
			}
			return nil
		})
	case "info":
		if err := need(1, "info GROUP"); err != nil {
			return err
		}
		return e.withClient(ctx, func(ctx context.Context, c *client.Client) error {
			g, err := c.Group(ctx, pos[0])
			if err != nil {
				return err
			}
			e.printGroup(ctx, c, g)
			return nil
		})
	case "add":
		if len(pos) < 2 {
			return usageError("usage: parley group add GROUP MEMBER...")
		}
		return e.withClient(ctx, func(ctx context.Context, c *client.Client) error {
			res, err := c.AddGroupMembers(ctx, pos[0], pos[1:])
			if err != nil {
				return err
			}
			e.printAdd("added", c, res)
			return nil
		})
	case "remove", "promote", "demote":
		if err := need(2, sub+" GROUP MEMBER"); err != nil {
			return err
		}
		return e.withClient(ctx, func(ctx context.Context, c *client.Client) error {
			var err error
			switch sub {
			case "remove":
				err = c.RemoveGroupMember(ctx, pos[0], pos[1])
			default:
				err = c.SetGroupAdmin(ctx, pos[0], pos[1], sub == "promote")
			}
			if err != nil {
				return err
			}
			e.out(map[string]any{"event": sub + "d", "group": pos[0], "member": pos[1]}, fmt.Sprintf("%sd %s", sub, pos[1]))
			return nil
		})
	case "settings":
		if err := need(1, "settings GROUP [--name N] [--description D] [--icon REF] [--only-admins-send true|false] [--only-admins-edit true|false] [--join-approval true|false]"); err != nil {
			return err
		}
		u := client.GroupUpdate{Name: name.v, Description: description.v, Icon: icon.v, OnlyAdminsSend: onlySend.v, OnlyAdminsEditInfo: onlyEdit.v,
			JoinApproval: joinApproval.v}
		return e.withClient(ctx, func(ctx context.Context, c *client.Client) error {
			var g client.Group
			var err error
			if u == (client.GroupUpdate{}) {
				g, err = c.Group(ctx, pos[0])
			} else {
				g, err = c.UpdateGroup(ctx, pos[0], u)
			}
			if err != nil {
				return err
			}
			e.printGroup(ctx, c, g)
			return nil
		})
	case "invite":
		if len(pos) != 1 {
			return usageError("usage: parley group invite GROUP [--expires D] [--uses N] [--approve] | --user MEMBER")
		}
		if *user == "" {
			return e.withClient(ctx, func(ctx context.Context, c *client.Client) error {
				l, err := c.CreateInviteLink(ctx, pos[0], client.LinkOptions{ExpiresIn: *expires, MaxUses: *uses, Approve: *approve})
				if err != nil {
					return err
				}
				obj := linkJSON(l)
				obj["event"] = "invite_link"
				e.out(obj, l.Link)
				return nil
			})
		}
		return e.withClient(ctx, func(ctx context.Context, c *client.Client) error {
			if err := c.InviteToGroup(ctx, pos[0], *user); err != nil {
				return err
			}
			e.out(map[string]any{"event": "invited", "group": pos[0], "user": *user}, "invited "+*user)
			return nil
		})
	case "invitations":
		return e.withClient(ctx, func(ctx context.Context, c *client.Client) error {
			invs, err := c.GroupInvitations(ctx)
			if err != nil {
				return err
			}
			for _, inv := range invs {
				e.out(map[string]any{"event": "invitation", "group": string(inv.Group), "name": inv.Name,
					"invited_by": int64(inv.InvitedBy), "at_ms": inv.At.UnixMilli()},
					fmt.Sprintf("%s\t%s\tinvited by %s", inv.Group, inv.Name, c.Who(ctx, inv.InvitedBy)))
			}
			return nil
		})
	case "accept":
		if err := need(1, "accept GROUP"); err != nil {
			return err
		}
		return e.withClient(ctx, func(ctx context.Context, c *client.Client) error {
			g, err := c.AcceptGroupInvitation(ctx, pos[0])
			if err != nil {
				return err
			}
			obj := groupJSON(g)
			obj["event"] = "joined"
			e.out(obj, fmt.Sprintf("joined %s (%s)", g.Name, g.ID))
			return nil
		})
	case "decline", "leave":
		if err := need(1, sub+" GROUP"); err != nil {
			return err
		}
		return e.withClient(ctx, func(ctx context.Context, c *client.Client) error {
			var err error
			if sub == "leave" {
				err = c.LeaveGroup(ctx, pos[0])
			} else {
				err = c.DeclineGroupInvitation(ctx, pos[0])
			}
			if err != nil {
				return err
			}
			past := map[string]string{"leave": "left", "decline": "declined"}[sub]
			e.out(map[string]any{"event": past, "group": pos[0]}, past+" "+pos[0])
			return nil
		})
	case "links":
		if err := need(1, "links GROUP"); err != nil {
			return err
		}
		return e.withClient(ctx, func(ctx context.Context, c *client.Client) error {
			links, err := c.InviteLinks(ctx, pos[0])
			if err != nil {
				return err
			}
			for _, l := range links {
				obj := linkJSON(l)
				obj["event"] = "invite_link"
				state := "active"
				if l.Revoked {
					state = "revoked"
				}
				e.out(obj, fmt.Sprintf("%s\t%s\t%d uses", l.ID, state, l.Uses))
			}
			return nil
		})
	case "revoke":
		if err := need(2, "revoke GROUP LINK|LINK_ID"); err != nil {
			return err
		}
		return e.withClient(ctx, func(ctx context.Context, c *client.Client) error {
			if err := c.RevokeInviteLink(ctx, pos[0], pos[1]); err != nil {
				return err
			}
			e.out(map[string]any{"event": "revoked", "group": pos[0], "link": pos[1]}, "revoked")
			return nil
		})
	case "join":
		if err := need(1, "join LINK"); err != nil {
			return err
		}
		return e.withClient(ctx, func(ctx context.Context, c *client.Client) error {
			j, err := c.JoinByLink(ctx, pos[0])
			if err != nil {
				return err
			}
			obj := groupJSON(j.Group)
			if j.Pending {
				obj = map[string]any{"group": string(j.Group.ID), "name": j.Group.Name}
				obj["event"] = "join_requested"
				e.out(obj, fmt.Sprintf("asked to join %s: an admin must approve, then run group join again", j.Group.Name))
				return nil
			}
			obj["event"] = "joined"
			e.out(obj, fmt.Sprintf("joined %s (%s)", j.Group.Name, j.Group.ID))
			return nil
		})
	case "requests":
		if err := need(1, "requests GROUP"); err != nil {
			return err
		}
		return e.withClient(ctx, func(ctx context.Context, c *client.Client) error {
			reqs, err := c.JoinRequests(ctx, pos[0])
			if err != nil {
				return err
			}
			for _, r := range reqs {
				e.out(map[string]any{"event": "join_request", "user": int64(r.User), "at_ms": r.At.UnixMilli()},
					fmt.Sprintf("%d\t%s", r.User, r.At.Format(time.RFC3339)))
			}
			return nil
		})
	case "approve", "reject":
		if err := need(2, sub+" GROUP USER"); err != nil {
			return err
		}
		return e.withClient(ctx, func(ctx context.Context, c *client.Client) error {
			u, err := userRef(ctx, c, pos[1])
			if err != nil {
				return err
			}
			if err := c.DecideJoinRequest(ctx, pos[0], u, sub == "approve"); err != nil {
				return err
			}
			e.out(map[string]any{"event": sub + "d", "group": pos[0], "user": int64(u)}, fmt.Sprintf("%sd %d", sub, u))
			return nil
		})
	case "privacy":
		if err := need(1, "privacy everyone|contacts|nobody"); err != nil {
			return err
		}
		return e.withClient(ctx, func(ctx context.Context, c *client.Client) error {
			if err := c.SetGroupAddPrivacy(ctx, pos[0]); err != nil {
				return err
			}
			e.out(map[string]any{"event": "group_privacy", "add_me": pos[0]}, "who can add me to groups: "+pos[0])
			return nil
		})
	}
	return usageError(fmt.Sprintf("unknown group subcommand %q\n%s", sub, groupUsage))
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

func (e *env) printAdd(event string, c *client.Client, res client.GroupAddResult) {
	obj := groupJSON(res.Group)
	obj["event"], obj["added"], obj["invited"] = event, userIDs(res.Added), userIDs(res.Invited)
	text := fmt.Sprintf("%s %s (%s): %d members", event, res.Group.Name, res.Group.ID, len(res.Group.Members))
	if len(res.Invited) > 0 {
		text += fmt.Sprintf(", %d invited (their privacy settings require an invitation)", len(res.Invited))
	}
	e.out(obj, text)
}

func (e *env) printGroup(ctx context.Context, c *client.Client, g client.Group) {
	obj := groupJSON(g)
	obj["event"] = "group"
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
		fmt.Fprintf(&b, "  %s\t%s", c.Who(ctx, m.User), role)
		if i < len(g.Members)-1 {
			b.WriteByte('\n')
		}
	}
	e.out(obj, b.String())
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

const communityUsage = `usage: parley community SUBCOMMAND (COMMUNITY and GROUP: an id, or an unambiguous name)
  community create NAME [--member MEMBER]... [--description TEXT]
  community add COMMUNITY MEMBER...       admins: add members (they get the announcements)
  community remove COMMUNITY MEMBER       admins: remove a member from the community and all its groups
  community new-group COMMUNITY NAME [--member MEMBER]...   admins: create a sub-group
  community add-group COMMUNITY GROUP     admins: put an existing group under the community
  community remove-group COMMUNITY GROUP  admins: take a group out of the community
  community groups COMMUNITY              list the community's groups
  community join-group COMMUNITY GROUP    join one of them
announce COMMUNITY TEXT                   admins: post to the community's announcements`

func (e *env) community(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(e.stdout, communityUsage)
		if len(args) == 0 {
			return usageError("community: a subcommand is required")
		}
		return nil
	}
	sub, args := args[0], args[1:]
	fs := newFlags("community "+sub, e)
	var members multiFlag
	var description optString
	if sub == "create" || sub == "new-group" {
		fs.Var(&members, "member", "a member to add (repeatable): +PHONE, @USERNAME or user id")
		fs.Var(&description, "description", "a description")
	}
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	opts := client.GroupOptions{}
	if description.v != nil {
		opts.Description = *description.v
	}
	need := func(n int, usage string) error {
		if len(pos) < n {
			return usageError("usage: parley community " + usage)
		}
		return nil
	}
	switch sub {
	case "create":
		if err := need(1, "create NAME [--member MEMBER]..."); err != nil {
			return err
		}
		return e.withClient(ctx, func(ctx context.Context, c *client.Client) error {
			res, err := c.CreateCommunity(ctx, strings.Join(pos, " "), members, opts)
			if err != nil {
				return err
			}
			e.printAdd("created", c, res)
			return nil
		})
	case "new-group":
		if err := need(2, "new-group COMMUNITY NAME [--member MEMBER]..."); err != nil {
			return err
		}
		return e.withClient(ctx, func(ctx context.Context, c *client.Client) error {
			res, err := c.CreateCommunityGroup(ctx, pos[0], strings.Join(pos[1:], " "), members, opts)
			if err != nil {
				return err
			}
			e.printAdd("created", c, res)
			return nil
		})
	case "add":
		if err := need(2, "add COMMUNITY MEMBER..."); err != nil {
			return err
		}
		return e.group(ctx, append([]string{"add"}, pos...))
	case "remove":
		if err := need(2, "remove COMMUNITY MEMBER"); err != nil {
			return err
		}
		return e.group(ctx, append([]string{"remove"}, pos...))
	case "add-group", "remove-group":
		if err := need(2, sub+" COMMUNITY GROUP"); err != nil {
			return err
		}
		return e.withClient(ctx, func(ctx context.Context, c *client.Client) error {
			var err error
			if sub == "add-group" {
				err = c.AddCommunityGroup(ctx, pos[0], strings.Join(pos[1:], " "))
			} else {
				err = c.RemoveCommunityGroup(ctx, pos[0], strings.Join(pos[1:], " "))
			}
			if err != nil {
				return err
			}
			e.out(map[string]any{"event": strings.ReplaceAll(sub, "-", "_"), "community": pos[0], "group": strings.Join(pos[1:], " ")}, sub+": done")
			return nil
		})
	case "groups":
		if err := need(1, "groups COMMUNITY"); err != nil {
			return err
		}
		return e.withClient(ctx, func(ctx context.Context, c *client.Client) error {
			list, err := c.CommunityGroups(ctx, strings.Join(pos, " "))
			if err != nil {
				return err
			}
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
				e.out(map[string]any{"event": "community_group", "group": string(g.ID), "name": g.Name, "description": g.Description,
					"members": g.Members, "member": g.Member, "join_approval": g.JoinApproval, "pending": g.Pending},
					fmt.Sprintf("%s\t%s\t%d members%s", g.ID, g.Name, g.Members, mark))
			}
			return nil
		})
	case "join-group":
		if err := need(2, "join-group COMMUNITY GROUP"); err != nil {
			return err
		}
		return e.withClient(ctx, func(ctx context.Context, c *client.Client) error {
			r, err := c.JoinCommunityGroup(ctx, pos[0], strings.Join(pos[1:], " "))
			if err != nil {
				return err
			}
			if r.Pending {
				e.out(map[string]any{"event": "join_requested", "group": string(r.Group.ID), "name": r.Group.Name},
					fmt.Sprintf("asked to join %s (%s): an admin must approve; run join-group again once approved", r.Group.Name, r.Group.ID))
				return nil
			}
			obj := groupJSON(r.Group)
			obj["event"] = "joined"
			e.out(obj, fmt.Sprintf("joined %s (%s)", r.Group.Name, r.Group.ID))
			return nil
		})
	}
	return usageError(fmt.Sprintf("unknown community subcommand %q\n%s", sub, communityUsage))
}

// announce posts to a community's announcement group.
func (e *env) announce(ctx context.Context, args []string) error {
	pos, err := parseFlags(newFlags("announce", e), args)
	if err != nil {
		return err
	}
	if len(pos) < 2 {
		return usageError("usage: parley announce COMMUNITY TEXT")
	}
	return e.withClient(ctx, func(ctx context.Context, c *client.Client) error {
		m, err := c.Announce(ctx, pos[0], strings.Join(pos[1:], " "))
		if err != nil {
			return err
		}
		e.printSent(pos[0], m)
		return nil
	})
}
