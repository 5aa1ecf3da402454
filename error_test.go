package parley_test

import (
	"net/http"
	"testing"

	"github.com/parleyhq/parley"
)

// TestCodeHTTPStatus: every code has its status; an unknown one is 500.
func TestCodeHTTPStatus(t *testing.T) {
	for code, want := range map[parley.Code]int{
		parley.CodeInvalid: 400, parley.CodeUnauthenticated: 401, parley.CodeForbidden: 403, parley.CodeBlocked: 403,
		parley.CodeNotFound: 404, parley.CodeConflict: 409, parley.CodeRateLimited: 429, parley.CodeTooLarge: 413,
		parley.CodeExpired: http.StatusGone, parley.CodeUnavailable: 503, parley.CodeInternal: 500, parley.Code("other"): 500,
	} {
		if got := code.HTTPStatus(); got != want {
			t.Errorf("%s: %d, want %d", code, got, want)
		}
	}
}
