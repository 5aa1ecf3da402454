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
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/insights"
	"github.com/parleyhq/parley/webhook"
)

// The `parley business webhook …` and `parley business insights …`
// commands talk to the server's /business/v1/webhook and
// /business/v1/insights endpoints as this profile's device.

func init() {
	registerBusiness("webhook", businessCommand{
		Usage: `webhook show                              your webhook (the app secret is never shown)
webhook set --url URL --verify-token T [--app-secret S | $PARLEY_APP_SECRET]
                                         set the callback; the server checks it with the GET handshake
webhook remove                            stop deliveries (queued events wait, then dead-letter)
webhook pending [--limit N]               events waiting for delivery
webhook dead [--limit N]                  dead letters (retries ran out)
webhook replay ID... | --all              queue dead letters again`,
		Run: func(ctx context.Context, e *env, a []string) error { return e.businessWebhook(ctx, a) },
	})
	registerBusiness("insights", businessCommand{
		Usage: `insights [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--template T] [--campaign C]
                                         sent/delivered/read/failed/replied, rates, response times
insights message WAMID                   one message's statuses
insights dashboard                        print the dashboard URL with a new read-only insights token`,
		Run: func(ctx context.Context, e *env, a []string) error { return e.businessInsights(ctx, a) },
	})
}

// hooksBaseURL turns the profile's server URL into its HTTP base URL.
func hooksBaseURL(server string) (string, error) {
	u, err := url.Parse(server)
	if err != nil || u.Host == "" {
		return "", parley.Errorf(parley.CodeInvalid, "bad_server_url", "server URL %q: want http://host:port", server)
	}
	switch u.Scheme {
	case "http", "ws":
		u.Scheme = "http"
	case "https", "wss":
		u.Scheme = "https"
	default:
		return "", parley.Errorf(parley.CodeInvalid, "bad_server_url", "server URL %q: want http://host:port", server)
	}
	u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, client.WebSocketPath), "/")
	u.RawQuery, u.Fragment, u.RawPath = "", "", ""
	return u.String(), nil
}

func deviceAuthorization(a client.Account) string {
	return "Parley " + strconv.FormatInt(int64(a.Device), 10) + ":" + base64.StdEncoding.EncodeToString(a.Secret)
}

// hooksCall makes an authenticated request and decodes a JSON answer into
// out; error answers ({"code","reason","message"}) become *parley.Error.
func hooksCall(ctx context.Context, c *client.Client, method, path string, in, out any) error {
	a := c.Account()
	base, err := hooksBaseURL(a.ServerURL)
	if err != nil {
		return err
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", deviceAuthorization(a))
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return parley.Errorf(parley.CodeUnavailable, "server_unreachable", "%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return parley.Errorf(parley.CodeUnavailable, "server_unreachable", "%s %s: %v", method, path, err)
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Code    parley.Code `json:"code"`
			Reason  string      `json:"reason"`
			Message string      `json:"message"`
		}
		if json.Unmarshal(data, &e) != nil || e.Code == "" {
			return parley.Errorf(parley.CodeInternal, "bad_answer", "%s %s: %s", method, path, resp.Status)
		}
		return parley.Errorf(e.Code, e.Reason, "%s", e.Message)
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return parley.Errorf(parley.CodeInternal, "bad_answer", "%s %s: %v", method, path, err)
		}
	}
	return nil
}

