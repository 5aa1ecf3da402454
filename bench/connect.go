package bench

import (
	"context"
	"fmt"
	"sync"
	"syscall"
	"time"

	"github.com/parleyhq/parley"
)

// raiseFileLimit lifts this process's open-file limit to its hard limit, as
// the bench holds one socket per simulated device.
func raiseFileLimit() {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) == nil && l.Cur < l.Max {
		l.Cur = l.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}

// runConnect opens N idle authenticated connections and reports the server's
// memory per connection.
func runConnect(ctx context.Context, cfg Config) (map[string]any, error) {
	raiseFileLimit()
	var users []benchUser
	srv, err := startServer(ctx, cfg, func(ctx context.Context, st parley.Store) (err error) {
		users, err = seedUsers(ctx, st, cfg.Connections)
		return err
	})
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	time.Sleep(time.Second) // let the server settle after start-up
	before := srv.rssKiB()
	meter := startCPU(srv.pid)

	conns := make([]*conn, len(users))
	lats := make([]latencies, cfg.Concurrency)
	errs := make(chan error, cfg.Concurrency)
	next := make(chan int)
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < cfg.Concurrency; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := range next {
				t := time.Now()
				c, err := dial(ctx, srv.addr)
				if err == nil {
					err = c.login(int64(users[i].Device), users[i].Secret)
				}
				if err != nil {
					errs <- fmt.Errorf("connection %d: %w", i, err)
					return
				}
				lats[w].add(time.Since(t))
				conns[i] = c
			}
		}(w)
	}
	var firstErr error
feed:
	for i := range users {
		select {
		case next <- i:
		case firstErr = <-errs:
			break feed
		}
	}
	close(next)
	wg.Wait()
	connectAll := time.Since(start)
	serverCores, clientCores, otherCores := meter.stop()
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.close()
			}
		}
	}()
	if firstErr == nil {
		select {
		case firstErr = <-errs:
		default:
		}
	}
	if firstErr != nil {
		return nil, firstErr
	}
	fmt.Fprintf(cfg.Log, "connected %d in %v; holding 5 s\n", len(conns), connectAll.Round(time.Millisecond))
	time.Sleep(5 * time.Second)
	after := srv.rssKiB()
	var all latencies
	for i := range lats {
		all.merge(&lats[i])
	}
	return map[string]any{
		"connections":           len(conns),
		"connect_all_s":         round3(connectAll.Seconds()),
		"conns_per_s":           round3(float64(len(conns)) / connectAll.Seconds()),
		"handshake_p50_ms":      all.ms(0.50),
		"handshake_p99_ms":      all.ms(0.99),
		"server_rss_before_kib": before,
		"server_rss_after_kib":  after,
		"server_kib_per_conn":   round3(float64(after-before) / float64(len(conns))),
		"server_cores":          serverCores,
		"client_cores":          clientCores,
		"other_cores":           otherCores,
	}, nil
}
