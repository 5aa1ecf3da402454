package server

import (
	"net/http"

	"github.com/parleyhq/parley/admin"
)

// adminAPI mounts the operator's admin API (package admin) at /admin/v1/.
// It is authorised by the business API's operator token
// (BusinessAPIConfig.OperatorToken): without one every admin route answers
// 401 "admin_disabled".
func (s *Server) adminAPI(mux *http.ServeMux, cfg Config) {
	token := ""
	if cfg.BusinessAPI != nil {
		token = cfg.BusinessAPI.OperatorToken
	}
	s.Admin = admin.New(admin.Config{
		Token: token, Store: cfg.Store, Delivery: s.Delivery, Groups: s.Groups, Business: s.Business,
		Clock: cfg.Clock, Log: cfg.Log.With("component", "admin"), Limiter: cfg.Accounts.Limiter,
	})
	mux.Handle(admin.Path, s.Admin)
}
