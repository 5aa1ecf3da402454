package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/attachment"
	"github.com/parleyhq/parley/business"
	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/cmd/internal/cmdline"
	"github.com/parleyhq/parley/cmd/internal/render"
	"github.com/parleyhq/parley/node"
)

// businessCommands are `parley business …` (docs/business.md): this
// file's profile, catalog, orders, interactive messages, quick replies,
// labels, greeting/away and verify; business_api.go's business API
// commands and business_hooks.go's webhooks and insights.
var businessCommands = []command{
	{Name: "profile", Intro: "usage: parley business profile show|set|delete …", Subs: []command{
		{Name: "show", Max: 1, Usage: "[BUSINESS]\ta business's profile (default: yours)", Run: do(func(x *call, c *client.Client) error {
			if err := c.Sync(x.Ctx); err != nil {
				return err
			}
			p, err := c.BusinessProfile(x.Ctx, x.Arg(0))
			if err != nil {
				return err
			}
			if p.Name == "" { // not published yet (verified or hosted only): the account's name
				p.Name = c.Who(x.Ctx, p.User)
			}
			return x.print(render.Profile(p), render.ProfileText(p))
		})},
		{Name: "set", Usage: "[--name N] [--category C] [--description D] [--address A]\n    [--website URL] [--email E] [--zone TZ] [--hours \"mon-fri 09:00-18:00; sat 10:00-13:00\"]\n\tpublish or update your business profile",
			Run: businessProfileSet},
		{Name: "delete", Usage: "\tturn your account back into a personal one", Run: do(func(x *call, c *client.Client) error {
			return x.done(c.DeleteBusinessProfile(x.Ctx), map[string]any{"event": "business_profile_deleted"}, "your account is a personal account again")
		})},
	}},
	{Name: "catalog", Intro: "usage: parley business catalog list|add|remove|collection|share …", Subs: catalogCommands},
	{Name: "order", Min: 1, Max: -1, Usage: "--to BUSINESS PRODUCT[:QTY]... [--note TEXT]   send a cart as an order",
		Run: businessOrder, Subs: []command{{Name: "status", Min: 3, Max: 3, Usage: "CHAT ORDER_ID paid|shipped|completed|cancelled [--note TEXT]\n\t(business) update an order's status", Run: func(x *call) error {
			note := x.FS.String("note", "", "a note for the customer")
			return x.client(func(c *client.Client) error {
				m, err := c.SetOrderStatus(x.Ctx, x.Pos[0], x.Pos[1], x.Pos[2], *note)
				return x.done(err, render.Sent(m, "order_id", x.Pos[1], "status", x.Pos[2]), fmt.Sprintf("sent %s: %s", m.ID(), m.Text))
			})
		}}}},
	{Name: "choose", Min: 2, Max: 2, Usage: "MESSAGE_ID CHOICE_ID\tanswer a message's reply button or list row", Run: do(func(x *call, c *client.Client) error {
		m, err := c.ReplyInteractive(x.Ctx, x.Pos[0], x.Pos[1])
		return x.done(err, render.Sent(m, "reply_to", x.Pos[0], "choice", x.Pos[1]), fmt.Sprintf("sent %s: %s (reply to %s)", m.ID(), m.Text, x.Pos[0]))
	})},
	{Name: "ask", Usage: "--to CHAT --body TEXT [--header H] [--footer F] --button ID:TITLE...\n" +
		"--to CHAT --body TEXT --list BUTTON_TEXT --row [SECTION/]ID:TITLE[:DESCRIPTION]...\n\tsend reply buttons (up to 3) or a list", Run: businessAsk},
	{Name: "quick-reply", Intro: "usage: parley business quick-reply add|remove|list|send …", Subs: quickReplyCommands},
	{Name: "label", Intro: "usage: parley business label list|add|remove|set|unset|chats …", Subs: labelCommands},
	{Name: "greeting", Usage: "set TEXT [--after DURATION] | off     greeting on first contact (again after DURATION of silence)", Subs: autoReplyCommands},
	{Name: "away", Usage: "set TEXT [--every DURATION] | off        away message outside the profile's hours", Subs: autoReplyCommands},
	{Name: "auto-reply", Usage: "show\tgreeting and away settings", Run: autoReply, Subs: []command{{Name: "show", Run: autoReply}}},
	{Name: "listen", Usage: "[--for D] [--count N]\tprint messages and send greeting/away replies from this device", Run: businessListen},
	{Name: "verify", Min: 1, Max: 1, Usage: "--data DIR [--postgres DSN] [--remove] USER_ID|+PHONE\n\t(operator) set or clear a business's verified mark", Run: businessVerify},
	{Name: "api", Intro: "usage: parley business api enable|status|number", Subs: apiCommands},
	{Name: "tokens", Intro: "usage: parley business tokens create|list|revoke", Subs: tokenCommands},
	{Name: "templates", Intro: "usage: parley business templates list|create|delete|review|pending (--token T or $PARLEY_API_TOKEN)", Subs: templateCommands},
	{Name: "optins", Intro: "usage: parley business optins list|add (--token T or $PARLEY_API_TOKEN)", Subs: optInCommands},
	{Name: "report", Min: 1, Max: 1, Usage: "+PHONE [--reason R] [--block]\t(customer) report a business to the server; --block also blocks it", Run: businessReport},
	{Name: "webhook", Intro: "usage: parley business webhook show|set|remove|pending|dead|replay …", Subs: webhookCommands},
	{Name: "insights", Usage: "[--from YYYY-MM-DD] [--to YYYY-MM-DD] [--template T] [--campaign C]\n\tsent/delivered/read/failed/replied, rates, response times",
		Run: insightsReport, Subs: insightsCommands},
}

