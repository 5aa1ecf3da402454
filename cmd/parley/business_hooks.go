package main

import (
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/apiclient"
	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/insights"
	"github.com/parleyhq/parley/webhook"
)

// The `parley business webhook …` and `parley business insights …`
// commands talk to the server's /business/v1/webhook and
// /business/v1/insights endpoints as this profile's device (apiclient).

// webhookCommands are `parley business webhook …`.
var webhookCommands = []command{
	{Name: "show", Usage: "\tyour webhook (the app secret is never shown)", Run: func(x *call) error {
		return x.ownerAPI(func(_ *client.Client, api *apiclient.Client) error {
			var v webhook.ConfigView
			return x.printWebhook(v, api.Call(x.Ctx, "GET", webhook.Path, nil, &v))
		})
	}},
	{Name: "set", Usage: "--url URL --verify-token T [--app-secret S | $PARLEY_APP_SECRET]\n\tset the callback; the server checks it with the GET handshake",
		Run: func(x *call) error {
			urlF := x.Need("url", "", "callback URL")
			token := x.Need("verify-token", "", "the hub.verify_token the callback expects")
			secret := x.Need("app-secret", os.Getenv("PARLEY_APP_SECRET"), "HMAC key of X-Hub-Signature-256 (default $PARLEY_APP_SECRET)")
			return x.ownerAPI(func(_ *client.Client, api *apiclient.Client) error {
				var v webhook.ConfigView
				in := map[string]string{"callback_url": *urlF, "verify_token": *token, "app_secret": *secret}
				return x.printWebhook(v, api.Call(x.Ctx, "PUT", webhook.Path, in, &v))
			})
		}},
	{Name: "remove", Usage: "\tstop deliveries (queued events wait, then dead-letter)", Run: func(x *call) error {
		return x.ownerAPI(func(_ *client.Client, api *apiclient.Client) error {
			return x.done(api.Call(x.Ctx, "DELETE", webhook.Path, nil, nil), map[string]any{"event": "webhook_removed"}, "webhook removed")
		})
	}},
	{Name: "pending", Usage: "[--limit N]\tevents waiting for delivery", Run: webhookDeliveries},
	{Name: "dead", Usage: "[--limit N]\tdead letters (retries ran out)", Run: webhookDeliveries},
	{Name: "replay", Max: -1, Usage: "ID... | --all\tqueue dead letters again", Run: func(x *call) error {
		all := x.FS.Bool("all", false, "replay every dead letter")
		if err := x.Parse(); err != nil {
			return err
		}
		ids := []int64{}
		for _, p := range x.Pos {
			id, err := strconv.ParseInt(p, 10, 64)
			if err != nil || id <= 0 {
				return usageError("replay: " + p + " is not a delivery id")
			}
			ids = append(ids, id)
		}
		if len(ids) == 0 && !*all {
			return x.Usage()
		}
		return x.ownerAPI(func(_ *client.Client, api *apiclient.Client) error {
			var out struct{ Replayed int }
			return x.done(api.Call(x.Ctx, "POST", webhook.Path+"/replay", map[string][]int64{"ids": ids}, &out), map[string]any{"event": "replayed", "count": out.Replayed}, fmt.Sprintf("replayed %d dead letters", out.Replayed))
		})
	}},
}

// webhookDeliveries is webhook pending and webhook dead.
func webhookDeliveries(x *call) error {
	limit := x.FS.Int("limit", 100, "at most this many (1..1000)")
	return x.ownerAPI(func(_ *client.Client, api *apiclient.Client) error {
		var out struct{ Deliveries []webhook.DeliveryView }
		q := url.Values{"limit": {strconv.Itoa(*limit)}}
		if x.Name == "dead" {
			q.Set("dead", "1")
		}
		if err := api.Call(x.Ctx, "GET", webhook.Path+"/deliveries?"+q.Encode(), nil, &out); err != nil {
			return err
		}
		for _, d := range out.Deliveries {
			x.out(map[string]any{"event": "delivery", "id": d.ID, "field": d.Field, "order_key": d.OrderKey, "dead": d.Dead,
				"attempts": d.Attempts, "next_at": d.NextAt, "created_at": d.CreatedAt, "last_error": d.LastError, "value": d.Value},
				fmt.Sprintf("%-8d %-32s %-16s attempts=%d created=%s next=%s %s", d.ID, d.Field, d.OrderKey, d.Attempts,
					d.CreatedAt.Local().Format(time.DateTime), d.NextAt.Local().Format(time.DateTime), d.LastError))
		}
		if len(out.Deliveries) == 0 && !x.json {
			fmt.Fprintln(x.stdout, "none")
		}
		return nil
	})
}

