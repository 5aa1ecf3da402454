package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/attachment"
	"github.com/parleyhq/parley/business"
	"github.com/parleyhq/parley/client"
)

// businessCommands are `parley business …` (docs/business.md): this
// file's profile, catalog, orders, interactive messages, quick replies,
// labels, greeting/away and verify; business_api.go's business API
// commands and business_hooks.go's webhooks and insights.
var businessCommands = []command{
	{name: "profile", intro: "usage: parley business profile show|set|delete …", subs: []command{
		{name: "show", max: 1, usage: "[BUSINESS]\ta business's profile (default: yours)", do: func(x *call, c *client.Client) error {
			if err := c.Sync(x.ctx); err != nil {
				return err
			}
			p, err := c.BusinessProfile(x.ctx, x.arg(0))
			if err != nil {
				return err
			}
			if p.Name == "" { // not published yet (verified or hosted only): the account's name
				p.Name = c.Who(x.ctx, p.User)
			}
			return x.print(profileJSON(p), profileText(p))
		}},
		{name: "set", usage: "[--name N] [--category C] [--description D] [--address A]\n    [--website URL] [--email E] [--zone TZ] [--hours \"mon-fri 09:00-18:00; sat 10:00-13:00\"]\n\tpublish or update your business profile",
			run: businessProfileSet},
		{name: "delete", usage: "\tturn your account back into a personal one", do: func(x *call, c *client.Client) error {
			return x.done(c.DeleteBusinessProfile(x.ctx), map[string]any{"event": "business_profile_deleted"}, "your account is a personal account again")
		}},
	}},
	{name: "catalog", intro: "usage: parley business catalog list|add|remove|collection|share …", subs: catalogCommands},
	{name: "order", min: 1, max: -1, usage: "--to BUSINESS PRODUCT[:QTY]... [--note TEXT]   send a cart as an order",
		run: businessOrder, subs: []command{{name: "status", min: 3, max: 3, usage: "CHAT ORDER_ID paid|shipped|completed|cancelled [--note TEXT]\n\t(business) update an order's status", run: func(x *call) error {
			note := x.fs.String("note", "", "a note for the customer")
			return x.client(func(c *client.Client) error {
				m, err := c.SetOrderStatus(x.ctx, x.pos[0], x.pos[1], x.pos[2], *note)
				if err != nil {
					return err
				}
				return x.print(sentJSON(m, "order_id", x.pos[1], "status", x.pos[2]), fmt.Sprintf("sent %s: %s", m.ID(), m.Text))
			})
		}}}},
	{name: "choose", min: 2, max: 2, usage: "MESSAGE_ID CHOICE_ID\tanswer a message's reply button or list row", do: func(x *call, c *client.Client) error {
		m, err := c.ReplyInteractive(x.ctx, x.pos[0], x.pos[1])
		if err != nil {
			return err
		}
		return x.print(sentJSON(m, "reply_to", x.pos[0], "choice", x.pos[1]), fmt.Sprintf("sent %s: %s (reply to %s)", m.ID(), m.Text, x.pos[0]))
	}},
	{name: "ask", usage: "--to CHAT --body TEXT [--header H] [--footer F] --button ID:TITLE...\n" +
		"--to CHAT --body TEXT --list BUTTON_TEXT --row [SECTION/]ID:TITLE[:DESCRIPTION]...\n\tsend reply buttons (up to 3) or a list", run: businessAsk},
	{name: "quick-reply", intro: "usage: parley business quick-reply add|remove|list|send …", subs: quickReplyCommands},
	{name: "label", intro: "usage: parley business label list|add|remove|set|unset|chats …", subs: labelCommands},
	{name: "greeting", usage: "set TEXT [--after DURATION] | off     greeting on first contact (again after DURATION of silence)", subs: autoReplyCommands},
	{name: "away", usage: "set TEXT [--every DURATION] | off        away message outside the profile's hours", subs: autoReplyCommands},
	{name: "auto-reply", usage: "show\tgreeting and away settings", run: autoReply, subs: []command{{name: "show", run: autoReply}}},
	{name: "listen", usage: "[--for D] [--count N]\tprint messages and send greeting/away replies from this device", run: businessListen},
	{name: "verify", min: 1, max: 1, usage: "--data DIR [--postgres DSN] [--remove] USER_ID|+PHONE\n\t(operator) set or clear a business's verified mark", run: businessVerify},
	{name: "api", intro: "usage: parley business api enable|status|number", subs: apiCommands},
	{name: "tokens", intro: "usage: parley business tokens create|list|revoke", subs: tokenCommands},
	{name: "templates", intro: "usage: parley business templates list|create|delete|review|pending (--token T or $PARLEY_API_TOKEN)", subs: templateCommands},
	{name: "optins", intro: "usage: parley business optins list|add (--token T or $PARLEY_API_TOKEN)", subs: optInCommands},
	{name: "report", min: 1, max: 1, usage: "+PHONE [--reason R] [--block]\t(customer) report a business to the server; --block also blocks it", run: businessReport},
	{name: "webhook", intro: "usage: parley business webhook show|set|remove|pending|dead|replay …", subs: webhookCommands},
	{name: "insights", usage: "[--from YYYY-MM-DD] [--to YYYY-MM-DD] [--template T] [--campaign C]\n\tsent/delivered/read/failed/replied, rates, response times",
		run: insightsReport, subs: insightsCommands},
}

