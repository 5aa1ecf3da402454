package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/apiclient"
	"github.com/parleyhq/parley/cmd/internal/render"
)

// The operator's commands against a running server's admin API
// (docs/admin-api.md): `parley admin users|user|devices|…`. The HTTP calls
// are package apiclient's; this file has flags and printing.

// adminCommands are `parley admin …`: the data-directory operations
// (admin.go) and the admin API's.
var adminCommands = []command{
	{Name: "backup", OwnFlags: true, Max: -1, Usage: "--data DIR [--postgres DSN] --out FILE [--include-keys]\ta consistent archive of a server's data, taken while it runs",
		Run: func(x *call) error { return adminBackup(x.Ctx, x.Args, x.stdout, x.stderr) }},
	{Name: "restore", OwnFlags: true, Max: -1, Usage: "--in FILE --data DIR [--postgres DSN]\tunpack and verify an archive into an empty DIR",
		Run: func(x *call) error { return adminRestore(x.Ctx, x.Args, x.stdout, x.stderr) }},
	{Name: "users", Usage: "[--find Q] [--after uID] [--limit N]\taccounts, by ID; --find: phone or username prefix, or part of the name", Run: adminUsers},
	{Name: "user", Min: 1, Max: 1, Usage: "+PHONE|@NAME|uID\tone account and its devices", Run: adminUser},
	{Name: "devices", Min: 1, Max: 1, Usage: "USER\tan account's devices, revoked ones included", Run: adminDevices},
	{Name: "revoke-device", Min: 2, Max: 2, Usage: "USER DEVICE\trevoke a device: it leaves its chats, its session closes", Run: adminRevoke},
	{Name: "suspend", Min: 1, Max: 1, Usage: "USER [--reason TEXT]\tsuspend an account: its sessions close, it cannot sign in,\n\tmessages to it are refused", Run: adminSuspend},
	{Name: "unsuspend", Min: 1, Max: 1, Usage: "USER\tlift a suspension", Run: adminSuspend},
	{Name: "groups", Usage: "[--min-members N] [--limit N]\tgroups and communities, largest first", Run: adminGroups},
	{Name: "delete-group", Min: 1, Max: 1, Usage: "CHAT\tremove every member of a group or community and close its links", Run: adminDeleteGroup},
	{Name: "businesses", Usage: "[--after uID] [--limit N]\tbusiness profiles and their verified mark", Run: adminBusinesses},
	{Name: "verify", Min: 1, Max: 1, Usage: "USER [--off]\tset (or clear) a business's verified mark", Run: adminVerify},
	{Name: "stats", Usage: "\tthe server's counts", Run: adminStats},
	{Name: "audit", Usage: "[--before ID] [--limit N]\tthe audit log of admin actions, newest first", Run: adminAudit},
}

const adminIntro = `usage: parley admin SUBCOMMAND
The API subcommands take --server URL [PARLEY_SERVER] and --token TOKEN
(the server's --operator-token) [PARLEY_OPERATOR_TOKEN]. See docs/admin-api.md
and docs/operations.md.`

// admin declares --server and --token, parses the command line (declare
// the command's own flags first) and runs f with the admin API's client.
func (x *call) admin(f func(c *apiclient.Client) error) error {
	server := x.Need("server", os.Getenv("PARLEY_SERVER"), "the server's URL [PARLEY_SERVER]")
	token := x.Need("token", os.Getenv("PARLEY_OPERATOR_TOKEN"), "the server's operator token [PARLEY_OPERATOR_TOKEN]")
	if err := x.Parse(); err != nil {
		return err
	}
	c, err := apiclient.New(*server, apiclient.Bearer(*token))
	if err != nil {
		return err
	}
	return f(c)
}

