package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"time"
)

// DefaultMetricsListen is where `parley serve` serves /metrics without a
// token unless told otherwise (9464: the port Prometheus exporters use).
const DefaultMetricsListen = "127.0.0.1:9464"

// metricsListener opens the private /metrics listener at addr, which must
// be a loopback address (a scraper on another machine uses --metrics-token
// on the public listener). An empty addr disables it (nil listener). When
// the address is in use and the operator did not choose it (explicit
// false), a warning is logged and no listener opened: a second server on
// one machine still starts.
func metricsListener(addr string, explicit bool, log *slog.Logger) (net.Listener, error) {
	if addr == "" {
		return nil, nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("serve: --metrics-listen %q: %w", addr, err)
	}
	if !loopbackHost(host) {
		return nil, fmt.Errorf("serve: --metrics-listen %q: /metrics without a token is served on loopback only (127.0.0.1, ::1, localhost); to scrape from another machine set --metrics-token and scrape the public listener", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if !explicit {
			log.Warn("no private /metrics listener: the default address is unavailable; set --metrics-listen or --metrics-token", "addr", addr, "err", err)
			return nil, nil
		}
		return nil, fmt.Errorf("serve: --metrics-listen %s: %w", addr, err)
	}
	return ln, nil
}

// loopbackHost reports whether host names only this machine.
func loopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// serveMetrics serves h on ln until the returned stop is called (stop
// waits for the serving goroutine). A nil ln serves nothing.
func serveMetrics(ln net.Listener, h http.Handler, log *slog.Logger) (stop func()) {
	if ln == nil {
		return func() {}
	}
	hs := &http.Server{Handler: metricsOnly(h), ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("metrics listener", "err", err)
		}
	}()
	log.Info("metrics on http://" + ln.Addr().String() + "/metrics")
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(ctx)
		<-done
	}
}

// metricsOnly serves h at GET /metrics and nothing else.
func metricsOnly(h http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	return mux
}
