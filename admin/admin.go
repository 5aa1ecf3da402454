// Package admin is the operator's HTTP admin API at /admin/v1/: find
// accounts and their devices, revoke a device, suspend and unsuspend an
// account, list groups and communities by size and delete one, list
// businesses and set their verified mark, read the server's counts, work
// the queue of users' reports (reports.go), and read the audit log every
// one of these actions is written to.
// docs/admin-api.md documents the routes; `parley admin` calls them
// (through apiclient).
//
// Authorisation. Every route requires the operator token (serve
// --operator-token, the token of the business API's operator routes) as
// "Authorization: Bearer TOKEN", compared in constant time. Without the
// header a request is refused 401 "admin_token_required"; with another
// token 401 "admin_token_wrong"; on a server without an operator token 401
// "admin_disabled". Wrong tokens are counted per client address
// (Config.TokenFailures): once the budget is spent every request from the
// address is refused 429 "admin_token_failures" until it refills.
//
// Audit. Every change (revoke_device, suspend, unsuspend, delete_group,
// verify, unverify, resolve_report, dismiss_report) and every read of
// personal data (list_users, view_user, list_devices, list_reports,
// view_report) is appended to the audit log (who, what, whom,
// when, parameters) after it took effect. The log is append-only; no route
// changes it. A change whose audit entry cannot be written is answered 500
// "audit_failed" (the change stands and is in the server's log).
//
// Suspension. A suspended account cannot sign in (accounts:
// CodeForbidden "account_suspended"), its live sessions are closed at once
// (the revocation event of each of its devices, close 4003), and sends to
// its direct conversations are refused (delivery: CodeForbidden
// "recipient_suspended"). Its devices, conversations and messages are kept:
// unsuspending restores sign-in as it was.
package admin

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/clientip"
	"github.com/parleyhq/parley/httperr"
)

// Path is the prefix of every admin route.
const Path = "/admin/v1/"

// Actor is the audit log's actor of requests made with the operator token.
const Actor = "operator"

// MaxBody bounds a request body.
const MaxBody = 4 << 10

// Delivery is what the admin API needs of the delivery service
// (*delivery.Service).
type Delivery interface {
	// DeviceRevoked closes the device's sessions and tells the
	// conversations it was removed from.
	DeviceRevoked(ctx context.Context, dev parley.Device, convs []parley.ConversationID) error
	// SuspensionChanged drops cached direct-conversation checks of the user.
	SuspensionChanged(ctx context.Context, user parley.UserID)
	// PublishGroupChange delivers a group's system envelopes.
	PublishGroupChange(ctx context.Context, id parley.ConversationID, envs []parley.Envelope, to, notify []parley.DeviceID)
	// DeviceOnline reports a stream of the device on this node.
	DeviceOnline(d parley.DeviceID) bool
	// OnlineDevices counts the devices with a stream on this node.
	OnlineDevices() int
}

// Groups is what the admin API needs of the group service
// (*groups.Service): forgetting cached group records.
type Groups interface {
	Forget(ids []parley.ConversationID)
}

// Verifier sets businesses' verified mark (*business.Service).
type Verifier interface {
	SetVerified(ctx context.Context, user parley.UserID, verified bool) error
}

// Config is what the admin API is built from; every field but Token is
// required.
type Config struct {
	// Token is the operator token; "" refuses every request
	// ("admin_disabled").
	Token    string
	Store    parley.Store
	Delivery Delivery
	Groups   Groups
	Business Verifier
	Clock    parley.Clock
	Log      *slog.Logger
	// Limiter counts wrong tokens per client address (the server's
	// limiter; nil: no limit). Once TokenFailures are spent from an
	// address, every request from it is refused (429
	// "admin_token_failures"), the right token too, until the budget
	// refills: a guesser learns nothing more.
	Limiter parley.Limiter
	// TokenFailures is the budget of wrong tokens per address; default
	// DefaultTokenFailures.
	TokenFailures parley.Limit
}

// DefaultTokenFailures is the default budget of wrong operator tokens per
// client address.
var DefaultTokenFailures = parley.Limit{Events: 10, Window: 10 * time.Minute}

// Service serves the admin API.
type Service struct {
	cfg Config
	mux *http.ServeMux
}

