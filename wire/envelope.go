package wire

import (
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/proto/parleypb"
)

// Field numbers of parleypb.ServerFrame and parleypb.Envelope used by the
// hand-written encoder of the hot path (EnvelopeFrame). A test checks
// it against proto.Marshal.
const (
	serverFrameEnvelope = 50

	envConversation = 1
	envSeq          = 2
	envSenderUser   = 3
	envSenderDevice = 4
	envClientID     = 5
	envKind         = 6
	envEpoch        = 7
	envPayload      = 8
	envSentMs       = 9
)

func envelopeBodySize(e *parley.Envelope) int {
	n := 0
	if e.Conversation != "" {
		n += protowire.SizeTag(envConversation) + protowire.SizeBytes(len(e.Conversation))
	}
	if e.Seq != 0 {
		n += protowire.SizeTag(envSeq) + protowire.SizeVarint(uint64(e.Seq))
	}
	if e.Sender != 0 {
		n += protowire.SizeTag(envSenderUser) + protowire.SizeVarint(uint64(e.Sender))
	}
	if e.SenderDevice != 0 {
		n += protowire.SizeTag(envSenderDevice) + protowire.SizeVarint(uint64(e.SenderDevice))
	}
	if e.ClientID != "" {
		n += protowire.SizeTag(envClientID) + protowire.SizeBytes(len(e.ClientID))
	}
	if e.Kind != 0 {
		n += protowire.SizeTag(envKind) + protowire.SizeVarint(uint64(e.Kind))
	}
	if e.Epoch != 0 {
		n += protowire.SizeTag(envEpoch) + protowire.SizeVarint(uint64(e.Epoch))
	}
	if len(e.Payload) != 0 {
		n += protowire.SizeTag(envPayload) + protowire.SizeBytes(len(e.Payload))
	}
	if ms := e.CreatedAt.UnixMilli(); !e.CreatedAt.IsZero() && ms != 0 {
		n += protowire.SizeTag(envSentMs) + protowire.SizeVarint(uint64(ms))
	}
	return n
}

// EnvelopeFrame returns the wire encoding of a ServerFrame (id 0)
// carrying e as an Envelope push. It is byte-for-byte what proto.Marshal
// produces, in one allocation.
func EnvelopeFrame(e *parley.Envelope) []byte {
	body := envelopeBodySize(e)
	total := protowire.SizeTag(serverFrameEnvelope) + protowire.SizeBytes(body)
	b := make([]byte, 0, total)
	b = protowire.AppendTag(b, serverFrameEnvelope, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(body))
	if e.Conversation != "" {
		b = protowire.AppendTag(b, envConversation, protowire.BytesType)
		b = protowire.AppendString(b, string(e.Conversation))
	}
	if e.Seq != 0 {
		b = protowire.AppendTag(b, envSeq, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(e.Seq))
	}
	if e.Sender != 0 {
		b = protowire.AppendTag(b, envSenderUser, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(e.Sender))
	}
	if e.SenderDevice != 0 {
		b = protowire.AppendTag(b, envSenderDevice, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(e.SenderDevice))
	}
	if e.ClientID != "" {
		b = protowire.AppendTag(b, envClientID, protowire.BytesType)
		b = protowire.AppendString(b, string(e.ClientID))
	}
	if e.Kind != 0 {
		b = protowire.AppendTag(b, envKind, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(e.Kind))
	}
	if e.Epoch != 0 {
		b = protowire.AppendTag(b, envEpoch, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(e.Epoch))
	}
	if len(e.Payload) != 0 {
		b = protowire.AppendTag(b, envPayload, protowire.BytesType)
		b = protowire.AppendBytes(b, e.Payload)
	}
	if ms := e.CreatedAt.UnixMilli(); !e.CreatedAt.IsZero() && ms != 0 {
		b = protowire.AppendTag(b, envSentMs, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(ms))
	}
	return b
}

// EnvelopeToPB converts a log entry to its wire message.
func EnvelopeToPB(e *parley.Envelope) *parleypb.Envelope {
	p := &parleypb.Envelope{
		ConversationId: string(e.Conversation),
		Seq:            int64(e.Seq),
		SenderUser:     int64(e.Sender),
		SenderDevice:   int64(e.SenderDevice),
		ClientId:       string(e.ClientID),
		Kind:           uint32(e.Kind),
		Epoch:          uint64(e.Epoch),
		Payload:        e.Payload,
	}
	if !e.CreatedAt.IsZero() {
		p.SentMs = e.CreatedAt.UnixMilli()
	}
	return p
}

// Push marshals a push (a ServerFrame with id 0). Marshalling a
// well-formed message cannot fail.
func Push(f *parleypb.ServerFrame) []byte {
	b, err := proto.Marshal(f)
	if err != nil {
		panic("wire: marshal push: " + err.Error())
	}
	return b
}

// ReceiptFrame is the push of a receipt.
func ReceiptFrame(r parley.Receipt) []byte {
	return Push(&parleypb.ServerFrame{Body: &parleypb.ServerFrame_Receipt{Receipt: &parleypb.Receipt{
		ConversationId: string(r.Conversation),
		Kind:           uint32(r.Kind),
		UserId:         int64(r.User),
		DeviceId:       int64(r.Device),
		Seq:            int64(r.Seq),
		AtMs:           r.At.UnixMilli(),
	}}})
}

// TypingFrame is the push of a typing indicator.
func TypingFrame(conv parley.ConversationID, user parley.UserID, typing bool) []byte {
	return Push(&parleypb.ServerFrame{Body: &parleypb.ServerFrame_Typing{Typing: &parleypb.Typing{
		ConversationId: string(conv),
		Typing:         typing,
		UserId:         int64(user),
	}}})
}

// PresenceFrame is the push of a user's presence.
func PresenceFrame(user parley.UserID, online bool, lastSeen time.Time) []byte {
	return Push(&parleypb.ServerFrame{Body: &parleypb.ServerFrame_Presence{Presence: PresenceToPB(user, online, lastSeen)}})
}

// PresenceToPB converts a presence answer to its wire message (no last
// seen time for the zero time).
func PresenceToPB(user parley.UserID, online bool, lastSeen time.Time) *parleypb.Presence {
	pp := &parleypb.Presence{UserId: int64(user), Online: online}
	if !lastSeen.IsZero() {
		pp.LastSeenMs = lastSeen.UnixMilli()
	}
	return pp
}

// ConversationsChangedFrame tells a device that its conversations changed.
func ConversationsChangedFrame(ids []parley.ConversationID) []byte {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = string(id)
	}
	return Push(&parleypb.ServerFrame{Body: &parleypb.ServerFrame_ConversationsChanged{
		ConversationsChanged: &parleypb.ConversationsChanged{ConversationIds: s},
	}})
}

// KeyPackagesLowFrame asks a device to upload KeyPackages: left remain.
func KeyPackagesLowFrame(left int) []byte {
	return Push(&parleypb.ServerFrame{Body: &parleypb.ServerFrame_KeyPackagesLow{
		KeyPackagesLow: &parleypb.KeyPackagesLow{OneTimeLeft: uint32(left)},
	}})
}