// businessProfileSet is business profile set: the flags given change the
// profile, the others keep their value.
func businessProfileSet(x *call) error {
	var name, category, description, address, website, email, zone, hours cmdline.OptString
	x.FS.Var(&name, "name", "the business's name")
	x.FS.Var(&category, "category", "category, e.g. Food")
	x.FS.Var(&description, "description", "what the business does")
	x.FS.Var(&address, "address", "postal address")
	x.FS.Var(&website, "website", "https://…")
	x.FS.Var(&email, "email", "contact email")
	x.FS.Var(&zone, "zone", "IANA time zone of the hours, e.g. Europe/Paris")
	x.FS.Var(&hours, "hours", `opening hours, e.g. "mon-fri 09:00-18:00; sat 10:00-13:00" ("" : always open)`)
	return x.client(func(c *client.Client) error {
		p, err := c.BusinessProfile(x.Ctx, "")
		if err != nil && !parley.IsCode(err, parley.CodeNotFound) {
			return err
		}
		for _, f := range []struct {
			o   cmdline.OptString
			dst *string
		}{{name, &p.Name}, {category, &p.Category}, {description, &p.Description}, {address, &p.Address},
			{website, &p.Website}, {email, &p.Email}} {
			if f.o.V != nil {
				*f.dst = *f.o.V
			}
		}
		if zone.V != nil || hours.V != nil {
			z, spec := p.Hours.Zone, p.Hours.Spec()
			if zone.V != nil {
				z = *zone.V
			}
			if hours.V != nil {
				spec = *hours.V
			}
			if strings.TrimSpace(spec) == "" {
				z = "" // no opening hours: always open
			}
			if z == "" && spec != "" {
				return usageError("--hours needs --zone (an IANA time zone such as Europe/Paris)")
			}
			if p.Hours, err = parley.ParseBusinessHours(z, spec); parley.ErrorReason(err) == parley.ReasonHoursSpec {
				return usageError("--hours " + parley.ErrorMessage(err))
			} else if err != nil {
				return err
			}
		}
		p, err = c.SetBusinessProfile(x.Ctx, p)
		return x.done(err, render.Profile(p), render.ProfileText(p))
	})
}

