package gateway

import (
	"context"
	"crypto/sha256"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"google.golang.org/protobuf/proto"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/accounts"
	"github.com/parleyhq/parley/broker/inproc"
	"github.com/parleyhq/parley/delivery"
	"github.com/parleyhq/parley/proto/parleypb"
	"github.com/parleyhq/parley/store/sqlite"
)

// wsFrame encodes payload as one masked client WebSocket frame.
func wsFrame(op ws.OpCode, payload []byte) []byte {
	p := append([]byte(nil), payload...)
	h := ws.Header{Fin: true, OpCode: op, Length: int64(len(p)), Masked: true, Mask: [4]byte{1, 2, 3, 4}}
	ws.Cipher(p, h.Mask, 0)
	var w sliceWriter
	_ = ws.WriteHeader(&w, h)
	return append(w.b, p...)
}

type sliceWriter struct{ b []byte }

func (w *sliceWriter) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }

func marshal(t testing.TB, f *parleypb.ClientFrame) []byte {
	b, err := proto.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const fuzzConv = parley.ConversationID("cfuzzconversation")

// seedFrames are real frames of a session, used as the fuzz seed corpus.
func seedFrames(t testing.TB) [][]byte {
	frames := []*parleypb.ClientFrame{
		{Id: 1, Body: &parleypb.ClientFrame_Ping{Ping: &parleypb.Ping{ClientTimeMs: 1}}},
		{Id: 2, Body: &parleypb.ClientFrame_Send{Send: &parleypb.SendRequest{ConversationId: string(fuzzConv), ClientId: "m1", Kind: 1, Epoch: 1, Payload: []byte("ciphertext")}}},
		{Id: 3, Body: &parleypb.ClientFrame_Ack{Ack: &parleypb.Ack{ConversationId: string(fuzzConv), Seq: 1}}},
		{Id: 4, Body: &parleypb.ClientFrame_Read{Read: &parleypb.ReadRequest{ConversationId: string(fuzzConv), Seq: 1}}},
		{Id: 5, Body: &parleypb.ClientFrame_Typing{Typing: &parleypb.Typing{ConversationId: string(fuzzConv), Typing: true}}},
		{Id: 6, Body: &parleypb.ClientFrame_ListConversations{ListConversations: &parleypb.ListConversationsRequest{}}},
		{Id: 7, Body: &parleypb.ClientFrame_Commit{Commit: &parleypb.CommitRequest{ConversationId: string(fuzzConv), Epoch: 1, Commit: []byte("c"), GroupInfo: []byte("g"), Remove: []int64{3}}}},
		{Id: 8, Body: &parleypb.ClientFrame_UploadKeyPackages{UploadKeyPackages: &parleypb.UploadKeyPackagesRequest{KeyPackages: []*parleypb.KeyPackage{{Ref: []byte("r"), Data: []byte("kp")}}}}},
		{Id: 9, Body: &parleypb.ClientFrame_ClaimKeyPackages{ClaimKeyPackages: &parleypb.ClaimKeyPackagesRequest{UserIds: []int64{1, 2}}}},
		{Id: 10, Body: &parleypb.ClientFrame_Resolve{Resolve: &parleypb.ResolveRequest{Who: &parleypb.ResolveRequest_Username{Username: "bob"}}}},
		{Id: 11, Body: &parleypb.ClientFrame_GroupInfo{GroupInfo: &parleypb.GroupInfoRequest{ConversationId: string(fuzzConv)}}},
		{Id: 12, Body: &parleypb.ClientFrame_Presence{Presence: &parleypb.PresenceRequest{UserId: 2}}},
		{Id: 13, Body: &parleypb.ClientFrame_Hello{Hello: &parleypb.Hello{Versions: []uint32{1}}}},
	}
	var out [][]byte
	for _, f := range frames {
		out = append(out, marshal(t, f))
	}
	return out
}

// FuzzClientFrame feeds arbitrary bytes to an authenticated session: as the
// payload of one binary message (first byte even) or as raw WebSocket stream
// bytes (first byte odd). The session must answer or close, never panic or
// hang. The seed corpus (testdata/fuzz/FuzzClientFrame) holds real frames.
func FuzzClientFrame(f *testing.F) {
	dir := f.TempDir()
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "parley.db"))
	if err != nil {
		f.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	now := time.Now()
	secret := make([]byte, 32)
	sum := sha256.Sum256(secret)
	var devs []parley.Device
	for i, phone := range []string{"+14155550001", "+14155550002"} {
		u, err := st.CreateUser(ctx, parley.User{Phone: phone, Name: "fuzz", CreatedAt: now})
		if err != nil {
			f.Fatal(err)
		}
		d, err := st.CreateDevice(ctx, parley.Device{User: u.ID, Name: "d", Primary: true, SecretHash: sum[:], IdentityKey: []byte{byte(i)}, CreatedAt: now})
		if err != nil {
			f.Fatal(err)
		}
		devs = append(devs, d)
	}
	if _, err := st.CreateConversation(ctx, parley.Conversation{ID: fuzzConv, Kind: parley.KindDirect, Epoch: 1, CreatedBy: devs[0].User, CreatedAt: now},
		[]parley.Member{{Conversation: fuzzConv, User: devs[0].User, Device: devs[0].ID}, {Conversation: fuzzConv, User: devs[1].User, Device: devs[1].ID}}, nil); err != nil {
		f.Fatal(err)
	}
	acc := accounts.New(st, accounts.DevSender{}, parley.SystemClock{}, nil, accounts.Config{})
	del := delivery.New(st, inproc.New(), acc, parley.SystemClock{}, nil, delivery.Config{PruneInterval: -1})
	defer del.Shutdown(context.Background())
	g := New(Services{Accounts: acc, Delivery: del}, parley.SystemClock{}, nil, Config{MaxFrameBytes: 4096, HeartbeatInterval: time.Second})
	defer g.Shutdown(context.Background())

	prefix := append(
		wsFrame(ws.OpBinary, marshal(f, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_Hello{Hello: &parleypb.Hello{Versions: []uint32{1}}}})),
		wsFrame(ws.OpBinary, marshal(f, &parleypb.ClientFrame{Id: 1, Body: &parleypb.ClientFrame_Auth{Auth: &parleypb.AuthRequest{DeviceId: int64(devs[0].ID), Secret: secret}}}))...)

	for _, b := range seedFrames(f) {
		f.Add(append([]byte{0}, b...))
		f.Add(append([]byte{1}, wsFrame(ws.OpBinary, b)...))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		var in []byte
		if data[0]&1 == 0 {
			in = append(append([]byte(nil), prefix...), wsFrame(ws.OpBinary, data[1:])...)
		} else {
			in = append(append([]byte(nil), prefix...), data[1:]...)
		}
		client, server := net.Pipe()
		g.mu.Lock()
		g.wg.Add(1)
		g.mu.Unlock()
		s := &session{g: g, conn: server, r: connReader{src: server}, addrKey: "fuzz"}
		s.ctx, s.cancel = context.WithCancel(g.ctx)
		g.mu.Lock()
		g.sessions[s] = struct{}{}
		g.mu.Unlock()
		go s.run()
		drained := make(chan struct{})
		go func() { _, _ = io.Copy(io.Discard, client); close(drained) }()
		_ = client.SetWriteDeadline(time.Now().Add(5 * time.Second))
		_, _ = client.Write(in)
		// Give the session a round trip to answer, then hang up.
		_, _ = client.Write(wsFrame(ws.OpBinary, marshal(t, &parleypb.ClientFrame{Id: 77, Body: &parleypb.ClientFrame_Ping{Ping: &parleypb.Ping{}}})))
		client.Close()
		done := make(chan struct{})
		go func() { g.wg.Wait(); g.writers.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			t.Fatalf("session did not end; input %x\n%s", data, buf[:n])
		}
		<-drained
	})
}

// TestWriteFuzzSeeds regenerates testdata/fuzz/FuzzClientFrame when
// PARLEY_WRITE_SEEDS is set.
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("PARLEY_WRITE_SEEDS") == "" {
		t.Skip("set PARLEY_WRITE_SEEDS=1 to regenerate the seed corpus")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzClientFrame")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, b := range seedFrames(t) {
		for mode, data := range [][]byte{append([]byte{0}, b...), append([]byte{1}, wsFrame(ws.OpBinary, b)...)} {
			content := "go test fuzz v1\n[]byte(" + quote(data) + ")\n"
			name := filepath.Join(dir, "seed-"+string(rune('a'+i))+string(rune('0'+mode)))
			if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func quote(b []byte) string {
	const hex = "0123456789abcdef"
	out := []byte{'"'}
	for _, c := range b {
		out = append(out, '\\', 'x', hex[c>>4], hex[c&15])
	}
	return string(append(out, '"'))
}
