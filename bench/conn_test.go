package bench

import (
	"bytes"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/parleyhq/parley/proto/parleypb"
)

func FuzzParseEnvelope(f *testing.F) {
	for _, fr := range []*parleypb.ServerFrame{
		{Body: &parleypb.ServerFrame_Envelope{Envelope: &parleypb.Envelope{ConversationId: "cabc", Seq: 42, SenderUser: 7, ClientId: "x", Kind: 1, Epoch: 3, Payload: []byte("0123456789abcdefpayload"), SentMs: 99}}},
		{Id: 5, Body: &parleypb.ServerFrame_Envelope{Envelope: &parleypb.Envelope{Seq: 1 << 40}}},
		{Id: 9, Body: &parleypb.ServerFrame_Receipt{Receipt: &parleypb.Receipt{ConversationId: "cabc", Seq: 3}}},
	} {
		b, err := proto.Marshal(fr)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0x92, 0x03, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		seq, payload, ok, err := parseEnvelope(b)
		var want parleypb.ServerFrame
		if proto.Unmarshal(b, &want) != nil {
			return // invalid: the lean decoder may say anything but must not panic
		}
		if canon, err := proto.Marshal(&want); err != nil || !bytes.Equal(canon, b) {
			// Valid but not as a server encodes frames (fields repeated or
			// out of order, unknown fields): the lean decoder only has to
			// agree on frames the server sends.
			return
		}
		if err != nil {
			t.Fatalf("lean decoder failed on a valid frame: %v", err)
		}
		env := want.GetEnvelope()
		if ok != (env != nil) {
			t.Fatalf("envelope found %v, full decoder %v", ok, env != nil)
		}
		if ok && (seq != env.GetSeq() || !bytes.Equal(payload, env.GetPayload())) {
			t.Fatalf("seq %d payload %q, want %d %q", seq, payload, env.GetSeq(), env.GetPayload())
		}
	})
}
