package server

import (
	"net/http"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/status"
)

// status mounts Status at status.Path when there is a blob store for its
// media (Config.Status.Blobs, or the media service's).
func (s *Server) status(mux *http.ServeMux, cfg Config, auth func(*http.Request) (parley.Device, error)) error {
	sc := cfg.Status
	if sc.Blobs == nil && cfg.Media != nil {
		sc.Blobs = cfg.Media.Blobs
	}
	if sc.Blobs == nil {
		return nil
	}
	sc.Store, sc.Authenticate, sc.Clock = cfg.Store, auth, cfg.Clock
	sc.Logger = cfg.Log.With("component", "status")
	svc, err := status.New(sc)
	if err != nil {
		return err
	}
	svc.Register(mux)
	s.Status = svc
	return nil
}