// printWebhook prints a webhook's settings, unless err.
func (x *call) printWebhook(v webhook.ConfigView, err error) error {
	if err != nil {
		return err
	}
	return x.print(map[string]any{"event": "webhook", "callback_url": v.CallbackURL, "verify_token": v.VerifyToken,
		"app_secret_set": v.HasSecret, "verified_at": v.VerifiedAt},
		fmt.Sprintf("callback %s (verified %s), verify token %q, app secret set: %v",
			v.CallbackURL, v.VerifiedAt.Local().Format(time.DateTime), v.VerifyToken, v.HasSecret))
}

// insightsCommands are `parley business insights …`; insightsReport is
// the command without one.
var insightsCommands = []command{
	{Name: "message", Min: 1, Max: 1, Usage: "WAMID\tone message's statuses", Run: func(x *call) error {
		return x.ownerAPI(func(_ *client.Client, api *apiclient.Client) error {
			var m parley.MessageStatuses
			if err := api.Call(x.Ctx, "GET", insights.Path+"/messages/"+url.PathEscape(x.Pos[0]), nil, &m); err != nil {
				return err
			}
			var parts []string
			for _, st := range []string{"sent", "delivered", "read", "replied", "failed"} {
				if at, ok := m.At[st]; ok {
					parts = append(parts, st+" "+at.Local().Format(time.DateTime))
				}
			}
			return x.print(map[string]any{"event": "message_insights", "id": m.MessageID, "customer": m.Customer, "template": m.Template,
				"category": m.Category, "campaign": m.Campaign, "at": m.At},
				fmt.Sprintf("%s to %s: %s", m.MessageID, m.Customer, strings.Join(parts, ", ")))
		})
	}},
	{Name: "dashboard", Usage: "\tprint the dashboard URL with a new read-only insights token", Run: func(x *call) error {
		return x.ownerAPI(func(_ *client.Client, api *apiclient.Client) error {
			// The page gets a read-only insights token of its own, never
			// this device's credentials.
			t, err := api.CreateToken(x.Ctx, "insights dashboard", []string{string(parley.ScopeInsights)})
			if err != nil {
				return err
			}
			u := api.Base + insights.DashboardPath + "#token=" + url.QueryEscape(fmt.Sprint(t["token"]))
			return x.print(map[string]any{"event": "dashboard", "url": u, "token_id": t["id"]},
				fmt.Sprintf("open this URL in a browser; it carries a new read-only insights token (%v; end it with: parley business tokens revoke %v):\n%s", t["id"], t["id"], u))
		})
	}},
}

// insightsReport is business insights: the number's counts and rates.
func insightsReport(x *call) error {
	from := x.FS.String("from", "", "first day (YYYY-MM-DD or RFC 3339; default 30 days ago)")
	to := x.FS.String("to", "", "end, exclusive (default now)")
	tmpl := x.FS.String("template", "", "only this template")
	camp := x.FS.String("campaign", "", "only this campaign (biz_opaque_callback_data)")
	return x.ownerAPI(func(_ *client.Client, api *apiclient.Client) error {
		q := url.Values{}
		for k, v := range map[string]string{"from": *from, "to": *to, "template": *tmpl, "campaign": *camp} {
			if v != "" {
				q.Set(k, v)
			}
		}
		var r insights.Report
		if err := api.Call(x.Ctx, "GET", insights.Path+"?"+q.Encode(), nil, &r); err != nil {
			return err
		}
		if x.json {
			x.writeJSON(x.stdout, r)
			return nil
		}
		w, t := x.stdout, r.Total
		fmt.Fprintf(w, "%s – %s\n", r.From.Local().Format(time.DateOnly), r.To.Local().Format(time.DateOnly))
		fmt.Fprintf(w, "sent %d, delivered %d (%.1f%%), read %d (%.1f%%), replied %d (%.1f%%), failed %d (%.1f%%); customer messages %d\n",
			t.Sent, t.Delivered, 100*r.Rates.Delivered, t.Read, 100*r.Rates.Read, t.Replied, 100*r.Rates.Replied, t.Failed, 100*r.Rates.Failed, t.Inbound)
		if rt := r.Responses; rt.Count > 0 {
			fmt.Fprintf(w, "response times: %d answers, median %s, 90%% within %s, average %s\n", rt.Count,
				secs(rt.Median), secs(rt.P90), secs(rt.Average))
		}
		for _, group := range []struct {
			name string
			rows []parley.InsightsRow
		}{{"day", r.Days}, {"template", r.Templates}, {"campaign", r.Campaigns}} {
			for _, row := range group.rows {
				fmt.Fprintf(w, "%-9s %-24s sent %d delivered %d read %d replied %d failed %d\n", group.name, row.Key,
					row.Sent, row.Delivered, row.Read, row.Replied, row.Failed)
			}
		}
		return nil
	})
}

func secs(s float64) string {
	return (time.Duration(s * float64(time.Second))).Round(time.Second).String()
}
