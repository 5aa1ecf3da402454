package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client"
)

// The business API commands (docs/business-api.md): api enable/status and
// the operator's number settings, tokens, templates, opt-ins and reports.
func init() {
	registerBusiness("api", businessCommand{
		Usage: `api enable                               run this number through the business API (links a hosted endpoint)
api status                               the number's phone-number id, quality, tier and throughput
api number --server URL --operator-token T PNID [--tier N] [--throughput N] [--auto-approve true|false]
                                         (operator) a number's tier, throughput and template auto-approval`,
		Run: func(ctx context.Context, e *env, a []string) error { return e.businessAPI(ctx, a) },
	})
	registerBusiness("tokens", businessCommand{
		Usage: `tokens create [--name N] [--scopes messages,media,templates,optins,profile,insights] | list | revoke ID
                                         bearer tokens of the business API (the secret is shown once)`,
		Run: func(ctx context.Context, e *env, a []string) error { return e.businessTokens(ctx, a) },
	})
	registerBusiness("templates", businessCommand{
		Usage: `templates list | create NAME --category C --body TEXT [--language L] [--header T] [--footer T] [--button TYPE:TEXT[:URL|PHONE]]…
          | delete NAME [--language L]   message templates (--token T or $PARLEY_API_TOKEN)
templates review --server URL --operator-token T ID --status APPROVED|REJECTED|PAUSED [--reason R]
templates pending --server URL --operator-token T   (operator) templates waiting for review`,
		Run: func(ctx context.Context, e *env, a []string) error { return e.businessTemplates(ctx, a) },
	})
	registerBusiness("optins", businessCommand{
		Usage: `optins list | add +PHONE --source S --text T   customers' marketing opt-ins (--token T or $PARLEY_API_TOKEN)`,
		Run:   func(ctx context.Context, e *env, a []string) error { return e.businessOptIns(ctx, a) },
	})
	registerBusiness("report", businessCommand{
		Usage: `report +PHONE [--reason R] [--block]     (customer) report a business to the server; --block also blocks it`,
		Run:   func(ctx context.Context, e *env, a []string) error { return e.businessReport(ctx, a) },
	})
}

// apiCall sends a JSON request and decodes the JSON answer. Errors come
// back as *parley.Error built from either error shape (Cloud API error
// objects or Parley's {"error":{code,reason,message}}).
func apiCall(ctx context.Context, method, u, auth string, body any, out any) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, r)
	if err != nil {
		return err
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return parley.Errorf(parley.CodeUnavailable, "unreachable", "%s: %v", u, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		var eb struct {
			Error struct {
				Code      any    `json:"code"`
				Reason    string `json:"reason"`
				Message   string `json:"message"`
				ErrorData struct {
					Details string `json:"details"`
				} `json:"error_data"`
			} `json:"error"`
		}
		_ = json.Unmarshal(data, &eb)
		msg := eb.Error.Message
		if eb.Error.ErrorData.Details != "" {
			msg += ": " + eb.Error.ErrorData.Details
		}
		if msg == "" {
			msg = resp.Status
		}
		code := map[int]parley.Code{400: parley.CodeInvalid, 401: parley.CodeUnauthenticated, 403: parley.CodeForbidden,
			404: parley.CodeNotFound, 409: parley.CodeConflict, 410: parley.CodeExpired, 413: parley.CodeTooLarge,
			429: parley.CodeRateLimited, 503: parley.CodeUnavailable}[resp.StatusCode]
		if code == "" {
			code = parley.CodeInternal
		}
		reason := eb.Error.Reason
		if n, ok := eb.Error.Code.(float64); ok {
			reason = fmt.Sprintf("cloudapi_%d", int(n))
		}
		return parley.Errorf(code, reason, "%s", msg)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: bad answer: %w", method, u, err)
		}
	}
	return nil
}

func deviceAuth(a client.Account) string {
	return fmt.Sprintf("Parley %d:%s", a.Device, base64.StdEncoding.EncodeToString(a.Secret))
}

// ownerCall calls an owner route as this profile's device.
func (e *env) ownerCall(ctx context.Context, method, path string, body, out any) error {
	return e.withClient(ctx, func(ctx context.Context, c *client.Client) error {
		a := c.Account()
		return apiCall(ctx, method, strings.TrimRight(a.ServerURL, "/")+path, deviceAuth(a), body, out)
	})
}