// catalogCommands are `parley business catalog …`.
var catalogCommands = []command{
	{Name: "list", Max: 1, Usage: "[BUSINESS] [--collection C]\tproducts and collections", Run: func(x *call) error {
		collection := x.FS.String("collection", "", "only this collection's products")
		return x.client(func(c *client.Client) error {
			if err := c.Sync(x.Ctx); err != nil {
				return err
			}
			cat, err := c.Catalog(x.Ctx, x.Arg(0), parley.CollectionID(*collection))
			if err != nil {
				return err
			}
			for _, col := range cat.Collections {
				x.out(map[string]any{"event": "collection", "id": string(col.ID), "name": col.Name}, fmt.Sprintf("collection %s: %s", col.ID, col.Name))
			}
			for _, p := range cat.Products {
				x.out(render.Product(p), render.ProductText(p))
			}
			if len(cat.Products) == 0 && !x.json {
				fmt.Fprintln(x.stdout, "no products")
			}
			return nil
		})
	}},
	{Name: "add", Min: 1, Max: 1, Usage: "ID --name N --price 12.50 --currency EUR [--description D] [--url U]\n    [--unavailable] [--collection C]... [--image-from MESSAGE_ID]   add or replace a product",
		Run: func(x *call) error {
			var collections cmdline.Strings
			name := x.Need("name", "", "product name")
			price := x.Need("price", "", "price, e.g. 12.50")
			currency := x.Need("currency", "", "ISO 4217 currency, e.g. EUR")
			description := x.FS.String("description", "", "description")
			url := x.FS.String("url", "", "product page")
			image := x.FS.String("image-from", "", "MESSAGE_ID of an image message you sent: its photo becomes the product's (the key is published with the catalog)")
			unavailable := x.FS.Bool("unavailable", false, "mark the product unavailable")
			x.FS.Var(&collections, "collection", "a collection the product is in (repeatable)")
			if err := x.Parse(); err != nil {
				return err
			}
			money, err := parley.ParseMoney(*price, *currency)
			if err != nil {
				return err
			}
			p := parley.Product{ID: parley.ProductID(x.Pos[0]), Name: *name, Price: money, Description: *description, URL: *url,
				Available: !*unavailable}
			for _, col := range collections {
				p.Collections = append(p.Collections, parley.CollectionID(col))
			}
			if err := p.Validate(); err != nil {
				return err
			}
			return x.client(func(c *client.Client) error {
				if *image != "" {
					d, err := c.MediaOf(x.Ctx, *image, attachment.KindImage)
					if err != nil {
						return err
					}
					p.Images = []parley.ProductImage{client.ProductImageOf(d)}
				}
				saved, err := c.PutProduct(x.Ctx, p)
				return x.done(err, render.Product(saved), "saved "+render.ProductText(saved))
			})
		}},
	{Name: "remove", Min: 1, Max: 1, Usage: "ID", Run: do(func(x *call, c *client.Client) error {
		return x.done(c.DeleteProduct(x.Ctx, parley.ProductID(x.Pos[0])), map[string]any{"event": "product_removed", "id": x.Pos[0]}, "removed "+x.Pos[0])
	})},
	{Name: "collection", Min: 2, Max: -1, Usage: "add ID NAME | remove ID", Run: func(x *call) error {
		if err := x.Parse(); err != nil {
			return err
		}
		if x.Pos[0] == "add" && len(x.Pos) < 3 || x.Pos[0] != "add" && x.Pos[0] != "remove" {
			return x.Usage()
		}
		return x.client(func(c *client.Client) error {
			if x.Pos[0] == "remove" {
				return x.done(c.DeleteCollection(x.Ctx, parley.CollectionID(x.Pos[1])), map[string]any{"event": "collection_removed", "id": x.Pos[1]}, "removed collection "+x.Pos[1])
			}
			name := strings.Join(x.Pos[2:], " ")
			return x.done(c.PutCollection(x.Ctx, parley.CollectionID(x.Pos[1]), name), map[string]any{"event": "collection", "id": x.Pos[1], "name": name}, "saved collection "+x.Pos[1]+": "+name)
		})
	}},
	{Name: "share", Min: 1, Max: 1, Usage: "ID --to CHAT [--business BUSINESS]      send a product message", Run: func(x *call) error {
		to := x.Need("to", "", "the chat to send the product to")
		biz := x.FS.String("business", "", "whose catalog (default: yours)")
		return x.client(func(c *client.Client) error {
			m, err := c.ShareProduct(x.Ctx, *to, *biz, parley.ProductID(x.Pos[0]))
			return x.done(err, render.Sent(m), fmt.Sprintf("sent %s (product %s)", m.ID(), x.Pos[0]))
		})
	}},
	{Name: "preview", Min: 1, Max: 1, Usage: "PRODUCT [--business B] [-o PATH]   save a product's photo preview (kept with the catalog)", Run: func(x *call) error {
		path := x.FS.String("o", "", "write the JPEG preview to this file (default: PRODUCT.jpg)")
		biz := x.FS.String("business", "", "whose catalog (default: yours)")
		return x.client(func(c *client.Client) error {
			p, err := c.Product(x.Ctx, *biz, parley.ProductID(x.Pos[0]))
			if err != nil {
				return err
			}
			if len(p.Images) == 0 || len(p.Images[0].Thumbnail) == 0 {
				return parley.Errorf(parley.CodeNotFound, ReasonNoPreview, "product %s has no photo preview", x.Pos[0])
			}
			if *path == "" {
				*path = x.Pos[0] + ".jpg"
			}
			if err := os.WriteFile(*path, p.Images[0].Thumbnail, 0o644); err != nil {
				return parley.Errorf(parley.CodeInvalid, ReasonBadPath, "%v", err)
			}
			return x.print(map[string]any{"event": "preview_saved", "product": x.Pos[0], "path": *path, "size": len(p.Images[0].Thumbnail)},
				fmt.Sprintf("saved %s (%d bytes)", *path, len(p.Images[0].Thumbnail)))
		})
	}},
	{Name: "image", Min: 1, Max: 1, Usage: "MESSAGE_ID [-o PATH]\tdownload a product message's photo", Run: func(x *call) error {
		path := x.FS.String("o", "", "write the image to this file (default: its name in the current directory)")
		if err := x.Parse(); err != nil {
			return err
		}
		return x.withClientTimeout(x.Ctx, max(x.timeout, 10*time.Minute), func(ctx context.Context, c *client.Client) error {
			if *path == "" {
				*path = strings.NewReplacer(":", "-", "/", "-").Replace(x.Pos[0]) + ".img"
			}
			f, err := os.Create(*path)
			if err != nil {
				return parley.Errorf(parley.CodeInvalid, ReasonBadPath, "%v", err)
			}
			d, err := c.DownloadBusinessMedia(ctx, x.Pos[0], f)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				os.Remove(*path)
				return err
			}
			return x.print(map[string]any{"event": "downloaded", "id": x.Pos[0], "path": *path, "size": d.Size, "mime": d.MIME},
				fmt.Sprintf("saved %s (%d bytes)", *path, d.Size))
		})
	}},
}

