package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/attachment"
	"github.com/parleyhq/parley/business"
	"github.com/parleyhq/parley/client"
)

// businessCommand is one `parley business SUB …` subcommand: it gets the
// command environment (global flags, output, withClient) and the arguments
// after SUB.
type businessCommand struct {
	Usage string // one line per form, shown by `parley business help`
	Run   func(ctx context.Context, e *env, args []string) error
}

// businessCommands is the registry of `parley business` subcommands. Each
// file of the business area registers its own from init(): this file the
// profile, catalog, quick replies, labels, greeting/away and verify;
// business_api.go tokens, templates, opt-ins and api; business_hooks.go
// webhooks, dead letters and insights. A name registered twice panics at
// start-up.
var businessCommands = map[string]businessCommand{}

// registerBusiness adds a `parley business NAME` subcommand.
func registerBusiness(name string, cmd businessCommand) {
	if _, dup := businessCommands[name]; dup {
		panic("parley business " + name + " registered twice")
	}
	businessCommands[name] = cmd
}

// business dispatches `parley business SUB …`.
func (e *env) business(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(e.stdout, businessUsage())
		if len(args) == 0 {
			return usageError("business: a subcommand is required")
		}
		return nil
	}
	cmd, ok := businessCommands[args[0]]
	if !ok {
		return usageError(fmt.Sprintf("unknown business command %q (see parley business help)", args[0]))
	}
	return cmd.Run(ctx, e, args[1:])
}

