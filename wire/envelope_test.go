package wire_test

import (
	"bytes"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/proto/parleypb"
	"github.com/parleyhq/parley/wire"
)

func TestEnvelopeFrameMatchesProto(t *testing.T) {
	cases := map[string]parley.Envelope{
		"zero": {},
		"full": {
			Conversation: "cabcdefghijklmnop", Seq: 123456, Sender: 7, SenderDevice: 9, ClientID: "m-1",
			Kind: parley.EnvelopeApplication, Epoch: 3, Payload: bytes.Repeat([]byte{0xab}, 300),
			CreatedAt: time.UnixMilli(1_795_000_000_123),
		},
		"system":   {Conversation: "cabcdefghij", Seq: 1, Kind: parley.EnvelopeSystem, Payload: []byte(`{"removed_device":4}`)},
		"negative": {Seq: -1, Sender: -5},
	}
	for name, e := range cases {
		t.Run(name, func(t *testing.T) {
			want, err := proto.Marshal(&parleypb.ServerFrame{Body: &parleypb.ServerFrame_Envelope{Envelope: wire.EnvelopeToPB(&e)}})
			if err != nil {
				t.Fatal(err)
			}
			if got := wire.EnvelopeFrame(&e); !bytes.Equal(got, want) {
				t.Fatalf("got  %x\nwant %x", got, want)
			}
		})
	}
}

func BenchmarkEnvelopeFrame(b *testing.B) {
	e := parley.Envelope{Conversation: "cabcdefghijklmnopqrstuvwxyz", Seq: 99, Sender: 1, SenderDevice: 2, ClientID: "abc", Kind: 1, Epoch: 1, Payload: make([]byte, 200), CreatedAt: time.Now()}
	b.ReportAllocs()
	for b.Loop() {
		wire.EnvelopeFrame(&e)
	}
}
