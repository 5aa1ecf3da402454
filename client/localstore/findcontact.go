package localstore

import (
	"context"
	"strconv"
	"strings"

	"github.com/parleyhq/parley"
)

// FindContact finds, in a device's contact book (st), the person ref names
// ("+E164" or "00…" phone, "@username" or user id) as the server last
// described them. Phones compare by their digits; usernames without case.
func FindContact(ctx context.Context, st Store, ref string) (Contact, bool) {
	ref = strings.TrimSpace(ref)
	var match func(Contact) bool
	switch {
	case strings.HasPrefix(ref, "@"):
		name := ref[1:]
		match = func(ct Contact) bool { return ct.Username != "" && strings.EqualFold(ct.Username, name) }
	case strings.HasPrefix(ref, "+") || strings.HasPrefix(ref, "00"):
		digits := phoneDigits(strings.TrimPrefix(ref, "00"))
		match = func(ct Contact) bool { return digits != "" && phoneDigits(ct.Phone) == digits }
	default:
		id, err := strconv.ParseInt(strings.TrimPrefix(ref, "u"), 10, 64)
		if err != nil || id <= 0 {
			return Contact{}, false
		}
		ct, err := st.Contact(ctx, parley.UserID(id))
		return ct, err == nil
	}
	cts, err := st.Contacts(ctx)
	if err != nil {
		return Contact{}, false
	}
	for _, ct := range cts {
		if match(ct) {
			return ct, true
		}
	}
	return Contact{}, false
}

// phoneDigits keeps a phone number's digits: "+1 (555) 010-0000" and
// "+15550100000" are the same number.
func phoneDigits(phone string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, phone)
}
