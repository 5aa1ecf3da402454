package gateway

import (
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/parleyhq/parley/proto/parleypb"
)

// Field numbers of parleypb.ClientFrame, SendRequest and Ack used by the
// hand-written decoder of the hot path (decodeHot). A test checks it against
// proto.Unmarshal.
const (
	clientFrameID   = 1
	clientFrameSend = 40
	clientFrameAck  = 41

	sendConversation = 1
	sendClientID     = 2
	sendKind         = 3
	sendEpoch        = 4
	sendPayload      = 5

	ackConversation = 1
	ackSeq          = 2
)

// decodeHot decodes a ClientFrame carrying a SendRequest or an Ack (the
// frames of every message sent and received) without reflection. For
// anything else — another body, an unknown field, a repeated body, a wire
// type proto.Unmarshal would treat differently, invalid UTF-8 — it returns
// false and the caller uses proto.Unmarshal. When it returns true the frame
// equals what proto.Unmarshal produces. The payload is copied: b is reused.
func decodeHot(b []byte) (*parleypb.ClientFrame, bool) {
	var id uint64
	var body []byte
	bodyNum := protowire.Number(0)
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, false
		}
		b = b[n:]
		switch {
		case num == clientFrameID && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return nil, false
			}
			id, b = v, b[n:]
		case (num == clientFrameSend || num == clientFrameAck) && typ == protowire.BytesType && bodyNum == 0:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return nil, false
			}
			body, bodyNum, b = v, num, b[n:]
		default:
			return nil, false
		}
	}
	switch bodyNum {
	case clientFrameSend:
		r, ok := decodeSend(body)
		if !ok {
			return nil, false
		}
		return &parleypb.ClientFrame{Id: id, Body: &parleypb.ClientFrame_Send{Send: r}}, true
	case clientFrameAck:
		a, ok := decodeAck(body)
		if !ok {
			return nil, false
		}
		return &parleypb.ClientFrame{Id: id, Body: &parleypb.ClientFrame_Ack{Ack: a}}, true
	}
	return nil, false
}

func decodeSend(b []byte) (*parleypb.SendRequest, bool) {
	r := &parleypb.SendRequest{}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, false
		}
		b = b[n:]
		switch {
		case (num == sendConversation || num == sendClientID) && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 || !utf8.Valid(v) {
				return nil, false
			}
			if num == sendConversation {
				r.ConversationId = string(v)
			} else {
				r.ClientId = string(v)
			}
			b = b[n:]
		case (num == sendKind || num == sendEpoch) && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return nil, false
			}
			if num == sendKind {
				r.Kind = uint32(v)
			} else {
				r.Epoch = v
			}
			b = b[n:]
		case num == sendPayload && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return nil, false
			}
			r.Payload = append([]byte{}, v...)
			b = b[n:]
		default:
			return nil, false
		}
	}
	return r, true
}

func decodeAck(b []byte) (*parleypb.Ack, bool) {
	a := &parleypb.Ack{}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, false
		}
		b = b[n:]
		switch {
		case num == ackConversation && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 || !utf8.Valid(v) {
				return nil, false
			}
			a.ConversationId = string(v)
			b = b[n:]
		case num == ackSeq && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return nil, false
			}
			a.Seq = int64(v)
			b = b[n:]
		default:
			return nil, false
		}
	}
	return a, true
}
