package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client"
)

// accountCommands are `parley account …`.
var accountCommands = []command{
	{name: "register", usage: "--server URL --phone E164 --name NAME", run: raw((*env).accountRegister)},
	{name: "verify", usage: "--code CODE [--pin PIN]", run: raw((*env).accountVerify)},
	{name: "username", usage: "NAME | --remove", run: raw((*env).accountUsername)},
	{name: "privacy", usage: "[--find-by-phone everyone|contacts|nobody] [--last-seen everyone|contacts|nobody]", run: raw((*env).accountPrivacy)},
	{name: "pin", usage: "set PIN [--old OLD] | account pin remove --old OLD", run: raw((*env).accountPIN)},
	{name: "show", run: raw((*env).whoami)},
}

func (e *env) accountRegister(ctx context.Context, args []string) error {
	fs := newFlags("account register", e)
	server := fs.String("server", "", "server URL, e.g. http://127.0.0.1:8080")
	phone := fs.String("phone", "", "phone number in E.164, e.g. +447700900123")
	name := fs.String("name", "", "display name")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if *server == "" || *phone == "" || *name == "" {
		return usageError("usage: parley account register --server URL --phone E164 --name NAME")
	}
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	c, err := e.open(ctx, *server, false)
	if err != nil {
		return err
	}
	defer c.Close()
	r, err := c.Register(ctx, *server, *phone, *name)
	if err != nil {
		return err
	}
	e.out(map[string]any{"event": "code_sent", "phone": r.Phone, "expires_in_s": int(r.ExpiresIn.Seconds())},
		fmt.Sprintf("verification code sent to %s; run: parley account verify --code CODE", r.Phone))
	return nil
}

func (e *env) accountVerify(ctx context.Context, args []string) error {
	fs := newFlags("account verify", e)
	code := fs.String("code", "", "the 6-digit verification code")
	pin := fs.String("pin", "", "the two-step PIN, if the account has one")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if *code == "" {
		return usageError("usage: parley account verify --code CODE [--pin PIN]")
	}
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	c, err := e.open(ctx, "", false)
	if err != nil {
		return err
	}
	defer c.Close()
	a, err := c.Verify(ctx, *code, *pin)
	if err != nil {
		return err
	}
	e.printAccount("registered", a)
	return nil
}

func (e *env) printAccount(event string, a client.Account) {
	e.out(map[string]any{"event": event, "user_id": int64(a.User), "device_id": int64(a.Device), "phone": a.Phone,
		"primary": a.Primary, "server": a.ServerURL},
		fmt.Sprintf("%s: %s, user %d, device %d%s", event, a.Phone, a.User, a.Device, map[bool]string{true: " (primary)", false: " (linked)"}[a.Primary]))
}

func (e *env) whoami(ctx context.Context, args []string) error {
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	c, err := e.open(ctx, "", false)
	if err != nil {
		return err
	}
	defer c.Close()
	a := c.Account()
	if !a.Registered() {
		return parley.Errorf(parley.CodeUnauthenticated, "not_registered", "profile %s is not registered", e.profile)
	}
	e.printAccount("account", a)
	return nil
}

func (e *env) accountUsername(ctx context.Context, args []string) error {
	fs := newFlags("account username", e)
	remove := fs.Bool("remove", false, "remove the username")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 && !*remove {
		return usageError("usage: parley account username NAME | --remove")
	}
	name := ""
	if !*remove {
		name = strings.TrimPrefix(pos[0], "@")
	}
	return e.withClient(ctx, func(ctx context.Context, c *client.Client) error {
		if err := c.SetUsername(ctx, name); err != nil {
			return err
		}
		e.out(map[string]any{"event": "username", "username": name}, map[bool]string{true: "username removed", false: "username set to @" + name}[name == ""])
		return nil
	})
}

func (e *env) accountPrivacy(ctx context.Context, args []string) error {
	fs := newFlags("account privacy", e)
	find := fs.String("find-by-phone", "", "who can find me by phone number: everyone|contacts|nobody")
	last := fs.String("last-seen", "", "who sees my last seen and online: everyone|contacts|nobody")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	for _, v := range []string{*find, *last} {
		if !parley.Visibility(v).Valid() {
			return usageError(fmt.Sprintf("%q: want everyone, contacts or nobody", v))
		}
	}
	if *find == "" && *last == "" {
		return usageError("usage: parley account privacy [--find-by-phone everyone|contacts|nobody] [--last-seen everyone|contacts|nobody]")
	}
	return e.withClient(ctx, func(ctx context.Context, c *client.Client) error {
		if err := c.SetPrivacy(ctx, parley.Visibility(*find), parley.Visibility(*last)); err != nil {
			return err
		}
		e.out(map[string]any{"event": "privacy", "find_by_phone": *find, "last_seen": *last}, "privacy settings saved")
		return nil
	})
}