func printObj(e *env, obj map[string]any, keys ...string) {
	if e.json {
		e.writeJSON(e.stdout, obj)
		return
	}
	for _, k := range keys {
		if v, ok := obj[k]; ok {
			fmt.Fprintf(e.stdout, "%s: %v\n", k, v)
		}
	}
}

func (e *env) businessAPI(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usageError("business api: enable, status or number")
	}
	numberKeys := []string{"phone_number_id", "display_phone_number", "quality_rating", "messaging_limit_tier", "throughput", "auto_approve"}
	switch args[0] {
	case "enable":
		return e.withClient(ctx, func(ctx context.Context, c *client.Client) error {
			code, _, err := c.LinkCode(ctx)
			if err != nil {
				return err
			}
			a := c.Account()
			var n map[string]any
			if err := apiCall(ctx, "POST", strings.TrimRight(a.ServerURL, "/")+"/business/v1/api/enable", deviceAuth(a),
				map[string]string{"link_code": code}, &n); err != nil {
				return err
			}
			printObj(e, n, numberKeys...)
			return nil
		})
	case "status":
		var n map[string]any
		if err := e.ownerCall(ctx, "GET", "/business/v1/api/number", nil, &n); err != nil {
			return err
		}
		printObj(e, n, numberKeys...)
		return nil
	case "number":
		fs := newFlags("business api number", e)
		server := fs.String("server", os.Getenv("PARLEY_SERVER"), "server URL")
		op := fs.String("operator-token", os.Getenv("PARLEY_OPERATOR_TOKEN"), "operator token")
		tier := fs.Int("tier", 0, "messaging tier: 250, 2000, 10000, 100000 or -1 (unlimited)")
		tput := fs.Int("throughput", 0, "messages per second")
		auto := fs.String("auto-approve", "", "true or false")
		pos, err := parseFlags(fs, args[1:])
		if err != nil {
			return err
		}
		if len(pos) != 1 || *server == "" || *op == "" {
			return usageError("business api number --server URL --operator-token T PNID [--tier N] [--throughput N] [--auto-approve B]")
		}
		body := map[string]any{}
		if *tier != 0 {
			body["tier"] = *tier
		}
		if *tput != 0 {
			body["throughput"] = *tput
		}
		if *auto != "" {
			body["auto_approve"] = *auto == "true"
		}
		var n map[string]any
		if err := apiCall(ctx, "POST", strings.TrimRight(*server, "/")+"/business/v1/admin/numbers/"+url.PathEscape(pos[0]), "Bearer "+*op, body, &n); err != nil {
			return err
		}
		printObj(e, n, numberKeys...)
		return nil
	}
	return usageError("business api: enable, status or number")
}

func (e *env) businessTokens(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usageError("business tokens: create, list or revoke")
	}
	switch args[0] {
	case "create":
		fs := newFlags("business tokens create", e)
		name := fs.String("name", "", "what the token is for")
		scopes := fs.String("scopes", "", "comma-separated scopes (default: all)")
		if _, err := parseFlags(fs, args[1:]); err != nil {
			return err
		}
		body := map[string]any{"name": *name}
		if *scopes != "" {
			body["scopes"] = strings.Split(*scopes, ",")
		}
		var t map[string]any
		if err := e.ownerCall(ctx, "POST", "/business/v1/api/tokens", body, &t); err != nil {
			return err
		}
		if e.json {
			e.writeJSON(e.stdout, t)
			return nil
		}
		fmt.Fprintf(e.stdout, "token %v for phone number id %v (shown once, keep it secret):\n%v\n", t["id"], t["phone_number_id"], t["token"])
		return nil
	case "list":
		var list struct {
			Data []map[string]any `json:"data"`
		}
		if err := e.ownerCall(ctx, "GET", "/business/v1/api/tokens", nil, &list); err != nil {
			return err
		}
		if e.json {
			for _, t := range list.Data {
				e.writeJSON(e.stdout, t)
			}
			return nil
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tSCOPES\tCREATED\tREVOKED")
		for _, t := range list.Data {
			rev := t["revoked_at"]
			if rev == nil {
				rev = "-"
			}
			fmt.Fprintf(tw, "%v\t%v\t%v\t%v\t%v\n", t["id"], t["name"], t["scopes"], t["created_at"], rev)
		}
		return tw.Flush()
	case "revoke":
		if len(args) != 2 {
			return usageError("business tokens revoke ID")
		}
		if err := e.ownerCall(ctx, "DELETE", "/business/v1/api/tokens/"+url.PathEscape(args[1]), nil, nil); err != nil {
			return err
		}
		e.out(map[string]any{"revoked": args[1]}, "revoked "+args[1])
		return nil
	}
	return usageError("business tokens: create, list or revoke")
}

