package server

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/cloudapi"
	"github.com/parleyhq/parley/media"
	"github.com/parleyhq/parley/outbound"
)

// BusinessAPIConfig enables the business API: the Cloud API routes at
// /vN/…, the owner's routes at /business/v1/api/, customers' reports at
// /business/v1/report and the operator's at /business/v1/admin/, with a
// hosted endpoint per business number.
type BusinessAPIConfig struct {
	// HostedDir holds the hosted endpoints' media and temporary files (their
	// state is sealed in the store). Required.
	HostedDir string
	// OperatorKey (32 bytes) seals the hosted endpoints' state. Required.
	OperatorKey []byte
	// OperatorToken enables the operator routes for its bearers ("" disables them).
	OperatorToken string
	// AutoApprove approves every new template at once.
	AutoApprove bool
	// ServerURL is how the hosted endpoints reach this server; default
	// http://ADDR of the first listener (127.0.0.1 for an unspecified address).
	ServerURL string
	// Hosted builds the hosted endpoints: hosted.ForServer. The hosted
	// endpoints are Parley clients the server runs, so the server does not
	// import them (no server package depends on the client); the wiring
	// (cmd/parley) hands them over. nil: no hosted endpoints (messages
	// through the business API are refused as the business API refuses
	// them without an endpoint).
	Hosted func(HostedEnv) (HostedEndpoints, error)
	// NodeID, when set (a cluster node), runs each hosted endpoint only on
	// the node holding its lease in the store (hosted.Config.Leases): one
	// node at a time per business. "": every endpoint runs here (one node).
	NodeID string
	// Relay, with NodeID, forwards business API requests to the node
	// running the business's endpoint (the NATS broker).
	Relay parley.Relay
}

// HostedEndpoints are the business numbers' hosted endpoints
// (*hosted.Manager): the business API sends through them, the server starts
// them once it listens and shuts them down first.
type HostedEndpoints interface {
	cloudapi.Endpoint
	// Start resumes the endpoints, connecting to serverURL.
	Start(ctx context.Context, serverURL string) error
	Shutdown(ctx context.Context) error
}

// HostedEnv is what BusinessAPIConfig.Hosted builds the endpoints from.
type HostedEnv struct {
	Dir       string               // BusinessAPIConfig.HostedDir
	Key       []byte               // BusinessAPIConfig.OperatorKey
	API       *cloudapi.Service    // where inbound messages and statuses go
	Store     parley.CloudAPIStore // the numbers to resume and the media registry
	Retention time.Duration        // Config.Delivery.Retention
	Clock     parley.Clock
	Log       *slog.Logger
	Outbound  outbound.Policy // Config.Outbound
	// Leases and NodeID: the store's leases and BusinessAPIConfig.NodeID
	// when that is set, nil and "" otherwise; NodeAddr is the server URL
	// the endpoints use, told to the other nodes in the leases.
	Leases   parley.LeaseStore
	NodeID   string
	NodeAddr string
	// State keeps the endpoints' sealed state (the server's store), so
	// that another node can continue an endpoint.
	State parley.HostedStateStore
	// Relay is BusinessAPIConfig.Relay when NodeID is set.
	Relay parley.Relay
}

// businessAPI builds the business API and its hosted endpoints and mounts
// their routes.
func (s *Server) businessAPI(mux *http.ServeMux, cfg Config) error {
	bc := cfg.BusinessAPI
	st := cfg.Store
	deviceAuth := media.DeviceAuth(s.Accounts.Authenticate)
	ac := cloudapi.Config{
		Store: st, Users: cfg.Store, Finder: s.Accounts, OperatorToken: bc.OperatorToken, AutoApprove: bc.AutoApprove,
		Clock: cfg.Clock, Log: cfg.Log.With("component", "cloudapi"),
		DeviceAuth: func(ctx context.Context, header string) (parley.UserID, parley.DeviceID, error) {
			r, _ := http.NewRequestWithContext(ctx, http.MethodGet, "/", nil)
			r.Header.Set("Authorization", header)
			d, err := deviceAuth(r)
			return d.User, d.ID, err
		},
	}
	ac.Webhooks, ac.Insights, ac.Profiles = s.Webhooks, s.Insights, st
	api := cloudapi.New(ac)
	s.CloudAPI = api
	if bc.Hosted != nil {
		env := HostedEnv{Dir: bc.HostedDir, Key: bc.OperatorKey, API: api, Store: st,
			Retention: cfg.Delivery.Retention, Clock: cfg.Clock, Log: cfg.Log.With("component", "hosted"), Outbound: cfg.Outbound,
			State: st}
		if bc.NodeID != "" {
			env.Leases, env.NodeID, env.NodeAddr, env.Relay = st, bc.NodeID, bc.ServerURL, bc.Relay
		}
		mgr, err := bc.Hosted(env)
		if err != nil {
			return err
		}
		api.SetEndpoint(mgr)
		s.Hosted = mgr
	}
	s.stopCloudAPI = func(ctx context.Context) error { return api.Close(ctx) }
	oh := api.OwnerHandler()
	mux.Handle("/business/v1/api/", oh)
	mux.Handle("/business/v1/report", oh)
	mux.Handle("/business/v1/admin/", oh)
	// The /vN/… and unversioned /{id}/… paths are served by New's "/"
	// handler, which it shares with the browser client.
	s.cloudAPIHandler = api.Handler()
	var once sync.Once
	s.startHosted = func(ln net.Listener) {
		once.Do(func() {
			if s.Hosted == nil {
				return
			}
			url := bc.ServerURL
			if url == "" {
				url = "http://" + loopbackAddr(ln.Addr())
			}
			if err := s.Hosted.Start(context.Background(), url); err != nil {
				s.log.Error("starting hosted business endpoints", "err", err)
			}
		})
	}
	return nil
}

// loopbackAddr is addr with an unspecified host replaced by 127.0.0.1.
func loopbackAddr(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String()
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}
