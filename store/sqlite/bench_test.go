package sqlite_test

import (
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/store/sqlite"
	"github.com/parleyhq/parley/store/storetest"
)

// BenchmarkAppend measures durable appends (synchronous=FULL unless noted)
// of 256-byte envelopes spread over 64 conversations, in batches of 1 and
// 128, and from 64 concurrent callers appending one envelope each (group
// commit). "envelopes/s" is the figure to compare with the server's target;
// "cpu-µs/envelope" (process CPU, all goroutines) is the stable figure on a
// shared machine.
func BenchmarkAppend(b *testing.B) {
	openWith := func(opts ...sqlite.Option) func(b *testing.B) parley.Store {
		return func(b *testing.B) parley.Store {
			s, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "bench.db"), opts...)
			if err != nil {
				b.Fatal(err)
			}
			return s
		}
	}
	storetest.BenchAppendAll(b, openWith(), cpuTime)
	for _, batch := range []int{1, 128} {
		b.Run(fmt.Sprintf("batch=%d/sync=normal", batch), func(b *testing.B) {
			s := openWith(sqlite.WithSynchronousNormal())(b)
			defer s.Close()
			storetest.BenchAppend(b, s, batch, 0, cpuTime)
		})
	}
}

// BenchmarkAck measures durable Acks from 64 concurrent callers (each a
// device acking its own cursor forward), group-committed.
func BenchmarkAck(b *testing.B) {
	ctx := b.Context()
	s, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	u, err := s.CreateUser(ctx, parley.User{Phone: "+1555000", Name: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	const callers = 64
	devs := make([]parley.Device, callers)
	for i := range devs {
		if devs[i], err = s.CreateDevice(ctx, parley.Device{User: u.ID, Name: "d", SecretHash: []byte("h"), IdentityKey: []byte("k")}); err != nil {
			b.Fatal(err)
		}
	}
	id := parley.NewConversationID()
	var ms []parley.Member
	for _, d := range devs {
		ms = append(ms, parley.Member{User: u.ID, Device: d.ID})
	}
	if _, err := s.CreateConversation(ctx, parley.Conversation{ID: id, Kind: parley.KindGroup, Epoch: 1, CreatedBy: u.ID}, ms, nil); err != nil {
		b.Fatal(err)
	}
	envs := make([]parley.Envelope, 1000)
	for i := range envs {
		envs[i] = parley.Envelope{Conversation: id, Kind: parley.EnvelopeSystem, Payload: []byte("x")}
	}
	if _, err := s.Append(ctx, envs); err != nil {
		b.Fatal(err)
	}
	var next atomic.Int64
	b.SetParallelism(callers / 2)
	b.ResetTimer()
	cpu0 := cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		d := devs[next.Add(1)-1]
		seq := parley.Seq(0)
		for pb.Next() {
			seq = seq%1000 + 1
			if err := s.Ack(ctx, id, d.ID, seq); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "acks/s")
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/ack")
	}
}

// BenchmarkAppendScattered measures what the 1:1 bench's committer does:
// groups of 70 envelopes (200 bytes) each to a different one of 500
// two-device conversations, durably (synchronous=FULL), with client message
// ids made as real clients make them (parley.NewClientMessageID: time
// first). "wal-KiB/envelope" is what the process wrote (the WAL and the
// checkpoints): the pages each group dirties, the figure that decides
// fsync time.
func BenchmarkAppendScattered(b *testing.B) {
	ctx := b.Context()
	s, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const convCount, group = 500, 70
	type pair struct {
		conv parley.ConversationID
		dev  [2]parley.Device
	}
	pairs := make([]pair, convCount)
	for i := range pairs {
		var ms []parley.Member
		for k := range 2 {
			u, err := s.CreateUser(ctx, parley.User{Phone: fmt.Sprintf("+1555%07d", 2*i+k), Name: "bench"})
			if err != nil {
				b.Fatal(err)
			}
			d, err := s.CreateDevice(ctx, parley.Device{User: u.ID, Name: "d", SecretHash: []byte("h"), IdentityKey: []byte("k")})
			if err != nil {
				b.Fatal(err)
			}
			pairs[i].dev[k] = d
			ms = append(ms, parley.Member{User: u.ID, Device: d.ID})
		}
		pairs[i].conv = parley.NewConversationID()
		if _, err := s.CreateConversation(ctx, parley.Conversation{ID: pairs[i].conv, Kind: parley.KindDirect, Epoch: 1, CreatedBy: ms[0].User}, ms, nil); err != nil {
			b.Fatal(err)
		}
	}
	payload := make([]byte, 200)
	envs := make([]parley.Envelope, group)
	var n int64
	next := 0
	b.ResetTimer()
	cpu0, w0 := cpuTime(), writtenBytes()
	for b.Loop() {
		for i := range envs {
			p := &pairs[next%convCount]
			d := p.dev[(next/convCount)%2]
			next += 7 // a different conversation each time, every one in turn
			envs[i] = parley.Envelope{Conversation: p.conv, Sender: d.User, SenderDevice: d.ID,
				ClientID: parley.NewClientMessageID(), Kind: parley.EnvelopeApplication, Epoch: 1, Payload: payload, CreatedAt: time.Now()}
		}
		rs, err := s.Append(ctx, envs)
		if err != nil {
			b.Fatal(err)
		}
		if rs[0].Err != nil || rs[0].Duplicate {
			b.Fatalf("result %+v", rs[0])
		}
		n += group
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "envelopes/s")
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(cpu.Microseconds())/float64(n), "cpu-µs/envelope")
	}
	if w := writtenBytes() - w0; w > 0 {
		b.ReportMetric(float64(w)/1024/float64(n), "wal-KiB/envelope")
	}
}
