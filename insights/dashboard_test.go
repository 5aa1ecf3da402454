package insights_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley"
)

// TestDashboardInChromium loads the dashboard page in real headless
// Chromium with credentials in the URL fragment and checks what the page's
// script built: the cards from the insights endpoint, the four charts
// loaded as images, no error. Skipped when Chromium is not installed
// (Debian: apt-get install chromium).
func TestDashboardInChromium(t *testing.T) {
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium not installed")
	}
	svc, _ := newService(t)
	seed(t, svc)
	var chartFetches, authed atomic.Int64
	h := svc.Handler(func(r *http.Request) (parley.UserID, error) {
		if r.Header.Get("Authorization") == "Parley d7:c2VjcmV0+/=" {
			authed.Add(1)
			return 1, nil
		}
		return 0, parley.Errorf(parley.CodeUnauthenticated, "bad_credentials", "no")
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/charts/") {
			chartFetches.Add(1)
		}
		h.ServeHTTP(w, r)
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	// The fragment carries "Parley d7:c2VjcmV0+/=" percent-encoded, as
	// `parley business insights dashboard` prints it.
	url := srv.URL + "/business/insights#auth=Parley+d7%3Ac2VjcmV0%2B%2F%3D"
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--user-data-dir="+t.TempDir(), "--virtual-time-budget=10000", "--dump-dom", url)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	dom := string(out)
	for _, want := range []string{`<b>4</b><span>sent</span>`, `<b>2</b><span>delivered · 50.0%</span>`, `<b>1</b><span>failed · 25.0%</span>`,
		`<span>median response</span>`, `<td>black_friday</td>`} {
		if !strings.Contains(dom, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	if n := len(regexp.MustCompile(`<img id="chart-[a-z]+" alt="[^"]*" src="blob:`).FindAllString(dom, -1)); n != 4 {
		t.Errorf("%d charts loaded, want 4", n)
	}
	if m := regexp.MustCompile(`<p id="error" role="alert">([^<]*)</p>`).FindStringSubmatch(dom); m == nil || m[1] != "" {
		t.Errorf("error line: %v", m)
	}
	if strings.Contains(dom, "c2VjcmV0") {
		t.Error("the credentials are still in the page")
	}
	if t.Failed() {
		t.Logf("DOM:\n%s", dom)
	}
	if chartFetches.Load() != 4 || authed.Load() < 5 {
		t.Fatalf("%d chart fetches, %d authenticated requests", chartFetches.Load(), authed.Load())
	}
}
