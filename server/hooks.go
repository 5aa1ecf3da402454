package server

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/cloudapi"
	"github.com/parleyhq/parley/insights"
	"github.com/parleyhq/parley/media"
	"github.com/parleyhq/parley/webhook"
)

// hooks builds the webhook and insights services and mounts the business hooks' HTTP
// endpoints, authenticated as the business's own device
// ("Authorization: Parley <device>:<secret>"); the insights endpoints also
// take a business API token with the insights scope ("Bearer <token>"),
// which is what the dashboard page uses. Only business accounts
// (requireBusiness) may use the webhook routes.
func (s *Server) hooks(mux *http.ServeMux, cfg Config) {
	hs := cfg.Store
	wc := cfg.Webhook
	wc.Outbound = cfg.Outbound
	s.Webhooks = webhook.New(hs, cfg.Clock, cfg.Log.With("component", "webhook"), wc)
	s.Insights = insights.New(hs, cfg.Clock, cfg.Log.With("component", "insights"))
	deviceAuth := media.DeviceAuth(s.Accounts.Authenticate)
	auth := func(r *http.Request) (parley.UserID, error) {
		d, err := deviceAuth(r)
		return d.User, err
	}
	wh := s.Webhooks.Handler(func(r *http.Request) (parley.UserID, error) {
		u, err := auth(r)
		if err != nil {
			return 0, err
		}
		if err := s.requireBusiness(r.Context(), cfg.Store, u); err != nil {
			return 0, err
		}
		return u, nil
	})
	mux.Handle(webhook.Path, wh)
	mux.Handle(webhook.Path+"/", wh)
	ih := s.Insights.Handler(func(r *http.Request) (parley.UserID, error) {
		if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			return s.insightsToken(r.Context(), tok)
		}
		return auth(r)
	})
	mux.Handle(insights.Path, ih)
	mux.Handle(insights.Path+"/", ih)
	mux.Handle(insights.DashboardPath, ih)
}

// requireBusiness refuses a user that is not a business account: one
// with a published business profile or with the business API enabled.
// Errors: CodeForbidden with webhook.ReasonNotBusiness.
func (s *Server) requireBusiness(ctx context.Context, st parley.Store, user parley.UserID) error {
	p, err := s.Business.Profile(ctx, user)
	if err == nil && p.Name != "" {
		return nil
	}
	if err != nil && !parley.IsCode(err, parley.CodeNotFound) {
		return err
	}
	if _, err := st.APINumber(ctx, user); err == nil {
		return nil
	} else if !parley.IsCode(err, parley.CodeNotFound) {
		return err
	}
	return parley.Errorf(parley.CodeForbidden, webhook.ReasonNotBusiness,
		"only business accounts may set webhooks: publish a business profile or enable the business API first")
}

// insightsToken maps a business API token with the insights scope to its
// business. Errors: CodeUnauthenticated "bad_token" (unknown or revoked, or
// no business API on this server); CodeForbidden "missing_scope".
func (s *Server) insightsToken(ctx context.Context, bearer string) (parley.UserID, error) {
	if s.CloudAPI == nil {
		return 0, parley.Errorf(parley.CodeUnauthenticated, insights.ReasonBadToken, "this server has no business API: use device credentials")
	}
	t, err := s.CloudAPI.Authenticate(ctx, strings.TrimSpace(bearer))
	if err != nil {
		var ae *cloudapi.Error
		if errors.As(err, &ae) {
			return 0, parley.Errorf(parley.CodeUnauthenticated, insights.ReasonBadToken, "%s", ae.Details)
		}
		return 0, err
	}
	if !t.Has(parley.ScopeInsights) {
		return 0, parley.Errorf(parley.CodeForbidden, insights.ReasonMissingScope, "this token lacks the %s scope", parley.ScopeInsights)
	}
	return t.Business, nil
}

func counter(name, help string, v uint64, labels ...string) insights.Metric {
	return insights.Metric{Name: name, Help: help, Type: "counter", Labels: labels, Value: float64(v)}
}

func gauge(name, help string, v float64, labels ...string) insights.Metric {
	return insights.Metric{Name: name, Help: help, Type: "gauge", Labels: labels, Value: v}
}

