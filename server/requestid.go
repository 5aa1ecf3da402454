package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
)

// RequestIDHeader is the response header carrying the id the server gave
// the request; the same id is in every log record made with the request's
// context (attribute request_id), so an operator can find a client's
// failing request in the log.
const RequestIDHeader = "X-Request-Id"

type requestIDKey struct{}

// RequestID returns the id of the request whose context ctx is, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// WithRequestID returns ctx carrying id as its request id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// newRequestID returns 16 random hex digits. The server always makes its
// own id (an incoming X-Request-Id is ignored), so a client cannot forge
// the id another request is logged under.
func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// withRequestID gives every request an id: in its context and in the
// X-Request-Id response header (set before the handler runs, so a WebSocket
// upgrade's response carries it too). It logs each request at debug level,
// with its method, path and request_id.
func withRequestID(next http.Handler, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := newRequestID()
		w.Header().Set(RequestIDHeader, id)
		r = r.WithContext(WithRequestID(r.Context(), id))
		log.DebugContext(r.Context(), "request", "method", r.Method, "path", r.URL.Path)
		next.ServeHTTP(w, r)
	})
}

// ContextLogHandler wraps h so a record made with a request's context
// (slog's ...Context methods) carries the attribute request_id; a WebSocket
// session's records made with its upgrade request's context carry that
// request's id. Records made without such a context are passed on unchanged.
func ContextLogHandler(h slog.Handler) slog.Handler { return ctxHandler{h} }

type ctxHandler struct{ inner slog.Handler }

func (c ctxHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return c.inner.Enabled(ctx, l)
}

func (c ctxHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" {
		r = r.Clone()
		r.AddAttrs(slog.String("request_id", id))
	}
	return c.inner.Handle(ctx, r)
}

func (c ctxHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return ctxHandler{c.inner.WithAttrs(as)}
}

func (c ctxHandler) WithGroup(name string) slog.Handler {
	return ctxHandler{c.inner.WithGroup(name)}
}
