// Package httperr maps Parley's error codes to HTTP statuses. It is the one
// place that mapping lives: the domain package (parley) knows codes, not
// HTTP, and every HTTP edge (media, trees, push, webhooks, insights, the
// server's own handlers) answers a parley error with Status of its code.
package httperr

import (
	"net/http"

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
