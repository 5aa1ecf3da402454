package storetest

import (
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley"
)

// BenchAppend measures durable appends to s of 256-byte envelopes spread
// over 64 conversations, batch envelopes a call, from one caller (parallel
// 0) or parallel callers per GOMAXPROCS. It reports envelopes/s and, when
// cpuTime is not nil (the process's CPU time), cpu-µs/envelope: the stable
// figure on a shared machine.
func BenchAppend(b *testing.B, s parley.Store, batch, parallel int, cpuTime func() time.Duration) {
	ctx := b.Context()
	u, err := s.CreateUser(ctx, parley.User{Phone: "+1555000", Name: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	d, err := s.CreateDevice(ctx, parley.Device{User: u.ID, Name: "d", SecretHash: []byte("h"), IdentityKey: []byte("k")})
	if err != nil {
		b.Fatal(err)
	}
	convs := make([]parley.ConversationID, 64)
	for i := range convs {
		convs[i] = parley.NewConversationID()
		if _, err := s.CreateConversation(ctx, parley.Conversation{ID: convs[i], Kind: parley.KindGroup, Epoch: 1, CreatedBy: u.ID},
			[]parley.Member{{User: u.ID, Device: d.ID}}, nil); err != nil {
			b.Fatal(err)
		}
	}
	payload := make([]byte, 256)
	now := time.Now()
	var n atomic.Int64
	appendBatch := func(envs []parley.Envelope) error {
		for i := range envs {
			k := n.Add(1)
			envs[i] = parley.Envelope{Conversation: convs[k%int64(len(convs))], Sender: u.ID, SenderDevice: d.ID,
				ClientID: parley.ClientMessageID(strconv.FormatInt(k, 10)), Kind: parley.EnvelopeApplication, Epoch: 1, Payload: payload, CreatedAt: now}
		}
		rs, err := s.Append(ctx, envs)
		if err != nil {
			return err
		}
		if rs[0].Err != nil || rs[0].Duplicate {
			return fmt.Errorf("result %+v", rs[0])
		}
		return nil
	}
	b.ResetTimer()
	var cpu0 time.Duration
	if cpuTime != nil {
		cpu0 = cpuTime()
	}
	if parallel > 0 {
		b.SetParallelism(parallel)
		b.RunParallel(func(pb *testing.PB) {
			envs := make([]parley.Envelope, batch)
			for pb.Next() {
				if err := appendBatch(envs); err != nil {
					b.Error(err)
					return
				}
			}
		})
	} else {
		envs := make([]parley.Envelope, batch)
		for b.Loop() {
			if err := appendBatch(envs); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(n.Load())/b.Elapsed().Seconds(), "envelopes/s")
	if cpuTime != nil {
		if cpu := cpuTime() - cpu0; cpu > 0 {
			b.ReportMetric(float64(cpu.Microseconds())/float64(n.Load()), "cpu-µs/envelope")
		}
	}
}

// BenchAppendAll runs BenchAppend's standard cases, each on a store from
// open (closed after): batches of 1 and 128 from one caller, and one
// envelope at a time from 64 callers (32 per GOMAXPROCS on 2 cores).
func BenchAppendAll(b *testing.B, open func(b *testing.B) parley.Store, cpuTime func() time.Duration) {
	for _, c := range []struct {
		name            string
		batch, parallel int
	}{
		{"batch=1", 1, 0},
		{"batch=128", 128, 0},
		{"batch=1/callers=64", 1, 32},
	} {
		b.Run(c.name, func(b *testing.B) {
			s := open(b)
			defer s.Close()
			BenchAppend(b, s, c.batch, c.parallel, cpuTime)
		})
	}
}
