package httperr_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/httperr"
)

// TestStatus: every code has its status; an unknown one is 500.
func TestStatus(t *testing.T) {
	for code, want := range map[parley.Code]int{
		parley.CodeInvalid: 400, parley.CodeUnauthenticated: 401, parley.CodeForbidden: 403, parley.CodeBlocked: 403,
		parley.CodeNotFound: 404, parley.CodeConflict: 409, parley.CodeRateLimited: 429, parley.CodeTooLarge: 413,
		parley.CodeExpired: http.StatusGone, parley.CodeUnavailable: 503, parley.CodeInternal: 500, parley.Code("other"): 500,
	} {
		if got := httperr.Status(code); got != want {
			t.Errorf("%s: %d, want %d", code, got, want)
		}
	}
}

// TestStatusOf: a wrapped parley error keeps its status; any other error is
// 500; nil is 200.
func TestStatusOf(t *testing.T) {
	wrapped := fmt.Errorf("op: %w", parley.Errorf(parley.CodeNotFound, "x", "gone"))
	for name, tc := range map[string]struct {
		err  error
		want int
	}{
		"wrapped": {wrapped, 404}, "plain": {errors.New("boom"), 500}, "nil": {nil, 200},
	} {
		if got := httperr.StatusOf(tc.err); got != tc.want {
			t.Errorf("%s: %d, want %d", name, got, tc.want)
		}
	}
}
