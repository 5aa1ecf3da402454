package cloudapi

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/parleyhq/parley"
)

// The messaging tiers limit the unique customers a number sends templates
// to in a rolling 24 hours, as the Cloud API does: a customer counts from
// their last template until 24 hours after it.
//
// In memory each number keeps every counted customer's last template time,
// exactly, grouped by the hour it falls in, so that whole hours expire in
// one step and a send costs a few map operations. The store keeps one row
// per customer and UTC hour with a template ("2006-01-02T15"), written at
// a customer's first template of each hour (so at most once per customer
// per hour, not per send). After a restart, or at the first template of a
// new UTC day (which also picks up rows written by other nodes), the counted
// customers are read back from the store; a customer known only from the
// store counts until 24 hours after the end of its hour (at most an hour
// more than exact, never less).

// rollingWindow is the tier's window.
const rollingWindow = 24 * time.Hour

// hourKey is the store's period of t: its UTC hour.
func hourKey(t time.Time) string { return t.UTC().Format("2006-01-02T15") }

// periodEnd is the last instant of a stored period (an hour, or a day in
// records from before the rolling tiers); ok is false for a malformed one.
func periodEnd(p string) (time.Time, bool) {
	if t, err := time.Parse("2006-01-02T15", p); err == nil {
		return t.Add(time.Hour - time.Nanosecond), true
	}
	if t, err := time.Parse("2006-01-02", p); err == nil {
		return t.Add(24*time.Hour - time.Nanosecond), true
	}
	return time.Time{}, false
}

// recipients is a number's customers counted against its tier.
type recipients struct {
	last   map[parley.UserID]time.Time
	byHour map[int64]map[parley.UserID]struct{} // the hour (Unix/3600) of each one's last template
	oldest int64                                // no hour below it has customers
}

func hourOf(t time.Time) int64 { return t.Unix() / 3600 }

func (r *recipients) count() int { return len(r.last) }

// touch records a template to c at t (t never earlier than c's last).
func (r *recipients) touch(c parley.UserID, t time.Time) {
	if r.last == nil {
		r.last, r.byHour = map[parley.UserID]time.Time{}, map[int64]map[parley.UserID]struct{}{}
	}
	if old, ok := r.last[c]; ok {
		if !t.After(old) {
			return
		}
		if h := r.byHour[hourOf(old)]; h != nil {
			delete(h, c)
		}
	}
	r.last[c] = t
	h := hourOf(t)
	if r.byHour[h] == nil {
		r.byHour[h] = map[parley.UserID]struct{}{}
	}
	r.byHour[h][c] = struct{}{}
	if len(r.last) == 1 || h < r.oldest {
		r.oldest = h
	}
}

// expire drops the customers whose last template is 24 hours old or more
// at now: whole hours at once, and with exact also the ones of the hour
// the window's start falls in.
func (r *recipients) expire(now time.Time, exact bool) {
	if len(r.last) == 0 {
		return
	}
	cutoff := now.Add(-rollingWindow)
	ch := hourOf(cutoff)
	for h := r.oldest; h < ch; h++ {
		for c := range r.byHour[h] {
			delete(r.last, c)
		}
		delete(r.byHour, h)
	}
	r.oldest = max(r.oldest, ch)
	if !exact {
		return
	}
	for c := range r.byHour[ch] {
		if !r.last[c].After(cutoff) {
			delete(r.last, c)
			delete(r.byHour[ch], c)
		}
	}
}

// load merges the customers the store counts at now into r. A customer
// known only from the store counts from the end of its period (or from
// now, if that is earlier: the template was sent by now): never less than
// the exact time. One known in memory keeps its exact time.
func (r *recipients) load(stored map[parley.UserID]string, now time.Time) {
	cutoff := now.Add(-rollingWindow)
	for c, p := range stored {
		end, ok := periodEnd(p)
		if !ok || !end.After(cutoff) {
			continue
		}
		if end.After(now) {
			end = now
		}
		if last, known := r.last[c]; known && hourOf(last) >= hourOf(end) {
			continue
		}
		r.touch(c, end)
	}
}

// admitRecipient counts customer against the number's tier for a
// business-initiated (template) message, refusing a new recipient once the
// tier's unique customers in the last 24 hours are reached (131048). The
// first template of a UTC day evaluates quality and tier (newDay) and
// reads the counted customers from the store again.
func (s *Service) admitRecipient(ctx context.Context, business parley.UserID, nb *number, cust parley.UserID) error {
	now := s.clk.Now()
	today := dayOf(now)
	nb.mu.Lock()
	if nb.day != today {
		nb.mu.Unlock()
		s.newDay(ctx, business, nb)
		stored, err := s.st.RecentRecipients(ctx, business, dayOf(now.Add(-rollingWindow)))
		if err != nil {
			return err
		}
		nb.mu.Lock()
		if nb.day != today {
			nb.day = today
			nb.recent.load(stored, now)
		}
	}
	nb.recent.expire(now, false)
	last, counted := nb.recent.last[cust]
	if !counted && nb.n.Tier != parley.TierUnlimited && nb.recent.count() >= nb.n.Tier {
		nb.recent.expire(now, true)
		if nb.recent.count() >= nb.n.Tier {
			n := nb.recent.count()
			nb.mu.Unlock()
			return apiError(CodeSpamRateLimit, fmt.Sprintf("this number has sent templates to %d customers in the last 24 hours, its tier's limit (%s)", n, TierName(nb.n.Tier)))
		}
	}
	write := !counted || hourOf(last) != hourOf(now)
	nb.recent.touch(cust, now)
	nb.mu.Unlock()
	if !write {
		return nil
	}
	// Counted in memory before the write: a failed write leaves the
	// customer counted (never under-counted).
	_, err := s.st.AddRecipient(ctx, business, cust, hourKey(now))
	return err
}

// AdmitBroadcast is delivery.BroadcastPolicy: a broadcast-list copy from a
// business with an API number to customer is held to the rules of a
// MARKETING template: the customer must have opted in (CodeForbidden
// ReasonBroadcastNoOptIn) and not out (ReasonBroadcastOptedOut), and is
// counted against the number's tier of unique customers in 24 hours
// (CodeRateLimited ReasonBroadcastTier once it is used up). A copy the
// consent rule then withholds has been counted too: the count must not
// depend on the recipient's contacts. A sender without an API number is
// not counted.
func (s *Service) AdmitBroadcast(ctx context.Context, business, customer parley.UserID) error {
	nb, err := s.number(ctx, business)
	if err != nil {
		if _, ok := errors.AsType[*Error](err); ok {
			return nil // no API number: not a counted business
		}
		return err
	}
	cust, err := s.customerState(ctx, business, customer)
	if err != nil {
		return err
	}
	s.custMu.Lock()
	o := cust.optIn
	s.custMu.Unlock()
	if !o.OptedOutAt.IsZero() {
		return parley.Errorf(parley.CodeForbidden, ReasonBroadcastOptedOut, "the customer opted out of your marketing messages")
	}
	if o.At.IsZero() {
		return parley.Errorf(parley.CodeForbidden, ReasonBroadcastNoOptIn, "no opt-in is recorded for this customer: a business broadcasts only to customers who opted in")
	}
	if err := s.admitRecipient(ctx, business, nb, customer); err != nil {
		if ae, ok := errors.AsType[*Error](err); ok {
			return parley.Errorf(parley.CodeRateLimited, ReasonBroadcastTier, "%s", ae.Details)
		}
		return err
	}
	return nil
}