// businessOrder is business order --to BUSINESS PRODUCT[:QTY]...
func businessOrder(x *call) error {
	to := x.Need("to", "", "the business (+PHONE, @USERNAME or its chat)")
	note := x.FS.String("note", "", "a note for the business")
	if err := x.Parse(); err != nil {
		return err
	}
	var items []client.CartItem
	for _, p := range x.Pos {
		id, qty, hasQty := strings.Cut(p, ":")
		n := 1
		if hasQty {
			var err error
			if n, err = strconv.Atoi(qty); err != nil || n <= 0 {
				return usageError(fmt.Sprintf("%q: want PRODUCT:QUANTITY with a positive quantity", p))
			}
		}
		items = append(items, client.CartItem{Product: parley.ProductID(id), Quantity: n})
	}
	return x.client(func(c *client.Client) error {
		m, err := c.SendOrder(x.Ctx, *to, items, *note)
		if err != nil {
			return err
		}
		o := m.Business.Order
		return x.print(render.Sent(m, "order_id", o.OrderID, "total", o.Total.String(), "amount_1000", o.Total.Amount1000, "currency", o.Total.Currency),
			fmt.Sprintf("sent %s: %s", m.ID(), m.Text))
	})
}

// quickReplyCommands are `parley business quick-reply …`.
var quickReplyCommands = []command{
	{Name: "add", Min: 1, Max: -1, Usage: "SHORTCUT TEXT | add SHORTCUT --media-from MESSAGE_ID [CAPTION]", Run: func(x *call) error {
		mediaFrom := x.FS.String("media-from", "", "MESSAGE_ID of a media message you sent: the quick reply sends that file again")
		if err := x.Parse(); err != nil {
			return err
		}
		if len(x.Pos) < 2 && *mediaFrom == "" {
			return x.Usage()
		}
		return x.client(func(c *client.Client) error {
			q := parley.QuickReply{Shortcut: x.Pos[0], Text: strings.Join(x.Pos[1:], " ")}
			if *mediaFrom != "" {
				d, err := c.MediaOf(x.Ctx, *mediaFrom, "")
				if err != nil {
					return err
				}
				d.Caption = q.Text
				if q.Media, err = d.Marshal(); err != nil {
					return err
				}
			}
			q, err := c.PutQuickReply(x.Ctx, q)
			return x.done(err, map[string]any{"event": "quick_reply", "shortcut": q.Shortcut, "text": q.Text}, "saved /"+q.Shortcut)
		})
	}},
	{Name: "remove", Min: 1, Max: 1, Usage: "SHORTCUT", Run: do(func(x *call, c *client.Client) error {
		return x.done(c.DeleteQuickReply(x.Ctx, x.Pos[0]), map[string]any{"event": "quick_reply_removed", "shortcut": strings.TrimPrefix(x.Pos[0], "/")}, "removed "+x.Pos[0])
	})},
	{Name: "list", Run: do(func(x *call, c *client.Client) error {
		list, err := c.QuickReplies(x.Ctx)
		for _, q := range list {
			text := q.Text
			if len(q.Media) > 0 {
				text = "[media] " + text
			}
			x.out(map[string]any{"event": "quick_reply", "shortcut": q.Shortcut, "text": q.Text, "media": len(q.Media) > 0},
				fmt.Sprintf("/%-15s %s", q.Shortcut, text))
		}
		return err
	})},
	{Name: "send", Min: 1, Max: 1, Usage: "--to CHAT /SHORTCUT\tsend a saved reply", Run: func(x *call) error {
		to := x.Need("to", "", "the chat")
		return x.client(func(c *client.Client) error {
			q, _, err := c.ExpandQuickReply(x.Ctx, "/"+strings.TrimPrefix(x.Pos[0], "/"))
			if err != nil {
				return err
			}
			var m client.MessageRecord
			if len(q.Media) > 0 {
				d, err := attachment.Unmarshal(q.Media)
				if err != nil {
					return err
				}
				m, err = c.SendDescriptor(x.Ctx, *to, d)
				if err != nil {
					return err
				}
			} else if m, err = c.SendText(x.Ctx, *to, q.Text, 0); err != nil {
				return err
			}
			return x.print(map[string]any{"event": "sent", "id": m.ID(), "chat": string(m.Conversation), "seq": int64(m.Seq), "shortcut": q.Shortcut},
				fmt.Sprintf("sent %s (/%s)", m.ID(), q.Shortcut))
		})
	}},
}

