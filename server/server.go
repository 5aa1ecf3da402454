// Package server wires Parley's services into one HTTP server: the store,
// the broker, the accounts and delivery services, and the WebSocket gateway
// at /v1/ws. It adds /healthz. cmd/parley's serve command runs it.
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
	"github.com/parleyhq/parley/broker/inproc"
	"github.com/parleyhq/parley/business"
	"github.com/parleyhq/parley/calls"
	"github.com/parleyhq/parley/clientip"
	"github.com/parleyhq/parley/cloudapi"
	"github.com/parleyhq/parley/delivery"
	"github.com/parleyhq/parley/gateway"
	"github.com/parleyhq/parley/groups"
	"github.com/parleyhq/parley/hosted"
	"github.com/parleyhq/parley/insights"
	"github.com/parleyhq/parley/media"
	"github.com/parleyhq/parley/outbound"
	"github.com/parleyhq/parley/push"
	"github.com/parleyhq/parley/ratelimit"
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
	// Groups tunes the group service, enabled when Store also implements
	// parley.GroupStore.
	Groups groups.Config
	// Media enables the media service at /media/v1/ when not nil. Blobs and
	// StagingDir must be set; the server fills in the store (Store must then
	// also implement parley.MediaStore), membership checks, device
	// authentication, clock and logger.
	Media *media.Config
	// Trees tunes the ratchet tree endpoint (/mls/v1/trees), enabled when
	// Store also implements parley.TreeStore; the server fills in the
	// store, access rule, device authentication, clock and logger.
	Trees trees.Config
	// Webhook tunes business webhook deliveries (enabled when Store also
	// implements parley.WebhookStore and parley.InsightsStore).
	Webhook webhook.Config
	// MetricsToken, when set, serves /metrics on the server's own handler
	// to requests bearing it ("Authorization: Bearer TOKEN"). When empty,
	// the public handler has no /metrics (404): scrape MetricsHandler,
	// served on a separate, private listener, instead.
	MetricsToken string
	// BusinessAPI enables the business API and hosted endpoints when not
	// nil (Store must implement parley.CloudAPIStore); see cloudapi.go.
	BusinessAPI *BusinessAPIConfig
	// Push enables Web Push at /push/v1/ when not nil (Store must then also
	// implement parley.PushStore); the server fills in the store, device
	// authentication, clock and logger, and notifies devices without a
	// live session of new messages.
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
	Groups   *groups.Service // nil when the store does not implement parley.GroupStore
	// Business is the business-account service, enabled when the store
	// implements parley.BusinessStore (nil otherwise).
	Business *business.Service
	Media    *media.Service // nil when media is not configured
	Push     *push.Service  // nil when push is not configured
	// Webhooks (a parley.WebhookSink) and Insights (a
	// parley.InsightsRecorder) serve business hooks at /business/v1/webhook,
	// /business/v1/insights and /business/insights; both nil when the store
	// does not implement parley.WebhookStore and parley.InsightsStore.
	Webhooks *webhook.Service
	Insights *insights.Service
	// CloudAPI and Hosted are the business API and its hosted endpoints
	// (nil unless Config.BusinessAPI is set).
	CloudAPI *cloudapi.Service
	Hosted   *hosted.Manager
	Calls    *calls.Service // nil when calls are not configured (calls.go)

	cloudAPIHandler http.Handler                    // the business API's Cloud API paths (nil without it)
	startHosted     func(net.Listener)              // starts the hosted endpoints once the server listens
	stopCloudAPI    func(ctx context.Context) error // drains the business API's insights queue

	stopSweeper func() // stops the media sweeper and waits for it; safe to call twice
	stopGroups  func() // stops the group service's pruner and waits for it; safe to call twice
	stopTrees   func() // stops the tree pruner and waits for it; safe to call twice
	stopHooks   func() // stops webhook deliveries and waits for those in flight; safe to call twice
	stopPush    func() // stops sending push notifications and waits; safe to call twice
	callsStop   func() // stops the call service's ring sweeper and waits (calls.go)
	log         *slog.Logger
	handler     http.Handler
	metrics     http.Handler // /metrics without a token, for a private listener

	mu       sync.Mutex
	http     []*http.Server
	shutdown bool
}

