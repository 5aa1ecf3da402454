// Package httperr maps Parley's error codes to HTTP statuses. It is the one
// place that mapping lives: the domain package (parley) knows codes, not
// HTTP, and every HTTP edge (media, trees, push, webhooks, insights, the
// server's own handlers) answers a parley error with Status of its code.
package httperr

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/parleyhq/parley"
)

// Status is the HTTP status an error of class c is answered with; unknown
// classes (and CodeInternal) are 500.
func Status(c parley.Code) int {
	switch c {
	case parley.CodeInvalid:
		return http.StatusBadRequest
	case parley.CodeUnauthenticated:
		return http.StatusUnauthorized
	case parley.CodeForbidden, parley.CodeBlocked:
		return http.StatusForbidden
	case parley.CodeNotFound:
		return http.StatusNotFound
	case parley.CodeConflict:
		return http.StatusConflict
	case parley.CodeRateLimited:
		return http.StatusTooManyRequests
	case parley.CodeTooLarge:
		return http.StatusRequestEntityTooLarge
	case parley.CodeExpired:
		return http.StatusGone
	case parley.CodeUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// StatusOf is Status of err's code (parley.ErrorCode): 500 for an error
// that is not a parley error, 200 for nil.
func StatusOf(err error) int {
	if err == nil {
		return http.StatusOK
	}
	return Status(parley.ErrorCode(err))
}

// Body is the JSON body of every error answer of Parley's HTTP routes
// (media, trees, push, webhooks, insights, backups): apiclient.DecodeError
// reads it back into a *parley.Error.
type Body struct {
	Code    parley.Code `json:"code"`
	Reason  string      `json:"reason,omitempty"`
	Message string      `json:"message"`
}

// Write answers err with status (StatusOf(err) when 0) and its Body, and a
// Retry-After header (whole seconds, rounded up) when err carries one
// (parley.RetryAfter): every limit's refusal tells the client when to come
// back. A HEAD request gets the headers only.
func Write(w http.ResponseWriter, r *http.Request, status int, err error) {
	if status == 0 {
		status = StatusOf(err)
	}
	if d := parley.RetryAfter(err); d > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((d+time.Second-1)/time.Second)))
	}
	b, _ := json.Marshal(Body{Code: parley.ErrorCode(err), Reason: parley.ErrorReason(err), Message: parley.ErrorMessage(err)})
	b = append(b, '\n')
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	if r == nil || r.Method != http.MethodHead {
		_, _ = w.Write(b)
	}
}
