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
		"global flags after":      {args: []string{"chats", "--json", "--profile", profile}, code: exitUnauthenticated, wantErr: "unauthenticated"},
		"global flags between":    {args: []string{"--json", "contacts", "--profile=" + profile, "list"}, code: exitUnauthenticated, wantErr: "unauthenticated"},
		"global flag in a sub":    {args: []string{"--profile", profile, "group", "info", "g1", "--timeout", "5s", "--json"}, code: exitUnauthenticated, wantErr: "unauthenticated"},
		"global flag no value":    {args: []string{"--json", "chats", "--profile"}, code: exitUsage, wantErr: "usage"},
		"bad global flag value":   {args: []string{"--json", "chats", "--timeout", "soon"}, code: exitUsage, wantErr: "usage"},
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

// TestGlobalFlagsAfterDashDash: after "--" a global flag's name is an
// argument (here the text to send), not a flag.
func TestGlobalFlagsAfterDashDash(t *testing.T) {
	code, _, stderr := runMain(t, "--profile", t.TempDir(), "send", "--to", "@bob", "--", "--json")
	if code != exitUnauthenticated || strings.HasPrefix(stderr, "{") {
		t.Fatalf("exit %d, stderr %q: want a text (not JSON) unauthenticated error", code, stderr)
	}
}

// TestHelpOfEveryCommand: every command with subcommands answers help with
// their forms, and no subcommand name is listed twice at one level.
func TestHelpOfEveryCommand(t *testing.T) {
	for _, c := range commands {
		if len(c.Subs) == 0 {
			continue
		}
		code, out, _ := runMain(t, c.Name, "help")
		if code != exitOK || !strings.Contains(out, c.Name+" "+c.Subs[0].Name) {
			t.Errorf("parley %s help: exit %d, output %q", c.Name, code, out)
		}
		seen := map[string]bool{}
		for _, sub := range c.Subs {
			if seen[sub.Name] {
				t.Errorf("parley %s %s: two entries", c.Name, sub.Name)
			}
			seen[sub.Name] = true
		}
	}
}