// sentJSON is the --json object of a sent business message, with more
// keys and values.
func sentJSON(m client.MessageRecord, kv ...any) map[string]any {
	obj := map[string]any{"event": "sent", "id": m.ID(), "chat": string(m.Conversation), "seq": int64(m.Seq), "kind": m.Kind}
	for i := 0; i+1 < len(kv); i += 2 {
		obj[kv[i].(string)] = kv[i+1]
	}
	return obj
}

// businessJSON is a business message's content for --json output, with
// media shown as mediaJSON does (never keys or capabilities).
func businessJSON(bc *client.BusinessContent) map[string]any {
	c := *bc
	var media *attachment.Descriptor
	switch {
	case c.Product != nil && c.Product.Image != nil:
		p := *c.Product
		media, p.Image = p.Image, nil
		c.Product = &p
	case c.Interactive != nil && c.Interactive.HeaderMedia != nil:
		m := *c.Interactive
		media, m.HeaderMedia = m.HeaderMedia, nil
		c.Interactive = &m
	case c.Template != nil && c.Template.HeaderMedia != nil:
		m := *c.Template
		media, m.HeaderMedia = m.HeaderMedia, nil
		c.Template = &m
	}
	var obj map[string]any
	data, _ := json.Marshal(c)
	_ = json.Unmarshal(data, &obj)
	if media != nil {
		obj["media"] = mediaJSON(media)
	}
	return obj
}

func profileJSON(p parley.BusinessProfile) map[string]any {
	return map[string]any{"event": "business_profile", "user": int64(p.User), "name": p.Name, "category": p.Category,
		"description": p.Description, "address": p.Address, "website": p.Website, "email": p.Email,
		"hours": p.Hours.String(), "zone": p.Hours.Zone, "verified": p.Verified, "verified_at": ts(p.VerifiedAt),
		"hosted": p.Hosted, "updated_at": ts(p.UpdatedAt)}
}