func (e *env) accountPIN(ctx context.Context, args []string) error {
	fs := newFlags("account pin", e)
	old := fs.String("old", "", "the current PIN (to change or remove it)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	var pin string
	switch {
	case len(pos) == 2 && pos[0] == "set":
		pin = pos[1]
	case len(pos) == 1 && pos[0] == "remove":
	default:
		return usageError("usage: parley account pin set PIN [--old OLD] | parley account pin remove --old OLD")
	}
	return e.withClient(ctx, func(ctx context.Context, c *client.Client) error {
		if err := c.SetPIN(ctx, pin, *old); err != nil {
			return err
		}
		e.out(map[string]any{"event": "pin", "set": pin != ""}, map[bool]string{true: "two-step PIN set", false: "two-step PIN removed"}[pin != ""])
		return nil
	})
}

// deviceCommands are `parley device …`.
var deviceCommands = []command{
	{name: "link", usage: "\ton the primary: print a link code", run: func(x *call) error {
		return x.client(func(c *client.Client) error {
			code, exp, err := c.LinkCode(x.ctx)
			if err != nil {
				return err
			}
			return x.print(map[string]any{"event": "link_code", "code": code, "expires_in_s": int(exp.Seconds())},
				fmt.Sprintf("link code: %s (valid %s); on the new device run: parley device add --server URL --code %s", code, exp, code))
		})
	}},
	{name: "add", usage: "--server URL --code CODE [--name NAME]\n\ton the new device's profile: link it", run: func(x *call) error {
		server := x.fs.String("server", "", "server URL")
		code := x.fs.String("code", "", "the link code shown by the primary device")
		name := x.fs.String("name", "", "this device's name (default: the host name)")
		if err := x.parse(); err != nil {
			return err
		}
		if *server == "" || *code == "" {
			return x.usage()
		}
		ctx, cancel := context.WithTimeout(x.ctx, x.timeout)
		defer cancel()
		c, err := x.openNamed(ctx, *server, *name, false)
		if err != nil {
			return err
		}
		defer c.Close()
		a, err := c.LinkDevice(ctx, *server, *code)
		if err != nil {
			return err
		}
		x.printAccount("linked", a)
		// Chats that could not be joined (not valid MLS) did not stop the
		// link: say which.
		for _, s := range c.SkippedChats() {
			x.out(map[string]any{"event": "skipped_chat", "conversation": string(s.Conversation), "error": s.Err.Error()},
				fmt.Sprintf("skipped chat %s: it cannot be joined (%v)", s.Conversation, s.Err))
		}
		return nil
	}},
	{name: "list", usage: "\tthis account's devices", run: func(x *call) error {
		return x.client(func(c *client.Client) error {
			ds, err := c.Devices(x.ctx)
			if err != nil {
				return err
			}
			me := c.Account().Device
			for _, d := range ds {
				obj := map[string]any{"event": "device", "device_id": int64(d.Device), "name": d.Name, "primary": d.Primary,
					"revoked": d.Revoked, "this_device": d.Device == me, "created_at": ts(d.CreatedAt)}
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
		})
	}},
	{name: "remove", usage: "ID", min: 1, max: 1, run: func(x *call) error {
		if err := x.parse(); err != nil {
			return err
		}
		id, err := strconv.ParseInt(strings.TrimPrefix(x.pos[0], "d"), 10, 64)
		if err != nil {
			return usageError("device id must be a number")
		}
		return x.client(func(c *client.Client) error {
			if err := c.RemoveDevice(x.ctx, parley.DeviceID(id)); err != nil {
				return err
			}
			// Process the resulting system envelopes so this device
			// commits the MLS removal while it is online.
			_ = c.Sync(x.ctx)
			return x.print(map[string]any{"event": "device_removed", "device_id": id}, fmt.Sprintf("device %d removed", id))
		})
	}},
}
