package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

func runMain(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), args, strings.NewReader(""), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestExitCodes(t *testing.T) {
	profile := t.TempDir()
	tests := map[string]struct {
		args []string
		code int
		// wantErr is the JSON error code printed on stderr with --json.
		wantErr string
	}{
		"no command":              {args: nil, code: exitUsage},
		"help":                    {args: []string{"help"}, code: exitOK},
		"unknown command":         {args: []string{"--json", "frobnicate"}, code: exitUsage, wantErr: "usage"},
		"send without --to":       {args: []string{"--json", "--profile", profile, "send", "hi"}, code: exitUsage, wantErr: "usage"},
		"bad privacy value":       {args: []string{"--profile", profile, "account", "privacy", "--last-seen", "friends"}, code: exitUsage},
		"unregistered profile":    {args: []string{"--json", "--profile", profile, "chats"}, code: exitUnauthenticated, wantErr: "unauthenticated"},
		"verify before register":  {args: []string{"--json", "--profile", profile, "account", "verify", "--code", "123456"}, code: exitInvalid, wantErr: "invalid"},
		"bad server url":          {args: []string{"--json", "--profile", profile, "account", "register", "--server", "ftp://x", "--phone", "+14155550100", "--name", "A"}, code: exitInvalid, wantErr: "invalid"},
		"text and a file":         {args: []string{"--json", "--profile", profile, "send", "--to", "@bob", "--file", "x.png", "hi"}, code: exitUsage, wantErr: "usage"},
		"two media flags":         {args: []string{"--json", "--profile", profile, "send", "--to", "@bob", "--file", "x.png", "--location", "1,2"}, code: exitUsage, wantErr: "usage"},
		"caption without a file":  {args: []string{"--json", "--profile", profile, "send", "--to", "@bob", "--location", "1,2", "--caption", "c"}, code: exitUsage, wantErr: "usage"},
		"name without a location": {args: []string{"--json", "--profile", profile, "send", "--to", "@bob", "--contact", "A,+1415", "--name", "n"}, code: exitUsage, wantErr: "usage"},
		"bad contact":             {args: []string{"--json", "--profile", profile, "send", "--to", "@bob", "--contact", "nobody"}, code: exitUsage, wantErr: "usage"},
		"bad location":            {args: []string{"--json", "--profile", profile, "send", "--to", "@bob", "--location", "95,0"}, code: exitInvalid, wantErr: "invalid"},
		"missing file":            {args: []string{"--json", "--profile", profile, "send", "--to", "@bob", "--file", "/nonexistent/x.png"}, code: exitInvalid, wantErr: "invalid"},
		"forward without --to":    {args: []string{"--json", "--profile", profile, "forward", "c123456789:1"}, code: exitUsage, wantErr: "usage"},
		"media without get":       {args: []string{"--json", "--profile", profile, "media", "c123456789:1"}, code: exitUsage, wantErr: "usage"},
		"bad message id":          {args: []string{"--json", "--profile", profile, "media", "get", "nope"}, code: exitInvalid, wantErr: "invalid"},
		"server unreachable":      {args: []string{"--json", "--timeout", "1s", "--profile", t.TempDir(), "account", "register", "--server", "http://127.0.0.1:1", "--phone", "+14155550100", "--name", "A"}, code: exitUnavailable, wantErr: "unavailable"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			code, _, stderr := runMain(t, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tc.code, stderr)
			}
			if tc.wantErr != "" {
				var e map[string]any
				if err := json.Unmarshal([]byte(strings.TrimSpace(stderr)), &e); err != nil || e["error"] != tc.wantErr {
					t.Fatalf("stderr = %q, want a JSON error %q", stderr, tc.wantErr)
				}
			}
		})
	}
}

func TestHelpListsExitCodes(t *testing.T) {
	_, out, _ := runMain(t, "help")
	for _, want := range []string{"exit codes", "12 server unavailable", "account register", "listen", "--file PATH", "media get MESSAGE_ID", "forward MESSAGE_ID"} {
		if !strings.Contains(out, want) {
			t.Errorf("help lacks %q", want)
		}
	}
}