// labelCommands are `parley business label …`.
var labelCommands = []command{
	{Name: "list", Run: do(func(x *call, c *client.Client) error {
		ls, err := c.Labels(x.Ctx)
		for _, l := range ls {
			x.out(map[string]any{"event": "label", "id": string(l.ID), "name": l.Name, "color": l.Color},
				fmt.Sprintf("%-16s %s %s", l.ID, l.Name, l.Color))
		}
		return err
	})},
	{Name: "add", Min: 2, Max: -1, Usage: "ID NAME [--color #rrggbb]", Run: func(x *call) error {
		color := x.FS.String("color", "", "#rrggbb")
		return x.client(func(c *client.Client) error {
			l := parley.Label{ID: parley.LabelID(x.Pos[0]), Name: strings.Join(x.Pos[1:], " "), Color: *color}
			return x.done(c.PutLabel(x.Ctx, l), map[string]any{"event": "label", "id": string(l.ID), "name": l.Name, "color": l.Color}, "saved label "+x.Pos[0])
		})
	}},
	{Name: "remove", Min: 1, Max: 1, Usage: "ID", Run: do(func(x *call, c *client.Client) error {
		return x.done(c.DeleteLabel(x.Ctx, parley.LabelID(x.Pos[0])), map[string]any{"event": "label_removed", "id": x.Pos[0]}, "removed label "+x.Pos[0])
	})},
	{Name: "set", Min: 2, Max: 2, Usage: "CHAT LABEL", Run: do(labelChat)},
	{Name: "unset", Min: 2, Max: 2, Usage: "CHAT LABEL", Run: do(labelChat)},
	{Name: "chats", Usage: "[--chat CHAT] [--label LABEL]", Run: func(x *call) error {
		chat := x.FS.String("chat", "", "only this chat's labels")
		label := x.FS.String("label", "", "only chats with this label")
		return x.client(func(c *client.Client) error {
			if err := c.Sync(x.Ctx); err != nil {
				return err
			}
			ls, err := c.ChatLabels(x.Ctx, *chat, parley.LabelID(*label))
			for _, l := range ls {
				title := string(l.Conversation)
				if ch, err := c.Chat(x.Ctx, title); err == nil && ch.Title != "" {
					title += " (" + ch.Title + ")"
				}
				x.out(map[string]any{"event": "chat_label", "chat": string(l.Conversation), "label": string(l.Label), "at": render.TS(l.At)},
					fmt.Sprintf("%-16s %s", l.Label, title))
			}
			return err
		})
	}},
}

