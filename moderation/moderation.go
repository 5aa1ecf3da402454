// Package moderation is users' reporting and group moderators' tools, at
// /v1/reports and /v1/groups/{id}/…, authenticated as a device:
//
//	POST   /v1/reports                     file a report (ReportRequest) → Filed
//	GET    /v1/groups/{id}/reports         reports about a group (its moderators)
//	GET    /v1/groups/{id}/bans            a group's bans (its moderators)
//	PUT    /v1/groups/{id}/bans/{user}     ban a user: removed at once, kept out
//	DELETE /v1/groups/{id}/bans/{user}     lift a ban
//
// A group's moderators are its admins and the admins of the community it
// belongs to (groups.Service.RequireModerator). The operator handles
// every report through the admin API (package admin).
//
// Guarantees:
//   - A report carries message text only when the reporter's device put it
//     in (Evidence): the server never holds plaintext to add. The server
//     stores the evidence as given; it cannot check it.
//   - Disclosure: the operator sees whole reports, evidence and reporter
//     included. A group's moderators see the reports about that group
//     only, without the reporter and without the evidence.
//   - A user reports only chats they are a member of and users who exist
//     (CodeNotFound ReasonNotReportable otherwise), at most Config.Limit
//     reports per window (CodeRateLimited ReasonTooManyReports, with
//     Retry-After); every other refusal has its reason (decode.go).
package moderation

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/httperr"
)

// ReportsPath is the route users file reports at.
const ReportsPath = "/v1/reports"

// GroupsPath is the prefix of the group moderators' routes.
const GroupsPath = "/v1/groups/"

// DefaultLimit is the default budget of reports per account.
var DefaultLimit = parley.Limit{Events: 20, Window: time.Hour}

// Store is what the service needs of the store.
type Store interface {
	FileReport(ctx context.Context, r parley.Report) (parley.Report, error)
	Reports(ctx context.Context, q parley.ReportQuery) ([]parley.Report, error)
	User(ctx context.Context, id parley.UserID) (parley.User, error)
	Members(ctx context.Context, id parley.ConversationID) ([]parley.Member, error)
}

// Groups is what the service needs of the group service (*groups.Service).
type Groups interface {
	RequireModerator(ctx context.Context, user parley.UserID, id parley.ConversationID) error
	Ban(ctx context.Context, dev parley.Device, id parley.ConversationID, user parley.UserID) error
	Unban(ctx context.Context, dev parley.Device, id parley.ConversationID, user parley.UserID) error
	Bans(ctx context.Context, dev parley.Device, id parley.ConversationID) ([]parley.GroupBan, error)
}

// Config configures a Service; Store, Groups and Authenticate are
// required.
type Config struct {
	Store  Store
	Groups Groups
	// Authenticate returns the device a request is made by.
	Authenticate func(r *http.Request) (parley.Device, error)
	// Limiter counts reports per account (nil: no limit); Limit is the
	// budget, default DefaultLimit.
	Limiter parley.Limiter
	Limit   parley.Limit
	Clock   parley.Clock
	Log     *slog.Logger
}

// Service serves the routes.
type Service struct {
	cfg Config
}

// New returns a Service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Groups == nil || cfg.Authenticate == nil {
		return nil, errors.New("moderation: Store, Groups and Authenticate are required")
	}
	if cfg.Clock == nil {
		cfg.Clock = parley.SystemClock{}
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Limit.Events <= 0 {
		cfg.Limit = DefaultLimit
	}
	return &Service{cfg: cfg}, nil
}

// Register mounts the routes on mux.
func (s *Service) Register(mux *http.ServeMux) {
	mux.Handle("POST "+ReportsPath, s.handle(s.file))
	mux.Handle("GET "+GroupsPath+"{id}/reports", s.handle(s.groupReports))
	mux.Handle("GET "+GroupsPath+"{id}/bans", s.handle(s.bans))
	mux.Handle("PUT "+GroupsPath+"{id}/bans/{user}", s.handle(s.ban))
	mux.Handle("DELETE "+GroupsPath+"{id}/bans/{user}", s.handle(s.unban))
}

// handle authenticates the device, runs f and answers its value as JSON
// (200) or its error (httperr).
func (s *Service) handle(f func(r *http.Request, dev parley.Device) (any, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		dev, err := s.cfg.Authenticate(r)
		var v any
		if err == nil {
			v, err = f(r, dev)
		}
		if err != nil {
			if httperr.StatusOf(err) >= 500 {
				s.cfg.Log.ErrorContext(r.Context(), "moderation request", "method", r.Method, "path", r.URL.Path, "err", err)
			}
			httperr.Write(w, r, 0, err)
			return
		}
		writeJSON(w, v)
	})
}