// businessUsage lists the registered subcommands' usage, by name.
func businessUsage() string {
	names := make([]string, 0, len(businessCommands))
	for n := range businessCommands {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("usage: parley [--json] business SUBCOMMAND … (docs/business.md)\n\n")
	for _, n := range names {
		for _, line := range strings.Split(strings.TrimRight(businessCommands[n].Usage, "\n"), "\n") {
			b.WriteString("  " + line + "\n")
		}
	}
	return b.String()
}

func init() {
	registerBusiness("profile", businessCommand{
		Usage: `profile show [BUSINESS]                 a business's profile (default: yours)
profile set [--name N] [--category C] [--description D] [--address A]
    [--website URL] [--email E] [--zone TZ] [--hours "mon-fri 09:00-18:00; sat 10:00-13:00"]
                                         publish or update your business profile
profile delete                           turn your account back into a personal one`,
		Run: func(ctx context.Context, e *env, a []string) error { return e.businessProfile(ctx, a) },
	})
	registerBusiness("catalog", businessCommand{
		Usage: `catalog list [BUSINESS] [--collection C]  products and collections
catalog add ID --name N --price 12.50 --currency EUR [--description D] [--url U]
    [--unavailable] [--collection C]... [--image-from MESSAGE_ID]   add or replace a product
catalog remove ID
catalog collection add ID NAME | catalog collection remove ID
catalog share ID --to CHAT [--business BUSINESS]      send a product message
catalog preview PRODUCT [--business B] [-o PATH]   save a product's photo preview (kept with the catalog)
catalog image MESSAGE_ID [-o PATH]       download a product message's photo`,
		Run: func(ctx context.Context, e *env, a []string) error { return e.businessCatalog(ctx, a) },
	})
	registerBusiness("order", businessCommand{
		Usage: `order --to BUSINESS PRODUCT[:QTY]... [--note TEXT]   send a cart as an order
order status CHAT ORDER_ID paid|shipped|completed|cancelled [--note TEXT]
                                         (business) update an order's status`,
		Run: func(ctx context.Context, e *env, a []string) error { return e.businessOrder(ctx, a) },
	})
	registerBusiness("choose", businessCommand{
		Usage: `choose MESSAGE_ID CHOICE_ID               answer a message's reply button or list row`,
		Run:   func(ctx context.Context, e *env, a []string) error { return e.businessChoose(ctx, a) },
	})
	registerBusiness("ask", businessCommand{
		Usage: `ask --to CHAT --body TEXT [--header H] [--footer F] --button ID:TITLE...
ask --to CHAT --body TEXT --list BUTTON_TEXT --row [SECTION/]ID:TITLE[:DESCRIPTION]...
                                         send reply buttons (up to 3) or a list`,
		Run: func(ctx context.Context, e *env, a []string) error { return e.businessAsk(ctx, a) },
	})
	registerBusiness("quick-reply", businessCommand{
		Usage: `quick-reply add SHORTCUT TEXT | add SHORTCUT --media-from MESSAGE_ID [CAPTION]
quick-reply remove SHORTCUT | list
quick-reply send --to CHAT /SHORTCUT     send a saved reply`,
		Run: func(ctx context.Context, e *env, a []string) error { return e.businessQuickReply(ctx, a) },
	})
	registerBusiness("label", businessCommand{
		Usage: `label list | add ID NAME [--color #rrggbb] | remove ID
label set CHAT LABEL | unset CHAT LABEL | chats [--chat CHAT] [--label LABEL]`,
		Run: func(ctx context.Context, e *env, a []string) error { return e.businessLabel(ctx, a) },
	})
	registerBusiness("greeting", businessCommand{
		Usage: `greeting set TEXT [--after DURATION] | off     greeting on first contact (again after DURATION of silence)`,
		Run: func(ctx context.Context, e *env, args []string) error {
			return e.businessAutoReply(ctx, "greeting", args)
		},
	})
	registerBusiness("away", businessCommand{
		Usage: `away set TEXT [--every DURATION] | off        away message outside the profile's hours`,
		Run:   func(ctx context.Context, e *env, args []string) error { return e.businessAutoReply(ctx, "away", args) },
	})
	registerBusiness("auto-reply", businessCommand{
		Usage: `auto-reply show                          greeting and away settings`,
		Run:   func(ctx context.Context, e *env, args []string) error { return e.businessAutoReply(ctx, "show", args) },
	})
	registerBusiness("listen", businessCommand{
		Usage: `listen [--for D] [--count N]             print messages and send greeting/away replies from this device`,
		Run:   func(ctx context.Context, e *env, a []string) error { return e.businessListen(ctx, a) },
	})
	registerBusiness("verify", businessCommand{
		Usage: `verify --data DIR [--postgres DSN] [--remove] USER_ID|+PHONE
                                         (operator) set or clear a business's verified mark`,
		Run: func(ctx context.Context, e *env, a []string) error { return e.businessVerify(ctx, a) },
	})
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

var weekdays = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

// parseHours parses "mon-fri 09:00-18:00; sat 10:00-13:00, 15:00-18:00".
func parseHours(zone, spec string) (parley.BusinessHours, error) {
	h := parley.BusinessHours{Zone: zone, Days: map[time.Weekday][]parley.Span{}}
	bad := func(part string) error {
		return usageError(fmt.Sprintf("--hours %q: want DAY[-DAY] HH:MM-HH:MM[, HH:MM-HH:MM] separated by ;", part))
	}
	clock := func(s string) (int, bool) {
		hh, mm, ok := strings.Cut(strings.TrimSpace(s), ":")
		h, err1 := strconv.Atoi(hh)
		m, err2 := strconv.Atoi(mm)
		if !ok || err1 != nil || err2 != nil || h < 0 || h > 24 || m < 0 || m > 59 {
			return 0, false
		}
		return h*60 + m, true
	}
	for _, part := range strings.Split(spec, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		days, times, ok := strings.Cut(part, " ")
		if !ok {
			return h, bad(part)
		}
		from, to, isRange := strings.Cut(strings.ToLower(days), "-")
		d1, ok1 := weekdays[from]
		d2 := d1
		ok2 := true
		if isRange {
			d2, ok2 = weekdays[to]
		}
		if !ok1 || !ok2 {
			return h, bad(part)
		}
		var spans []parley.Span
		for _, t := range strings.Split(times, ",") {
			a, b, ok := strings.Cut(t, "-")
			fa, oka := clock(a)
			fb, okb := clock(b)
			if !ok || !oka || !okb {
				return h, bad(part)
			}
			spans = append(spans, parley.Span{From: fa, To: fb})
		}
		for d := d1; ; d = (d + 1) % 7 {
			h.Days[d] = append(h.Days[d], spans...)
			if d == d2 {
				break
			}
		}
	}
	return h, h.Validate()
}

// formatHours is the inverse of parseHours, one day at a time.
func formatHours(h parley.BusinessHours) string {
	if h.Zone == "" {
		return "always open"
	}
	var parts []string
	for d := time.Sunday; d <= time.Saturday; d++ {
		var spans []string
		for _, s := range h.Days[d] {
			spans = append(spans, fmt.Sprintf("%02d:%02d-%02d:%02d", s.From/60, s.From%60, s.To/60, s.To%60))
		}
		if len(spans) > 0 {
			parts = append(parts, strings.ToLower(d.String()[:3])+" "+strings.Join(spans, ", "))
		}
	}
	if len(parts) == 0 {
		return "closed (" + h.Zone + ")"
	}
	return strings.Join(parts, "; ") + " (" + h.Zone + ")"
}

func profileJSON(p parley.BusinessProfile) map[string]any {
	return map[string]any{"event": "business_profile", "user": int64(p.User), "name": p.Name, "category": p.Category,
		"description": p.Description, "address": p.Address, "website": p.Website, "email": p.Email,
		"hours": formatHours(p.Hours), "zone": p.Hours.Zone, "verified": p.Verified, "verified_at": ts(p.VerifiedAt),
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
		{"hours", formatHours(p.Hours)}, {"website", p.Website}, {"email", p.Email}} {
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

func (e *env) businessProfile(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usageError("usage: parley business profile show|set|delete …")
	}
	sub, args := args[0], args[1:]
	fs := newFlags("business profile "+sub, e)
	var name, category, description, address, website, email, zone, hours optString
	if sub == "set" {
		fs.Var(&name, "name", "the business's name")
		fs.Var(&category, "category", "category, e.g. Food")
		fs.Var(&description, "description", "what the business does")
		fs.Var(&address, "address", "postal address")
		fs.Var(&website, "website", "https://…")
		fs.Var(&email, "email", "contact email")
		fs.Var(&zone, "zone", "IANA time zone of the hours, e.g. Europe/Paris")
		fs.Var(&hours, "hours", `opening hours, e.g. "mon-fri 09:00-18:00; sat 10:00-13:00" ("" : always open)`)
	}
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch sub {
	case "show":
		if len(pos) > 1 {
			return usageError("usage: parley business profile show [BUSINESS]")
		}
		ref := ""
		if len(pos) == 1 {
			ref = pos[0]
		}
		return e.withClient(ctx, func(ctx context.Context, c *client.Client) error {
			if err := c.Sync(ctx); err != nil {
				return err
			}
			p, err := c.BusinessProfile(ctx, ref)
			if err != nil {
				return err
			}
			if p.Name == "" { // not published yet (verified or hosted only): the account's name
				p.Name = c.Who(ctx, p.User)
			}
			e.out(profileJSON(p), profileText(p))
			return nil
		})
	case "set":
		if len(pos) != 0 {
			return usageError("usage: parley business profile set [--name N] [--category C] …")
		}
		return e.withClient(ctx, func(ctx context.Context, c *client.Client) error {
			p, err := c.BusinessProfile(ctx, "")
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
				z, spec := p.Hours.Zone, formatHoursSpec(p.Hours)
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
				if p.Hours, err = parseHours(z, spec); err != nil {
					return err
				}
			}
			p, err = c.SetBusinessProfile(ctx, p)
			if err != nil {
				return err
			}
			e.out(profileJSON(p), profileText(p))
			return nil
		})
	case "delete":
		return e.withClient(ctx, func(ctx context.Context, c *client.Client) error {
			if err := c.DeleteBusinessProfile(ctx); err != nil {
				return err
			}
			e.out(map[string]any{"event": "business_profile_deleted"}, "your account is a personal account again")
			return nil
		})
	}
	return usageError(fmt.Sprintf("unknown business profile command %q", sub))
}

// formatHoursSpec is the --hours form of h (without the zone).
func formatHoursSpec(h parley.BusinessHours) string {
	s := formatHours(h)
	if i := strings.LastIndex(s, " ("); i >= 0 {
		s = s[:i]
	}
	if s == "always open" || s == "closed" {
		return ""
	}
	return s
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

func (e *env) businessCatalog(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usageError("usage: parley business catalog list|add|remove|collection|share …")
	}
	sub, args := args[0], args[1:]
	fs := newFlags("business catalog "+sub, e)
	var collections multiFlag
	var collection, name, price, currency, description, url, image, to, biz *string
	var unavailable *bool
	switch sub {
	case "list":
		collection = fs.String("collection", "", "only this collection's products")
	case "add":
		name = fs.String("name", "", "product name")
		price = fs.String("price", "", "price, e.g. 12.50")
		currency = fs.String("currency", "", "ISO 4217 currency, e.g. EUR")
		description = fs.String("description", "", "description")
		url = fs.String("url", "", "product page")
		image = fs.String("image-from", "", "MESSAGE_ID of an image message you sent: its photo becomes the product's (the key is published with the catalog)")
		unavailable = fs.Bool("unavailable", false, "mark the product unavailable")
		fs.Var(&collections, "collection", "a collection the product is in (repeatable)")
	case "share":
		to = fs.String("to", "", "the chat to send the product to")
		biz = fs.String("business", "", "whose catalog (default: yours)")
	case "image":
		to = fs.String("o", "", "write the image to this file (default: its name in the current directory)")
	case "preview":
		to = fs.String("o", "", "write the JPEG preview to this file (default: PRODUCT.jpg)")
		biz = fs.String("business", "", "whose catalog (default: yours)")
	}
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch sub {
	case "list":
		if len(pos) > 1 {
			return usageError("usage: parley business catalog list [BUSINESS] [--collection C]")
		}
		ref := ""
		if len(pos) == 1 {
			ref = pos[0]
		}
		return e.withClient(ctx, func(ctx context.Context, c *client.Client) error {
			if err := c.Sync(ctx); err != nil {
				return err
			}
			cat, err := c.Catalog(ctx, ref, parley.CollectionID(*collection))
			if err != nil {
				return err
			}
			for _, col := range cat.Collections {
				e.out(map[string]any{"event": "collection", "id": string(col.ID), "name": col.Name}, fmt.Sprintf("collection %s: %s", col.ID, col.Name))
			}
			for _, p := range cat.Products {
				e.out(productJSON(p), productText(p))
			}
			if len(cat.Products) == 0 && !e.json {
				fmt.Fprintln(e.stdout, "no products")
			}
			return nil
		})
	case "add":
		if len(pos) != 1 || *name == "" || *price == "" || *currency == "" {
			return usageError("usage: parley business catalog add ID --name N --price 12.50 --currency EUR [flags]")
		}
		money, err := parley.ParseMoney(*price, *currency)
		if err != nil {
			return err
		}
		p := parley.Product{ID: parley.ProductID(pos[0]), Name: *name, Price: money, Description: *description, URL: *url,
			Available: !*unavailable}
		for _, col := range collections {
			p.Collections = append(p.Collections, parley.CollectionID(col))
		}
		if err := p.Validate(); err != nil {
			return err
		}
		return e.withClient(ctx, func(ctx context.Context, c *client.Client) error {
			if *image != "" {
				d, err := c.MediaOf(ctx, *image, attachment.KindImage)
				if err != nil {
					return err
				}
				p.Images = []parley.ProductImage{client.ProductImageOf(d)}
			}
			saved, err := c.PutProduct(ctx, p)
			if err != nil {
				return err
			}
			e.out(productJSON(saved), "saved "+productText(saved))
			return nil
		})
	case "remove":
		if len(pos) != 1 {
			return usageError("usage: parley business catalog remove ID")
		}
		return e.withClient(ctx, func(ctx context.Context, c *client.Client) error {
			if err := c.DeleteProduct(ctx, parley.ProductID(pos[0])); err != nil {
				return err
			}
			e.out(map[string]any{"event": "product_removed", "id": pos[0]}, "removed "+pos[0])
			return nil
		})
	case "collection":
		if len(pos) < 2 || pos[0] == "add" && len(pos) < 3 || pos[0] != "add" && pos[0] != "remove" {
			return usageError("usage: parley business catalog collection add ID NAME | remove ID")
		}
		return e.withClient(ctx, func(ctx context.Context, c *client.Client) error {
			if pos[0] == "remove" {
				if err := c.DeleteCollection(ctx, parley.CollectionID(pos[1])); err != nil {
					return err
				}
				e.out(map[string]any{"event": "collection_removed", "id": pos[1]}, "removed collection "+pos[1])
				return nil
			}
			name := strings.Join(pos[2:], " ")
			if err := c.PutCollection(ctx, parley.CollectionID(pos[1]), name); err != nil {
				return err
			}
			e.out(map[string]any{"event": "collection", "id": pos[1], "name": name}, "saved collection "+pos[1]+": "+name)
			return nil
		})
	case "share":
		if len(pos) != 1 || *to == "" {
			return usageError("usage: parley business catalog share ID --to CHAT [--business BUSINESS]")
		}
		return e.withClient(ctx, func(ctx context.Context, c *client.Client) error {
			m, err := c.ShareProduct(ctx, *to, *biz, parley.ProductID(pos[0]))
			if err != nil {
				return err
			}
			e.out(map[string]any{"event": "sent", "id": m.ID(), "chat": string(m.Conversation), "seq": int64(m.Seq), "kind": m.Kind},
				fmt.Sprintf("sent %s (product %s)", m.ID(), pos[0]))
			return nil
		})
	case "preview":
		if len(pos) != 1 {
			return usageError("usage: parley business catalog preview PRODUCT [--business BUSINESS] [-o PATH]")
		}
		return e.withClient(ctx, func(ctx context.Context, c *client.Client) error {
			p, err := c.Product(ctx, *biz, parley.ProductID(pos[0]))
			if err != nil {
				return err
			}
			if len(p.Images) == 0 || len(p.Images[0].Thumbnail) == 0 {
				return parley.Errorf(parley.CodeNotFound, "no_preview", "product %s has no photo preview", pos[0])
			}
			path := *to
			if path == "" {
				path = pos[0] + ".jpg"
			}
			if err := os.WriteFile(path, p.Images[0].Thumbnail, 0o644); err != nil {
				return parley.Errorf(parley.CodeInvalid, "bad_path", "%v", err)
			}
			e.out(map[string]any{"event": "preview_saved", "product": pos[0], "path": path, "size": len(p.Images[0].Thumbnail)},
				fmt.Sprintf("saved %s (%d bytes)", path, len(p.Images[0].Thumbnail)))
			return nil
		})
	case "image":
		if len(pos) != 1 {
			return usageError("usage: parley business catalog image MESSAGE_ID [-o PATH]")
		}
		return e.withClientTimeout(ctx, max(e.timeout, 10*time.Minute), func(ctx context.Context, c *client.Client) error {
			path := *to
			if path == "" {
				path = strings.NewReplacer(":", "-", "/", "-").Replace(pos[0]) + ".img"
			}
			f, err := os.Create(path)
			if err != nil {
				return parley.Errorf(parley.CodeInvalid, "bad_path", "%v", err)
			}
			d, err := c.DownloadBusinessMedia(ctx, pos[0], f)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				os.Remove(path)
				return err
			}
			e.out(map[string]any{"event": "downloaded", "id": pos[0], "path": path, "size": d.Size, "mime": d.MIME}, fmt.Sprintf("saved %s (%d bytes)", path, d.Size))
			return nil
		})
	}
	return usageError(fmt.Sprintf("unknown business catalog command %q", sub))
}

func (e *env) businessOrder(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] == "status" {
		fs := newFlags("business order status", e)
		note := fs.String("note", "", "a note for the customer")
		pos, err := parseFlags(fs, args[1:])
		if err != nil {
			return err
		}
		if len(pos) != 3 {
			return usageError("usage: parley business order status CHAT ORDER_ID paid|shipped|completed|cancelled [--note TEXT]")
		}
		return e.withClient(ctx, func(ctx context.Context, c *client.Client) error {
			m, err := c.SetOrderStatus(ctx, pos[0], pos[1], pos[2], *note)
			if err != nil {
				return err
			}
			e.out(map[string]any{"event": "sent", "id": m.ID(), "chat": string(m.Conversation), "seq": int64(m.Seq), "kind": m.Kind,
				"order_id": pos[1], "status": pos[2]}, fmt.Sprintf("sent %s: %s", m.ID(), m.Text))
			return nil
		})
	}
	fs := newFlags("business order", e)
	to := fs.String("to", "", "the business (+PHONE, @USERNAME or its chat)")
	note := fs.String("note", "", "a note for the business")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if *to == "" || len(pos) == 0 {
		return usageError("usage: parley business order --to BUSINESS PRODUCT[:QTY]... [--note TEXT]")
	}
	var items []client.CartItem
	for _, p := range pos {
		id, qty, hasQty := strings.Cut(p, ":")
		n := 1
		if hasQty {
			if n, err = strconv.Atoi(qty); err != nil || n <= 0 {
				return usageError(fmt.Sprintf("%q: want PRODUCT:QUANTITY with a positive quantity", p))
			}
		}
		items = append(items, client.CartItem{Product: parley.ProductID(id), Quantity: n})
	}
	return e.withClient(ctx, func(ctx context.Context, c *client.Client) error {
		m, err := c.SendOrder(ctx, *to, items, *note)
		if err != nil {
			return err
		}
		o := m.Business.Order
		e.out(map[string]any{"event": "sent", "id": m.ID(), "chat": string(m.Conversation), "seq": int64(m.Seq), "kind": m.Kind,
			"order_id": o.OrderID, "total": o.Total.String(), "amount_1000": o.Total.Amount1000, "currency": o.Total.Currency},
			fmt.Sprintf("sent %s: %s", m.ID(), m.Text))
		return nil
	})
}

