package parley

import "time"

// ConversationKind says what a conversation is for.
type ConversationKind string

// The conversation kinds.
const (
	KindDirect ConversationKind = "direct" // a 1:1 chat between two users (or a note-to-self)
	KindGroup  ConversationKind = "group"
)

// Conversation is an MLS group plus the ordered log of envelopes exchanged in
// it. The server knows its members (devices) and its current epoch, never its
// content.
type Conversation struct {
	ID        ConversationID
	Kind      ConversationKind
	Epoch     Epoch  // the MLS epoch of the last accepted commit
	LastSeq   Seq    // the highest sequence number appended so far
	GroupInfo []byte // the latest signed GroupInfo, published by the committer, for external joins
	CreatedBy UserID
	CreatedAt time.Time
	// DirectUsers are the two users of a direct conversation (the same one
	// twice for notes to self), fixed when it is created and kept when
	// their devices come and go: a user whose every device was replaced
	// (re-registration) may still rejoin it. Zero for other kinds; set by
	// the store on reads, ignored by CreateConversation.
	DirectUsers [2]UserID
}

// Member is one device's membership of a conversation.
type Member struct {
	Conversation ConversationID
	User         UserID
	Device       DeviceID
	// FromSeq is the last sequence number before the device joined: the device
	// is delivered envelopes with Seq > FromSeq only.
	FromSeq Seq
	// Cursor is the highest sequence number the device has acknowledged.
	Cursor Seq
}

// EnvelopeKind tells clients how to process an envelope's payload.
type EnvelopeKind uint8

// The envelope kinds. The numbers are part of the wire protocol.
const (
	EnvelopeApplication EnvelopeKind = 1 // MLS PrivateMessage carrying application content
	EnvelopeProposal    EnvelopeKind = 2 // MLS handshake message carrying a proposal
	EnvelopeCommit      EnvelopeKind = 3 // MLS commit; accepted only for the current epoch
	EnvelopeWelcome     EnvelopeKind = 4 // MLS Welcome, delivered only to the devices it adds
	EnvelopeSystem      EnvelopeKind = 5 // a server notice (member left, device removed), not encrypted
)

// Envelope is one entry of a conversation's log.
type Envelope struct {
	Conversation ConversationID
	Seq          Seq
	Sender       UserID   // 0 for system envelopes
	SenderDevice DeviceID // 0 for system envelopes
	ClientID     ClientMessageID
	Kind         EnvelopeKind
	Epoch        Epoch
	// Recipients, when not empty, restricts delivery to these devices (a
	// Welcome goes only to the devices it adds). Empty means every member.
	Recipients []DeviceID
	Payload    []byte
	CreatedAt  time.Time
}

// ReceiptKind distinguishes delivery from read receipts.
type ReceiptKind uint8

// The receipt kinds. The numbers are part of the wire protocol.
const (
	ReceiptDelivered ReceiptKind = 1 // a device acknowledged everything up to Seq
	ReceiptRead      ReceiptKind = 2 // a user read everything up to Seq
)

// Receipt reports that a device received, or a user read, a conversation up
// to a sequence number.
type Receipt struct {
	Conversation ConversationID
	Kind         ReceiptKind
	User         UserID
	Device       DeviceID // 0 for read receipts, which are per user
	Seq          Seq
	At           time.Time
}
