package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestAlertsUseExportedMetrics: every parley_ metric the example alert
// rules (docs/alerts.yml) use is exported by a running `parley serve`, so
// an alert cannot silently never fire because of a renamed metric.
func TestAlertsUseExportedMetrics(t *testing.T) {
	rules, err := os.ReadFile("../../docs/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	_, metrics := runServe(t, "--metrics-listen", "127.0.0.1:0")
	_, body := getMetrics(t, metrics, "")
	exported := map[string]bool{}
	for _, line := range strings.Split(body, "\n") {
		if name, _, ok := strings.Cut(line, " "); ok && strings.HasPrefix(line, "parley_") {
			name, _, _ = strings.Cut(name, "{")
			exported[name] = true
		}
	}
	used := regexp.MustCompile(`parley_[a-z_]+`).FindAllString(string(rules), -1)
	if len(used) < 10 {
		t.Fatalf("only %d metric references in docs/alerts.yml", len(used))
	}
	for _, name := range used {
		if !exported[name] {
			t.Errorf("docs/alerts.yml uses %s, which /metrics does not export", name)
		}
	}
}