func (e *env) businessChoose(ctx context.Context, args []string) error {
	pos, err := parseFlags(newFlags("business choose", e), args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usageError("usage: parley business choose MESSAGE_ID CHOICE_ID")
	}
	return e.withClient(ctx, func(ctx context.Context, c *client.Client) error {
		m, err := c.ReplyInteractive(ctx, pos[0], pos[1])
		if err != nil {
			return err
		}
		e.out(map[string]any{"event": "sent", "id": m.ID(), "chat": string(m.Conversation), "seq": int64(m.Seq), "kind": m.Kind,
			"reply_to": pos[0], "choice": pos[1]}, fmt.Sprintf("sent %s: %s (reply to %s)", m.ID(), m.Text, pos[0]))
		return nil
	})
}

func (e *env) businessQuickReply(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usageError("usage: parley business quick-reply add|remove|list|send …")
	}
	sub, args := args[0], args[1:]
	fs := newFlags("business quick-reply "+sub, e)
	var to, mediaFrom *string
	switch sub {
	case "send":
		to = fs.String("to", "", "the chat")
	case "add":
		mediaFrom = fs.String("media-from", "", "MESSAGE_ID of a media message you sent: the quick reply sends that file again")
	}
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	return e.withClient(ctx, func(ctx context.Context, c *client.Client) error {
		switch sub {
		case "add":
			if len(pos) < 2 && !(len(pos) == 1 && *mediaFrom != "") {
				return usageError("usage: parley business quick-reply add SHORTCUT TEXT | add SHORTCUT --media-from MESSAGE_ID [CAPTION]")
			}
			q := parley.QuickReply{Shortcut: pos[0], Text: strings.Join(pos[1:], " ")}
			if *mediaFrom != "" {
				d, err := c.MediaOf(ctx, *mediaFrom, "")
				if err != nil {
					return err
				}
				d.Caption = q.Text
				if q.Media, err = d.Marshal(); err != nil {
					return err
				}
			}
			q, err := c.PutQuickReply(ctx, q)
			if err != nil {
				return err
			}
			e.out(map[string]any{"event": "quick_reply", "shortcut": q.Shortcut, "text": q.Text}, "saved /"+q.Shortcut)
		case "remove":
			if len(pos) != 1 {
				return usageError("usage: parley business quick-reply remove SHORTCUT")
			}
			if err := c.DeleteQuickReply(ctx, pos[0]); err != nil {
				return err
			}
			e.out(map[string]any{"event": "quick_reply_removed", "shortcut": strings.TrimPrefix(pos[0], "/")}, "removed "+pos[0])
		case "list":
			list, err := c.QuickReplies(ctx)
			if err != nil {
				return err
			}
			for _, q := range list {
				text := q.Text
				if len(q.Media) > 0 {
					text = "[media] " + text
				}
				e.out(map[string]any{"event": "quick_reply", "shortcut": q.Shortcut, "text": q.Text, "media": len(q.Media) > 0},
					fmt.Sprintf("/%-15s %s", q.Shortcut, text))
			}
		case "send":
			if len(pos) != 1 || *to == "" {
				return usageError("usage: parley business quick-reply send --to CHAT /SHORTCUT")
			}
			text := pos[0]
			if !strings.HasPrefix(text, "/") {
				text = "/" + text
			}
			q, _, err := c.ExpandQuickReply(ctx, text)
			if err != nil {
				return err
			}
			var m client.MessageRecord
			if len(q.Media) > 0 {
				d, err := attachment.Unmarshal(q.Media)
				if err != nil {
					return err
				}
				m, err = c.SendDescriptor(ctx, *to, d)
				if err != nil {
					return err
				}
			} else if m, err = c.SendText(ctx, *to, q.Text, 0); err != nil {
				return err
			}
			e.out(map[string]any{"event": "sent", "id": m.ID(), "chat": string(m.Conversation), "seq": int64(m.Seq), "shortcut": q.Shortcut},
				fmt.Sprintf("sent %s (/%s)", m.ID(), q.Shortcut))
		default:
			return usageError(fmt.Sprintf("unknown business quick-reply command %q", sub))
		}
		return nil
	})
}

