// Package server wires Parley's services into one HTTP server: the store,
// the broker, the accounts and delivery services, and the WebSocket gateway
// at /v1/ws. It adds /healthz and the operator's admin API at /admin/v1/
// (admin.go). cmd/parley's serve command runs it.
//
// Wiring. Every service gets what it uses at construction (gateway.Services,
// delivery.Config): none is set later and none is found through another.
// The store implements every store interface (parley.Store), so groups,
// trees, business, webhooks and insights always run; media, push, calls and
// the business API run when their Config field is set. The hosted business
// endpoints are clients the server runs: the server does not import them,
// cmd/parley hands them over (BusinessAPIConfig.Hosted).
//
// Lifecycle. New starts the background services (the media sweeper, the
// log, tree and group pruners, webhook deliveries, the call ring sweeper, the
// push sender), each with the one shape Runner (Run(ctx) error), under one
// errgroup; one that fails stops the server, and Serve returns its error.
// Shutdown stops everything in one order:
//
//  1. the hosted business endpoints and the business API's insights queue;
//  2. the HTTP servers: no new connection or request;
//  3. the gateway: every WebSocket session gets GoAway and is drained;
//  4. the calls: every call ends;
//  5. the background workers (pruners, sweepers, webhook deliveries);
//  6. the delivery service, committing what it queued;
//  7. the push sender, which notifies delivery's last appends too.
//
// The store is the caller's: close it after Shutdown returns.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/accounts"
	"github.com/parleyhq/parley/admin"
	"github.com/parleyhq/parley/backups"
	"github.com/parleyhq/parley/broker/inproc"
	"github.com/parleyhq/parley/business"
	"github.com/parleyhq/parley/calls"
	"github.com/parleyhq/parley/clientip"
	"github.com/parleyhq/parley/cloudapi"
	"github.com/parleyhq/parley/delivery"
	"github.com/parleyhq/parley/gateway"
	"github.com/parleyhq/parley/groups"
	"github.com/parleyhq/parley/insights"
	"github.com/parleyhq/parley/media"
	"github.com/parleyhq/parley/outbound"
	"github.com/parleyhq/parley/push"
	"github.com/parleyhq/parley/ratelimit"
	"github.com/parleyhq/parley/status"
	"github.com/parleyhq/parley/trees"
	"github.com/parleyhq/parley/webhook"
)

// Config is what a server is built from. Store is required; every other
// field has a default.
type Config struct {
	Store  parley.Store
	Broker parley.Broker     // default: an in-process broker
	Sender parley.CodeSender // default: accounts.DevSender logging codes to Log
	Clock  parley.Clock      // default: the system clock
	Log    *slog.Logger      // default: discard

	Accounts accounts.Config
	Delivery delivery.Config
	Gateway  gateway.Config
	// Groups tunes the group service.
	Groups groups.Config
	// Media enables the media service at /media/v1/ when not nil. Blobs and
	// StagingDir must be set; the server fills in the store, membership
	// checks, device authentication, clock and logger.
	Media *media.Config
	// Trees tunes the ratchet tree endpoint (/mls/v1/trees); the server
	// fills in the store, access rule, device authentication, clock and
	// logger.
	Trees trees.Config
	// Webhook tunes business webhook deliveries.
	Webhook webhook.Config
	// BackupQuota bounds one account's encrypted client backup at
	// /v1/backup (package backups); default backups.DefaultQuota.
	BackupQuota int64
	// ReportLimit is the budget of reports per account (package
	// moderation); default moderation.DefaultLimit.
	ReportLimit parley.Limit
	// Status tunes Status at /v1/status (package status), served when a
	// blob store is known (Status.Blobs, or Media's); the server fills in
	// the store, device authentication, clock and logger.
	Status status.Config
	// MetricsToken, when set, serves /metrics on the server's own handler
	// to requests bearing it ("Authorization: Bearer TOKEN"). When empty,
	// the public handler has no /metrics (404): scrape MetricsHandler,
	// served on a separate, private listener, instead.
	MetricsToken string
	// MetricSources are reported on /metrics besides the server's own
	// (e.g. the data directory's free disk space, from package node).
	MetricSources []insights.MetricSource
	// BusinessAPI enables the business API and hosted endpoints when not
	// nil; see cloudapi.go.
	BusinessAPI *BusinessAPIConfig
	// Push enables Web Push at /push/v1/ when not nil; the server fills in
	// the store, device authentication, clock and logger, and notifies
	// devices without a live session of new messages.
	Push *push.Config
	// Web, when not nil, serves the browser client at / (package web);
	// the API paths above keep their handlers.
	Web http.Handler
	// Calls enables voice and video calls when not nil (calls.go).
	Calls *CallsConfig
	// Outbound is the policy of every request the server makes to a URL it
	// was given (webhook callbacks, push endpoints, media links; package
	// outbound). It replaces the Outbound of Webhook and Push. The zero
	// policy reaches no loopback, private or other internal address.
	Outbound outbound.Policy
	// TrustedProxies are the peers whose X-Forwarded-For and Forwarded
	// headers name the client address every per-address limit uses
	// (package clientip); from any other peer they are ignored. Default
	// none: the TCP peer is the client.
	TrustedProxies []netip.Prefix
	// BodyIdleTimeout fails a request whose body delivers no byte for this
	// long (slowloris); default DefaultBodyIdleTimeout.
	BodyIdleTimeout time.Duration
}

