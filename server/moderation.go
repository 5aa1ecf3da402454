package server

import (
	"net/http"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/moderation"
)

// moderationAPI mounts users' reports and the group moderators' routes
// (package moderation) at /v1/reports and /v1/groups/, authenticated as a
// device; reports are counted per account by the server's limiter.
func (s *Server) moderationAPI(mux *http.ServeMux, cfg Config, auth func(*http.Request) (parley.Device, error)) error {
	svc, err := moderation.New(moderation.Config{Store: cfg.Store, Groups: s.Groups, Authenticate: auth,
		Limiter: cfg.Accounts.Limiter, Limit: cfg.ReportLimit, Clock: cfg.Clock, Log: cfg.Log.With("component", "moderation")})
	if err != nil {
		return err
	}
	svc.Register(mux)
	return nil
}