func (e *env) businessLabel(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usageError("usage: parley business label list|add|remove|set|unset|chats …")
	}
	sub, args := args[0], args[1:]
	fs := newFlags("business label "+sub, e)
	var color, chat, label *string
	switch sub {
	case "add":
		color = fs.String("color", "", "#rrggbb")
	case "chats":
		chat = fs.String("chat", "", "only this chat's labels")
		label = fs.String("label", "", "only chats with this label")
	}
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	return e.withClient(ctx, func(ctx context.Context, c *client.Client) error {
		switch sub {
		case "list":
			ls, err := c.Labels(ctx)
			if err != nil {
				return err
			}
			for _, l := range ls {
				e.out(map[string]any{"event": "label", "id": string(l.ID), "name": l.Name, "color": l.Color},
					fmt.Sprintf("%-16s %s %s", l.ID, l.Name, l.Color))
			}
		case "add":
			if len(pos) < 2 {
				return usageError("usage: parley business label add ID NAME [--color #rrggbb]")
			}
			l := parley.Label{ID: parley.LabelID(pos[0]), Name: strings.Join(pos[1:], " "), Color: *color}
			if err := c.PutLabel(ctx, l); err != nil {
				return err
			}
			e.out(map[string]any{"event": "label", "id": string(l.ID), "name": l.Name, "color": l.Color}, "saved label "+pos[0])
		case "remove":
			if len(pos) != 1 {
				return usageError("usage: parley business label remove ID")
			}
			if err := c.DeleteLabel(ctx, parley.LabelID(pos[0])); err != nil {
				return err
			}
			e.out(map[string]any{"event": "label_removed", "id": pos[0]}, "removed label "+pos[0])
		case "set", "unset":
			if len(pos) != 2 {
				return usageError(fmt.Sprintf("usage: parley business label %s CHAT LABEL", sub))
			}
			if err := c.Sync(ctx); err != nil {
				return err
			}
			if err := c.LabelChat(ctx, pos[0], parley.LabelID(pos[1]), sub == "set"); err != nil {
				return err
			}
			e.out(map[string]any{"event": "chat_label", "chat": pos[0], "label": pos[1], "on": sub == "set"}, fmt.Sprintf("%s %s on %s", sub, pos[1], pos[0]))
		case "chats":
			if err := c.Sync(ctx); err != nil {
				return err
			}
			ls, err := c.ChatLabels(ctx, *chat, parley.LabelID(*label))
			if err != nil {
				return err
			}
			for _, l := range ls {
				title := string(l.Conversation)
				if ch, err := c.Chat(ctx, title); err == nil && ch.Title != "" {
					title += " (" + ch.Title + ")"
				}
				e.out(map[string]any{"event": "chat_label", "chat": string(l.Conversation), "label": string(l.Label), "at": ts(l.At)},
					fmt.Sprintf("%-16s %s", l.Label, title))
			}
		default:
			return usageError(fmt.Sprintf("unknown business label command %q", sub))
		}
		return nil
	})
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

