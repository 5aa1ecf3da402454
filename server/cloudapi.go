package server

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/cloudapi"
	"github.com/parleyhq/parley/hosted"
	"github.com/parleyhq/parley/media"
)

// BusinessAPIConfig enables the business API: the Cloud API routes at
// /vN/…, the owner's routes at /business/v1/api/, customers' reports at
// /business/v1/report and the operator's at /business/v1/admin/, with a
// hosted endpoint per business number.
type BusinessAPIConfig struct {
	// HostedDir holds the hosted endpoints' sealed state. Required.
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
}

// businessAPI builds the business API and its hosted endpoints and mounts
// their routes.
func (s *Server) businessAPI(mux *http.ServeMux, cfg Config) error {
	bc := cfg.BusinessAPI
	st, ok := cfg.Store.(parley.CloudAPIStore)
	if !ok {
		return errors.New("server: the business API needs a store that implements parley.CloudAPIStore")
	}
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
	if s.Webhooks != nil {
		ac.Webhooks = s.Webhooks
	}
	if s.Insights != nil {
		ac.Insights = s.Insights
	}
	if ps, ok := cfg.Store.(interface {
		SetBusinessHosted(ctx context.Context, user parley.UserID, hosted bool) error
	}); ok {
		ac.Profiles = ps
	}
	api := cloudapi.New(ac)
	mgr, err := hosted.New(hosted.Config{Dir: bc.HostedDir, Key: bc.OperatorKey, Numbers: st, API: api, Media: st,
		Retention: cfg.Delivery.Retention, Clock: cfg.Clock, Log: cfg.Log.With("component", "hosted"), Outbound: cfg.Outbound})
	if err != nil {
		return err
	}
	api.SetEndpoint(mgr)
	s.CloudAPI, s.Hosted = api, mgr
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
			url := bc.ServerURL
			if url == "" {
				url = "http://" + loopbackAddr(ln.Addr())
			}
			if err := mgr.Start(context.Background(), url); err != nil {
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
