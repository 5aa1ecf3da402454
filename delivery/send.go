package delivery

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/wire"
)

// Stats are the service's counters since start.
type Stats struct {
	appended   atomic.Uint64
	duplicates atomic.Uint64
	batches    atomic.Uint64
	acks       atomic.Uint64
	ackWrites  atomic.Uint64
	pruned     atomic.Uint64
	presDrops  atomic.Uint64
	logReads   atomic.Uint64
	withheld   atomic.Uint64
}

// StatsSnapshot is a copy of the counters.
type StatsSnapshot struct {
	Appended      uint64 // envelopes appended
	Duplicates    uint64 // sends that were retries of an appended envelope
	Batches       uint64 // Append calls by the appender (group commits)
	Acks          uint64 // acknowledgements received
	AckWrites     uint64 // cursor writes after coalescing
	Pruned        uint64 // envelopes deleted by retention
	PresenceDrops uint64 // presence changes dropped because the queue was full
	LogReads      uint64 // ReadLog calls by streams (catch-up and gaps)
	Withheld      uint64 // broadcast copies withheld for want of consent
}

// Stats returns a snapshot of the counters.
func (s *Service) Stats() StatsSnapshot {
	return StatsSnapshot{
		Appended:      s.stats.appended.Load(),
		Duplicates:    s.stats.duplicates.Load(),
		Batches:       s.stats.batches.Load(),
		Acks:          s.stats.acks.Load(),
		AckWrites:     s.stats.ackWrites.Load(),
		Pruned:        s.stats.pruned.Load(),
		PresenceDrops: s.stats.presDrops.Load(),
		LogReads:      s.stats.logReads.Load(),
		Withheld:      s.stats.withheld.Load(),
	}
}

// SendParams is an envelope a device submits.
type SendParams struct {
	Conversation parley.ConversationID
	ClientID     parley.ClientMessageID
	Kind         parley.EnvelopeKind // EnvelopeApplication or EnvelopeProposal
	Epoch        parley.Epoch
	Payload      []byte
	// Broadcast marks a copy of a broadcast-list message: it is appended
	// only when the other member of the direct conversation has the sender
	// in their contacts (broadcast.go).
	Broadcast bool
}

// SendResult is the "sent" receipt.
type SendResult struct {
	Conversation parley.ConversationID
	ClientID     parley.ClientMessageID
	Seq          parley.Seq
	Duplicate    bool
	At           int64 // server time, Unix milliseconds
}

// MaxClientIDLen bounds client message ids.
const MaxClientIDLen = 64

// appendReq is one envelope waiting for the appender.
type appendReq struct {
	env    parley.Envelope
	fanout []parley.DeviceID // devices to push to after the append
	done   func(parley.AppendResult, error)
}

// Send validates and submits an envelope from dev. done is called exactly
// once, from the publisher goroutine, after the envelope is durable (or with
// the error); it must not block. Validation errors are returned directly and
// done is not called:
//   - CodeInvalid: bad conversation id, client id or kind
//   - CodeTooLarge "payload_too_large"
//   - CodeNotFound "conversation_not_found", CodeForbidden "not_member"
//   - CodeForbidden "admins_only_send" for any kind sent by a member who is
//     not an admin to a group where only admins send
//   - CodeBlocked "blocked" (the other user of a direct conversation blocks
//     the sender) or "blocked_by_you"
//   - CodeForbidden "recipient_suspended": the other user of a direct
//     conversation is suspended by the operator
//   - CodeUnavailable when shutting down
//   - CodeInvalid "broadcast_not_direct" for a broadcast copy to a group
//
// A broadcast copy (p.Broadcast) whose recipient does not have the sender
// in their contacts is withheld: done is called at once, before Send
// returns (not from the publisher), with a result whose Seq is 0, and
// nothing is stored or delivered.
//
// Send blocks only while the appender queue is full (back-pressure).
func (s *Service) Send(ctx context.Context, dev parley.Device, p SendParams, done func(SendResult, error)) error {
	if p.ClientID == "" || len(p.ClientID) > MaxClientIDLen || !utf8.ValidString(string(p.ClientID)) {
		return parley.Errorf(parley.CodeInvalid, ReasonClientID, "client_id must be 1 to %d bytes of UTF-8", MaxClientIDLen)
	}
	if p.Kind != parley.EnvelopeApplication && p.Kind != parley.EnvelopeProposal {
		return parley.Errorf(parley.CodeInvalid, parley.ReasonKind, "send accepts application (1) and proposal (2) envelopes only")
	}
	if len(p.Payload) > s.cfg.MaxPayloadBytes {
		return parley.Errorf(parley.CodeTooLarge, ReasonPayloadTooLarge, "payload is %d bytes; the limit is %d", len(p.Payload), s.cfg.MaxPayloadBytes)
	}
	ci, _, err := s.requireMember(ctx, p.Conversation, dev.ID)
	if err != nil {
		return err
	}
	if err := ci.checkBlocked(dev.User); err != nil {
		return err
	}
	if err := ci.checkSuspended(dev.User); err != nil {
		return err
	}
	if ci.kind == parley.KindGroup && s.groups != nil {
		// Every kind Send takes: a proposal is a post like any other (the
		// only handshakes a member of an admins-only group may send are
		// commits, which Commit checks).
		if err := s.groups.AuthorizeSend(ctx, p.Conversation, dev.User); err != nil {
			return err // e.g. CodeForbidden "admins_only_send" (cached check)
		}
	}
	now := s.clock.Now()
	if p.Broadcast {
		withhold, err := s.withholdBroadcast(ctx, ci, dev.User)
		if err != nil {
			return err
		}
		if withhold {
			s.stats.withheld.Add(1)
			done(SendResult{Conversation: p.Conversation, ClientID: p.ClientID, At: now.UnixMilli()}, nil)
			return nil
		}
	}
	r := &appendReq{
		env: parley.Envelope{
			Conversation: p.Conversation,
			Sender:       dev.User,
			SenderDevice: dev.ID,
			ClientID:     p.ClientID,
			Kind:         p.Kind,
			Epoch:        p.Epoch,
			Payload:      p.Payload,
			CreatedAt:    now,
		},
		fanout: ci.devicesExcept(dev.ID),
		done: func(res parley.AppendResult, err error) {
			if err != nil {
				done(SendResult{}, err)
				return
			}
			done(SendResult{Conversation: p.Conversation, ClientID: p.ClientID, Seq: res.Seq, Duplicate: res.Duplicate, At: now.UnixMilli()}, nil)
		},
	}
	return s.enqueueAppend(ctx, r)
}