// businessAutoReply runs greeting set|off, away set|off and auto-reply show.
func (e *env) businessAutoReply(ctx context.Context, what string, args []string) error {
	sub := "show"
	if what != "show" {
		if len(args) == 0 {
			return usageError(fmt.Sprintf("usage: parley business %s set TEXT | off", what))
		}
		sub, args = args[0], args[1:]
	}
	fs := newFlags("business "+what, e)
	var interval *time.Duration
	if sub == "set" && what == "greeting" {
		interval = fs.Duration("after", 0, "greet again after this long without a message from the customer (0: first contact only)")
	} else if sub == "set" {
		interval = fs.Duration("every", 0, "send the away message at most this often per chat (default 12h)")
	}
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if sub == "set" && len(pos) == 0 || sub != "set" && len(pos) != 0 || sub != "set" && sub != "off" && sub != "show" {
		return usageError(fmt.Sprintf("usage: parley business %s set TEXT | off", what))
	}
	return e.withClient(ctx, func(ctx context.Context, c *client.Client) error {
		a, err := c.AutoReply(ctx)
		if err != nil {
			return err
		}
		if sub != "show" {
			text := strings.Join(pos, " ")
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
			if a, err = c.SetAutoReply(ctx, a); err != nil {
				return err
			}
		}
		e.out(autoReplyJSON(a), autoReplyText(a))
		return nil
	})
}

