package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// runServe starts `parley serve` in a temp dir on a loopback port with args
// and returns the URLs its log announces: the public listener and the
// metrics listener ("" when it logs none).
func runServe(t *testing.T, args ...string) (public, metrics string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var log syncBuffer
	done := make(chan error, 1)
	all := append([]string{"--data", t.TempDir(), "--listen", "127.0.0.1:0"}, args...)
	go func() { done <- serveCommand(ctx, all, io.Discard, &log) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	listening := regexp.MustCompile(`listening on (http://[0-9.:]+)`)
	metricsOn := regexp.MustCompile(`metrics on (http://[0-9.:]+)/metrics`)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if m := listening.FindStringSubmatch(log.String()); m != nil {
			if mm := metricsOn.FindStringSubmatch(log.String()); mm != nil {
				metrics = mm[1]
			}
			return m[1], metrics
		}
		select {
		case err := <-done:
			done <- err
			t.Fatalf("serve ended: %v\n%s", err, log.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("serve did not start:\n%s", log.String())
	return "", ""
}

func getMetrics(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url+"/metrics", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestMetricsNotPublicByDefault: without a token, /metrics is not on the
// public listener, only on the loopback metrics listener.
func TestMetricsNotPublicByDefault(t *testing.T) {
	public, metrics := runServe(t, "--metrics-listen", "127.0.0.1:0")
	if code, body := getMetrics(t, public, ""); code != http.StatusNotFound || strings.Contains(body, "parley_gateway") {
		t.Fatalf("public /metrics without a token: %d %q, want 404 and no metrics", code, body)
	}
	if metrics == "" || metrics == public {
		t.Fatalf("metrics listener %q, public %q: want a separate listener", metrics, public)
	}
	if code, body := getMetrics(t, metrics, ""); code != http.StatusOK || !strings.Contains(body, "parley_gateway_sessions ") {
		t.Fatalf("private /metrics: %d %q", code, body)
	} else if runtime.GOOS == "linux" && !strings.Contains(body, "parley_data_disk_free_bytes ") {
		t.Fatalf("private /metrics has no parley_data_disk_free_bytes: %q", body)
	}
}

// TestMetricsTokenOnPublicListener: with --metrics-token, the public
// listener serves /metrics to its bearers only.
func TestMetricsTokenOnPublicListener(t *testing.T) {
	public, _ := runServe(t, "--metrics-listen", "", "--metrics-token", "s3cret")
	if code, body := getMetrics(t, public, ""); code != http.StatusUnauthorized || strings.Contains(body, "parley_gateway") {
		t.Fatalf("public /metrics without the token: %d %q, want 401", code, body)
	}
	if code, _ := getMetrics(t, public, "wrong"); code != http.StatusUnauthorized {
		t.Fatalf("public /metrics with a wrong token: %d, want 401", code)
	}
	if code, body := getMetrics(t, public, "s3cret"); code != http.StatusOK || !strings.Contains(body, "parley_gateway_sessions ") {
		t.Fatalf("public /metrics with the token: %d %q", code, body)
	}
}

// TestMetricsListenRefusesPublicAddress: a token-less metrics listener
// beyond loopback is refused at startup.
func TestMetricsListenRefusesPublicAddress(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", "[::]:0", "192.0.2.1:9464", "example.com:9464"} {
		err := serveCommand(t.Context(), []string{"--data", t.TempDir(), "--listen", "127.0.0.1:0", "--metrics-listen", addr}, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "loopback only") {
			t.Fatalf("--metrics-listen %s: %v, want a refusal", addr, err)
		}
	}
}