// Server is a running Parley server (its background services start in New).
type Server struct {
	Accounts *accounts.Service
	Delivery *delivery.Service
	Gateway  *gateway.Gateway
	Groups   *groups.Service
	Business *business.Service
	Media    *media.Service // nil when media is not configured
	Push     *push.Service  // nil when push is not configured
	Trees    *trees.Service
	// Webhooks (a parley.WebhookSink) and Insights (a
	// parley.InsightsRecorder) serve business hooks at /business/v1/webhook,
	// /business/v1/insights and /business/insights.
	Webhooks *webhook.Service
	Insights *insights.Service
	// CloudAPI and Hosted are the business API and its hosted endpoints
	// (nil unless Config.BusinessAPI is set; Hosted also nil without
	// BusinessAPIConfig.Hosted).
	CloudAPI *cloudapi.Service
	Hosted   HostedEndpoints
	Calls    *calls.Service // nil when calls are not configured (calls.go)
	Admin    *admin.Service // the operator's admin API at /admin/v1/ (admin.go)
	// Status serves Status, 24-hour stories (nil without a blob store).
	Status *status.Service

	gatewayCalls   gateway.Calls // Calls or, in a cluster, its calls.Router
	stopCallRouter func()        // stops answering other nodes' call requests

	cloudAPIHandler http.Handler                    // the business API's Cloud API paths (nil without it)
	startHosted     func(net.Listener)              // starts the hosted endpoints once the server listens
	stopCloudAPI    func(ctx context.Context) error // drains the business API's insights queue

	run     *lifecycle // the background services (lifecycle.go)
	log     *slog.Logger
	handler http.Handler
	metrics http.Handler // /metrics without a token, for a private listener

	mu       sync.Mutex
	http     []*http.Server
	shutdown bool
}

