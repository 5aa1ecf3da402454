package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/parleyhq/parley/apiclient"
	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/cmd/internal/cmdline"
)

// The business API commands (docs/business-api.md): api enable/status and
// the operator's number settings, tokens, templates, opt-ins and reports.
// The HTTP calls are package apiclient's; this file has flags and printing.

// ownerAPI runs fn with the profile's client and an API client with its
// device's credential (the business API's owner routes).
func (x *call) ownerAPI(fn func(c *client.Client, api *apiclient.Client) error) error {
	return x.client(func(c *client.Client) error {
		a := c.Account()
		api, err := apiclient.ForDevice(a.ServerURL, a.Device, a.Secret)
		if err != nil {
			return err
		}
		return fn(c, api)
	})
}

// operatorAPI declares --server and --operator-token; after x.parse, its
// result is the API client of the operator routes, or a usage error.
func (x *call) operatorAPI() func() (*apiclient.Client, error) {
	server := x.Need("server", os.Getenv("PARLEY_SERVER"), "(operator) server URL")
	token := x.Need("operator-token", os.Getenv("PARLEY_OPERATOR_TOKEN"), "(operator) operator token")
	return func() (*apiclient.Client, error) {
		if err := x.Parse(); err != nil {
			return nil, err
		}
		return apiclient.New(*server, apiclient.Bearer(*token))
	}
}

// apiToken declares --token of the Cloud API commands.
func (x *call) apiToken() *string {
	return x.FS.String("token", "", "API token (default $PARLEY_API_TOKEN)")
}

// cloudAPI runs fn with an API client with the token (--token, else
// $PARLEY_API_TOKEN) and this profile's number's id.
func (x *call) cloudAPI(token *string, fn func(api *apiclient.Client, pnid string) error) error {
	if err := x.Parse(); err != nil {
		return err
	}
	if *token == "" {
		*token = os.Getenv("PARLEY_API_TOKEN")
	}
	if *token == "" {
		return usageError("an API token is required: --token T or $PARLEY_API_TOKEN (parley business tokens create)")
	}
	return x.client(func(c *client.Client) error {
		a := c.Account()
		api, err := apiclient.New(a.ServerURL, apiclient.Bearer(*token))
		if err != nil {
			return err
		}
		return fn(api, strconv.FormatInt(int64(a.User), 10))
	})
}

// printObj prints an answer: whole with --json, else the keys given.
func (x *call) printObj(obj map[string]any, err error, keys ...string) error {
	if err != nil {
		return err
	}
	if x.json {
		x.writeJSON(x.stdout, obj)
		return nil
	}
	for _, k := range keys {
		if v, ok := obj[k]; ok {
			fmt.Fprintf(x.stdout, "%s: %v\n", k, v)
		}
	}
	return nil
}

