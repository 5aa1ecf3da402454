package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client"
)

func (e *env) account(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usageError("usage: parley account register|verify|username|privacy|pin …")
	}
	switch args[0] {
	case "register":
		return e.accountRegister(ctx, args[1:])
	case "verify":
		return e.accountVerify(ctx, args[1:])
	case "username":
		return e.accountUsername(ctx, args[1:])
	case "privacy":
		return e.accountPrivacy(ctx, args[1:])
	case "pin":
		return e.accountPIN(ctx, args[1:])
	case "show":
		return e.whoami(ctx, args[1:])
	}
	return usageError(fmt.Sprintf("unknown account command %q", args[0]))
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

func (e *env) device(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usageError("usage: parley device link|add|list|remove …")
	}
	switch args[0] {
	case "link":
		return e.withClient(ctx, func(ctx context.Context, c *client.Client) error {
			code, exp, err := c.LinkCode(ctx)
			if err != nil {
				return err
			}
			e.out(map[string]any{"event": "link_code", "code": code, "expires_in_s": int(exp.Seconds())},
				fmt.Sprintf("link code: %s (valid %s); on the new device run: parley device add --server URL --code %s", code, exp, code))
			return nil
		})
	case "add":
		fs := newFlags("device add", e)
		server := fs.String("server", "", "server URL")
		code := fs.String("code", "", "the link code shown by the primary device")
		name := fs.String("name", "", "this device's name (default: the host name)")
		if _, err := parseFlags(fs, args[1:]); err != nil {
			return err
		}
		if *server == "" || *code == "" {
			return usageError("usage: parley device add --server URL --code CODE [--name NAME]")
		}
		ctx, cancel := context.WithTimeout(ctx, e.timeout)
		defer cancel()
		c, err := e.openNamed(ctx, *server, *name, false)
		if err != nil {
			return err
		}
		defer c.Close()
		a, err := c.LinkDevice(ctx, *server, *code)
		if err != nil {
			return err
		}
		e.printAccount("linked", a)
		// Chats that could not be joined (not valid MLS) did not stop the
		// link: say which.
		for _, s := range c.SkippedChats() {
			e.out(map[string]any{"event": "skipped_chat", "conversation": string(s.Conversation), "error": s.Err.Error()},
				fmt.Sprintf("skipped chat %s: it cannot be joined (%v)", s.Conversation, s.Err))
		}
		return nil
	case "list":
		return e.withClient(ctx, func(ctx context.Context, c *client.Client) error {
			ds, err := c.Devices(ctx)
			if err != nil {
				return err
			}
			me := c.Account().Device
			for _, d := range ds {
				obj := map[string]any{"event": "device", "device_id": int64(d.Device), "name": d.Name, "primary": d.Primary,
					"revoked": d.Revoked, "this_device": d.Device == me, "created_at": ts(d.CreatedAt)}
				text := fmt.Sprintf("%d\t%s", d.Device, d.Name)
				if d.Primary {
					text += "\tprimary"
				}
				if d.Revoked {
					text += "\trevoked"
				}
				if d.Device == me {
					text += "\t(this device)"
				}
				e.out(obj, text)
			}
			return nil
		})
	case "remove":
		if len(args) != 2 {
			return usageError("usage: parley device remove ID")
		}
		id, err := strconv.ParseInt(strings.TrimPrefix(args[1], "d"), 10, 64)
		if err != nil {
			return usageError("device id must be a number")
		}
		return e.withClient(ctx, func(ctx context.Context, c *client.Client) error {
			if err := c.RemoveDevice(ctx, parley.DeviceID(id)); err != nil {
				return err
			}
			// Process the resulting system envelopes so this device
			// commits the MLS removal while it is online.
			_ = c.Sync(ctx)
			e.out(map[string]any{"event": "device_removed", "device_id": id}, fmt.Sprintf("device %d removed", id))
			return nil
		})
	}
	return usageError(fmt.Sprintf("unknown device command %q", args[0]))
}