// adminRows prints items: one JSON line each with --json, else a table.
func adminRows[T any](x *call, items []T, err error, header string, row func(T) []any) error {
	if err != nil {
		return err
	}
	if x.json {
		for _, it := range items {
			x.writeJSON(x.stdout, it)
		}
		return nil
	}
	tw := tabwriter.NewWriter(x.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	for _, it := range items {
		var vals []string
		for _, v := range row(it) {
			s := fmt.Sprint(v)
			if s == "" {
				s = "-"
			}
			vals = append(vals, s)
		}
		fmt.Fprintln(tw, strings.Join(vals, "\t"))
	}
	return tw.Flush()
}

func adminUserRow(u apiclient.AdminUser) []any {
	return []any{u.ID, u.Phone, u.Name, u.Username, render.TS(u.CreatedAt), render.TS(u.SuspendedAt)}
}

const adminUserHeader = "ID\tPHONE\tNAME\tUSERNAME\tCREATED\tSUSPENDED"

func adminDeviceRow(d apiclient.AdminDevice) []any {
	return []any{d.ID, d.Name, d.Primary, d.Online, render.TS(d.CreatedAt), render.TS(d.RevokedAt)}
}

const adminDeviceHeader = "DEVICE\tNAME\tPRIMARY\tONLINE\tCREATED\tREVOKED"

func adminUsers(x *call) error {
	find := x.FS.String("find", "", "phone or username prefix, or part of the name")
	after := x.FS.String("after", "", "list after this user ID (paging)")
	limit := x.FS.Int("limit", 100, "at most this many (1 to 1000)")
	return x.admin(func(c *apiclient.Client) error {
		id, _ := strconv.ParseInt(strings.TrimPrefix(*after, "u"), 10, 64)
		us, err := c.AdminUsers(x.Ctx, *find, parley.UserID(id), *limit)
		return adminRows(x, us, err, adminUserHeader, adminUserRow)
	})
}

func adminUser(x *call) error {
	return x.admin(func(c *apiclient.Client) error {
		u, err := c.AdminUser(x.Ctx, x.Pos[0])
		if err != nil || x.json {
			return adminRows(x, []apiclient.AdminUser{u}, err, "", nil)
		}
		if err := adminRows(x, []apiclient.AdminUser{u}, nil, adminUserHeader, adminUserRow); err != nil {
			return err
		}
		fmt.Fprintln(x.stdout)
		return adminRows(x, u.Devices, nil, adminDeviceHeader, adminDeviceRow)
	})
}

func adminDevices(x *call) error {
	return x.admin(func(c *apiclient.Client) error {
		ds, err := c.AdminDevices(x.Ctx, x.Pos[0])
		return adminRows(x, ds, err, adminDeviceHeader, adminDeviceRow)
	})
}

func adminRevoke(x *call) error {
	return x.admin(func(c *apiclient.Client) error {
		id, err := strconv.ParseInt(strings.TrimPrefix(x.Pos[1], "d"), 10, 64)
		if err != nil {
			return usageError("revoke-device: DEVICE is a device ID (parley admin devices USER)")
		}
		d, err := c.AdminRevokeDevice(x.Ctx, x.Pos[0], parley.DeviceID(id))
		return adminRows(x, []apiclient.AdminDevice{d}, err, adminDeviceHeader, adminDeviceRow)
	})
}

// adminSuspend is `suspend` and `unsuspend`.
func adminSuspend(x *call) error {
	var reason *string
	if x.Name == "suspend" {
		reason = x.FS.String("reason", "", "why (kept in the audit log)")
	}
	return x.admin(func(c *apiclient.Client) error {
		var u apiclient.AdminUser
		var err error
		if reason != nil {
			u, err = c.AdminSuspend(x.Ctx, x.Pos[0], *reason)
		} else {
			u, err = c.AdminUnsuspend(x.Ctx, x.Pos[0])
		}
		return adminRows(x, []apiclient.AdminUser{u}, err, adminUserHeader, adminUserRow)
	})
}

func adminGroups(x *call) error {
	minMembers := x.FS.Int("min-members", 1, "only groups with at least this many members (0: also deleted groups)")
	limit := x.FS.Int("limit", 100, "at most this many (1 to 1000)")
	return x.admin(func(c *apiclient.Client) error {
		gs, err := c.AdminGroups(x.Ctx, *minMembers, *limit)
		return adminRows(x, gs, err, "CHAT\tNAME\tMEMBERS\tCOMMUNITY\tIN", func(g apiclient.AdminGroup) []any {
			return []any{g.ID, g.Name, g.Members, g.Community, g.In}
		})
	})
}

func adminDeleteGroup(x *call) error {
	return x.admin(func(c *apiclient.Client) error {
		d, err := c.AdminDeleteGroup(x.Ctx, parley.ConversationID(x.Pos[0]))
		return adminRows(x, []apiclient.AdminDeletedGroup{d}, err, "CHAT\tMEMBERS REMOVED", func(d apiclient.AdminDeletedGroup) []any {
			return []any{d.ID, d.Removed}
		})
	})
}

func adminBusinessRow(b apiclient.AdminBusiness) []any {
	return []any{b.User, b.Name, b.Category, b.Verified, b.Hosted}
}

const adminBusinessHeader = "USER\tNAME\tCATEGORY\tVERIFIED\tHOSTED"

func adminBusinesses(x *call) error {
	after := x.FS.String("after", "", "list after this user ID (paging)")
	limit := x.FS.Int("limit", 100, "at most this many (1 to 1000)")
	return x.admin(func(c *apiclient.Client) error {
		id, _ := strconv.ParseInt(strings.TrimPrefix(*after, "u"), 10, 64)
		bs, err := c.AdminBusinesses(x.Ctx, parley.UserID(id), *limit)
		return adminRows(x, bs, err, adminBusinessHeader, adminBusinessRow)
	})
}

func adminVerify(x *call) error {
	off := x.FS.Bool("off", false, "clear the mark")
	return x.admin(func(c *apiclient.Client) error {
		b, err := c.AdminSetVerified(x.Ctx, x.Pos[0], !*off)
		return adminRows(x, []apiclient.AdminBusiness{b}, err, adminBusinessHeader, adminBusinessRow)
	})
}

func adminStats(x *call) error {
	return x.admin(func(c *apiclient.Client) error {
		s, err := c.AdminStats(x.Ctx)
		if err != nil || x.json {
			return adminRows(x, []apiclient.AdminStats{s}, err, "", nil)
		}
		fmt.Fprintf(x.stdout, "users: %d (%d suspended)\ndevices: %d (%d online on this node)\nconversations: %d direct, %d group\nmessages stored: %d\nblobs: %d, %d bytes\n",
			s.Users, s.Suspended, s.Devices, s.OnlineDevices, s.Conversations["direct"], s.Conversations["group"], s.Envelopes, s.Blobs, s.BlobBytes)
		return nil
	})
}

func adminAudit(x *call) error {
	before := x.FS.Int64("before", 0, "entries before this ID (paging)")
	limit := x.FS.Int("limit", 100, "at most this many (1 to 1000)")
	return x.admin(func(c *apiclient.Client) error {
		es, err := c.AdminAudit(x.Ctx, *before, *limit)
		return adminRows(x, es, err, "ID\tAT\tACTOR\tACTION\tTARGET\tDETAIL", func(e apiclient.AuditEntry) []any {
			return []any{e.ID, render.TS(e.At), e.Actor, e.Action, e.Target, string(e.Detail)}
		})
	})
}
