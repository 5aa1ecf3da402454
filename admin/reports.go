package admin

import (
	"net/http"
	"strconv"

	"github.com/parleyhq/parley"
)

// The operator's report queue: users' reports (package moderation) with
// everything they carry — the reporter, and the messages the reporter
// chose to include. Reading it is reading personal data: every listing and
// view is audited, as is every decision.

// The audit log's report actions.
const (
	ActionListReports   = "list_reports"
	ActionViewReport    = "view_report"
	ActionResolveReport = "resolve_report"
	ActionDismissReport = "dismiss_report"
)

// HandleRequest is the optional body of resolving or dismissing a report.
type HandleRequest struct {
	Note string `json:"note,omitempty"` // at most MaxReason bytes
}

func (s *Service) reportRoutes() {
	s.handle("GET "+Path+"reports", s.listReports)
	s.handle("GET "+Path+"reports/{id}", s.viewReport)
	s.handle("POST "+Path+"reports/{id}/resolve", s.handleReport(parley.ReportResolved, ActionResolveReport))
	s.handle("POST "+Path+"reports/{id}/dismiss", s.handleReport(parley.ReportDismissed, ActionDismissReport))
}

func reportTarget(id int64) string { return "report:" + strconv.FormatInt(id, 10) }

// listReports lists reports oldest first: ?status=open|resolved|dismissed
// (default every status), ?after=ID, ?limit=N (1 to 1000, default 100).
func (s *Service) listReports(r *http.Request) (any, error) {
	after, err := queryInt(r, "after", 0)
	if err != nil {
		return nil, err
	}
	limit, err := pageLimit(r)
	if err != nil {
		return nil, err
	}
	status := parley.ReportStatus(r.URL.Query().Get("status"))
	switch status {
	case "", parley.ReportOpen, parley.ReportResolved, parley.ReportDismissed:
	default:
		return nil, parley.Errorf(parley.CodeInvalid, ReasonBadQuery, "status is open, resolved or dismissed")
	}
	rs, err := s.cfg.Store.Reports(r.Context(), parley.ReportQuery{Status: status, After: after, Limit: limit})
	if err != nil {
		return nil, err
	}
	out := List[parley.Report]{Data: rs}
	if out.Data == nil {
		out.Data = []parley.Report{}
	}
	detail := map[string]any{"results": len(rs)}
	if status != "" {
		detail["status"] = status
	}
	return out, s.audit(r.Context(), ActionListReports, "reports", detail)
}

func reportID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, parley.Errorf(parley.CodeNotFound, parley.ReasonReportNotFound, "%q is not a report id", r.PathValue("id"))
	}
	return id, nil
}

func (s *Service) viewReport(r *http.Request) (any, error) {
	id, err := reportID(r)
	if err != nil {
		return nil, err
	}
	rep, err := s.cfg.Store.Report(r.Context(), id)
	if err != nil {
		return nil, err
	}
	return rep, s.audit(r.Context(), ActionViewReport, reportTarget(id), nil)
}

// handleReport resolves or dismisses an open report (CodeConflict
// "report_handled" once it was).
func (s *Service) handleReport(status parley.ReportStatus, action string) func(r *http.Request) (any, error) {
	return func(r *http.Request) (any, error) {
		var req HandleRequest
		if err := decodeBody(r, &req); err != nil {
			return nil, err
		}
		if len(req.Note) > MaxReason {
			return nil, parley.Errorf(parley.CodeTooLarge, ReasonBodyTooLarge, "a note is at most %d bytes", MaxReason)
		}
		id, err := reportID(r)
		if err != nil {
			return nil, err
		}
		rep, err := s.cfg.Store.HandleReport(r.Context(), id, status, Actor, req.Note, s.cfg.Clock.Now())
		if err != nil {
			return nil, err
		}
		var detail any
		if req.Note != "" {
			detail = map[string]any{"note": req.Note}
		}
		return rep, s.audit(r.Context(), action, reportTarget(id), detail)
	}
}
