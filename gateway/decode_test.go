package gateway

import (
	"math/rand/v2"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/parleyhq/parley/proto/parleypb"
)

// checkDecode compares decodeHot with proto.Unmarshal on b: when decodeHot
// accepts b, proto.Unmarshal must too, with an equal frame.
func checkDecode(t *testing.T, b []byte) (accepted bool) {
	t.Helper()
	got, ok := decodeHot(b)
	if !ok {
		return false
	}
	var want parleypb.ClientFrame
	if err := proto.Unmarshal(b, &want); err != nil {
		t.Fatalf("decodeHot accepted %x, proto.Unmarshal fails: %v", b, err)
	}
	if !proto.Equal(got, &want) {
		t.Fatalf("decodeHot(%x) = %v, proto.Unmarshal = %v", b, got, &want)
	}
	return true
}

func TestDecodeHotMatchesProto(t *testing.T) {
	frames := []*parleypb.ClientFrame{
		{Id: 7, Body: &parleypb.ClientFrame_Send{Send: &parleypb.SendRequest{ConversationId: "c0123456789", ClientId: "x1", Kind: 1, Epoch: 3, Payload: []byte("hello")}}},
		{Body: &parleypb.ClientFrame_Send{Send: &parleypb.SendRequest{}}},
		{Id: 1 << 40, Body: &parleypb.ClientFrame_Send{Send: &parleypb.SendRequest{ConversationId: "é", Kind: 1 << 31, Epoch: 1 << 63, Payload: make([]byte, 300)}}},
		{Id: 9, Body: &parleypb.ClientFrame_Ack{Ack: &parleypb.Ack{ConversationId: "c", Seq: 12345}}},
		{Body: &parleypb.ClientFrame_Ack{Ack: &parleypb.Ack{Seq: -1}}},
		{Body: &parleypb.ClientFrame_Ack{Ack: &parleypb.Ack{}}},
	}
	for _, f := range frames {
		b, err := proto.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		if !checkDecode(t, b) {
			t.Errorf("decodeHot refused %v", f)
		}
	}
	// Frames it must leave to proto.Unmarshal.
	for _, f := range []*parleypb.ClientFrame{
		{Id: 1, Body: &parleypb.ClientFrame_Ping{Ping: &parleypb.Ping{}}},
		{Id: 1},
		{Body: &parleypb.ClientFrame_Read{Read: &parleypb.ReadRequest{ConversationId: "c", Seq: 1}}},
	} {
		b, _ := proto.Marshal(f)
		if _, ok := decodeHot(b); ok {
			t.Errorf("decodeHot accepted %v", f)
		}
	}
	// A repeated body (proto merges it), a repeated scalar, invalid UTF-8.
	send, _ := proto.Marshal(frames[0])
	if _, ok := decodeHot(append(append([]byte{}, send...), send...)); ok {
		t.Error("decodeHot accepted a repeated body")
	}
	if _, ok := decodeHot([]byte{0xc2, 0x02, 0x03, 0x0a, 0x01, 0xff}); ok {
		t.Error("decodeHot accepted invalid UTF-8")
	}
	// Random mutations of valid frames.
	rng := rand.New(rand.NewPCG(1, 2))
	accepted := 0
	for i := 0; i < 20000; i++ {
		b, _ := proto.Marshal(frames[rng.IntN(len(frames))])
		for k := rng.IntN(3); k >= 0 && len(b) > 0; k-- {
			switch rng.IntN(3) {
			case 0:
				b[rng.IntN(len(b))] = byte(rng.Uint32())
			case 1:
				b = b[:rng.IntN(len(b))]
			case 2:
				j := rng.IntN(len(b))
				b = append(b[:j:j], append([]byte{byte(rng.Uint32())}, b[j:]...)...)
			}
		}
		if checkDecode(t, b) {
			accepted++
		}
	}
	if accepted == 0 {
		t.Error("no mutated frame was accepted")
	}
}