// New builds a server and starts its background services. The caller
// keeps ownership of cfg.Store (close it after Shutdown).
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("server: a store is required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = parley.SystemClock{}
	}
	if cfg.Outbound.Log == nil {
		cfg.Outbound.Log = cfg.Log.With("component", "outbound")
	}
	if cfg.Broker == nil {
		cfg.Broker = inproc.New()
	}
	if cfg.Sender == nil {
		cfg.Sender = accounts.DevSender{Log: cfg.Log}
	}
	// One limiter for every service's in-memory limits (keys differ).
	lim := ratelimit.New(cfg.Clock, 0)
	if cfg.Accounts.Limiter == nil {
		cfg.Accounts.Limiter = lim
	}
	if cfg.Delivery.Limiter == nil {
		cfg.Delivery.Limiter = lim
	}
	srv := &Server{log: cfg.Log, run: newLifecycle()}
	acc := accounts.New(cfg.Store, cfg.Sender, cfg.Clock, cfg.Log.With("component", "accounts"), cfg.Accounts)
	deviceAuth := media.DeviceAuth(acc.Authenticate)
	if cfg.Push != nil {
		pc := *cfg.Push
		pc.Store, pc.Authenticate, pc.Clock, pc.Logger = cfg.Store, deviceAuth, cfg.Clock, cfg.Log.With("component", "push")
		pc.Outbound = cfg.Outbound
		svc, err := push.New(context.Background(), pc)
		if err != nil {
			return nil, err
		}
		srv.Push = svc
	}

	// The delivery service and the group service use each other: delivery
	// asks groups to authorise group operations, groups publishes through
	// delivery. Delivery builds groups with itself as the publisher.
	dc := cfg.Delivery
	dc.Groups = func(pub *delivery.Service) delivery.GroupPolicy {
		srv.Groups = groups.New(cfg.Store, pub, cfg.Clock, cfg.Log.With("component", "groups"), cfg.Groups)
		if ca, ok := cfg.Broker.(parley.ChangeAnnouncer); ok {
			ca.OnChanged(srv.Groups.Forget) // group changes made on other nodes
		}
		return srv.Groups
	}
	// Commits are read and matched with their requests
	// (delivery/handshake.go); out-of-band trees and commits are in the
	// tree store.
	dc.CheckHandshakes, dc.Trees = true, cfg.Store
	if srv.Push != nil {
		dc.Notifier = srv.Push
	}
	dc.Broadcasts = broadcastTiers{srv} // the business API, once built (hooks.go)
	del := delivery.New(cfg.Store, cfg.Broker, acc, cfg.Clock, cfg.Log.With("component", "delivery"), dc)
	srv.Accounts, srv.Delivery = acc, del
	srv.Business = business.New(cfg.Store, cfg.Store, cfg.Clock, cfg.Log.With("component", "business"))
	if err := srv.newCalls(cfg); err != nil { // calls.go
		return nil, err
	}
	gs := gateway.Services{Accounts: acc, Delivery: del, Groups: srv.Groups, Business: srv.Business}
	if srv.Calls != nil {
		gs.Calls = srv.gatewayCalls // the service, or its router in a cluster (calls.go)
	}
	srv.Gateway = gateway.New(gs, cfg.Clock, cfg.Log.With("component", "gateway"), cfg.Gateway)

	mux := http.NewServeMux()
	mux.Handle("GET "+gateway.Path, srv.Gateway)
	if cfg.Media != nil {
		mc := *cfg.Media
		mc.Store = cfg.Store
		mc.Members = cfg.Store
		mc.Authenticate = deviceAuth
		mc.Clock = cfg.Clock
		mc.Logger = cfg.Log.With("component", "media")
		svc, err := media.New(mc)
		if err != nil {
			return nil, err
		}
		mux.Handle("/media/v1/", svc)
		srv.Media = svc
	}
	tc := cfg.Trees
	tc.Store = cfg.Store
	tc.Access = func(ctx context.Context, dev parley.Device, conv parley.ConversationID) error {
		_, err := del.GroupInfo(ctx, dev, conv)
		return err
	}
	tc.Authenticate = deviceAuth
	tc.Clock = cfg.Clock
	tc.Logger = cfg.Log.With("component", "trees")
	ts, err := trees.New(tc)
	if err != nil {
		return nil, err
	}
	srv.Trees = ts
	mux.Handle(trees.Path, ts)
	mux.Handle(trees.Path+"/", ts)
	mux.Handle(trees.CommitsPath+"/", ts)
	bk, err := backups.New(backups.Config{Store: cfg.Store, Authenticate: deviceAuth, Clock: cfg.Clock,
		Logger: cfg.Log.With("component", "backups"), Quota: cfg.BackupQuota})
	if err != nil {
		return nil, err
	}
	bk.Register(mux)
	if err := srv.moderationAPI(mux, cfg, deviceAuth); err != nil { // moderation.go
		return nil, err
	}
	if err := srv.status(mux, cfg, deviceAuth); err != nil { // status.go
		return nil, err
	}
	srv.hooks(mux, cfg)    // hooks.go
	srv.adminAPI(mux, cfg) // admin.go
	metrics := []insights.MetricSource{serviceMetrics(srv), opsMetrics(srv), srv.Insights.StoreMetrics, webhookMetrics(srv.Webhooks)}
	metrics = append(metrics, cfg.MetricSources...)
	if cfg.BusinessAPI != nil {
		if err := srv.businessAPI(mux, cfg); err != nil {
			return nil, err
		}
	}
	srv.metrics = insights.MetricsHandler("", metrics...)
	if cfg.MetricsToken != "" {
		mux.Handle("GET /metrics", insights.MetricsHandler(cfg.MetricsToken, metrics...))
	} else {
		mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "metrics are not served on this listener", http.StatusNotFound)
		})
	}
	if srv.Push != nil {
		mux.Handle(push.Path, srv.Push)
	}
	// "/" falls back to the business API's unversioned paths, then to the
	// browser client.
	web := cfg.Web
	if web == nil {
		web = http.NotFoundHandler()
	}
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if srv.cloudAPIHandler != nil && cloudapi.IsAPIPath(r.URL.Path) {
			srv.cloudAPIHandler.ServeHTTP(w, r)
			return
		}
		web.ServeHTTP(w, r)
	}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	if cfg.BodyIdleTimeout <= 0 {
		cfg.BodyIdleTimeout = DefaultBodyIdleTimeout
	}
	srv.handler = withRequestID(edge(mux, clientip.New(cfg.TrustedProxies), cfg.BodyIdleTimeout), cfg.Log)
	srv.startWorkers()
	return srv, nil
}

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// MetricsHandler serves the Prometheus metrics to anyone who reaches it:
// mount it only on a listener the public cannot reach (a loopback or
// private address). The public Handler serves them only with
// Config.MetricsToken.
func (s *Server) MetricsHandler() http.Handler { return s.metrics }

