// Package insights counts what happens to a business's messages — sent,
// delivered, read, failed, replied, and inbound customer messages — per
// message, template, campaign and day, measures response times (from a
// customer's first unanswered message to the business's next message), and
// serves them: a JSON endpoint, SVG charts, a self-contained dashboard page
// and Prometheus metrics for operators.
//
// Guarantees: Record is durable when it returns (parley.InsightsStore) and
// idempotent per (business, message, status), so the API may report a status
// again after a retry without double counting.
package insights

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/groupcommit"
	"github.com/parleyhq/parley/latency"
)

// Service records and reports MessageEvents. It implements
// parley.InsightsRecorder.
type Service struct {
	store  parley.InsightsStore
	clock  parley.Clock
	log    *slog.Logger
	record groupcommit.Batcher[parley.MessageEvent]
}

var _ parley.InsightsRecorder = (*Service)(nil)

// Batching returns how many message events wait in memory behind the
// group commit in progress.
func (s *Service) Batching() int { return s.record.Waiting() }

// RecordLatency returns how long the group commits of message events took.
func (s *Service) RecordLatency() latency.Snapshot { return s.record.WriteLatency() }

// New returns a Service over store.
func New(store parley.InsightsStore, clock parley.Clock, log *slog.Logger) *Service {
	if clock == nil {
		clock = parley.SystemClock{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Service{store: store, clock: clock, log: log}
	s.record.Write = store.RecordMessageEvents
	return s
}

// MaxField bounds every string of a MessageEvent.
const MaxField = 256

// Record counts ev once, durably when it returns. A zero At means now. Errors: CodeInvalid with
// reason "bad_message_event" for a missing business or message id, an
// unknown status, an inbound event without a customer, or a field over
// MaxField bytes.
func (s *Service) Record(ctx context.Context, ev parley.MessageEvent) error {
	if err := s.check(&ev); err != nil {
		return err
	}
	// Concurrent Records share one transaction (group commit).
	return s.record.Do(ctx, ev)
}

// RecordBatch counts every event of evs once, in one durable write, when
// it returns nil. Invalid events (as Record) are left out and reported
// (the valid ones are still recorded).
func (s *Service) RecordBatch(ctx context.Context, evs []parley.MessageEvent) error {
	ok := make([]parley.MessageEvent, 0, len(evs))
	var errs []error
	for _, ev := range evs {
		if err := s.check(&ev); err != nil {
			errs = append(errs, err)
			continue
		}
		ok = append(ok, ev)
	}
	if len(ok) > 0 {
		if err := s.store.RecordMessageEvents(ctx, ok); err != nil {
			return err
		}
	}
	return errors.Join(errs...)
}

// check validates ev and sets a zero At to now.
func (s *Service) check(ev *parley.MessageEvent) error {
	if ev.Business <= 0 || ev.MessageID == "" {
		return parley.Errorf(parley.CodeInvalid, ReasonBadMessageEvent, "a message event needs a business and a message id")
	}
	switch ev.Status {
	case parley.StatusSent, parley.StatusDelivered, parley.StatusRead, parley.StatusFailed, parley.StatusReplied:
	case parley.StatusInbound:
		if ev.Customer == "" {
			return parley.Errorf(parley.CodeInvalid, ReasonBadMessageEvent, "an inbound event needs the customer")
		}
	default:
		return parley.Errorf(parley.CodeInvalid, ReasonBadMessageEvent, "unknown status %q", ev.Status)
	}
	for _, f := range []string{ev.MessageID, ev.Customer, ev.Template, ev.Category, ev.Campaign} {
		if len(f) > MaxField {
			return parley.Errorf(parley.CodeInvalid, ReasonBadMessageEvent, "a message event field is over %d bytes", MaxField)
		}
	}
	if ev.At.IsZero() {
		ev.At = s.clock.Now()
	}
	ev.At = ev.At.UTC()
	return nil
}

// ResponseStats summarises response times in seconds.
type ResponseStats struct {
	Count   int     `json:"count"`
	Average float64 `json:"avg_seconds"`
	Median  float64 `json:"p50_seconds"`
	P90     float64 `json:"p90_seconds"`
	Max     float64 `json:"max_seconds"`
	// Buckets counts answers by delay: <1 min, <5 min, <15 min, <1 h, <4 h,
	// <24 h, ≥24 h (BucketLabels).
	Buckets []int `json:"buckets"`
}

// BucketLabels name ResponseStats.Buckets.
var BucketLabels = []string{"<1m", "<5m", "<15m", "<1h", "<4h", "<24h", "≥24h"}

var bucketBounds = []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour, 4 * time.Hour, 24 * time.Hour}

// Rates are shares of sent messages (0 when nothing was sent).
type Rates struct {
	Delivered float64 `json:"delivered"`
	Read      float64 `json:"read"`
	Replied   float64 `json:"replied"`
	Failed    float64 `json:"failed"`
}

// Report is a business's insights over [From, To).
type Report struct {
	Business  parley.UserID        `json:"business"`
	From      time.Time            `json:"from"`
	To        time.Time            `json:"to"`
	Template  string               `json:"template,omitempty"`
	Campaign  string               `json:"campaign,omitempty"`
	Total     parley.StatusCounts  `json:"total"`
	Rates     Rates                `json:"rates"`
	Days      []parley.InsightsRow `json:"days"`
	Templates []parley.InsightsRow `json:"templates"`
	Campaigns []parley.InsightsRow `json:"campaigns"`
	Responses ResponseStats        `json:"response_times"`
}

// maxResponses bounds the answers a report reads for its response times.
const maxResponses = 100_000

// Report computes the insights of q. A zero To means now; a zero From means
// 30 days before To. Errors: CodeInvalid if From is not before To or the
// range is over 400 days.
func (s *Service) Report(ctx context.Context, q parley.InsightsQuery) (Report, error) {
	if q.To.IsZero() {
		q.To = s.clock.Now()
	}
	if q.From.IsZero() {
		q.From = q.To.AddDate(0, 0, -30)
	}
	q.From, q.To = q.From.UTC(), q.To.UTC()
	if !q.From.Before(q.To) || q.To.Sub(q.From) > 400*24*time.Hour {
		return Report{}, parley.Errorf(parley.CodeInvalid, parley.ReasonBadRange, "want from before to, at most 400 days apart")
	}
	r := Report{Business: q.Business, From: q.From, To: q.To, Template: q.Template, Campaign: q.Campaign}
	var err error
	r.Total, r.Days, r.Templates, r.Campaigns, err = s.store.InsightsTotals(ctx, q)
	if err != nil {
		return r, err
	}
	r.Days, r.Templates, r.Campaigns = nonNil(r.Days), nonNil(r.Templates), nonNil(r.Campaigns)
	if t := float64(r.Total.Sent); t > 0 {
		r.Rates = Rates{Delivered: float64(r.Total.Delivered) / t, Read: float64(r.Total.Read) / t, Replied: float64(r.Total.Replied) / t, Failed: float64(r.Total.Failed) / t}
	}
	rts, err := s.store.ResponseTimes(ctx, q, maxResponses)
	if err != nil {
		return r, err
	}
	r.Responses = Summarise(rts)
	return r, nil
}

// Summarise computes response-time statistics.
func Summarise(rts []parley.ResponseTime) ResponseStats {
	st := ResponseStats{Count: len(rts), Buckets: make([]int, len(BucketLabels))}
	if len(rts) == 0 {
		return st
	}
	secs := make([]float64, len(rts))
	sum := 0.0
	for i, rt := range rts {
		d := rt.SentAt.Sub(rt.InboundAt)
		secs[i] = d.Seconds()
		sum += secs[i]
		b, _ := slices.BinarySearchFunc(bucketBounds, d, func(bound, d time.Duration) int {
			if bound <= d {
				return -1
			}
			return 1
		})
		st.Buckets[b]++
	}
	slices.Sort(secs)
	st.Average = sum / float64(len(secs))
	st.Median = secs[len(secs)/2]
	st.P90 = secs[min(len(secs)-1, len(secs)*9/10)]
	st.Max = secs[len(secs)-1]
	return st
}

// Message returns the statuses of one message of business.
func (s *Service) Message(ctx context.Context, business parley.UserID, id string) (parley.MessageStatuses, error) {
	return s.store.MessageStatuses(ctx, business, id)
}

func nonNil(r []parley.InsightsRow) []parley.InsightsRow {
	if r == nil {
		return []parley.InsightsRow{}
	}
	return r
}
