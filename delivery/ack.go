package delivery

import (
	"context"
	"fmt"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/wire"
)

// Acker batching: at most maxAckBatch acks per write; from ackLingerMin
// queued acks (load), the acker waits up to Config.AckLinger for more.
const (
	maxAckBatch  = 4096
	ackLingerMin = 32
)

// ackReq is one cursor move waiting for the acker.
type ackReq struct {
	conv    parley.ConversationID
	device  parley.DeviceID
	user    parley.UserID
	seq     parley.Seq
	receipt bool        // push a delivered receipt once durable
	done    func(error) // may be nil
}

type ackKey struct {
	conv   parley.ConversationID
	device parley.DeviceID
}

// enqueueAck queues a cursor move for the acker.
func (s *Service) enqueueAck(ctx context.Context, r ackReq) error {
	s.gate.RLock()
	defer s.gate.RUnlock()
	if s.stopped {
		return s.unavailable()
	}
	select {
	case s.ackCh <- r:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// acker is the single goroutine that makes acknowledgements durable. It
// takes every queued ack, keeps the highest per (conversation, device),
// writes them (in one transaction when the store is an AckBatcher), then
// pushes delivered receipts and completes the requests.
func (s *Service) acker() {
	defer s.wg.Done()
	var batch []ackReq
	var linger *time.Timer
	if s.cfg.AckLinger > 0 {
		linger = time.NewTimer(time.Hour)
		linger.Stop()
		defer linger.Stop()
	}
	for {
		batch = batch[:0]
		select {
		case r := <-s.ackCh:
			batch = append(batch, r)
		case <-s.stopping:
			for {
				select {
				case r := <-s.ackCh:
					batch = append(batch, r)
				default:
					if len(batch) > 0 {
						s.writeAcks(batch)
					}
					return
				}
			}
		}
	fill:
		for len(batch) < maxAckBatch {
			select {
			case r := <-s.ackCh:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		if linger != nil && len(batch) >= ackLingerMin && len(batch) < maxAckBatch {
			// Under load: an ack's durability delays only its receipt (the
			// window slot is freed at once), so collect acks for longer than
			// sends; fewer, larger cursor commits cost less per ack.
			linger.Reset(s.cfg.AckLinger)
		wait:
			for len(batch) < maxAckBatch {
				select {
				case r := <-s.ackCh:
					batch = append(batch, r)
				case <-linger.C:
					break wait
				case <-s.stopping:
					break wait
				}
			}
			linger.Stop()
		}
		s.writeAcks(batch)
	}
}

func (s *Service) writeAcks(batch []ackReq) {
	ctx := context.WithoutCancel(s.ctx)
	s.stats.acks.Add(uint64(len(batch)))
	best := make(map[ackKey]int, len(batch)) // index of the highest ack per key
	order := make([]ackKey, 0, len(batch))
	for i, r := range batch {
		k := ackKey{r.conv, r.device}
		j, ok := best[k]
		if !ok {
			order = append(order, k)
			best[k] = i
		} else if r.seq > batch[j].seq || (r.seq == batch[j].seq && r.receipt) {
			best[k] = i
		}
	}
	errs := make(map[ackKey]error)
	start := time.Now()
	if ab, ok := s.store.(AckBatcher); ok && len(order) > 1 {
		cursors := make([]parley.Cursor, len(order))
		for i, k := range order {
			cursors[i] = parley.Cursor{Conversation: k.conv, Device: k.device, Acked: batch[best[k]].seq}
		}
		s.stats.ackWrites.Add(uint64(len(order)))
		if err := ab.AckBatch(ctx, cursors); err != nil {
			// Fall back to one by one, to attribute errors (a device that
			// left a conversation) to their requests.
			for _, k := range order {
				errs[k] = s.store.Ack(ctx, k.conv, k.device, batch[best[k]].seq)
			}
		}
	} else {
		for _, k := range order {
			s.stats.ackWrites.Add(1)
			errs[k] = s.store.Ack(ctx, k.conv, k.device, batch[best[k]].seq)
		}
	}
	s.latency.ack.Since(start)
	now := s.clock.Now()
	for _, k := range order {
		r := batch[best[k]]
		if err := errs[k]; err != nil {
			if !parley.IsCode(err, parley.CodeNotFound) {
				s.log.Error("ack", "conversation", k.conv, "device", k.device, "err", err)
			}
			continue
		}
		if !r.receipt {
			continue
		}
		ci, err := s.conv(ctx, k.conv)
		if err != nil || len(ci.members) > s.cfg.ReceiptMaxMembers {
			continue
		}
		frame := wire.ReceiptFrame(parley.Receipt{Conversation: k.conv, Kind: parley.ReceiptDelivered, User: r.user, Device: r.device, Seq: r.seq, At: now})
		s.publish(ci.devicesExcept(r.device), parley.Event{Kind: parley.EventSignal, Conversation: k.conv, Frame: frame})
	}
	for _, r := range batch {
		if r.done != nil {
			err := errs[ackKey{r.conv, r.device}]
			if err != nil {
				err = fmt.Errorf("ack %s: %w", r.conv, err)
			}
			r.done(err)
		}
	}
}

// MarkRead records that dev's user has read the conversation up to seq and
// pushes a read receipt (kind 2) to the other member devices. CodeForbidden
// "not_member" if dev is not a member.
func (s *Service) MarkRead(ctx context.Context, dev parley.Device, id parley.ConversationID, seq parley.Seq) error {
	ci, _, err := s.requireMember(ctx, id, dev.ID)
	if err != nil {
		return err
	}
	if seq < 0 {
		return parley.Errorf(parley.CodeInvalid, ReasonSeq, "seq must not be negative")
	}
	if err := s.store.MarkRead(ctx, id, dev.User, seq); err != nil {
		return fmt.Errorf("mark read %s: %w", id, err)
	}
	frame := wire.ReceiptFrame(parley.Receipt{Conversation: id, Kind: parley.ReceiptRead, User: dev.User, Seq: seq, At: s.clock.Now()})
	s.publish(ci.devicesExcept(dev.ID), parley.Event{Kind: parley.EventSignal, Conversation: id, Frame: frame})
	return nil
}

// Typing pushes a typing notice to the member devices of the other users.
// Never stored; best effort.
func (s *Service) Typing(ctx context.Context, dev parley.Device, id parley.ConversationID, typing bool) error {
	ci, _, err := s.requireMember(ctx, id, dev.ID)
	if err != nil {
		return err
	}
	if err := ci.checkBlocked(dev.User); err != nil {
		return err
	}
	s.publish(ci.devicesOfOthers(dev.User), parley.Event{Kind: parley.EventSignal, Conversation: id, Frame: wire.TypingFrame(id, dev.User, typing)})
	return nil
}
