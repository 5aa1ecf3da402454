package node

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testFlags builds a FlagSet the way parley serve does: each default read
// from its environment variable, named at the end of the usage.
func testFlags(t *testing.T) (*flag.FlagSet, map[string]*string, *bool, *int) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	env := func(name, def string) string {
		if v, ok := os.LookupEnv(name); ok {
			return v
		}
		return def
	}
	s := map[string]*string{}
	for _, n := range []string{"listen", "data", "retention", "log-format"} {
		e := "PARLEY_" + strings.ToUpper(strings.ReplaceAll(n, "-", "_"))
		s[n] = fs.String(n, env(e, "default-"+n), "test ["+e+"]")
	}
	calls := fs.Bool("calls", env("PARLEY_CALLS", "true") == "true", "test [PARLEY_CALLS]")
	max := fs.Int("call-max-participants", 32, "no environment variable")
	fs.String("config", "", "test [PARLEY_CONFIG]")
	return fs, s, calls, max
}

func writeConfig(t *testing.T, text string) string {
	p := filepath.Join(t.TempDir(), "parley.toml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestConfigPrecedence: command line > environment > file > default, for
// strings, bools and ints, with comments and quoted strings.
func TestConfigPrecedence(t *testing.T) {
	t.Setenv("PARLEY_DATA", "/from/env")
	fs, s, calls, max := testFlags(t)
	if err := fs.Parse([]string{"--listen", "cli:1"}); err != nil {
		t.Fatal(err)
	}
	p := writeConfig(t, `# parley.toml
listen = "file:1"
data = "/from/file"
retention = "48h"   # two days
calls = false
call-max-participants = 8

log-format = json
`)
	if err := ApplyConfigFile(fs, p); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"listen": "cli:1", "data": "/from/env", "retention": "48h", "log-format": "json"}
	for k, v := range want {
		if *s[k] != v {
			t.Errorf("%s = %q, want %q", k, *s[k], v)
		}
	}
	if *calls || *max != 8 {
		t.Errorf("calls %v, call-max-participants %d: want false, 8", *calls, *max)
	}
	// Keys the file leaves out keep their defaults.
	fs, s, _, _ = testFlags(t)
	_ = fs.Parse(nil)
	if err := ApplyConfigFile(fs, writeConfig(t, "listen = \"a:1\"\n")); err != nil {
		t.Fatal(err)
	}
	if *s["retention"] != "default-retention" || *s["listen"] != "a:1" {
		t.Errorf("retention %q listen %q", *s["retention"], *s["listen"])
	}
}

// TestConfigRefusals: an unknown key, a repeated key, a section, a bad
// value and a missing file are errors naming what is wrong.
func TestConfigRefusals(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{"lisen = \"x\"\n", `unknown key "lisen"`},
		{"config = \"other.toml\"\n", `unknown key "config"`},
		{"listen = \"a\"\nlisten = \"b\"\n", `"listen" given twice`},
		{"[serve]\n", "want name = value"},
		{"calls = maybe\n", `key "calls"`},
		{"call-max-participants = many\n", `key "call-max-participants"`},
		{"listen = \"open\n", "malformed string"},
		{"listen = a b\n", "want a"},
	} {
		fs, _, _, _ := testFlags(t)
		_ = fs.Parse(nil)
		err := ApplyConfigFile(fs, writeConfig(t, c.text))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want one containing %s", c.text, err, c.want)
		}
	}
	fs, _, _, _ := testFlags(t)
	if err := ApplyConfigFile(fs, filepath.Join(t.TempDir(), "none.toml")); err == nil {
		t.Error("a missing config file was accepted")
	}
}