// Serve accepts connections on ln until Shutdown is called or ctx ends (which
// shuts the server down with a 10 s grace period). It returns nil after a
// Shutdown.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	s.mu.Lock()
	if s.shutdown {
		s.mu.Unlock()
		return http.ErrServerClosed
	}
	s.http = append(s.http, hs)
	s.mu.Unlock()

	shutdown := func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.Shutdown(sctx)
	}
	stop := context.AfterFunc(ctx, shutdown)
	defer stop()
	// A background service that fails stops the whole server.
	stopFailed := context.AfterFunc(s.run.failed, shutdown)
	defer stopFailed()
	if s.startHosted != nil {
		s.startHosted(ln)
	}
	err := hs.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return s.run.err()
	}
	return err
}

// Shutdown stops the server in the order the package documentation gives:
// it stops accepting connections, drains every WebSocket session (answers
// its requests in flight, then closes it with GoAway: 1001, or 4012 with
// gateway.Config.Cluster; see gateway.Gateway.Shutdown), ends every call, stops the background services, then stops
// the delivery service, committing what was queued, and last the push
// sender (which notifies delivery's last appends too). It returns the
// errors of each step, and the first error a background service failed
// with. It does not close the store: the caller does, after Shutdown.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.shutdown = true
	servers := s.http
	s.mu.Unlock()
	var errs []error
	if s.Hosted != nil {
		if err := s.Hosted.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("hosted endpoints: %w", err))
		}
	}
	if s.stopCloudAPI != nil {
		if err := s.stopCloudAPI(ctx); err != nil {
			errs = append(errs, fmt.Errorf("business api: %w", err))
		}
	}
	for _, hs := range servers {
		if err := hs.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if err := s.Gateway.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("gateway: %w", err))
	}
	if s.stopCallRouter != nil {
		s.stopCallRouter()
	}
	if s.Calls != nil {
		_ = s.Calls.Shutdown(ctx) // ends every call; after the gateway, so no new call starts
	}
	s.run.stop(stageWorkers)
	if err := s.Delivery.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("delivery: %w", err))
	}
	s.run.stop(stageAfterDelivery)
	if err := s.run.wait(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
