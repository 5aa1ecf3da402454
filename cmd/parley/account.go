package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/apiclient"
	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/cmd/internal/render"
)

// accountCommands are `parley account …`.
var accountCommands = []command{
	{Name: "register", Usage: "--server URL --phone E164 --name NAME", Run: func(x *call) error {
		server := x.Need("server", "", "server URL, e.g. http://127.0.0.1:8080")
		phone := x.Need("phone", "", "phone number in E.164, e.g. +447700900123")
		name := x.Need("name", "", "display name")
		return x.withProfile(server, nil, func(c *client.Client) error {
			r, err := c.Register(x.Ctx, *server, *phone, *name)
			return x.done(err, map[string]any{"event": "code_sent", "phone": r.Phone, "expires_in_s": int(r.ExpiresIn.Seconds())},
				fmt.Sprintf("verification code sent to %s; run: parley account verify --code CODE", r.Phone))
		})
	}},
	{Name: "verify", Usage: "--code CODE [--pin PIN]", Run: func(x *call) error {
		code := x.Need("code", "", "the 6-digit verification code")
		pin := x.FS.String("pin", "", "the two-step PIN, if the account has one")
		return x.withProfile(nil, nil, func(c *client.Client) error {
			a, err := c.Verify(x.Ctx, *code, *pin)
			return x.printAccount("registered", a, err)
		})
	}},
	{Name: "username", Max: 1, Usage: "NAME | --remove", Run: func(x *call) error {
		remove := x.FS.Bool("remove", false, "remove the username")
		if err := x.Parse(); err != nil {
			return err
		}
		if len(x.Pos) != 1 && !*remove {
			return x.Usage()
		}
		name := ""
		if !*remove {
			name = strings.TrimPrefix(x.Pos[0], "@")
		}
		return x.client(func(c *client.Client) error {
			return x.done(c.SetUsername(x.Ctx, name), map[string]any{"event": "username", "username": name}, map[bool]string{true: "username removed", false: "username set to @" + name}[name == ""])
		})
	}},
	{Name: "privacy", Usage: "[--find-by-phone everyone|contacts|nobody] [--last-seen everyone|contacts|nobody]", Run: func(x *call) error {
		find := x.FS.String("find-by-phone", "", "who can find me by phone number: everyone|contacts|nobody")
		last := x.FS.String("last-seen", "", "who sees my last seen and online: everyone|contacts|nobody")
		if err := x.Parse(); err != nil {
			return err
		}
		for _, v := range []string{*find, *last} {
			if !parley.Visibility(v).Valid() {
				return usageError(fmt.Sprintf("%q: want everyone, contacts or nobody", v))
			}
		}
		if *find == "" && *last == "" {
			return x.Usage()
		}
		return x.client(func(c *client.Client) error {
			return x.done(c.SetPrivacy(x.Ctx, parley.Visibility(*find), parley.Visibility(*last)), map[string]any{"event": "privacy", "find_by_phone": *find, "last_seen": *last}, "privacy settings saved")
		})
	}},
	{Name: "pin", Usage: "set PIN [--old OLD] | account pin remove --old OLD", Subs: []command{
		{Name: "set", Min: 1, Max: 1, Usage: "PIN [--old OLD]", Run: setPIN},
		{Name: "remove", Usage: "--old OLD", Run: setPIN},
	}},
	{Name: "show", Run: whoami},
}

// setPIN is account pin set and account pin remove.
func setPIN(x *call) error {
	old := x.FS.String("old", "", "the current PIN (to change or remove it)")
	return x.client(func(c *client.Client) error {
		pin := x.Arg(0)
		return x.done(c.SetPIN(x.Ctx, pin, *old), map[string]any{"event": "pin", "set": pin != ""}, map[bool]string{true: "two-step PIN set", false: "two-step PIN removed"}[pin != ""])
	})
}

// printAccount prints an account, unless err.
func (x *call) printAccount(event string, a client.Account, err error) error {
	if err != nil {
		return err
	}
	return x.print(map[string]any{"event": event, "user_id": int64(a.User), "device_id": int64(a.Device), "phone": a.Phone,
		"primary": a.Primary, "server": a.ServerURL},
		fmt.Sprintf("%s: %s, user %d, device %d%s", event, a.Phone, a.User, a.Device, map[bool]string{true: " (primary)", false: " (linked)"}[a.Primary]))
}

