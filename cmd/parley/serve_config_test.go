package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeConfigFile: parley serve reads --config; a bad value in it is
// refused through the flag's own check, an unknown key by name.
func TestServeConfigFile(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ text, want string }{
		{"log-format = \"xml\"\n", "--log-format"},
		{"listne = \"127.0.0.1:0\"\n", `unknown key "listne"`},
	} {
		p := filepath.Join(dir, "parley.toml")
		if err := os.WriteFile(p, []byte(c.text), 0o600); err != nil {
			t.Fatal(err)
		}
		var log syncBuffer
		err := serveCommand(context.Background(), []string{"--config", p, "--data", dir, "--listen", "127.0.0.1:0"}, &log, &log)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want an error naming %s", c.text, err, c.want)
		}
	}
}