// file files a report of the device's user.
func (s *Service) file(r *http.Request, dev parley.Device) (any, error) {
	ctx := r.Context()
	b, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err != nil {
		return nil, parley.Errorf(parley.CodeInvalid, parley.ReasonBadBody, "the report could not be read")
	}
	req, err := DecodeReport(b)
	if err != nil {
		return nil, err
	}
	if err := s.reportable(ctx, dev.User, req); err != nil {
		return nil, err
	}
	if s.cfg.Limiter != nil {
		ok, wait, err := s.cfg.Limiter.Allow(ctx, "report.user:"+strconv.FormatInt(int64(dev.User), 10), s.cfg.Limit)
		if err != nil {
			return nil, &parley.Error{Code: parley.CodeUnavailable, Reason: parley.ReasonLimiterUnavailable, Message: "the server cannot check its limits right now; retry later", Err: err}
		}
		if !ok {
			return nil, parley.RateLimited(ReasonTooManyReports, wait, "you filed too many reports")
		}
	}
	rep, err := s.cfg.Store.FileReport(ctx, req.Report(dev.User, s.cfg.Clock.Now()))
	if err != nil {
		return nil, err
	}
	// The log names the report, never its text or evidence.
	s.cfg.Log.InfoContext(ctx, "report filed", "id", rep.ID, "target", rep.Target, "category", rep.Category,
		"evidence", len(rep.Evidence))
	return Filed{ID: rep.ID, Status: rep.Status}, nil
}

var errNotReportable = parley.Errorf(parley.CodeNotFound, ReasonNotReportable, "you can report only chats you are in and users who exist")

// reportable checks the lookups: the reported user exists, the reporter
// is a member of the reported chat.
func (s *Service) reportable(ctx context.Context, reporter parley.UserID, req ReportRequest) error {
	if req.User != 0 {
		if _, err := s.cfg.Store.User(ctx, req.User); parley.IsCode(err, parley.CodeNotFound) {
			return errNotReportable
		} else if err != nil {
			return err
		}
	}
	if req.Conversation == "" {
		return nil
	}
	ms, err := s.cfg.Store.Members(ctx, req.Conversation)
	if parley.IsCode(err, parley.CodeNotFound) {
		return errNotReportable
	}
	if err != nil {
		return err
	}
	for _, m := range ms {
		if m.User == reporter {
			return nil
		}
	}
	return errNotReportable
}

// List is the {"data":[…]} envelope of a list.
type List[T any] struct {
	Data []T `json:"data"`
}

// Ban is a group's ban as its moderators see it.
type Ban struct {
	User parley.UserID `json:"user"`
	By   parley.UserID `json:"by"`
	At   time.Time     `json:"at"`
}

func groupID(r *http.Request) parley.ConversationID { return parley.ConversationID(r.PathValue("id")) }

// groupReports lists the reports about a group to its moderators, without
// the reporter and the evidence; ?status= and ?after=, ?limit= (1–1000).
func (s *Service) groupReports(r *http.Request, dev parley.Device) (any, error) {
	ctx := r.Context()
	id := groupID(r)
	if err := s.cfg.Groups.RequireModerator(ctx, dev.User, id); err != nil {
		return nil, err
	}
	q := parley.ReportQuery{Conversation: id, Status: parley.ReportStatus(r.URL.Query().Get("status")), Limit: 100}
	var err error
	if q.After, err = queryInt(r, "after"); err != nil {
		return nil, err
	}
	if n, err := queryInt(r, "limit"); err != nil {
		return nil, err
	} else if n > 0 {
		q.Limit = int(min(n, 1000))
	}
	rs, err := s.cfg.Store.Reports(ctx, q)
	if err != nil {
		return nil, err
	}
	out := List[parley.Report]{Data: make([]parley.Report, 0, len(rs))}
	for _, rep := range rs {
		rep.Reporter, rep.Evidence = 0, nil
		out.Data = append(out.Data, rep)
	}
	return out, nil
}

func (s *Service) bans(r *http.Request, dev parley.Device) (any, error) {
	bs, err := s.cfg.Groups.Bans(r.Context(), dev, groupID(r))
	if err != nil {
		return nil, err
	}
	out := List[Ban]{Data: make([]Ban, 0, len(bs))}
	for _, b := range bs {
		out.Data = append(out.Data, Ban{User: b.User, By: b.By, At: b.At})
	}
	return out, nil
}

func (s *Service) ban(r *http.Request, dev parley.Device) (any, error) {
	u, err := pathUser(r)
	if err != nil {
		return nil, err
	}
	if err := s.cfg.Groups.Ban(r.Context(), dev, groupID(r), u); err != nil {
		return nil, err
	}
	s.cfg.Log.InfoContext(r.Context(), "banned from group", "group", groupID(r), "user", u, "by", dev.User)
	return map[string]any{"group": groupID(r), "user": u, "banned": true}, nil
}

func (s *Service) unban(r *http.Request, dev parley.Device) (any, error) {
	u, err := pathUser(r)
	if err != nil {
		return nil, err
	}
	if err := s.cfg.Groups.Unban(r.Context(), dev, groupID(r), u); err != nil {
		return nil, err
	}
	return map[string]any{"group": groupID(r), "user": u, "banned": false}, nil
}

func pathUser(r *http.Request) (parley.UserID, error) {
	n, err := strconv.ParseInt(strings.TrimPrefix(r.PathValue("user"), "u"), 10, 64)
	if err != nil || n <= 0 {
		return 0, parley.Errorf(parley.CodeInvalid, ReasonBadUser, "%q is not a user id", r.PathValue("user"))
	}
	return parley.UserID(n), nil
}

func queryInt(r *http.Request, name string) (int64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, parley.Errorf(parley.CodeInvalid, ReasonBadQuery, "%s must be a non-negative number", name)
	}
	return n, nil
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(v)
}