// cloudCall calls a Cloud API route of this profile's number with a token.
func (e *env) cloudCall(ctx context.Context, token, method, rel string, body, out any) error {
	if token == "" {
		token = os.Getenv("PARLEY_API_TOKEN")
	}
	if token == "" {
		return usageError("an API token is required: --token T or $PARLEY_API_TOKEN (parley business tokens create)")
	}
	return e.withClient(ctx, func(ctx context.Context, c *client.Client) error {
		a := c.Account()
		u := fmt.Sprintf("%s/v23.0/%d%s", strings.TrimRight(a.ServerURL, "/"), int64(a.User), rel)
		return apiCall(ctx, method, u, "Bearer "+token, body, out)
	})
}

type buttonFlags []string

func (b *buttonFlags) String() string     { return strings.Join(*b, " ") }
func (b *buttonFlags) Set(v string) error { *b = append(*b, v); return nil }

func (e *env) businessTemplates(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usageError("business templates: list, create, delete, review or pending")
	}
	fs := newFlags("business templates "+args[0], e)
	token := fs.String("token", "", "API token (default $PARLEY_API_TOKEN)")
	server := fs.String("server", os.Getenv("PARLEY_SERVER"), "(operator) server URL")
	op := fs.String("operator-token", os.Getenv("PARLEY_OPERATOR_TOKEN"), "(operator) operator token")
	lang := fs.String("language", "en_US", "template language")
	category := fs.String("category", "", "MARKETING, UTILITY or AUTHENTICATION")
	body := fs.String("body", "", "body text with {{1}}, {{2}}… parameters")
	header := fs.String("header", "", "header text")
	footer := fs.String("footer", "", "footer text")
	status := fs.String("status", "", "APPROVED, REJECTED or PAUSED")
	reason := fs.String("reason", "", "why")
	var buttons buttonFlags
	fs.Var(&buttons, "button", "QUICK_REPLY:TEXT, URL:TEXT:URL or PHONE_NUMBER:TEXT:PHONE (repeatable)")
	pos, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	tplKeys := []string{"id", "name", "language", "category", "status", "rejected_reason"}
	switch args[0] {
	case "list":
		var list struct {
			Data []map[string]any `json:"data"`
		}
		if err := e.cloudCall(ctx, *token, "GET", "/message_templates", nil, &list); err != nil {
			return err
		}
		return e.templateTable(list.Data)
	case "create":
		if len(pos) != 1 || *category == "" || *body == "" {
			return usageError("business templates create NAME --category C --body TEXT")
		}
		comps := []map[string]any{}
		if *header != "" {
			comps = append(comps, map[string]any{"type": "HEADER", "format": "TEXT", "text": *header})
		}
		comps = append(comps, map[string]any{"type": "BODY", "text": *body})
		if *footer != "" {
			comps = append(comps, map[string]any{"type": "FOOTER", "text": *footer})
		}
		if len(buttons) > 0 {
			var bs []map[string]any
			for _, b := range buttons {
				parts := strings.SplitN(b, ":", 3)
				btn := map[string]any{"type": strings.ToUpper(parts[0])}
				if len(parts) > 1 {
					btn["text"] = parts[1]
				}
				if len(parts) > 2 {
					if btn["type"] == "PHONE_NUMBER" {
						btn["phone_number"] = parts[2]
					} else {
						btn["url"] = parts[2]
					}
				}
				bs = append(bs, btn)
			}
			comps = append(comps, map[string]any{"type": "BUTTONS", "buttons": bs})
		}
		var out map[string]any
		if err := e.cloudCall(ctx, *token, "POST", "/message_templates", map[string]any{"name": pos[0], "language": *lang,
			"category": *category, "components": comps}, &out); err != nil {
			return err
		}
		printObj(e, out, "id", "status", "category")
		return nil
	case "delete":
		if len(pos) != 1 {
			return usageError("business templates delete NAME [--language L]")
		}
		q := url.Values{"name": {pos[0]}}
		if *lang != "" && hasFlag(args, "language") {
			q.Set("language", *lang)
		}
		if err := e.cloudCall(ctx, *token, "DELETE", "/message_templates?"+q.Encode(), nil, nil); err != nil {
			return err
		}
		e.out(map[string]any{"deleted": pos[0]}, "deleted "+pos[0])
		return nil
	case "review":
		if len(pos) != 1 || *server == "" || *op == "" || *status == "" {
			return usageError("business templates review --server URL --operator-token T ID --status S [--reason R]")
		}
		var out map[string]any
		if err := apiCall(ctx, "POST", strings.TrimRight(*server, "/")+"/business/v1/admin/templates/"+url.PathEscape(pos[0]),
			"Bearer "+*op, map[string]string{"status": *status, "reason": *reason}, &out); err != nil {
			return err
		}
		printObj(e, out, tplKeys...)
		return nil
	case "pending":
		if *server == "" || *op == "" {
			return usageError("business templates pending --server URL --operator-token T")
		}
		var list struct {
			Data []struct {
				PNID     string         `json:"phone_number_id"`
				Template map[string]any `json:"template"`
			} `json:"data"`
		}
		if err := apiCall(ctx, "GET", strings.TrimRight(*server, "/")+"/business/v1/admin/templates?status=PENDING", "Bearer "+*op, nil, &list); err != nil {
			return err
		}
		var rows []map[string]any
		for _, d := range list.Data {
			d.Template["phone_number_id"] = d.PNID
			rows = append(rows, d.Template)
		}
		return e.templateTable(rows)
	}
	return usageError("business templates: list, create, delete, review or pending")
}

