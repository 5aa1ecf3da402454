package apiclient_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/apiclient"
)

func TestBaseURL(t *testing.T) {
	for name, tc := range map[string]struct{ in, want string }{
		"http":             {"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
		"https with slash": {"https://chat.example.com/", "https://chat.example.com"},
		"ws endpoint":      {"ws://127.0.0.1:8080/v1/ws", "http://127.0.0.1:8080"},
		"wss with prefix":  {"wss://example.com/parley/v1/ws?x=1#f", "https://example.com/parley"},
		"prefix kept":      {"https://example.com/parley/", "https://example.com/parley"},
		"no host":          {"http:///path", ""},
		"other scheme":     {"ftp://example.com", ""},
		"not a URL":        {"127.0.0.1:8080", ""},
		"empty":            {"", ""},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := apiclient.BaseURL(tc.in)
			if tc.want == "" {
				if parley.ErrorReason(err) != apiclient.ReasonBadServerURL {
					t.Fatalf("BaseURL(%q) = %q, %v; want %s", tc.in, got, err, apiclient.ReasonBadServerURL)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("BaseURL(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestDeviceAuth(t *testing.T) {
	if got := apiclient.DeviceAuth(42, []byte("s")); got != "Parley 42:cw==" {
		t.Fatalf("DeviceAuth = %q", got)
	}
	if got := apiclient.Bearer("T"); got != "Bearer T" {
		t.Fatalf("Bearer = %q", got)
	}
}

func TestDecodeError(t *testing.T) {
	for name, tc := range map[string]struct {
		status      int
		body        string
		code        parley.Code
		reason, msg string
	}{
		"flat":                        {404, `{"code":"not_found","reason":"no_webhook","message":"no webhook"}`, parley.CodeNotFound, "no_webhook", "no webhook"},
		"flat keeps code over status": {403, `{"code":"blocked","reason":"blocked","message":"b"}`, parley.CodeBlocked, "blocked", "b"},
		"owner nested":                {409, `{"error":{"code":"conflict","reason":"taken","message":"m"}}`, parley.CodeConflict, "taken", "m"},
		"cloud api":                   {400, `{"error":{"message":"(#132001) no template","type":"OAuthException","code":132001,"error_data":{"details":"x"}}}`, parley.CodeInvalid, "cloudapi_132001", "(#132001) no template: x"},
		"text":                        {413, "too big\n", parley.CodeTooLarge, "http_413", "too big"},
		"empty":                       {503, "", parley.CodeUnavailable, "http_503", "503 Service Unavailable"},
		"json no code":                {500, `{"message":"x"}`, parley.CodeInternal, "http_500", "x"},
		"bad gateway":                 {502, "<html>", parley.CodeUnavailable, "http_502", "<html>"},
	} {
		t.Run(name, func(t *testing.T) {
			e := apiclient.DecodeError(tc.status, []byte(tc.body))
			if e.Code != tc.code || e.Reason != tc.reason || e.Message != tc.msg {
				t.Fatalf("DecodeError(%d, %q) = %+v; want %s/%s %q", tc.status, tc.body, e, tc.code, tc.reason, tc.msg)
			}
		})
	}
}

func FuzzDecodeError(f *testing.F) {
	for _, s := range []string{`{"code":"not_found","reason":"r","message":"m"}`, `{"error":{"code":"forbidden"}}`,
		`{"error":{"code":131047,"error_data":{"details":"d"}}}`, "", "text", `{"error":null}`, `{"code":1.5}`} {
		f.Add(400, []byte(s))
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		e := apiclient.DecodeError(status, body)
		if e == nil || e.Code == "" || len(e.Message) > len(body)+64 && len(e.Message) > 600 {
			t.Fatalf("DecodeError(%d, %q) = %+v", status, body, e)
		}
	})
}

func TestCall(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Parley 7:cw==" {
			w.WriteHeader(401)
			_ = json.NewEncoder(w).Encode(map[string]string{"code": "unauthenticated", "reason": "bad_credential", "message": "who?"})
			return
		}
		var in map[string]string
		_ = json.NewDecoder(r.Body).Decode(&in)
		_ = json.NewEncoder(w).Encode(map[string]string{"path": r.URL.Path, "echo": in["x"], "type": r.Header.Get("Content-Type")})
	}))
	defer srv.Close()
	ctx := context.Background()

	c, err := apiclient.ForDevice("ws"+srv.URL[len("http"):]+"/v1/ws", 7, []byte("s"))
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]string
	if err := c.Call(ctx, "POST", "/a/b", map[string]string{"x": "y"}, &out); err != nil {
		t.Fatal(err)
	}
	if out["path"] != "/a/b" || out["echo"] != "y" || out["type"] != "application/json" {
		t.Fatalf("answer %v", out)
	}

	bad := &apiclient.Client{Base: srv.URL, Auth: apiclient.DeviceAuth(7, []byte("t"))}
	err = bad.Call(ctx, "GET", "/", nil, nil)
	if !parley.IsCode(err, parley.CodeUnauthenticated) || parley.ErrorReason(err) != "bad_credential" {
		t.Fatalf("wrong credential: %v", err)
	}

	if _, err := apiclient.ForDevice(srv.URL, 0, nil); parley.ErrorReason(err) != apiclient.ReasonNotRegistered {
		t.Fatalf("unregistered: %v", err)
	}

	srv.Close()
	err = c.Call(ctx, "GET", "/", nil, nil)
	var pe *parley.Error
	if !errors.As(err, &pe) || pe.Code != parley.CodeUnavailable || pe.Reason != apiclient.ReasonUnreachable {
		t.Fatalf("closed server: %v", err)
	}
}