// New builds the admin API.
func New(cfg Config) *Service {
	if cfg.Clock == nil {
		cfg.Clock = parley.SystemClock{}
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.TokenFailures.Events <= 0 {
		cfg.TokenFailures = DefaultTokenFailures
	}
	s := &Service{cfg: cfg, mux: http.NewServeMux()}
	s.routes()
	return s
}

// ServeHTTP serves the routes under Path, each after checking the token.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := s.authorize(r); err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="parley-admin"`)
		writeError(w, err)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
	s.mux.ServeHTTP(w, r)
}

func (s *Service) authorize(r *http.Request) error {
	if s.cfg.Token == "" {
		return parley.Errorf(parley.CodeUnauthenticated, ReasonAdminDisabled, "the admin API is disabled: start the server with --operator-token")
	}
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" {
		return parley.Errorf(parley.CodeUnauthenticated, ReasonAdminTokenRequired, "the admin API needs the operator token (Authorization: Bearer TOKEN)")
	}
	ctx := r.Context()
	key := ""
	if a, ok := clientip.From(ctx); ok && s.cfg.Limiter != nil {
		key = "admin.addr:" + clientip.Key(a)
		if ok, wait, err := s.cfg.Limiter.Check(ctx, key, s.cfg.TokenFailures); err != nil {
			return &parley.Error{Code: parley.CodeUnavailable, Reason: parley.ReasonLimiterUnavailable, Message: "the server cannot check its limits right now; retry later", Err: err}
		} else if !ok {
			return parley.RateLimited(ReasonAdminTokenFailures, wait, "too many wrong operator tokens from this address")
		}
	}
	if subtle.ConstantTimeCompare([]byte(tok), []byte(s.cfg.Token)) != 1 {
		if key != "" {
			_, _, _ = s.cfg.Limiter.Allow(ctx, key, s.cfg.TokenFailures)
		}
		s.cfg.Log.WarnContext(ctx, "admin API: wrong operator token", "key", key)
		return parley.Errorf(parley.CodeUnauthenticated, ReasonAdminTokenWrong, "wrong operator token")
	}
	return nil
}

// errorBody is the body of every error answer.
type errorBody struct {
	Code    parley.Code `json:"code"`
	Reason  string      `json:"reason,omitempty"`
	Message string      `json:"message"`
}

func writeError(w http.ResponseWriter, err error) {
	if d := parley.RetryAfter(err); d > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((d+time.Second-1)/time.Second)))
	}
	code := parley.ErrorCode(err)
	msg := parley.ErrorMessage(err)
	if (code == parley.CodeInternal || code == "") && parley.ErrorReason(err) != ReasonAuditFailed {
		code, msg = parley.CodeInternal, "internal error"
	}
	writeJSON(w, httperr.Status(code), errorBody{Code: code, Reason: parley.ErrorReason(err), Message: msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// handle adapts f: its value is answered 200 as JSON, its error as
// errorBody; internal errors are logged, not shown.
func (s *Service) handle(pattern string, f func(r *http.Request) (any, error)) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		v, err := f(r)
		if err != nil {
			if c := parley.ErrorCode(err); c == parley.CodeInternal || c == "" {
				s.cfg.Log.ErrorContext(r.Context(), "admin request", "method", r.Method, "path", r.URL.Path, "err", err)
			}
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, v)
	})
}

// decodeBody decodes a JSON object body (at most MaxBody bytes; unknown
// fields refused) into v; an empty body leaves v as it is.
func decodeBody(r *http.Request, v any) error {
	if r.ContentLength == 0 && r.Header.Get("Content-Type") == "" {
		return nil
	}
	return DecodeBody(r.Body, v)
}

// audit appends an entry for an action that took effect.
func (s *Service) audit(ctx context.Context, action, target string, detail any) error {
	var raw json.RawMessage
	if detail != nil {
		b, err := json.Marshal(detail)
		if err != nil {
			return err
		}
		raw = b
	}
	_, err := s.cfg.Store.AppendAudit(ctx, parley.AuditEntry{At: s.cfg.Clock.Now(), Actor: Actor, Action: action, Target: target, Detail: raw})
	if err != nil {
		s.cfg.Log.ErrorContext(ctx, "admin action not audited", "action", action, "target", target, "detail", string(raw), "err", err)
		return &parley.Error{Code: parley.CodeInternal, Reason: ReasonAuditFailed, Message: "the action took effect but could not be written to the audit log", Err: err}
	}
	s.cfg.Log.InfoContext(ctx, "admin action", "actor", Actor, "action", action, "target", target, "detail", string(raw))
	return nil
}
