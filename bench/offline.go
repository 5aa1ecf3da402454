package bench

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/proto/parleypb"
)

// runOffline queues K messages for an offline device, then times its
// catch-up from login until every message has arrived.
func runOffline(ctx context.Context, cfg Config) (map[string]any, error) {
	var users []benchUser
	var convs []parley.ConversationID
	srv, err := startServer(ctx, cfg, func(ctx context.Context, st parley.Store) (err error) {
		if users, err = seedUsers(ctx, st, 2); err != nil {
			return err
		}
		convs, err = seedPairs(ctx, st, users)
		return err
	})
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	conv := convs[0]

	// Store: the sender sends K messages, 100 per write, and waits for every
	// "sent" response (the server has them durably).
	sender, err := dial(ctx, srv.addr)
	if err != nil {
		return nil, err
	}
	defer sender.close()
	if err := sender.login(int64(users[0].Device), users[0].Secret); err != nil {
		return nil, err
	}
	storeStart := time.Now()
	acked := make(chan error, 1)
	go func() {
		n := 0
		for n < cfg.Messages {
			f, err := sender.recv()
			if err != nil {
				acked <- err
				return
			}
			if e := f.GetError(); e != nil {
				acked <- fmt.Errorf("send refused: %s %s", e.Code, e.Message)
				return
			}
			if f.GetSent() != nil {
				n++
			}
		}
		acked <- nil
	}()
	for i := 0; i < cfg.Messages; i += 100 {
		var frames []*parleypb.ClientFrame
		for k := i; k < i+100 && k < cfg.Messages; k++ {
			pl := makePayload(cfg.PayloadSize)
			binary.LittleEndian.PutUint64(pl[8:16], uint64(k))
			frames = append(frames, &parleypb.ClientFrame{Id: uint64(k + 10), Body: &parleypb.ClientFrame_Send{Send: &parleypb.SendRequest{
				ConversationId: string(conv), ClientId: string(parley.NewClientMessageID()),
				Kind: uint32(parley.EnvelopeApplication), Epoch: 1, Payload: pl,
			}}})
		}
		if err := sender.send(frames...); err != nil {
			return nil, err
		}
	}
	if err := <-acked; err != nil {
		return nil, err
	}
	storeDur := time.Since(storeStart)
	fmt.Fprintf(cfg.Log, "stored %d in %v\n", cfg.Messages, storeDur.Round(time.Millisecond))

	// Catch-up: the receiver logs in and acknowledges as a real client does.
	t0 := time.Now()
	rc, err := dial(ctx, srv.addr)
	if err != nil {
		return nil, err
	}
	defer rc.close()
	err = rc.send(
		&parleypb.ClientFrame{Id: 1, Body: &parleypb.ClientFrame_Hello{Hello: &parleypb.Hello{Versions: []uint32{1}}}},
		&parleypb.ClientFrame{Id: 2, Body: &parleypb.ClientFrame_Auth{Auth: &parleypb.AuthRequest{DeviceId: int64(users[1].Device), Secret: users[1].Secret}}},
	)
	if err != nil {
		return nil, err
	}
	var loginAt, firstAt time.Duration
	got, dup := 0, 0
	seen := make(map[int64]bool, cfg.Messages)
	deadline := time.Now().Add(2 * time.Minute)
	for got < cfg.Messages {
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("catch-up incomplete: %d of %d", got, cfg.Messages)
		}
		f, err := rc.recv()
		if err != nil {
			return nil, err
		}
		if e := f.GetError(); e != nil {
			return nil, fmt.Errorf("receiver: %s %s", e.Code, e.Message)
		}
		if f.GetAuth() != nil {
			loginAt = time.Since(t0)
		}
		env := f.GetEnvelope()
		if env == nil {
			continue
		}
		if got == 0 {
			firstAt = time.Since(t0)
		}
		if seen[env.Seq] {
			dup++
		} else {
			seen[env.Seq] = true
			got++
		}
		if rc.br.Buffered() == 0 || got == cfg.Messages {
			if err := rc.send(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_Ack{Ack: &parleypb.Ack{ConversationId: string(conv), Seq: env.Seq}}}); err != nil {
				return nil, err
			}
		}
	}
	catchup := time.Since(t0)
	return map[string]any{
		"messages":           cfg.Messages,
		"payload_bytes":      cfg.PayloadSize,
		"store_ms":           round3(float64(storeDur) / 1e6),
		"store_msgs_per_s":   round3(float64(cfg.Messages) / storeDur.Seconds()),
		"login_ms":           round3(float64(loginAt) / 1e6),
		"first_msg_ms":       round3(float64(firstAt) / 1e6),
		"catchup_ms":         round3(float64(catchup) / 1e6),
		"catchup_msgs_per_s": round3(float64(cfg.Messages) / catchup.Seconds()),
		"duplicates":         dup,
	}, nil
}