// printTable prints rows: one JSON line each with --json, else a table of
// the keys given (nil values as "-").
func (x *call) printTable(rows []map[string]any, err error, header string, keys ...string) error {
	if err != nil {
		return err
	}
	if x.json {
		for _, r := range rows {
			x.writeJSON(x.stdout, r)
		}
		return nil
	}
	tw := tabwriter.NewWriter(x.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	for _, r := range rows {
		vals := make([]string, len(keys))
		for i, k := range keys {
			vals[i] = fmt.Sprint(r[k])
			if r[k] == nil {
				vals[i] = "-"
			}
		}
		fmt.Fprintln(tw, strings.Join(vals, "\t"))
	}
	return tw.Flush()
}

var numberKeys = []string{"phone_number_id", "display_phone_number", "quality_rating", "messaging_limit_tier", "throughput", "auto_approve"}

// apiCommands are `parley business api …`.
var apiCommands = []command{
	{Name: "enable", Usage: "\trun this number through the business API (links a hosted endpoint)", Run: func(x *call) error {
		return x.ownerAPI(func(c *client.Client, api *apiclient.Client) error {
			code, _, err := c.LinkCode(x.Ctx)
			if err != nil {
				return err
			}
			n, err := api.EnableAPI(x.Ctx, code)
			return x.printObj(n, err, numberKeys...)
		})
	}},
	{Name: "status", Usage: "\tthe number's phone-number id, quality, tier and throughput", Run: func(x *call) error {
		return x.ownerAPI(func(_ *client.Client, api *apiclient.Client) error {
			n, err := api.Number(x.Ctx)
			return x.printObj(n, err, numberKeys...)
		})
	}},
	{Name: "number", Min: 1, Max: 1, Usage: "--server URL --operator-token T PNID [--tier N] [--throughput N] [--auto-approve true|false]\n" +
		"\t(operator) a number's tier, throughput and template auto-approval", Run: func(x *call) error {
		operator := x.operatorAPI()
		tier := x.FS.Int("tier", 0, "messaging tier: 250, 2000, 10000, 100000 or -1 (unlimited)")
		tput := x.FS.Int("throughput", 0, "messages per second")
		auto := x.FS.String("auto-approve", "", "true or false")
		api, err := operator()
		if err != nil {
			return err
		}
		settings := apiclient.Object{}
		if *tier != 0 {
			settings["tier"] = *tier
		}
		if *tput != 0 {
			settings["throughput"] = *tput
		}
		if *auto != "" {
			settings["auto_approve"] = *auto == "true"
		}
		n, err := api.SetNumber(x.Ctx, x.Pos[0], settings)
		return x.printObj(n, err, numberKeys...)
	}},
}

// tokenCommands are `parley business tokens …`.
var tokenCommands = []command{
	{Name: "create", Usage: "[--name N] [--scopes messages,media,templates,optins,profile,insights]\n" +
		"\tbearer tokens of the business API (the secret is shown once)", Run: func(x *call) error {
		name := x.FS.String("name", "", "what the token is for")
		scopes := x.FS.String("scopes", "", "comma-separated scopes (default: all)")
		return x.ownerAPI(func(_ *client.Client, api *apiclient.Client) error {
			var list []string
			if *scopes != "" {
				list = strings.Split(*scopes, ",")
			}
			t, err := api.CreateToken(x.Ctx, *name, list)
			if err != nil || x.json {
				return x.printObj(t, err)
			}
			fmt.Fprintf(x.stdout, "token %v for phone number id %v (shown once, keep it secret):\n%v\n", t["id"], t["phone_number_id"], t["token"])
			return nil
		})
	}},
	{Name: "list", Run: func(x *call) error {
		return x.ownerAPI(func(_ *client.Client, api *apiclient.Client) error {
			list, err := api.Tokens(x.Ctx)
			return x.printTable(list, err, "ID\tNAME\tSCOPES\tCREATED\tREVOKED", "id", "name", "scopes", "created_at", "revoked_at")
		})
	}},
	{Name: "revoke", Min: 1, Max: 1, Usage: "ID", Run: func(x *call) error {
		return x.ownerAPI(func(_ *client.Client, api *apiclient.Client) error {
			return x.done(api.RevokeToken(x.Ctx, x.Pos[0]), map[string]any{"revoked": x.Pos[0]}, "revoked "+x.Pos[0])
		})
	}},
}

var templateKeys = []string{"id", "name", "language", "category", "status", "rejected_reason"}

// templateTable prints templates.
func (x *call) templateTable(rows []map[string]any, err error) error {
	return x.printTable(rows, err, "ID\tNAME\tLANGUAGE\tCATEGORY\tSTATUS", templateKeys[:5]...)
}

// templateCommands are `parley business templates …`.
var templateCommands = []command{
	{Name: "list", Usage: "\tmessage templates (--token T or $PARLEY_API_TOKEN)", Run: func(x *call) error {
		return x.cloudAPI(x.apiToken(), func(api *apiclient.Client, pnid string) error {
			list, err := api.Templates(x.Ctx, pnid)
			return x.templateTable(list, err)
		})
	}},
	{Name: "create", Min: 1, Max: 1, Usage: "NAME --category C --body TEXT [--language L] [--header T] [--footer T] [--button TYPE:TEXT[:URL|PHONE]]…", Run: func(x *call) error {
		t, token := apiclient.Template{}, x.apiToken()
		x.FS.StringVar(&t.Language, "language", "en_US", "template language")
		category := x.Need("category", "", "MARKETING, UTILITY or AUTHENTICATION")
		body := x.Need("body", "", "body text with {{1}}, {{2}}… parameters")
		x.FS.StringVar(&t.Header, "header", "", "header text")
		x.FS.StringVar(&t.Footer, "footer", "", "footer text")
		x.FS.Var((*cmdline.Strings)(&t.Buttons), "button", "QUICK_REPLY:TEXT, URL:TEXT:URL or PHONE_NUMBER:TEXT:PHONE (repeatable)")
		return x.cloudAPI(token, func(api *apiclient.Client, pnid string) error {
			t.Name, t.Category, t.Body = x.Pos[0], *category, *body
			out, err := api.CreateTemplate(x.Ctx, pnid, t)
			return x.printObj(out, err, "id", "status", "category")
		})
	}},
	{Name: "delete", Min: 1, Max: 1, Usage: "NAME [--language L]", Run: func(x *call) error {
		lang := x.FS.String("language", "", "only this language (default: every language)")
		return x.cloudAPI(x.apiToken(), func(api *apiclient.Client, pnid string) error {
			return x.done(api.DeleteTemplate(x.Ctx, pnid, x.Pos[0], *lang), map[string]any{"deleted": x.Pos[0]}, "deleted "+x.Pos[0])
		})
	}},
	{Name: "review", Min: 1, Max: 1, Usage: "--server URL --operator-token T ID --status APPROVED|REJECTED|PAUSED [--reason R]", Run: func(x *call) error {
		operator := x.operatorAPI()
		status := x.Need("status", "", "APPROVED, REJECTED or PAUSED")
		reason := x.FS.String("reason", "", "why")
		api, err := operator()
		if err != nil {
			return err
		}
		out, err := api.ReviewTemplate(x.Ctx, x.Pos[0], *status, *reason)
		return x.printObj(out, err, templateKeys...)
	}},
	{Name: "pending", Usage: "--server URL --operator-token T   (operator) templates waiting for review", Run: func(x *call) error {
		api, err := x.operatorAPI()()
		if err != nil {
			return err
		}
		rows, err := api.PendingTemplates(x.Ctx)
		return x.templateTable(rows, err)
	}},
}

// optInCommands are `parley business optins …`.
var optInCommands = []command{
	{Name: "list", Usage: "\tcustomers' marketing opt-ins (--token T or $PARLEY_API_TOKEN)", Run: func(x *call) error {
		return x.cloudAPI(x.apiToken(), func(api *apiclient.Client, pnid string) error {
			list, err := api.OptIns(x.Ctx, pnid)
			return x.printTable(list, err, "WA_ID\tACTIVE\tSOURCE\tOPTED IN\tOPTED OUT", "wa_id", "active", "source", "opted_in_at", "opted_out_at")
		})
	}},
	{Name: "add", Min: 1, Max: 1, Usage: "+PHONE --source S --text T", Run: func(x *call) error {
		token := x.apiToken()
		source := x.Need("source", "", "where the customer opted in")
		text := x.Need("text", "", "the text the customer was shown")
		return x.cloudAPI(token, func(api *apiclient.Client, pnid string) error {
			return x.done(api.AddOptIn(x.Ctx, pnid, x.Pos[0], *source, *text), map[string]any{"opted_in": x.Pos[0]}, "recorded the opt-in of "+x.Pos[0])
		})
	}},
}

// businessReport is business report: a customer reports a business.
func businessReport(x *call) error {
	reason := x.FS.String("reason", "", "why")
	block := x.FS.Bool("block", false, "also block the business")
	return x.ownerAPI(func(c *client.Client, api *apiclient.Client) error {
		if *block {
			if _, err := c.Block(x.Ctx, x.Pos[0]); err != nil {
				return err
			}
		}
		return x.done(api.ReportBusiness(x.Ctx, x.Pos[0], *reason, *block), map[string]any{"reported": x.Pos[0], "blocked": *block}, "reported "+x.Pos[0])
	})
}