// labelChat is business label set and unset.
func labelChat(x *call, c *client.Client) error {
	if err := c.Sync(x.Ctx); err != nil {
		return err
	}
	on := x.Name == "set"
	return x.done(c.LabelChat(x.Ctx, x.Pos[0], parley.LabelID(x.Pos[1]), on), map[string]any{"event": "chat_label", "chat": x.Pos[0], "label": x.Pos[1], "on": on}, fmt.Sprintf("%s %s on %s", x.Name, x.Pos[1], x.Pos[0]))
}

// autoReplyCommands are business greeting|away set|off.
var autoReplyCommands = []command{
	{Name: "set", Min: 1, Max: -1, Usage: "TEXT", Run: autoReply},
	{Name: "off", Run: autoReply},
}

// autoReply runs greeting set|off, away set|off and auto-reply [show].
func autoReply(x *call) error {
	what, sub := strings.Fields(x.Path)[1], x.Name // greeting|away|auto-reply, set|off|show|auto-reply
	var interval *time.Duration
	if sub == "set" && what == "greeting" {
		interval = x.FS.Duration("after", 0, "greet again after this long without a message from the customer (0: first contact only)")
	} else if sub == "set" {
		interval = x.FS.Duration("every", 0, "send the away message at most this often per chat (default 12h)")
	}
	return x.client(func(c *client.Client) error {
		a, err := c.AutoReply(x.Ctx)
		if err != nil {
			return err
		}
		if sub == "set" || sub == "off" {
			text := strings.Join(x.Pos, " ")
			switch what {
			case "greeting":
				a.GreetingEnabled = sub == "set"
				if sub == "set" {
					a.Greeting, a.GreetingAfter = text, *interval
				}
			case "away":
				a.AwayEnabled = sub == "set"
				if sub == "set" {
					a.Away, a.AwayEvery = text, *interval
				}
			}
			if a, err = c.SetAutoReply(x.Ctx, a); err != nil {
				return err
			}
		}
		return x.print(render.AutoReply(a), render.AutoReplyText(a))
	})
}

// businessListen prints incoming messages like parley listen and runs
// the greeting and away messages for each (client.BusinessAutoReply).
func businessListen(x *call) error {
	return x.listen(func(c *client.Client, m *client.MessageRecord) {
		ar, err := c.AutoReplyTo(x.Ctx, *m)
		if err != nil {
			x.printError(err)
		}
		for _, r := range []struct {
			what string
			m    *client.MessageRecord
		}{{"greeting", ar.Greeting}, {"away", ar.Away}} {
			if r.m != nil {
				x.out(map[string]any{"event": "auto_reply", "kind": r.what, "id": r.m.ID(), "chat": string(r.m.Conversation), "text": r.m.Text},
					fmt.Sprintf("[%s] sent %s message: %s", r.m.ID(), r.what, r.m.Text))
			}
		}
	})
}