// New builds a server. The caller keeps ownership of cfg.Store (close it
// after Shutdown).
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
	acc := accounts.New(cfg.Store, cfg.Sender, cfg.Clock, cfg.Log.With("component", "accounts"), cfg.Accounts)
	del := delivery.New(cfg.Store, cfg.Broker, acc, cfg.Clock, cfg.Log.With("component", "delivery"), cfg.Delivery)
	var grp *groups.Service
	if gs, ok := cfg.Store.(groups.Store); ok {
		grp = groups.New(gs, del, cfg.Clock, cfg.Log.With("component", "groups"), cfg.Groups)
		del.SetGroups(grp)
		if ca, ok := cfg.Broker.(parley.ChangeAnnouncer); ok {
			ca.OnChanged(grp.Forget) // group changes made on other nodes
		}
	}
	// Commits are read and matched with their requests
	// (delivery/handshake.go); out-of-band trees and commits need the tree
	// store.
	ts, _ := cfg.Store.(parley.TreeStore)
	del.CheckHandshakes(ts)
	gw := gateway.New(acc, del, cfg.Clock, cfg.Log.With("component", "gateway"), cfg.Gateway)
	var biz *business.Service
	if bs, ok := cfg.Store.(parley.BusinessStore); ok {
		biz = business.New(bs, cfg.Store, cfg.Clock, cfg.Log.With("component", "business"))
		gw.SetBusiness(biz)
	}

	mux := http.NewServeMux()
	mux.Handle("GET "+gateway.Path, gw)
	srv := &Server{Accounts: acc, Delivery: del, Gateway: gw, Groups: grp, Business: biz, log: cfg.Log, handler: mux}
	srv.startCalls(cfg) // calls.go
	if cfg.Media != nil {
		ms, ok := cfg.Store.(parley.MediaStore)
		if !ok {
			return nil, errors.New("server: media needs a store that implements parley.MediaStore")
		}
		mc := *cfg.Media
		mc.Store = ms
		mc.Members = cfg.Store
		mc.Authenticate = media.DeviceAuth(acc.Authenticate)
		mc.Clock = cfg.Clock
		mc.Logger = cfg.Log.With("component", "media")
		svc, err := media.New(mc)
		if err != nil {
			return nil, err
		}
		mux.Handle("/media/v1/", svc)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); svc.RunSweeper(ctx) }()
		srv.Media = svc
		srv.stopSweeper = sync.OnceFunc(func() { cancel(); <-done })
	}
	if ts, ok := cfg.Store.(parley.TreeStore); ok {
		tc := cfg.Trees
		tc.Store = ts
		tc.Access = func(ctx context.Context, dev parley.Device, conv parley.ConversationID) error {
			_, err := del.GroupInfo(ctx, dev, conv)
			return err
		}
		tc.Authenticate = media.DeviceAuth(acc.Authenticate)
		tc.Clock = cfg.Clock
		tc.Logger = cfg.Log.With("component", "trees")
		svc, err := trees.New(tc)
		if err != nil {
			return nil, err
		}
		mux.Handle(trees.Path, svc)
		mux.Handle(trees.Path+"/", svc)
		mux.Handle(trees.CommitsPath+"/", svc)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); svc.Run(ctx) }()
		srv.stopTrees = sync.OnceFunc(func() { cancel(); <-done })
	}
	if grp != nil {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); grp.Run(ctx) }()
		srv.stopGroups = sync.OnceFunc(func() { cancel(); <-done })
	}
	metrics := []insights.MetricSource{serviceMetrics(srv)}
	if hs, ok := cfg.Store.(hooksStore); ok {
		srv.hooks(mux, hs, cfg)
		metrics = append(metrics, srv.Insights.StoreMetrics, webhookMetrics(srv.Webhooks))
	}
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
	if cfg.Push != nil {
		ps, ok := cfg.Store.(parley.PushStore)
		if !ok {
			return nil, errors.New("server: push needs a store that implements parley.PushStore")
		}
		pc := *cfg.Push
		pc.Store, pc.Authenticate, pc.Clock, pc.Logger = ps, media.DeviceAuth(acc.Authenticate), cfg.Clock, cfg.Log.With("component", "push")
		pc.Outbound = cfg.Outbound
		svc, err := push.New(context.Background(), pc)
		if err != nil {
			return nil, err
		}
		mux.Handle(push.Path, svc)
		del.SetNotifier(svc)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); svc.Run(ctx) }()
		srv.Push = svc
		srv.stopPush = sync.OnceFunc(func() { del.SetNotifier(nil); cancel(); <-done })
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
	srv.handler = edge(mux, clientip.New(cfg.TrustedProxies), cfg.BodyIdleTimeout)
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

	stop := context.AfterFunc(ctx, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.Shutdown(sctx)
	})
	defer stop()
	if s.startHosted != nil {
		s.startHosted(ln)
	}
	err := hs.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting connections, closes every WebSocket session with
// GoAway (1001), then stops the delivery service, committing what was
// queued. It does not close the store.
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
	s.stopCalls(ctx) // calls.go
	if s.stopSweeper != nil {
		s.stopSweeper()
	}
	if s.stopGroups != nil {
		s.stopGroups()
	}
	if s.stopTrees != nil {
		s.stopTrees()
	}
	if s.stopHooks != nil {
		s.stopHooks()
	}
	if err := s.Delivery.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("delivery: %w", err))
	}
	if s.stopPush != nil {
		s.stopPush() // after delivery: its last appends are notified too
	}
	return errors.Join(errs...)
}