// businessListen prints incoming messages like parley listen and runs
// the greeting and away messages for each (client.BusinessAutoReply).
func (e *env) businessListen(ctx context.Context, args []string) error {
	fs := newFlags("business listen", e)
	dur := fs.Duration("for", 0, "stop after this long (default: until interrupted)")
	count := fs.Int("count", 0, "stop after this many incoming messages")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if *dur > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *dur)
		defer cancel()
	}
	c, err := e.open(ctx, "", true)
	if err != nil {
		return err
	}
	defer c.Close()
	if !c.Account().Registered() {
		return parley.Errorf(parley.CodeUnauthenticated, "not_registered", "profile %s is not registered", e.profile)
	}
	seen := 0
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev := <-c.Events():
			if ev.Kind == client.EventConnection && ev.Err != nil && parley.IsCode(ev.Err, parley.CodeUnauthenticated) {
				return ev.Err
			}
			if ev.Kind != client.EventMessage || ev.Message.Outgoing {
				continue
			}
			e.printMessage(ctx, c, ev.Message)
			ar, err := c.AutoReplyTo(ctx, *ev.Message)
			if err != nil {
				e.printError(err)
			}
			for _, r := range []struct {
				what string
				m    *client.MessageRecord
			}{{"greeting", ar.Greeting}, {"away", ar.Away}} {
				if r.m != nil {
					e.out(map[string]any{"event": "auto_reply", "kind": r.what, "id": r.m.ID(), "chat": string(r.m.Conversation), "text": r.m.Text},
						fmt.Sprintf("[%s] sent %s message: %s", r.m.ID(), r.what, r.m.Text))
				}
			}
			seen++
			if *count > 0 && seen >= *count {
				return nil
			}
		}
	}
}

