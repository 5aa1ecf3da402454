package httperr_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

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

// TestWrite: every route's error answer is one body, and a limit's refusal
// says when to come back (Retry-After, whole seconds rounded up).
func TestWrite(t *testing.T) {
	rec := httptest.NewRecorder()
	httperr.Write(rec, httptest.NewRequest(http.MethodGet, "/x", nil), 0, parley.RateLimited("too_many", 2500*time.Millisecond, "slow down"))
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "3" {
		t.Fatalf("status %d Retry-After %q, want 429 and 3", rec.Code, rec.Header().Get("Retry-After"))
	}
	var b httperr.Body
	if err := json.Unmarshal(rec.Body.Bytes(), &b); err != nil || b.Code != parley.CodeRateLimited || b.Reason != "too_many" {
		t.Fatalf("body %q: %+v %v", rec.Body.String(), b, err)
	}
	rec = httptest.NewRecorder()
	httperr.Write(rec, httptest.NewRequest(http.MethodHead, "/x", nil), 0, parley.Errorf(parley.CodeNotFound, "gone", "no such thing"))
	if rec.Code != http.StatusNotFound || rec.Body.Len() != 0 || rec.Header().Get("Retry-After") != "" {
		t.Fatalf("HEAD: status %d body %q Retry-After %q", rec.Code, rec.Body.String(), rec.Header().Get("Retry-After"))
	}
}