func (s *Service) enqueueAppend(ctx context.Context, r *appendReq) error {
	s.gate.RLock()
	defer s.gate.RUnlock()
	if s.stopped {
		return s.unavailable()
	}
	select {
	case s.appendCh <- r:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// appendSync appends envelopes through the appender and waits for them to be
// durable and published.
func (s *Service) appendSync(ctx context.Context, envs []parley.Envelope, fanout func(parley.Envelope) []parley.DeviceID) ([]parley.AppendResult, error) {
	results := make([]parley.AppendResult, len(envs))
	errs := make(chan error, len(envs))
	for i := range envs {
		i := i
		r := &appendReq{env: envs[i], fanout: fanout(envs[i]), done: func(res parley.AppendResult, err error) {
			results[i] = res
			errs <- err
		}}
		if err := s.enqueueAppend(ctx, r); err != nil {
			return nil, err
		}
	}
	var first error
	for range envs {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return results, first
}

// appended is a committed batch on its way to the publisher.
type appended struct {
	batch   []*appendReq
	envs    []parley.Envelope
	results []parley.AppendResult
	err     error
}

// appender is the single goroutine that group-commits envelopes: it takes
// every queued request (up to MaxBatch) and appends them in one
// LogStore.Append. It hands each committed batch to the publisher and goes
// straight on to the next, so publishing one batch overlaps committing the
// next.
func (s *Service) appender() {
	defer s.wg.Done()
	defer close(s.publishCh)
	for {
		batch := make([]*appendReq, 0, 64)
		select {
		case r := <-s.appendCh:
			batch = append(batch, r)
		case <-s.stopping:
			// Commit what was queued before Shutdown, then stop.
			for {
				select {
				case r := <-s.appendCh:
					s.commit([]*appendReq{r})
				default:
					return
				}
			}
		}
	fill:
		for len(batch) < s.cfg.MaxBatch {
			select {
			case r := <-s.appendCh:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		s.commit(batch)
	}
}

// commit appends the batch's envelopes durably and queues the batch for the
// publisher.
func (s *Service) commit(batch []*appendReq) {
	envs := make([]parley.Envelope, len(batch))
	for i, r := range batch {
		envs[i] = r.env
	}
	start := time.Now()
	results, err := s.store.Append(context.WithoutCancel(s.ctx), envs)
	s.latency.append.Since(start)
	s.stats.batches.Add(1)
	if err == nil && len(results) != len(batch) {
		err = fmt.Errorf("append: store returned %d results for %d envelopes", len(results), len(batch))
	}
	s.publishCh <- appended{batch: batch, envs: envs, results: results, err: err}
}

// publisher is the single goroutine that publishes committed batches in the
// order they were committed: each new envelope once (one encoded frame for
// every recipient device), then it completes the batch's requests in order.
// One goroutine keeps every conversation's envelopes published in Seq order.
func (s *Service) publisher() {
	defer s.wg.Done()
	for a := range s.publishCh {
		s.publishBatch(a)
	}
}

func (s *Service) publishBatch(a appended) {
	if a.err != nil {
		s.log.Error("append batch", "envelopes", len(a.batch), "err", a.err)
		err := fmt.Errorf("append: %w", a.err)
		for _, r := range a.batch {
			r.done(parley.AppendResult{}, err)
		}
		return
	}
	for i, r := range a.batch {
		res := a.results[i]
		if res.Err != nil {
			r.done(res, res.Err)
			continue
		}
		if res.Duplicate {
			s.stats.duplicates.Add(1)
		} else {
			s.stats.appended.Add(1)
			env := &a.envs[i]
			env.Seq = res.Seq
			frame := wire.EnvelopeFrame(env)
			s.publish(r.fanout, parley.Event{Kind: parley.EventEnvelope, Conversation: env.Conversation, Seq: env.Seq, Frame: frame})
			s.notify.appended(env, r.fanout)
		}
		r.done(res, nil)
	}
}