func (e *env) businessWebhook(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usageError("usage: parley business webhook show|set|remove|pending|dead|replay …")
	}
	sub, args := args[0], args[1:]
	fs := newFlags("business webhook "+sub, e)
	urlF := fs.String("url", "", "callback URL")
	token := fs.String("verify-token", "", "the hub.verify_token the callback expects")
	secret := fs.String("app-secret", "", "HMAC key of X-Hub-Signature-256 (default $PARLEY_APP_SECRET)")
	limit := fs.Int("limit", 100, "at most this many (1..1000)")
	all := fs.Bool("all", false, "replay every dead letter")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	return e.withClient(ctx, func(ctx context.Context, c *client.Client) error {
		switch sub {
		case "show":
			var v webhook.ConfigView
			if err := hooksCall(ctx, c, "GET", webhook.Path, nil, &v); err != nil {
				return err
			}
			e.printWebhook(v)
		case "set":
			if *secret == "" {
				*secret = os.Getenv("PARLEY_APP_SECRET")
			}
			if *urlF == "" || *token == "" || *secret == "" {
				return usageError("usage: parley business webhook set --url URL --verify-token T --app-secret S (or $PARLEY_APP_SECRET)")
			}
			var v webhook.ConfigView
			in := map[string]string{"callback_url": *urlF, "verify_token": *token, "app_secret": *secret}
			if err := hooksCall(ctx, c, "PUT", webhook.Path, in, &v); err != nil {
				return err
			}
			e.printWebhook(v)
		case "remove":
			if err := hooksCall(ctx, c, "DELETE", webhook.Path, nil, nil); err != nil {
				return err
			}
			e.out(map[string]any{"event": "webhook_removed"}, "webhook removed")
		case "pending", "dead":
			var out struct{ Deliveries []webhook.DeliveryView }
			q := url.Values{"limit": {strconv.Itoa(*limit)}}
			if sub == "dead" {
				q.Set("dead", "1")
			}
			if err := hooksCall(ctx, c, "GET", webhook.Path+"/deliveries?"+q.Encode(), nil, &out); err != nil {
				return err
			}
			for _, d := range out.Deliveries {
				e.out(map[string]any{"event": "delivery", "id": d.ID, "field": d.Field, "order_key": d.OrderKey, "dead": d.Dead,
					"attempts": d.Attempts, "next_at": d.NextAt, "created_at": d.CreatedAt, "last_error": d.LastError, "value": d.Value},
					fmt.Sprintf("%-8d %-32s %-16s attempts=%d created=%s next=%s %s", d.ID, d.Field, d.OrderKey, d.Attempts,
						d.CreatedAt.Local().Format(time.DateTime), d.NextAt.Local().Format(time.DateTime), d.LastError))
			}
			if len(out.Deliveries) == 0 && !e.json {
				fmt.Fprintln(e.stdout, "none")
			}
		case "replay":
			ids := []int64{}
			for _, p := range pos {
				id, err := strconv.ParseInt(p, 10, 64)
				if err != nil || id <= 0 {
					return usageError("replay: " + p + " is not a delivery id")
				}
				ids = append(ids, id)
			}
			if len(ids) == 0 && !*all {
				return usageError("usage: parley business webhook replay ID... | --all")
			}
			var out struct{ Replayed int }
			if err := hooksCall(ctx, c, "POST", webhook.Path+"/replay", map[string][]int64{"ids": ids}, &out); err != nil {
				return err
			}
			e.out(map[string]any{"event": "replayed", "count": out.Replayed}, fmt.Sprintf("replayed %d dead letters", out.Replayed))
		default:
			return usageError(fmt.Sprintf("unknown webhook command %q", sub))
		}
		return nil
	})
}

func (e *env) printWebhook(v webhook.ConfigView) {
	e.out(map[string]any{"event": "webhook", "callback_url": v.CallbackURL, "verify_token": v.VerifyToken,
		"app_secret_set": v.HasSecret, "verified_at": v.VerifiedAt},
		fmt.Sprintf("callback %s (verified %s), verify token %q, app secret set: %v",
			v.CallbackURL, v.VerifiedAt.Local().Format(time.DateTime), v.VerifyToken, v.HasSecret))
}