// serviceMetrics reports the gateway's and the delivery service's counters.
func serviceMetrics(s *Server) insights.MetricSource {
	return func(context.Context) ([]insights.Metric, error) {
		g, d := s.Gateway.Stats(), s.Delivery.Stats()
		const closed = "parley_gateway_sessions_closed_total"
		const closedHelp = "Sessions closed by the server, by reason."
		return []insights.Metric{
			gauge("parley_gateway_sessions", "Open WebSocket sessions.", float64(g.Sessions)),
			counter("parley_gateway_sessions_accepted_total", "Sessions accepted.", g.Accepted),
			counter("parley_gateway_frames_in_total", "Client frames decoded.", g.FramesIn),
			counter("parley_gateway_dropped_signals_total", "Signal frames dropped because a queue was full.", g.DroppedSignals),
			counter(closed, closedHelp, g.SlowConsumers, "reason", "slow_consumer"),
			counter(closed, closedHelp, g.IdleTimeouts, "reason", "idle_timeout"),
			counter(closed, closedHelp, g.ProtocolErrors, "reason", "protocol_error"),
			counter(closed, closedHelp, g.Replaced, "reason", "session_replaced"),
			counter("parley_gateway_rate_limited_total", "Requests refused by an abuse limit.", g.RateLimited),
			counter("parley_gateway_unauthenticated_refused_total", "Upgrades refused: too many unauthenticated sessions from one address.", g.RefusedUnauth),
			counter(closed, closedHelp, g.HandlerPanics, "reason", "handler_panic"),
			counter("parley_delivery_appended_total", "Envelopes appended.", d.Appended),
			counter("parley_delivery_duplicates_total", "Sends that were retries of an appended envelope.", d.Duplicates),
			counter("parley_delivery_batches_total", "Group commits.", d.Batches),
			counter("parley_delivery_acks_total", "Acknowledgements received.", d.Acks),
			counter("parley_delivery_pruned_total", "Envelopes deleted by retention.", d.Pruned),
			counter("parley_delivery_presence_drops_total", "Presence changes dropped because the queue was full.", d.PresenceDrops),
			counter("parley_delivery_broadcast_withheld_total", "Broadcast copies withheld: the recipient does not have the sender in contacts.", d.Withheld),
		}, nil
	}
}

// webhookMetrics reports webhook deliveries and the outbox backlog.
func webhookMetrics(w *webhook.Service) insights.MetricSource {
	return func(ctx context.Context) ([]insights.Metric, error) {
		st := w.Stats()
		pending, dead, err := w.Backlog(ctx)
		if err != nil {
			return nil, err
		}
		const del, delHelp = "parley_webhook_deliveries_total", "Webhook delivery attempts since start, by result."
		return []insights.Metric{
			counter("parley_webhook_enqueued_total", "Webhook events made durable since start.", uint64(st.Enqueued)),
			counter("parley_webhook_unconfigured_total", "Webhook events dropped: the business has no webhook.", uint64(st.Unconfigured)),
			counter(del, delHelp, uint64(st.Delivered), "result", "delivered"),
			counter(del, delHelp, uint64(st.Failed), "result", "failed"),
			counter(del, delHelp, uint64(st.DeadLettered), "result", "dead_lettered"),
			gauge("parley_webhook_backlog", "Webhook events in the outbox, by state.", float64(pending), "state", "pending"),
			gauge("parley_webhook_backlog", "Webhook events in the outbox, by state.", float64(dead), "state", "dead"),
		}, nil
	}
}

// broadcastTiers counts a business's broadcast copies against its API
// number's tier (cloudapi.Service.AdmitBroadcast); without the business
// API every copy is admitted. The API is built after the delivery service
// and before the server serves.
type broadcastTiers struct{ s *Server }

func (b broadcastTiers) AdmitBroadcast(ctx context.Context, sender, recipient parley.UserID) error {
	if b.s.CloudAPI == nil {
		return nil
	}
	return b.s.CloudAPI.AdmitBroadcast(ctx, sender, recipient)
}
