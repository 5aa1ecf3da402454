package parley

import "context"

// Event is a live notification routed to one device's open connections: a
// new envelope, a receipt, typing or presence. Frame is the already-encoded
// wire frame, so a fan-out encodes once and every recipient writes the same
// bytes.
//
// Events are best effort: a device that is offline, or whose connection is
// too slow, misses them, and gets envelopes from the log instead.
type Event struct {
	Kind         EventKind
	Conversation ConversationID
	Seq          Seq // for EventEnvelope: the envelope's sequence number
	Frame        []byte
}

// EventKind classifies events so a connection can apply flow control to
// envelopes and not to ephemeral signals.
type EventKind uint8

// The event kinds.
const (
	EventEnvelope EventKind = 1 // a new envelope in a conversation log
	EventSignal   EventKind = 2 // a receipt, typing, presence or membership notice
	EventRevoked  EventKind = 3 // the device was revoked: close its connections
	// EventResync tells a subscriber that events to its device may have
	// been lost (a cluster broker lost its connection, or dropped events
	// for a slow node): it must catch up from the log. A broker sends it
	// with no Conversation, Seq or Frame.
	EventResync EventKind = 4
)

// Broker routes events to the connections of devices, wherever they are
// connected (in this process, or on another node of a cluster).
//
// Publish never blocks on a slow subscriber: a subscriber's handler must
// return quickly (queue and return). Delivery is best effort; a broker that
// knows it may have lost events to a subscriber sends it EventResync.
type Broker interface {
	Publish(ctx context.Context, devices []DeviceID, ev Event) error
	// Subscribe calls handler for every event published to device until the
	// returned cancel function is called. A device may have several
	// subscriptions (one per connection).
	Subscribe(device DeviceID, handler func(Event)) (cancel func(), err error)
}

// ChangeAnnouncer is an optional capability of a Broker that spans several
// processes (a cluster): it tells the other nodes that conversations changed
// (membership, blocks), so they drop what they cached about them at once
// instead of when the cache expires.
type ChangeAnnouncer interface {
	// AnnounceChanged tells the other nodes that ids changed. Best effort.
	AnnounceChanged(ids []ConversationID)
	// OnChanged registers f, called for every change another node
	// announced. f must return quickly.
	OnChanged(f func(ids []ConversationID))
}

// PresenceSharer is an optional capability of a Broker that spans several
// processes (a cluster): it shares which users have sessions on which node,
// so that presence is about the whole cluster rather than one node.
// Best effort: a node learns of another's changes a moment later.
type PresenceSharer interface {
	// SetLocalOnline tells the other nodes that user now has (online) or
	// no longer has sessions on this node.
	SetLocalOnline(user UserID, online bool)
	// OnlineElsewhere reports whether user has sessions on another node,
	// as far as this node knows.
	OnlineElsewhere(user UserID) bool
}

// CodeSender delivers phone verification codes (by SMS gateway, or to the log
// in development).
type CodeSender interface {
	SendCode(ctx context.Context, phone, code string) error
}
