package admin_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/admin"
)

func TestDecodeBody(t *testing.T) {
	for name, tc := range map[string]struct {
		body   string
		reason string
		want   string
	}{
		"empty":    {"", "", ""},
		"spaces":   {"  \n", "", ""},
		"reason":   {`{"reason":"spam"}`, "", "spam"},
		"unknown":  {`{"why":"spam"}`, parley.ReasonBadBody, ""},
		"trailing": {`{"reason":"a"} {}`, parley.ReasonBadBody, ""},
		"array":    {`["a"]`, parley.ReasonBadBody, ""},
		"large":    {`{"reason":"` + strings.Repeat("x", admin.MaxBody) + `"}`, admin.ReasonBodyTooLarge, ""},
	} {
		t.Run(name, func(t *testing.T) {
			var req admin.SuspendRequest
			err := admin.DecodeBody(strings.NewReader(tc.body), &req)
			if parley.ErrorReason(err) != tc.reason || (tc.reason == "" && err != nil) {
				t.Fatalf("err %v, want reason %q", err, tc.reason)
			}
			if tc.reason == "" && req.Reason != tc.want {
				t.Fatalf("reason %q, want %q", req.Reason, tc.want)
			}
		})
	}
}

// FuzzDecodeBody: any body decodes or is refused with a parley error
// (never a panic, never a success over the size limit).
func FuzzDecodeBody(f *testing.F) {
	f.Add([]byte(`{"reason":"spam"}`))
	f.Add([]byte(`{"verified":true}`))
	f.Add([]byte(`{"reason":"\u00e9"} `))
	f.Add([]byte(`{"reason":1}`))
	f.Add(bytes.Repeat([]byte{'{'}, 100))
	f.Fuzz(func(t *testing.T, b []byte) {
		var s admin.SuspendRequest
		err := admin.DecodeBody(bytes.NewReader(b), &s)
		if err != nil && parley.ErrorReason(err) == "" {
			t.Fatalf("unnamed error %v", err)
		}
		if err == nil && len(b) > admin.MaxBody {
			t.Fatalf("accepted %d bytes", len(b))
		}
		var v admin.VerifiedRequest
		_ = admin.DecodeBody(bytes.NewReader(b), &v)
	})
}
