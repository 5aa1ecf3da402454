package content

import (
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/attachment"
)

// Status is the delivery status of a message. Outgoing messages move
// pending → sent → delivered → read and never back; incoming ones are
// received, then read once this user marked the chat read.
type Status string

// The statuses.
const (
	StatusPending   Status = "pending"   // not yet accepted by the server
	StatusSent      Status = "sent"      // the server has it durably
	StatusDelivered Status = "delivered" // a device of another member acknowledged it
	StatusRead      Status = "read"      // another member read it
	StatusReceived  Status = "received"  // incoming, not yet read here
	// StatusFailed marks an outgoing message its endpoint gave up on: it
	// never reached a device of another member before the server's
	// retention deleted it (see client.Client.Undelivered). A failed
	// message is never raised again.
	StatusFailed Status = "failed"
)

// Message kinds. KindUndecryptable marks a message this device received
// but could not decrypt (for example one encrypted for an epoch before the
// device joined); its Text is empty. KindUnsupported marks a media message
// whose descriptor this client cannot use. The media kinds are those of
// package attachment ("image", "video", "voice", "document", "location",
// "contact"); their MessageRecord carries the Descriptor in Media.
const (
	KindText          = "text"
	KindUndecryptable = "undecryptable"
	KindUnsupported   = "unsupported"
	KindImage         = string(attachment.KindImage)
	KindVideo         = string(attachment.KindVideo)
	KindVoice         = string(attachment.KindVoice)
	KindDocument      = string(attachment.KindDocument)
	KindLocation      = string(attachment.KindLocation)
	KindContact       = string(attachment.KindContact)
)

// MessageRecord is one decrypted message of a chat, sent or received.
type MessageRecord struct {
	Conversation parley.ConversationID
	Seq          parley.Seq // 0 while pending
	ClientID     parley.ClientMessageID
	Sender       parley.UserID
	SenderDevice parley.DeviceID
	Outgoing     bool // sent by this user (from this or another of its devices)
	Kind         string
	Text         string // the text, or a media message's caption
	// Media describes the attachment of a media kind: for files the blob,
	// its capability and key (secret: never log it), type, size and the
	// kind's metadata; for a location its coordinates; for a contact the
	// vCard. Nil for text.
	Media     *attachment.Descriptor
	Forwarded bool // the sender forwarded it from another chat
	// Business is the structured content of a business kind (product,
	// order, order_status, interactive, interactive_reply, template).
	Business *BusinessContent
	// Target and Emoji are set in the event of a control message (never
	// stored): the seq of the message it applies to and, for a reaction,
	// its emoji ("" when the reaction was removed).
	Target   parley.Seq
	Emoji    string
	SentAt   time.Time // the sender's clock
	StoredAt time.Time // this device's clock when stored
	Status   Status

	// Payload and Epoch hold the ciphertext of a pending outgoing message,
	// so a retry resends the same bytes under the same client id.
	Payload []byte
	Epoch   parley.Epoch
}

// A message ID names one message on every device of every member:
// "<conversation id>:<seq>", the server-assigned sequence number in the
// conversation's log (known once the message is sent). MessageRecord.ID
// formats it; ParseMessageID parses it.

// ID returns the message's ID, "<conversation>:<seq>" ("" while pending).
func (m MessageRecord) ID() string {
	if m.Seq <= 0 {
		return ""
	}
	return FormatMessageID(m.Conversation, m.Seq)
}

// FormatMessageID formats a message ID.
func FormatMessageID(conv parley.ConversationID, seq parley.Seq) string {
	return string(conv) + ":" + strconv.FormatInt(int64(seq), 10)
}

// ParseMessageID parses "<conversation>:<seq>".
func ParseMessageID(id string) (parley.ConversationID, parley.Seq, error) {
	c, s, ok := strings.Cut(id, ":")
	seq, err := strconv.ParseInt(s, 10, 64)
	if !ok || err != nil || seq <= 0 || !parley.ConversationID(c).Valid() {
		return "", 0, parley.Errorf(parley.CodeInvalid, ReasonBadMessageID, "message ID %q: want CHAT:SEQ", id)
	}
	return parley.ConversationID(c), parley.Seq(seq), nil
}