func hasFlag(args []string, name string) bool {
	for _, a := range args {
		if a == "-"+name || a == "--"+name || strings.HasPrefix(a, "-"+name+"=") || strings.HasPrefix(a, "--"+name+"=") {
			return true
		}
	}
	return false
}

func (e *env) templateTable(rows []map[string]any) error {
	if e.json {
		for _, t := range rows {
			e.writeJSON(e.stdout, t)
		}
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tLANGUAGE\tCATEGORY\tSTATUS")
	for _, t := range rows {
		fmt.Fprintf(tw, "%v\t%v\t%v\t%v\t%v\n", t["id"], t["name"], t["language"], t["category"], t["status"])
	}
	return tw.Flush()
}

func (e *env) businessOptIns(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usageError("business optins: list or add")
	}
	fs := newFlags("business optins "+args[0], e)
	token := fs.String("token", "", "API token (default $PARLEY_API_TOKEN)")
	source := fs.String("source", "", "where the customer opted in")
	text := fs.String("text", "", "the text the customer was shown")
	pos, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	switch args[0] {
	case "list":
		var list struct {
			Data []map[string]any `json:"data"`
		}
		if err := e.cloudCall(ctx, *token, "GET", "/optins", nil, &list); err != nil {
			return err
		}
		if e.json {
			for _, o := range list.Data {
				e.writeJSON(e.stdout, o)
			}
			return nil
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "WA_ID\tACTIVE\tSOURCE\tOPTED IN\tOPTED OUT")
		for _, o := range list.Data {
			out := o["opted_out_at"]
			if out == nil {
				out = "-"
			}
			fmt.Fprintf(tw, "%v\t%v\t%v\t%v\t%v\n", o["wa_id"], o["active"], o["source"], o["opted_in_at"], out)
		}
		return tw.Flush()
	case "add":
		if len(pos) != 1 || *source == "" || *text == "" {
			return usageError("business optins add +PHONE --source S --text T")
		}
		if err := e.cloudCall(ctx, *token, "POST", "/optins", map[string]string{"wa_id": pos[0], "source": *source, "text": *text}, nil); err != nil {
			return err
		}
		e.out(map[string]any{"opted_in": pos[0]}, "recorded the opt-in of "+pos[0])
		return nil
	}
	return usageError("business optins: list or add")
}

func (e *env) businessReport(ctx context.Context, args []string) error {
	fs := newFlags("business report", e)
	reason := fs.String("reason", "", "why")
	block := fs.Bool("block", false, "also block the business")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("business report +PHONE [--reason R] [--block]")
	}
	return e.withClient(ctx, func(ctx context.Context, c *client.Client) error {
		if *block {
			if _, err := c.Block(ctx, pos[0]); err != nil {
				return err
			}
		}
		a := c.Account()
		if err := apiCall(ctx, "POST", strings.TrimRight(a.ServerURL, "/")+"/business/v1/report", deviceAuth(a),
			map[string]any{"business": pos[0], "reason": *reason, "block": *block}, nil); err != nil {
			return err
		}
		e.out(map[string]any{"reported": pos[0], "blocked": *block}, "reported "+pos[0])
		return nil
	})
}
