package cloudapi

import (
	"context"
	"sync"
	"time"

	"github.com/parleyhq/parley"
)

// ContactWindow is how recently a business must have sent a customer a
// message for that customer's reports and blocks to count against its
// quality rating. A stranger who never got a message (or got the last one
// longer ago) cannot lower the rating: Report refuses them with
// ReasonNotRecentCustomer, and their blocks are left out of the count.
const ContactWindow = 30 * 24 * time.Hour

// ReasonNotRecentCustomer is the reason of the CodeForbidden Report
// answers a customer the business sent no message in ContactWindow.
const ReasonNotRecentCustomer = "not_a_recent_customer"

// contactNoteEvery bounds the store writes of noteContact: a pair's time
// is written again only when it moved by this much, so ContactWindow is
// honoured to within it.
const contactNoteEvery = time.Hour

// contactCache remembers the last time written per (business, customer).
type contactCache struct {
	mu   sync.Mutex
	last map[[2]parley.UserID]time.Time
}

// noteContact records that business sent customer a message at at (a sent,
// delivered or read status of the hosted endpoint's message). Errors are
// logged: a lost note only means a later report is refused.
func (s *Service) noteContact(ctx context.Context, business, customer parley.UserID, at time.Time) {
	if customer == 0 {
		return
	}
	k := [2]parley.UserID{business, customer}
	c := &s.contacts
	c.mu.Lock()
	if prev, ok := c.last[k]; ok && at.Sub(prev) < contactNoteEvery {
		c.mu.Unlock()
		return
	}
	if c.last == nil || len(c.last) > 100000 {
		c.last = map[[2]parley.UserID]time.Time{}
	}
	c.last[k] = at
	c.mu.Unlock()
	if err := s.st.NoteContact(ctx, business, customer, at); err != nil {
		c.mu.Lock()
		delete(c.last, k)
		c.mu.Unlock()
		s.log.Error("note contact", "business", business, "err", err)
	}
}

// NoteContact records that business messaged customer at at from one of
// its own devices (not through the API): the hosted endpoint sees those
// messages too (hosted.ContactNoter).
func (s *Service) NoteContact(ctx context.Context, business, customer parley.UserID, at time.Time) {
	s.noteContact(ctx, business, customer, at)
}

// checkRecentCustomer refuses (CodeForbidden ReasonNotRecentCustomer) a
// customer business sent no message in ContactWindow.
func (s *Service) checkRecentCustomer(ctx context.Context, business, customer parley.UserID) error {
	at, err := s.st.LastContact(ctx, business, customer)
	if err != nil {
		return err
	}
	if at.IsZero() || s.clk.Now().Sub(at) > ContactWindow {
		return parley.Errorf(parley.CodeForbidden, ReasonNotRecentCustomer,
			"only customers this business sent a message in the last %d days can report it", int(ContactWindow/(24*time.Hour)))
	}
	return nil
}
