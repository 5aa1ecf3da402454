package insights

import (
	_ "embed"
	"encoding/json"
	"net/http"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/httperr"
)

// The paths Handler serves.
const (
	Path          = "/business/v1/insights"
	DashboardPath = "/business/insights"
)

// Authorize maps a request to the business it acts for.
type Authorize func(r *http.Request) (parley.UserID, error)

// Reasons an Authorize may give for a refused insights token.
const (
	ReasonBadToken     = "bad_token"     // CodeUnauthenticated: unknown or revoked
	ReasonMissingScope = "missing_scope" // CodeForbidden: the token lacks the insights scope
)

//go:embed dashboard.html
var dashboardHTML []byte

// Handler serves, for the business auth returns:
//
//	GET /business/v1/insights?from=&to=&template=&campaign=   → Report (from/to: RFC 3339 or 2006-01-02)
//	GET /business/v1/insights/messages/{id}                   → parley.MessageStatuses
//	GET /business/v1/insights/charts/{days|templates|campaigns|responses}.svg?…  → SVG
//	GET /business/insights                                    → the dashboard page (no data in it: the
//	    page asks the endpoints above with the insights token given in its URL fragment or
//	    form, as "Authorization: Bearer <token>"; it never takes device credentials)
func (s *Service) Handler(auth Authorize) http.Handler {
	mux := http.NewServeMux()
	report := func(w http.ResponseWriter, r *http.Request) (Report, bool) {
		biz, err := auth(r)
		if err != nil {
			writeError(w, err)
			return Report{}, false
		}
		q := parley.InsightsQuery{Business: biz, Template: r.URL.Query().Get("template"), Campaign: r.URL.Query().Get("campaign")}
		if q.From, err = parseTime(r.URL.Query().Get("from"), "from"); err == nil {
			q.To, err = parseTime(r.URL.Query().Get("to"), "to")
		}
		if err != nil {
			writeError(w, err)
			return Report{}, false
		}
		rep, err := s.Report(r.Context(), q)
		if err != nil {
			writeError(w, err)
			return Report{}, false
		}
		return rep, true
	}
	mux.HandleFunc("GET "+Path, func(w http.ResponseWriter, r *http.Request) {
		if rep, ok := report(w, r); ok {
			writeJSON(w, http.StatusOK, rep)
		}
	})
	mux.HandleFunc("GET "+Path+"/messages/{id}", func(w http.ResponseWriter, r *http.Request) {
		biz, err := auth(r)
		if err != nil {
			writeError(w, err)
			return
		}
		m, err := s.Message(r.Context(), biz, r.PathValue("id"))
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, m)
	})
	mux.HandleFunc("GET "+Path+"/charts/{chart}", func(w http.ResponseWriter, r *http.Request) {
		var svg func(Report) []byte
		switch r.PathValue("chart") {
		case "days.svg":
			svg = func(rep Report) []byte { return StatusChart("Messages per day", rep.Days) }
		case "templates.svg":
			svg = func(rep Report) []byte { return StatusChart("Messages per template", rep.Templates) }
		case "campaigns.svg":
			svg = func(rep Report) []byte { return StatusChart("Messages per campaign", rep.Campaigns) }
		case "responses.svg":
			svg = func(rep Report) []byte { return ResponseChart(rep.Responses) }
		default:
			writeError(w, parley.Errorf(parley.CodeNotFound, ReasonNoSuchChart, "charts: days.svg, templates.svg, campaigns.svg, responses.svg"))
			return
		}
		if rep, ok := report(w, r); ok {
			w.Header().Set("Content-Type", "image/svg+xml")
			w.Header().Set("Cache-Control", "no-store")
			_, _ = w.Write(svg(rep))
		}
	})
	mux.HandleFunc("GET "+DashboardPath, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data: blob:")
		w.Header().Set("Referrer-Policy", "no-referrer")
		_, _ = w.Write(dashboardHTML)
	})
	return mux
}

func parseTime(v, name string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", v); err == nil {
		return t, nil
	}
	return time.Time{}, parley.Errorf(parley.CodeInvalid, ReasonBadTime, "%s: want RFC 3339 or YYYY-MM-DD, got %q", name, v)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, err error) { httperr.Write(w, nil, 0, err) }
