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
// Chromium with an insights token in the URL fragment and checks what the
// page's script built: the cards from the insights endpoint, the four
// charts loaded as images, no error, every request made with the token as
// a bearer. Given device credentials instead, the page refuses them and
// sends nothing. Skipped when Chromium is not installed (Debian: apt-get
// install chromium).
func TestDashboardInChromium(t *testing.T) {
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium not installed")
	}
	svc, _ := newService(t)
	seed(t, svc)
	var chartFetches, authed, other atomic.Int64
	h := svc.Handler(func(r *http.Request) (parley.UserID, error) {
		if r.Header.Get("Authorization") == "Bearer PRLYc2vjcmv0" {
			authed.Add(1)
			return 1, nil
		}
		other.Add(1)
		return 0, parley.Errorf(parley.CodeUnauthenticated, "bad_credentials", "no")
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/charts/") {
			chartFetches.Add(1)
		}
		h.ServeHTTP(w, r)
	}))
	defer srv.Close()
	dom := dumpDOM(t, bin, srv.URL+"/business/insights#token=PRLYc2vjcmv0")
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
	if strings.Contains(dom, "c2vjcmv0") {
		t.Error("the token is still in the page")
	}
	if t.Failed() {
		t.Logf("DOM:\n%s", dom)
	}
	if chartFetches.Load() != 4 || authed.Load() < 5 || other.Load() != 0 {
		t.Fatalf("%d chart fetches, %d requests with the token, %d without", chartFetches.Load(), authed.Load(), other.Load())
	}

	// Device credentials (as older versions put in the fragment) are
	// refused by the page itself: nothing is sent, nothing is kept.
	before := authed.Load() + other.Load()
	dom = dumpDOM(t, bin, srv.URL+"/business/insights#token=Parley+d7%3Ac2VjcmV0%2B%2F%3D")
	if n := authed.Load() + other.Load(); n != before {
		t.Errorf("the page sent %d requests with device credentials", n-before)
	}
	if !strings.Contains(dom, "not device credentials") || strings.Contains(dom, "c2VjcmV0") {
		t.Errorf("device credentials: the page shows no refusal or keeps them:\n%s", dom)
	}
}

// dumpDOM loads url in headless Chromium and returns the DOM after its
// scripts ran.
func dumpDOM(t *testing.T, bin, url string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--user-data-dir="+t.TempDir(), "--virtual-time-budget=10000", "--dump-dom", url)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	return string(out)
}