func profileText(p parley.BusinessProfile) string {
	var b strings.Builder
	b.WriteString(p.Name)
	if p.Verified {
		b.WriteString(" ✓ verified business")
	}
	b.WriteString("\n")
	for _, f := range [][2]string{{"category", p.Category}, {"about", p.Description}, {"address", p.Address},
		{"hours", p.Hours.String()}, {"website", p.Website}, {"email", p.Email}} {
		if f[1] != "" {
			fmt.Fprintf(&b, "  %-9s %s\n", f[0]+":", f[1])
		}
	}
	if p.Hosted {
		b.WriteString("  note:     this business uses a server-hosted endpoint (its API): the server operator can read its chats\n")
	} else {
		b.WriteString("  note:     chats with this business are end-to-end encrypted with its own devices\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

// businessProfileSet is business profile set: the flags given change the
// profile, the others keep their value.
func businessProfileSet(x *call) error {
	var name, category, description, address, website, email, zone, hours optString
	x.fs.Var(&name, "name", "the business's name")
	x.fs.Var(&category, "category", "category, e.g. Food")
	x.fs.Var(&description, "description", "what the business does")
	x.fs.Var(&address, "address", "postal address")
	x.fs.Var(&website, "website", "https://…")
	x.fs.Var(&email, "email", "contact email")
	x.fs.Var(&zone, "zone", "IANA time zone of the hours, e.g. Europe/Paris")
	x.fs.Var(&hours, "hours", `opening hours, e.g. "mon-fri 09:00-18:00; sat 10:00-13:00" ("" : always open)`)
	return x.client(func(c *client.Client) error {
		p, err := c.BusinessProfile(x.ctx, "")
		if err != nil && !parley.IsCode(err, parley.CodeNotFound) {
			return err
		}
		for _, f := range []struct {
			o   optString
			dst *string
		}{{name, &p.Name}, {category, &p.Category}, {description, &p.Description}, {address, &p.Address},
			{website, &p.Website}, {email, &p.Email}} {
			if f.o.v != nil {
				*f.dst = *f.o.v
			}
		}
		if zone.v != nil || hours.v != nil {
			z, spec := p.Hours.Zone, p.Hours.Spec()
			if zone.v != nil {
				z = *zone.v
			}
			if hours.v != nil {
				spec = *hours.v
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
		p, err = c.SetBusinessProfile(x.ctx, p)
		if err != nil {
			return err
		}
		return x.print(profileJSON(p), profileText(p))
	})
}

func productJSON(p parley.Product) map[string]any {
	obj := map[string]any{"event": "product", "business": int64(p.Business), "id": string(p.ID), "name": p.Name,
		"price": p.Price.String(), "amount_1000": p.Price.Amount1000, "currency": p.Price.Currency,
		"description": p.Description, "available": p.Available, "url": p.URL, "images": len(p.Images),
		"preview":     len(p.Images) > 0 && len(p.Images[0].Thumbnail) > 0,
		"collections": p.Collections, "updated_at": ts(p.UpdatedAt)}
	if p.Collections == nil {
		obj["collections"] = []string{}
	}
	return obj
}

func productText(p parley.Product) string {
	s := fmt.Sprintf("%-12s %s — %s", p.ID, p.Name, p.Price)
	if !p.Available {
		s += " (unavailable)"
	}
	if len(p.Collections) > 0 {
		var cs []string
		for _, c := range p.Collections {
			cs = append(cs, string(c))
		}
		s += "  [" + strings.Join(cs, ", ") + "]"
	}
	return s
}

// catalogCommands are `parley business catalog …`.
var catalogCommands = []command{
	{name: "list", max: 1, usage: "[BUSINESS] [--collection C]\tproducts and collections", run: func(x *call) error {
		collection := x.fs.String("collection", "", "only this collection's products")
		return x.client(func(c *client.Client) error {
			if err := c.Sync(x.ctx); err != nil {
				return err
			}
			cat, err := c.Catalog(x.ctx, x.arg(0), parley.CollectionID(*collection))
			if err != nil {
				return err
			}
			for _, col := range cat.Collections {
				x.out(map[string]any{"event": "collection", "id": string(col.ID), "name": col.Name}, fmt.Sprintf("collection %s: %s", col.ID, col.Name))
			}
			for _, p := range cat.Products {
				x.out(productJSON(p), productText(p))
			}
			if len(cat.Products) == 0 && !x.json {
				fmt.Fprintln(x.stdout, "no products")
			}
			return nil
		})
	}},
	{name: "add", min: 1, max: 1, usage: "ID --name N --price 12.50 --currency EUR [--description D] [--url U]\n    [--unavailable] [--collection C]... [--image-from MESSAGE_ID]   add or replace a product",
		run: func(x *call) error {
			var collections multiFlag
			name := x.need("name", "", "product name")
			price := x.need("price", "", "price, e.g. 12.50")
			currency := x.need("currency", "", "ISO 4217 currency, e.g. EUR")
			description := x.fs.String("description", "", "description")
			url := x.fs.String("url", "", "product page")
			image := x.fs.String("image-from", "", "MESSAGE_ID of an image message you sent: its photo becomes the product's (the key is published with the catalog)")
			unavailable := x.fs.Bool("unavailable", false, "mark the product unavailable")
			x.fs.Var(&collections, "collection", "a collection the product is in (repeatable)")
			if err := x.parse(); err != nil {
				return err
			}
			money, err := parley.ParseMoney(*price, *currency)
			if err != nil {
				return err
			}
			p := parley.Product{ID: parley.ProductID(x.pos[0]), Name: *name, Price: money, Description: *description, URL: *url,
				Available: !*unavailable}
			for _, col := range collections {
				p.Collections = append(p.Collections, parley.CollectionID(col))
			}
			if err := p.Validate(); err != nil {
				return err
			}
			return x.client(func(c *client.Client) error {
				if *image != "" {
					d, err := c.MediaOf(x.ctx, *image, attachment.KindImage)
					if err != nil {
						return err
					}
					p.Images = []parley.ProductImage{client.ProductImageOf(d)}
				}
				saved, err := c.PutProduct(x.ctx, p)
				if err != nil {
					return err
				}
				return x.print(productJSON(saved), "saved "+productText(saved))
			})
		}},
	{name: "remove", min: 1, max: 1, usage: "ID", do: func(x *call, c *client.Client) error {
		return x.done(c.DeleteProduct(x.ctx, parley.ProductID(x.pos[0])), map[string]any{"event": "product_removed", "id": x.pos[0]}, "removed "+x.pos[0])
	}},
	{name: "collection", min: 2, max: -1, usage: "add ID NAME | remove ID", run: func(x *call) error {
		if err := x.parse(); err != nil {
			return err
		}
		if x.pos[0] == "add" && len(x.pos) < 3 || x.pos[0] != "add" && x.pos[0] != "remove" {
			return x.usage()
		}
		return x.client(func(c *client.Client) error {
			if x.pos[0] == "remove" {
				return x.done(c.DeleteCollection(x.ctx, parley.CollectionID(x.pos[1])), map[string]any{"event": "collection_removed", "id": x.pos[1]}, "removed collection "+x.pos[1])
			}
			name := strings.Join(x.pos[2:], " ")
			return x.done(c.PutCollection(x.ctx, parley.CollectionID(x.pos[1]), name), map[string]any{"event": "collection", "id": x.pos[1], "name": name}, "saved collection "+x.pos[1]+": "+name)
		})
	}},
	{name: "share", min: 1, max: 1, usage: "ID --to CHAT [--business BUSINESS]      send a product message", run: func(x *call) error {
		to := x.need("to", "", "the chat to send the product to")
		biz := x.fs.String("business", "", "whose catalog (default: yours)")
		return x.client(func(c *client.Client) error {
			m, err := c.ShareProduct(x.ctx, *to, *biz, parley.ProductID(x.pos[0]))
			if err != nil {
				return err
			}
			return x.print(sentJSON(m), fmt.Sprintf("sent %s (product %s)", m.ID(), x.pos[0]))
		})
	}},
	{name: "preview", min: 1, max: 1, usage: "PRODUCT [--business B] [-o PATH]   save a product's photo preview (kept with the catalog)", run: func(x *call) error {
		path := x.fs.String("o", "", "write the JPEG preview to this file (default: PRODUCT.jpg)")
		biz := x.fs.String("business", "", "whose catalog (default: yours)")
		return x.client(func(c *client.Client) error {
			p, err := c.Product(x.ctx, *biz, parley.ProductID(x.pos[0]))
			if err != nil {
				return err
			}
			if len(p.Images) == 0 || len(p.Images[0].Thumbnail) == 0 {
				return parley.Errorf(parley.CodeNotFound, "no_preview", "product %s has no photo preview", x.pos[0])
			}
			if *path == "" {
				*path = x.pos[0] + ".jpg"
			}
			if err := os.WriteFile(*path, p.Images[0].Thumbnail, 0o644); err != nil {
				return parley.Errorf(parley.CodeInvalid, "bad_path", "%v", err)
			}
			return x.print(map[string]any{"event": "preview_saved", "product": x.pos[0], "path": *path, "size": len(p.Images[0].Thumbnail)},
				fmt.Sprintf("saved %s (%d bytes)", *path, len(p.Images[0].Thumbnail)))
		})
	}},
	{name: "image", min: 1, max: 1, usage: "MESSAGE_ID [-o PATH]\tdownload a product message's photo", run: func(x *call) error {
		path := x.fs.String("o", "", "write the image to this file (default: its name in the current directory)")
		if err := x.parse(); err != nil {
			return err
		}
		return x.withClientTimeout(x.ctx, max(x.timeout, 10*time.Minute), func(ctx context.Context, c *client.Client) error {
			if *path == "" {
				*path = strings.NewReplacer(":", "-", "/", "-").Replace(x.pos[0]) + ".img"
			}
			f, err := os.Create(*path)
			if err != nil {
				return parley.Errorf(parley.CodeInvalid, "bad_path", "%v", err)
			}
			d, err := c.DownloadBusinessMedia(ctx, x.pos[0], f)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				os.Remove(*path)
				return err
			}
			return x.print(map[string]any{"event": "downloaded", "id": x.pos[0], "path": *path, "size": d.Size, "mime": d.MIME},
				fmt.Sprintf("saved %s (%d bytes)", *path, d.Size))
		})
	}},
}

// businessOrder is business order --to BUSINESS PRODUCT[:QTY]...
func businessOrder(x *call) error {
	to := x.need("to", "", "the business (+PHONE, @USERNAME or its chat)")
	note := x.fs.String("note", "", "a note for the business")
	if err := x.parse(); err != nil {
		return err
	}
	var items []client.CartItem
	for _, p := range x.pos {
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
		m, err := c.SendOrder(x.ctx, *to, items, *note)
		if err != nil {
			return err
		}
		o := m.Business.Order
		return x.print(sentJSON(m, "order_id", o.OrderID, "total", o.Total.String(), "amount_1000", o.Total.Amount1000, "currency", o.Total.Currency),
			fmt.Sprintf("sent %s: %s", m.ID(), m.Text))
	})
}

// quickReplyCommands are `parley business quick-reply …`.
var quickReplyCommands = []command{
	{name: "add", min: 1, max: -1, usage: "SHORTCUT TEXT | add SHORTCUT --media-from MESSAGE_ID [CAPTION]", run: func(x *call) error {
		mediaFrom := x.fs.String("media-from", "", "MESSAGE_ID of a media message you sent: the quick reply sends that file again")
		if err := x.parse(); err != nil {
			return err
		}
		if len(x.pos) < 2 && *mediaFrom == "" {
			return x.usage()
		}
		return x.client(func(c *client.Client) error {
			q := parley.QuickReply{Shortcut: x.pos[0], Text: strings.Join(x.pos[1:], " ")}
			if *mediaFrom != "" {
				d, err := c.MediaOf(x.ctx, *mediaFrom, "")
				if err != nil {
					return err
				}
				d.Caption = q.Text
				if q.Media, err = d.Marshal(); err != nil {
					return err
				}
			}
			q, err := c.PutQuickReply(x.ctx, q)
			if err != nil {
				return err
			}
			return x.print(map[string]any{"event": "quick_reply", "shortcut": q.Shortcut, "text": q.Text}, "saved /"+q.Shortcut)
		})
	}},
	{name: "remove", min: 1, max: 1, usage: "SHORTCUT", do: func(x *call, c *client.Client) error {
		return x.done(c.DeleteQuickReply(x.ctx, x.pos[0]), map[string]any{"event": "quick_reply_removed", "shortcut": strings.TrimPrefix(x.pos[0], "/")}, "removed "+x.pos[0])
	}},
	{name: "list", do: func(x *call, c *client.Client) error {
		list, err := c.QuickReplies(x.ctx)
		for _, q := range list {
			text := q.Text
			if len(q.Media) > 0 {
				text = "[media] " + text
			}
			x.out(map[string]any{"event": "quick_reply", "shortcut": q.Shortcut, "text": q.Text, "media": len(q.Media) > 0},
				fmt.Sprintf("/%-15s %s", q.Shortcut, text))
		}
		return err
	}},
	{name: "send", min: 1, max: 1, usage: "--to CHAT /SHORTCUT\tsend a saved reply", run: func(x *call) error {
		to := x.need("to", "", "the chat")
		return x.client(func(c *client.Client) error {
			q, _, err := c.ExpandQuickReply(x.ctx, "/"+strings.TrimPrefix(x.pos[0], "/"))
			if err != nil {
				return err
			}
			var m client.MessageRecord
			if len(q.Media) > 0 {
				d, err := attachment.Unmarshal(q.Media)
				if err != nil {
					return err
				}
				m, err = c.SendDescriptor(x.ctx, *to, d)
				if err != nil {
					return err
				}
			} else if m, err = c.SendText(x.ctx, *to, q.Text, 0); err != nil {
				return err
			}
			return x.print(map[string]any{"event": "sent", "id": m.ID(), "chat": string(m.Conversation), "seq": int64(m.Seq), "shortcut": q.Shortcut},
				fmt.Sprintf("sent %s (/%s)", m.ID(), q.Shortcut))
		})
	}},
}

// labelCommands are `parley business label …`.
var labelCommands = []command{
	{name: "list", do: func(x *call, c *client.Client) error {
		ls, err := c.Labels(x.ctx)
		for _, l := range ls {
			x.out(map[string]any{"event": "label", "id": string(l.ID), "name": l.Name, "color": l.Color},
				fmt.Sprintf("%-16s %s %s", l.ID, l.Name, l.Color))
		}
		return err
	}},
	{name: "add", min: 2, max: -1, usage: "ID NAME [--color #rrggbb]", run: func(x *call) error {
		color := x.fs.String("color", "", "#rrggbb")
		return x.client(func(c *client.Client) error {
			l := parley.Label{ID: parley.LabelID(x.pos[0]), Name: strings.Join(x.pos[1:], " "), Color: *color}
			return x.done(c.PutLabel(x.ctx, l), map[string]any{"event": "label", "id": string(l.ID), "name": l.Name, "color": l.Color}, "saved label "+x.pos[0])
		})
	}},
	{name: "remove", min: 1, max: 1, usage: "ID", do: func(x *call, c *client.Client) error {
		return x.done(c.DeleteLabel(x.ctx, parley.LabelID(x.pos[0])), map[string]any{"event": "label_removed", "id": x.pos[0]}, "removed label "+x.pos[0])
	}},
	{name: "set", min: 2, max: 2, usage: "CHAT LABEL", do: labelChat},
	{name: "unset", min: 2, max: 2, usage: "CHAT LABEL", do: labelChat},
	{name: "chats", usage: "[--chat CHAT] [--label LABEL]", run: func(x *call) error {
		chat := x.fs.String("chat", "", "only this chat's labels")
		label := x.fs.String("label", "", "only chats with this label")
		return x.client(func(c *client.Client) error {
			if err := c.Sync(x.ctx); err != nil {
				return err
			}
			ls, err := c.ChatLabels(x.ctx, *chat, parley.LabelID(*label))
			for _, l := range ls {
				title := string(l.Conversation)
				if ch, err := c.Chat(x.ctx, title); err == nil && ch.Title != "" {
					title += " (" + ch.Title + ")"
				}
				x.out(map[string]any{"event": "chat_label", "chat": string(l.Conversation), "label": string(l.Label), "at": ts(l.At)},
					fmt.Sprintf("%-16s %s", l.Label, title))
			}
			return err
		})
	}},
}

// labelChat is business label set and unset.
func labelChat(x *call, c *client.Client) error {
	if err := c.Sync(x.ctx); err != nil {
		return err
	}
	on := x.cmd.name == "set"
	return x.done(c.LabelChat(x.ctx, x.pos[0], parley.LabelID(x.pos[1]), on), map[string]any{"event": "chat_label", "chat": x.pos[0], "label": x.pos[1], "on": on}, fmt.Sprintf("%s %s on %s", x.cmd.name, x.pos[1], x.pos[0]))
}

func autoReplyJSON(a parley.AutoReplySettings) map[string]any {
	return map[string]any{"event": "auto_reply", "greeting_enabled": a.GreetingEnabled, "greeting": a.Greeting,
		"greeting_after": a.GreetingAfter.String(), "away_enabled": a.AwayEnabled, "away": a.Away, "away_every": a.AwayEvery.String(),
		"updated_at": ts(a.UpdatedAt)}
}

func autoReplyText(a parley.AutoReplySettings) string {
	g, w := "off", "off"
	if a.GreetingEnabled {
		g = fmt.Sprintf("%q", a.Greeting)
		if a.GreetingAfter > 0 {
			g += fmt.Sprintf(" (again after %v of silence)", a.GreetingAfter)
		}
	}
	if a.AwayEnabled {
		every := a.AwayEvery
		if every <= 0 {
			every = parley.DefaultAwayEvery
		}
		w = fmt.Sprintf("%q (at most every %v per chat)", a.Away, every)
	}
	return "greeting: " + g + "\naway:     " + w
}

// autoReplyCommands are business greeting|away set|off.
var autoReplyCommands = []command{
	{name: "set", min: 1, max: -1, usage: "TEXT", run: autoReply},
	{name: "off", run: autoReply},
}

// autoReply runs greeting set|off, away set|off and auto-reply [show].
func autoReply(x *call) error {
	what, sub := strings.Fields(x.path)[1], x.cmd.name // greeting|away|auto-reply, set|off|show|auto-reply
	var interval *time.Duration
	if sub == "set" && what == "greeting" {
		interval = x.fs.Duration("after", 0, "greet again after this long without a message from the customer (0: first contact only)")
	} else if sub == "set" {
		interval = x.fs.Duration("every", 0, "send the away message at most this often per chat (default 12h)")
	}
	return x.client(func(c *client.Client) error {
		a, err := c.AutoReply(x.ctx)
		if err != nil {
			return err
		}
		if sub == "set" || sub == "off" {
			text := strings.Join(x.pos, " ")
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
			if a, err = c.SetAutoReply(x.ctx, a); err != nil {
				return err
			}
		}
		return x.print(autoReplyJSON(a), autoReplyText(a))
	})
}

// businessListen prints incoming messages like parley listen and runs
// the greeting and away messages for each (client.BusinessAutoReply).
func businessListen(x *call) error {
	return x.listen(func(c *client.Client, m *client.MessageRecord) {
		ar, err := c.AutoReplyTo(x.ctx, *m)
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
	data := x.fs.String("data", os.Getenv("PARLEY_DATA"), "the server's data directory [PARLEY_DATA]")
	dsn := x.fs.String("postgres", os.Getenv("PARLEY_POSTGRES"), "the server's PostgreSQL DSN [PARLEY_POSTGRES]")
	remove := x.fs.Bool("remove", false, "clear the mark")
	if err := x.parse(); err != nil {
		return err
	}
	if *data == "" && *dsn == "" {
		return x.usage()
	}
	ctx, pos, e := x.ctx, x.pos, x.env
	st, err := openDataStore(ctx, *data, *dsn)
	if err != nil {
		return err
	}
	defer st.Close()
	bs, ok := st.(parley.BusinessStore)
	if !ok {
		return parley.Errorf(parley.CodeUnavailable, "business_disabled", "this store does not keep business accounts")
	}
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
	e.out(map[string]any{"event": "business_verified", "user": int64(u.ID), "verified": p.Verified, "verified_at": ts(p.VerifiedAt)},
		fmt.Sprintf("%s (user %d) verified=%v", u.Phone, u.ID, p.Verified))
	return nil
}

// businessAsk sends an interactive message: reply buttons or a list.
func businessAsk(x *call) error {
	fs := x.fs
	to := x.need("to", "", "the chat")
	body := x.need("body", "", "the question")
	header := fs.String("header", "", "a header line")
	footer := fs.String("footer", "", "a footer line")
	list := fs.String("list", "", "send a list opened by a button with this text")
	var buttons, rows multiFlag
	fs.Var(&buttons, "button", "ID:TITLE of a reply button (repeatable, up to 3)")
	fs.Var(&rows, "row", "[SECTION/]ID:TITLE[:DESCRIPTION] of a list row (repeatable)")
	if err := x.parse(); err != nil {
		return err
	}
	if (len(buttons) == 0) == (len(rows) == 0) || (*list != "") != (len(rows) > 0) {
		return x.usage()
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
		m, err := c.SendBusiness(x.ctx, *to, client.BusinessContent{Interactive: im}, 0)
		if err != nil {
			return err
		}
		return x.print(sentJSON(m), fmt.Sprintf("sent %s:\n%s", m.ID(), m.Text))
	})
}