// whoami prints this profile's account.
func whoami(x *call) error {
	return x.withProfile(nil, nil, func(c *client.Client) error {
		a := c.Account()
		if !a.Registered() {
			return parley.Errorf(parley.CodeUnauthenticated, apiclient.ReasonNotRegistered, "profile %s is not registered", x.env.profile)
		}
		return x.printAccount("account", a, nil)
	})
}

// withProfile parses x's arguments and runs fn with the profile's client, registered or not, opened on *server
// (nil or "": the profile's) under *deviceName (nil or "": the host name).
func (x *call) withProfile(server, deviceName *string, fn func(c *client.Client) error) error {
	if err := x.Parse(); err != nil {
		return err
	}
	var cancel context.CancelFunc
	x.Ctx, cancel = context.WithTimeout(x.Ctx, x.timeout)
	defer cancel()
	deref := func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	}
	c, err := x.openNamed(x.Ctx, deref(server), deref(deviceName), false)
	if err != nil {
		return err
	}
	defer c.Close()
	return fn(c)
}

// deviceCommands are `parley device …`.
var deviceCommands = []command{
	{Name: "link", Usage: "\ton the primary: print a link code", Run: do(func(x *call, c *client.Client) error {
		code, exp, err := c.LinkCode(x.Ctx)
		return x.done(err, map[string]any{"event": "link_code", "code": code, "expires_in_s": int(exp.Seconds())},
			fmt.Sprintf("link code: %s (valid %s); on the new device run: parley device add --server URL --code %s", code, exp, code))
	})},
	{Name: "add", Usage: "--server URL --code CODE [--name NAME]\n\ton the new device's profile: link it", Run: func(x *call) error {
		server := x.Need("server", "", "server URL")
		code := x.Need("code", "", "the link code shown by the primary device")
		name := x.FS.String("name", "", "this device's name (default: the host name)")
		return x.withProfile(server, name, func(c *client.Client) error {
			a, err := c.LinkDevice(x.Ctx, *server, *code)
			if err := x.printAccount("linked", a, err); err != nil {
				return err
			}
			// Chats that could not be joined (not valid MLS) did not stop the
			// link: say which.
			for _, s := range c.SkippedChats() {
				x.out(map[string]any{"event": "skipped_chat", "conversation": string(s.Conversation), "error": s.Err.Error()},
					fmt.Sprintf("skipped chat %s: it cannot be joined (%v)", s.Conversation, s.Err))
			}
			return nil
		})
	}},
	{Name: "list", Usage: "\tthis account's devices", Run: do(func(x *call, c *client.Client) error {
		ds, err := c.Devices(x.Ctx)
		if err != nil {
			return err
		}
		me := c.Account().Device
		for _, d := range ds {
			obj := map[string]any{"event": "device", "device_id": int64(d.Device), "name": d.Name, "primary": d.Primary,
				"revoked": d.Revoked, "this_device": d.Device == me, "created_at": render.TS(d.CreatedAt)}
			text := fmt.Sprintf("%d\t%s", d.Device, d.Name)
			for _, tag := range []struct {
				on   bool
				text string
			}{{d.Primary, "primary"}, {d.Revoked, "revoked"}, {d.Device == me, "(this device)"}} {
				if tag.on {
					text += "\t" + tag.text
				}
			}
			x.out(obj, text)
		}
		return nil
	})},
	{Name: "remove", Usage: "ID", Min: 1, Max: 1, Run: func(x *call) error {
		if err := x.Parse(); err != nil {
			return err
		}
		id, err := strconv.ParseInt(strings.TrimPrefix(x.Pos[0], "d"), 10, 64)
		if err != nil {
			return usageError("device id must be a number")
		}
		return x.client(func(c *client.Client) error {
			if err := c.RemoveDevice(x.Ctx, parley.DeviceID(id)); err != nil {
				return err
			}
			// Process the resulting system envelopes so this device
			// commits the MLS removal while it is online.
			_ = c.Sync(x.Ctx)
			return x.print(map[string]any{"event": "device_removed", "device_id": id}, fmt.Sprintf("device %d removed", id))
		})
	}},
}
