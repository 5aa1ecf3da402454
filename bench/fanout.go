package bench

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/proto/parleypb"
)

// runFanout puts M online members in one community announcement group; the
// admin posts K messages in a burst and the run ends when every other
// member has every message. The log holds one copy of each post: delivery
// is fan-out on read.
func runFanout(ctx context.Context, cfg Config) (map[string]any, error) {
	raiseFileLimit()
	m, k := cfg.Members, cfg.Posts
	var users []benchUser
	conv := parley.ConversationID("cbenchannounce")
	srv, err := startServer(ctx, cfg, func(ctx context.Context, st parley.Store) (err error) {
		if users, err = seedUsers(ctx, st, m); err != nil {
			return err
		}
		gs, ok := st.(parley.GroupStore)
		if !ok {
			return fmt.Errorf("the store does not keep groups")
		}
		now := time.Now()
		members := make([]parley.Member, len(users))
		for i, u := range users {
			members[i] = parley.Member{Conversation: conv, User: u.User, Device: u.Device}
		}
		_, err = gs.CreateGroup(ctx,
			parley.Group{ID: conv, Name: "bench community", CreatedBy: users[0].User, CreatedAt: now, Community: conv},
			parley.Conversation{ID: conv, Kind: parley.KindGroup, Epoch: 1, CreatedBy: users[0].User, CreatedAt: now},
			members, nil)
		return err
	})
	if err != nil {
		return nil, err
	}
	defer srv.stop()

	// Log everyone in, 50 handshakes at a time.
	conns := make([]*conn, m)
	var wg sync.WaitGroup
	errs := make(chan error, m)
	sem := make(chan struct{}, 50)
	joinStart := time.Now()
	for i := range users {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := dial(ctx, srv.addr)
			if err == nil {
				err = c.login(int64(users[i].Device), users[i].Secret)
			}
			if err != nil {
				errs <- err
				return
			}
			conns[i] = c
		}(i)
	}
	wg.Wait()
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.close()
			}
		}
	}()
	select {
	case err := <-errs:
		return nil, err
	default:
	}
	joinAll := time.Since(joinStart)
	fmt.Fprintf(cfg.Log, "%d members online in %v; posting %d\n", m, joinAll.Round(time.Millisecond), k)

	base := time.Now()
	want := int64(m-1) * int64(k)
	var got atomic.Int64
	var lastAt atomic.Int64
	done := make(chan struct{})
	lats := make([]latencies, m)
	var readers sync.WaitGroup
	for i := 1; i < m; i++ {
		readers.Add(1)
		go func(i int) {
			defer readers.Done()
			c := conns[i]
			n := 0
			for n < k {
				f, err := c.recv()
				if err != nil {
					return
				}
				env := f.GetEnvelope()
				if env == nil {
					continue
				}
				now := int64(time.Since(base))
				sent := int64(binary.LittleEndian.Uint64(env.Payload[0:8]))
				lats[i].add(time.Duration(now - sent))
				n++
				if c.br.Buffered() == 0 || n == k {
					_ = c.send(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_Ack{Ack: &parleypb.Ack{ConversationId: string(conv), Seq: env.Seq}}})
				}
				lastAt.Store(now)
				if got.Add(1) == want {
					close(done)
				}
			}
		}(i)
	}
	meter := startCPU(srv.pid)
	admin := conns[0]
	go func() { // the admin reads its "sent" replies
		for {
			if _, err := admin.recv(); err != nil {
				return
			}
		}
	}()
	for j := 0; j < k; j++ {
		pl := makePayload(cfg.PayloadSize)
		binary.LittleEndian.PutUint64(pl[0:8], uint64(time.Since(base)))
		err := admin.send(&parleypb.ClientFrame{Id: uint64(j + 1), Body: &parleypb.ClientFrame_Send{Send: &parleypb.SendRequest{
			ConversationId: string(conv), ClientId: string(parley.NewClientMessageID()),
			Kind: uint32(parley.EnvelopeApplication), Epoch: 1, Payload: pl,
		}}})
		if err != nil {
			return nil, err
		}
	}
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		return nil, fmt.Errorf("fan-out incomplete: %d of %d deliveries", got.Load(), want)
	}
	serverCores, clientCores, otherCores := meter.stop()
	all := time.Duration(lastAt.Load())
	var lat latencies
	for i := range lats {
		lat.merge(&lats[i])
	}
	for _, c := range conns {
		c.close()
	}
	readers.Wait()
	return map[string]any{
		"members":          m,
		"messages":         k,
		"deliveries":       want,
		"join_all_s":       round3(joinAll.Seconds()),
		"all_delivered_ms": round3(float64(all) / 1e6),
		"deliveries_per_s": round3(float64(want) / all.Seconds()),
		"p50_ms":           lat.ms(0.50),
		"p99_ms":           lat.ms(0.99),
		"server_rss_kib":   srv.rssKiB(),
		"server_cores":     serverCores,
		"client_cores":     clientCores,
		"other_cores":      otherCores,
		"payload_bytes":    cfg.PayloadSize,
	}, nil
}