// businessVerify sets the verified mark directly in the server's store:
// an operator command, like serve it takes --data (or --postgres).
func (e *env) businessVerify(ctx context.Context, args []string) error {
	fs := newFlags("business verify", e)
	data := fs.String("data", os.Getenv("PARLEY_DATA"), "the server's data directory [PARLEY_DATA]")
	dsn := fs.String("postgres", os.Getenv("PARLEY_POSTGRES"), "the server's PostgreSQL DSN [PARLEY_POSTGRES]")
	remove := fs.Bool("remove", false, "clear the mark")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *data == "" && *dsn == "" {
		return usageError("usage: parley business verify --data DIR [--postgres DSN] [--remove] USER_ID|+PHONE")
	}
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
func (e *env) businessAsk(ctx context.Context, args []string) error {
	fs := newFlags("business ask", e)
	to := fs.String("to", "", "the chat")
	body := fs.String("body", "", "the question")
	header := fs.String("header", "", "a header line")
	footer := fs.String("footer", "", "a footer line")
	list := fs.String("list", "", "send a list opened by a button with this text")
	var buttons, rows multiFlag
	fs.Var(&buttons, "button", "ID:TITLE of a reply button (repeatable, up to 3)")
	fs.Var(&rows, "row", "[SECTION/]ID:TITLE[:DESCRIPTION] of a list row (repeatable)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if *to == "" || *body == "" || len(pos) != 0 || (len(buttons) == 0) == (len(rows) == 0) || (*list != "") != (len(rows) > 0) {
		return usageError("usage: parley business ask --to CHAT --body TEXT (--button ID:TITLE... | --list TEXT --row [SECTION/]ID:TITLE...)")
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
	return e.withClient(ctx, func(ctx context.Context, c *client.Client) error {
		m, err := c.SendBusiness(ctx, *to, client.BusinessContent{Interactive: im}, 0)
		if err != nil {
			return err
		}
		e.out(map[string]any{"event": "sent", "id": m.ID(), "chat": string(m.Conversation), "seq": int64(m.Seq), "kind": m.Kind},
			fmt.Sprintf("sent %s:\n%s", m.ID(), m.Text))
		return nil
	})
}