// businessVerify sets the verified mark directly in the server's store:
// an operator command, like serve it takes --data (or --postgres).
func businessVerify(x *call) error {
	data := x.FS.String("data", os.Getenv("PARLEY_DATA"), "the server's data directory [PARLEY_DATA]")
	dsn := x.FS.String("postgres", os.Getenv("PARLEY_POSTGRES"), "the server's PostgreSQL DSN [PARLEY_POSTGRES]")
	remove := x.FS.Bool("remove", false, "clear the mark")
	if err := x.Parse(); err != nil {
		return err
	}
	if *data == "" && *dsn == "" {
		return x.Usage()
	}
	ctx, pos, e := x.Ctx, x.Pos, x.env
	st, err := node.OpenStore(ctx, *data, *dsn)
	if err != nil {
		return err
	}
	defer st.Close()
	var bs parley.BusinessStore = st
	var u parley.User
	if strings.HasPrefix(pos[0], "+") {
		u, err = st.UserByPhone(ctx, pos[0])
	} else {
		var id int64
		if id, err = strconv.ParseInt(strings.TrimPrefix(pos[0], "u"), 10, 64); err != nil {
			return usageError(fmt.Sprintf("%q: want a user id or +PHONE", pos[0]))
		}
		u, err = st.User(ctx, parley.UserID(id))
	}
	if err != nil {
		return err
	}
	svc := business.New(bs, st, parley.SystemClock{}, nil)
	if err := svc.SetVerified(ctx, u.ID, !*remove); err != nil {
		return err
	}
	p, err := svc.Profile(ctx, u.ID)
	if err != nil {
		return err
	}
	e.out(map[string]any{"event": "business_verified", "user": int64(u.ID), "verified": p.Verified, "verified_at": render.TS(p.VerifiedAt)},
		fmt.Sprintf("%s (user %d) verified=%v", u.Phone, u.ID, p.Verified))
	return nil
}

// businessAsk sends an interactive message: reply buttons or a list.
func businessAsk(x *call) error {
	fs := x.FS
	to := x.Need("to", "", "the chat")
	body := x.Need("body", "", "the question")
	header := fs.String("header", "", "a header line")
	footer := fs.String("footer", "", "a footer line")
	list := fs.String("list", "", "send a list opened by a button with this text")
	var buttons, rows cmdline.Strings
	fs.Var(&buttons, "button", "ID:TITLE of a reply button (repeatable, up to 3)")
	fs.Var(&rows, "row", "[SECTION/]ID:TITLE[:DESCRIPTION] of a list row (repeatable)")
	if err := x.Parse(); err != nil {
		return err
	}
	if (len(buttons) == 0) == (len(rows) == 0) || (*list != "") != (len(rows) > 0) {
		return x.Usage()
	}
	im := &client.InteractiveMessage{Type: "button", Header: *header, Body: *body, Footer: *footer, ButtonText: *list}
	for _, b := range buttons {
		id, title, ok := strings.Cut(b, ":")
		if !ok {
			return usageError(fmt.Sprintf("--button %q: want ID:TITLE", b))
		}
		im.Buttons = append(im.Buttons, client.ReplyButton{ID: id, Title: title})
	}
	if len(rows) > 0 {
		im.Type = "list"
		for _, r := range rows {
			section, row, ok := strings.Cut(r, "/")
			if !ok {
				section, row = "", r
			}
			parts := strings.SplitN(row, ":", 3)
			if len(parts) < 2 {
				return usageError(fmt.Sprintf("--row %q: want [SECTION/]ID:TITLE[:DESCRIPTION]", r))
			}
			lr := client.ListRow{ID: parts[0], Title: parts[1]}
			if len(parts) == 3 {
				lr.Description = parts[2]
			}
			if n := len(im.Sections); n == 0 || im.Sections[n-1].Title != section {
				im.Sections = append(im.Sections, client.ListSection{Title: section})
			}
			im.Sections[len(im.Sections)-1].Rows = append(im.Sections[len(im.Sections)-1].Rows, lr)
		}
	}
	return x.client(func(c *client.Client) error {
		m, err := c.SendBusiness(x.Ctx, *to, client.BusinessContent{Interactive: im}, 0)
		return x.done(err, render.Sent(m), fmt.Sprintf("sent %s:\n%s", m.ID(), m.Text))
	})
}