func (e *env) businessInsights(ctx context.Context, args []string) error {
	sub := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub, args = args[0], args[1:]
	}
	fs := newFlags("business insights", e)
	from := fs.String("from", "", "first day (YYYY-MM-DD or RFC 3339; default 30 days ago)")
	to := fs.String("to", "", "end, exclusive (default now)")
	tmpl := fs.String("template", "", "only this template")
	camp := fs.String("campaign", "", "only this campaign (biz_opaque_callback_data)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	return e.withClient(ctx, func(ctx context.Context, c *client.Client) error {
		switch sub {
		case "message":
			if len(pos) != 1 {
				return usageError("usage: parley business insights message WAMID")
			}
			var m parley.MessageStatuses
			if err := hooksCall(ctx, c, "GET", insights.Path+"/messages/"+url.PathEscape(pos[0]), nil, &m); err != nil {
				return err
			}
			var parts []string
			for _, st := range []string{"sent", "delivered", "read", "replied", "failed"} {
				if at, ok := m.At[st]; ok {
					parts = append(parts, st+" "+at.Local().Format(time.DateTime))
				}
			}
			e.out(map[string]any{"event": "message_insights", "id": m.MessageID, "customer": m.Customer, "template": m.Template,
				"category": m.Category, "campaign": m.Campaign, "at": m.At},
				fmt.Sprintf("%s to %s: %s", m.MessageID, m.Customer, strings.Join(parts, ", ")))
			return nil
		case "dashboard":
			// The page gets a read-only insights token of its own, never
			// this device's credentials.
			a := c.Account()
			base, err := hooksBaseURL(a.ServerURL)
			if err != nil {
				return err
			}
			var t struct {
				ID    string `json:"id"`
				Token string `json:"token"`
			}
			if err := apiCall(ctx, "POST", strings.TrimRight(a.ServerURL, "/")+"/business/v1/api/tokens", deviceAuth(a),
				map[string]any{"name": "insights dashboard", "scopes": []parley.APIScope{parley.ScopeInsights}}, &t); err != nil {
				return err
			}
			u := base + insights.DashboardPath + "#token=" + url.QueryEscape(t.Token)
			e.out(map[string]any{"event": "dashboard", "url": u, "token_id": t.ID},
				"open this URL in a browser; it carries a new read-only insights token ("+t.ID+
					"; end it with: parley business tokens revoke "+t.ID+"):\n"+u)
			return nil
		case "":
		default:
			return usageError(fmt.Sprintf("unknown insights command %q", sub))
		}
		q := url.Values{}
		for k, v := range map[string]string{"from": *from, "to": *to, "template": *tmpl, "campaign": *camp} {
			if v != "" {
				q.Set(k, v)
			}
		}
		var r insights.Report
		if err := hooksCall(ctx, c, "GET", insights.Path+"?"+q.Encode(), nil, &r); err != nil {
			return err
		}
		if e.json {
			e.writeJSON(e.stdout, r)
			return nil
		}
		t := r.Total
		fmt.Fprintf(e.stdout, "%s – %s\n", r.From.Local().Format(time.DateOnly), r.To.Local().Format(time.DateOnly))
		fmt.Fprintf(e.stdout, "sent %d, delivered %d (%.1f%%), read %d (%.1f%%), replied %d (%.1f%%), failed %d (%.1f%%); customer messages %d\n",
			t.Sent, t.Delivered, 100*r.Rates.Delivered, t.Read, 100*r.Rates.Read, t.Replied, 100*r.Rates.Replied, t.Failed, 100*r.Rates.Failed, t.Inbound)
		if rt := r.Responses; rt.Count > 0 {
			fmt.Fprintf(e.stdout, "response times: %d answers, median %s, 90%% within %s, average %s\n", rt.Count,
				secs(rt.Median), secs(rt.P90), secs(rt.Average))
		}
		for _, group := range []struct {
			name string
			rows []parley.InsightsRow
		}{{"day", r.Days}, {"template", r.Templates}, {"campaign", r.Campaigns}} {
			for _, row := range group.rows {
				fmt.Fprintf(e.stdout, "%-9s %-24s sent %d delivered %d read %d replied %d failed %d\n", group.name, row.Key,
					row.Sent, row.Delivered, row.Read, row.Replied, row.Failed)
			}
		}
		return nil
	})
}

func secs(s float64) string {
	return (time.Duration(s * float64(time.Second))).Round(time.Second).String()
}
