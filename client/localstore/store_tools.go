package localstore

import (
	"cmp"
	"slices"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/content"
)

// The device-local chat tools: stars, delete for me, per-member receipts
// and the chat marks (mute until, marked unread). They are this device's
// alone: nothing of them is ever sent to the server or to other devices.

// MemberReceipt is when one member's devices first received a message and
// when the member first read it (zero: not yet, or not known here).
type MemberReceipt struct {
	User      parley.UserID
	Delivered time.Time
	Read      time.Time
}

// ChatMarks are a chat's device-local marks beyond ChatFlags.
type ChatMarks struct {
	// MutedUntil, when in the future, mutes the chat until then (a chat
	// muted for good has Chat.Muted instead).
	MutedUntil time.Time
	// Unread marks the chat unread by hand until it is opened.
	Unread bool
}

// IsZero reports whether m marks nothing.
func (m ChatMarks) IsZero() bool { return m.MutedUntil.IsZero() && !m.Unread }

// unixMs is t in Unix milliseconds, 0 for the zero time.
func unixMs(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// sortStarred orders starred messages most recently starred first (then
// by chat and seq).
func sortStarred(ms []content.MessageRecord, starredAt func(*content.MessageRecord) int64) {
	slices.SortFunc(ms, func(a, b content.MessageRecord) int {
		if c := cmp.Compare(starredAt(&b), starredAt(&a)); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Conversation, b.Conversation); c != 0 {
			return c
		}
		return cmp.Compare(a.Seq, b.Seq)
	})
}

// setReceipt records in by that user reached a position of kind at at
// (Unix ms), keeping the earliest.
func setReceipt(by map[parley.UserID]*MemberReceipt, user parley.UserID, kind parley.ReceiptKind, at int64) {
	r := by[user]
	if r == nil {
		r = &MemberReceipt{User: user}
		by[user] = r
	}
	t := time.UnixMilli(at)
	switch kind {
	case parley.ReceiptDelivered:
		if r.Delivered.IsZero() || t.Before(r.Delivered) {
			r.Delivered = t
		}
	case parley.ReceiptRead:
		if r.Read.IsZero() || t.Before(r.Read) {
			r.Read = t
		}
	}
}

// receiptList returns by's receipts by user id. A read implies delivery:
// a member whose read receipt came first (receipts of one member's devices
// race) shows delivered no later than read.
func receiptList(by map[parley.UserID]*MemberReceipt) []MemberReceipt {
	out := make([]MemberReceipt, 0, len(by))
	for _, r := range by {
		if !r.Read.IsZero() && (r.Delivered.IsZero() || r.Read.Before(r.Delivered)) {
			r.Delivered = r.Read
		}
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b MemberReceipt) int { return cmp.Compare(a.User, b.User) })
	return out
}
