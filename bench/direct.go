package bench

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/proto/parleypb"
)

// payload layout: [0:8] send time (ns since the run's base), [8:16] sender
// index, then random padding up to the configured size (cut from one random
// block made once: the server sees incompressible bytes either way).
func makePayload(size int) []byte {
	if size < 16 {
		size = 16
	}
	p := make([]byte, size)
	padOnce.Do(func() { _, _ = rand.Read(pad[:]) })
	for n := 16; n < size; n += copy(p[n:], pad[:]) {
	}
	return p
}

var (
	padOnce sync.Once
	pad     [4096]byte
)

// peer is one simulated device in the direct scenario.
type peer struct {
	idx     int
	user    benchUser
	conv    parley.ConversationID
	c       *conn
	slots   chan struct{} // free in-flight slots of this sender
	nextID  uint64
	lat     latencies
	counted int64
}

// runDirect runs P online pairs exchanging 1:1 messages and reports
// delivered messages/s and send→receive latency.
func runDirect(ctx context.Context, cfg Config) (map[string]any, error) {
	raiseFileLimit()
	var users []benchUser
	var convs []parley.ConversationID
	srv, err := startServer(ctx, cfg, func(ctx context.Context, st parley.Store) (err error) {
		if users, err = seedUsers(ctx, st, 2*cfg.Pairs); err != nil {
			return err
		}
		convs, err = seedPairs(ctx, st, users)
		return err
	})
	if err != nil {
		return nil, err
	}
	defer srv.stop()

	peers := make([]*peer, len(users))
	for i, u := range users {
		p := &peer{idx: i, user: u, conv: convs[i/2], slots: make(chan struct{}, cfg.Window)}
		for j := 0; j < cfg.Window; j++ {
			p.slots <- struct{}{}
		}
		c, err := dial(ctx, srv.addr)
		if err == nil {
			err = c.login(int64(u.Device), u.Secret)
		}
		if err != nil {
			for _, q := range peers[:i] {
				q.c.close()
			}
			return nil, err
		}
		p.c = c
		peers[i] = p
	}
	defer func() {
		for _, p := range peers {
			p.c.close()
		}
	}()
	fmt.Fprintf(cfg.Log, "%d devices online; warming up 3 s, measuring %v\n", len(peers), cfg.Duration)

	base := time.Now()
	warm := 3 * time.Second
	measureFrom := int64(warm)
	measureTo := int64(warm + cfg.Duration)
	var stop atomic.Bool
	var delivered, sendErrs atomic.Int64
	var wg sync.WaitGroup
	partner := func(i int) int { return i ^ 1 }

	// Readers: count deliveries, free the sender's slot, acknowledge.
	for _, p := range peers {
		wg.Add(1)
		go func(p *peer) {
			defer wg.Done()
			var lastSeq int64
			for {
				seq, payload, ok, err := p.c.recvEnvelope()
				if err != nil {
					return
				}
				if !ok {
					continue
				}
				if len(payload) < 16 {
					sendErrs.Add(1) // not a bench payload
					continue
				}
				now := int64(time.Since(base))
				sent := int64(binary.LittleEndian.Uint64(payload[0:8]))
				if sent >= measureFrom && sent < measureTo && now < measureTo+int64(2*time.Second) {
					p.lat.add(time.Duration(now - sent))
					p.counted++
				}
				delivered.Add(1)
				lastSeq = seq
				if cfg.Rate == 0 {
					select {
					case peers[partner(p.idx)].slots <- struct{}{}:
					default:
					}
				}
				if p.c.br.Buffered() == 0 {
					_ = p.c.send(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_Ack{Ack: &parleypb.Ack{ConversationId: string(p.conv), Seq: lastSeq}}})
				}
			}
		}(p)
	}

	sendOne := func(p *peer, n int) {
		frames := make([]*parleypb.ClientFrame, n)
		for k := range frames {
			pl := makePayload(cfg.PayloadSize)
			binary.LittleEndian.PutUint64(pl[0:8], uint64(time.Since(base)))
			binary.LittleEndian.PutUint64(pl[8:16], uint64(p.idx))
			p.nextID++
			// A request id asks for the "sent" reply, as a real client does.
			frames[k] = &parleypb.ClientFrame{Id: p.nextID, Body: &parleypb.ClientFrame_Send{Send: &parleypb.SendRequest{
				ConversationId: string(p.conv), ClientId: string(parley.NewClientMessageID()),
				Kind: uint32(parley.EnvelopeApplication), Epoch: 1, Payload: pl,
			}}}
		}
		if err := p.c.send(frames...); err != nil {
			sendErrs.Add(1)
		}
	}

	meterStarted := make(chan *cpuMeter, 1)
	go func() {
		time.Sleep(warm)
		meterStarted <- startCPU(srv.pid)
	}()
	var senders sync.WaitGroup
	if cfg.Rate == 0 {
		for _, p := range peers {
			senders.Add(1)
			go func(p *peer) {
				defer senders.Done()
				for !stop.Load() {
					<-p.slots
					n := 1
				drain:
					for n < cfg.Window {
						select {
						case <-p.slots:
							n++
						default:
							break drain
						}
					}
					sendOne(p, n)
				}
			}(p)
		}
	} else {
		senders.Add(1)
		go func() {
			defer senders.Done()
			// Sends are due at a fixed rate from the start: a late tick (a
			// busy machine drops ticker ticks) is caught up, not lost.
			tick := time.NewTicker(time.Millisecond)
			defer tick.Stop()
			start := time.Now()
			i := 0
			for !stop.Load() {
				<-tick.C
				due := int(time.Since(start).Seconds() * float64(cfg.Rate))
				for ; i < due && !stop.Load(); i++ {
					sendOne(peers[i%len(peers)], 1)
				}
			}
		}()
	}
	time.Sleep(warm + cfg.Duration)
	meter := <-meterStarted
	serverCores, clientCores, otherCores := meter.stop()
	rss := srv.rssKiB()
	stop.Store(true)
	// Free blocked senders.
	for _, p := range peers {
		select {
		case p.slots <- struct{}{}:
		default:
		}
	}
	time.Sleep(2 * time.Second) // let in-flight messages of the window arrive
	for _, p := range peers {
		p.c.close()
	}
	wg.Wait()
	senders.Wait()

	var all latencies
	var counted int64
	for _, p := range peers {
		all.merge(&p.lat)
		counted += p.counted
	}
	perSec := float64(counted) / cfg.Duration.Seconds()
	res := map[string]any{
		"pairs":           cfg.Pairs,
		"window":          cfg.Window,
		"rate":            cfg.Rate,
		"duration_s":      cfg.Duration.Seconds(),
		"payload_bytes":   cfg.PayloadSize,
		"delivered_per_s": round3(perSec),
		"p50_ms":          all.ms(0.50),
		"p90_ms":          all.ms(0.90),
		"p99_ms":          all.ms(0.99),
		"p999_ms":         all.ms(0.999),
		"send_errors":     sendErrs.Load(),
		"server_rss_kib":  rss,
		"server_cores":    serverCores,
		"client_cores":    clientCores,
		"other_cores":     otherCores,
	}
	if perSec > 0 {
		res["server_cpu_us_per_msg"] = round3(serverCores * 1e6 / perSec)
	}
	return res, nil
}
