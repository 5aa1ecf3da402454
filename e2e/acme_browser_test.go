package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestACMEBrowser: Chromium loads the browser client over the certificate
// Pebble issued, under the server's Content-Security-Policy, and the app
// boots (its WebAssembly core included) to the onboarding screen, with no
// CSP violation. Chromium (driven by playwright-core, web/e2e/https-load.mjs)
// reaches parley.test through a host-resolver rule and accepts Pebble's
// intermediate by its key (--ignore-certificate-errors-spki-list), the
// chain having been verified against Pebble's root in Go first.
func TestACMEBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs Pebble and Chromium")
	}
	chromium := os.Getenv("PARLEY_CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Skip("no Chromium (scripts/chromium-install.sh)")
	}
	if _, err := os.Stat("../web/dist/index.html"); err != nil {
		t.Skip("the web client is not built into the binary (scripts/build-web.sh)")
	}
	if _, err := os.Stat("../web/e2e/node_modules/playwright-core"); err != nil {
		t.Skip("playwright-core is not installed: (cd web/e2e && npm ci)")
	}
	httpsPort := freePort(t)
	peb := mustPebble(t, freePort(t), httpsPort, 90*24*time.Hour)
	mustServeTLS(t, peb.serveArgs(t.TempDir(), httpsPort, freePort(t)))
	root := peb.mustRoot()
	mustReady(t, httpsPort, root)
	resp, err := httpsClient(root).Get(fmt.Sprintf("https://%s:%d/", acmeDomain, httpsPort))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(resp.TLS.VerifiedChains) == 0 || len(resp.TLS.VerifiedChains[0]) < 3 {
		t.Fatalf("chain %v: want leaf, intermediate, root", resp.TLS.VerifiedChains)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "'wasm-unsafe-eval'") {
		t.Fatalf("the app's page has CSP %q", csp)
	}
	spki := sha256.Sum256(resp.TLS.VerifiedChains[0][1].RawSubjectPublicKeyInfo)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "https-load.mjs", fmt.Sprintf("https://%s:%d/", acmeDomain, httpsPort), acmeDomain, base64.StdEncoding.EncodeToString(spki[:]))
	cmd.Dir = "../web/e2e"
	cmd.Env = append(os.Environ(), "PARLEY_CHROMIUM="+chromium)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ok") {
		t.Fatalf("the browser client over HTTPS: %v\n%s", err, out)
	}
}
