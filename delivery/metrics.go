package delivery

import "github.com/parleyhq/parley/latency"

// Store operations on the delivery path whose latency is measured
// (StoreLatency). The set is fixed: one time series each.
const (
	OpAppend     = "append"      // a group commit of new envelopes (Store.Append)
	OpAck        = "ack"         // a batch of cursor writes (AckBatch, or Ack one by one)
	OpReadLog    = "read_log"    // a stream's read of a conversation's log (catch-up, gaps)
	OpCursors    = "cursors"     // a device's cursors, when its stream attaches or resyncs
	OpMember     = "member"      // a device's membership and cursor in one conversation
	OpMembership = "conv_member" // a conversation's members, on a membership cache miss
)

// storeLatency holds one histogram per operation; observing is atomic adds.
type storeLatency struct {
	append, ack, readLog, cursors, member, membership latency.Histogram
}

// OpLatency is the latency histogram of one store operation.
type OpLatency struct {
	Op string
	latency.Snapshot
}

// StoreLatency returns how long the store operations on the delivery path
// took since start, one histogram per operation (OpAppend…), in a fixed
// order.
func (s *Service) StoreLatency() []OpLatency {
	l := &s.latency
	return []OpLatency{
		{OpAppend, l.append.Snapshot()}, {OpAck, l.ack.Snapshot()}, {OpReadLog, l.readLog.Snapshot()},
		{OpCursors, l.cursors.Snapshot()}, {OpMember, l.member.Snapshot()}, {OpMembership, l.membership.Snapshot()},
	}
}

// Queue is the depth of one of the service's in-memory queues and its
// capacity (the depth at which its producers block or drop).
type Queue struct {
	Name       string
	Depth, Cap int
}

// Queues returns the depths of the service's queues at this moment:
// "append" (sends waiting for the group commit: Send blocks when full),
// "publish" (committed batches waiting for the publisher), "ack"
// (acknowledgements waiting to be written) and "presence" (presence
// changes waiting to be announced; dropped and counted when full).
// Reading them takes no lock and costs the senders nothing.
func (s *Service) Queues() []Queue {
	return []Queue{
		{"append", len(s.appendCh), cap(s.appendCh)},
		{"publish", len(s.publishCh), cap(s.publishCh)},
		{"ack", len(s.ackCh), cap(s.ackCh)},
		{"presence", len(s.presCh), cap(s.presCh)},
	}
}
