package profile

import (
	"testing"

	"github.com/parleyhq/parley"
)

func TestTitle(t *testing.T) {
	for _, c := range []struct {
		name, username, phone string
		want                  string
	}{
		{"Ann", "ann", "+1555", "Ann"},
		{"", "ann", "+1555", "@ann"},
		{"", "", "+1555", "+1555"},
		{"", "", "", parley.UserID(42).String()},
	} {
		if got := Title(c.name, c.username, c.phone, 42); got != c.want {
			t.Errorf("Title(%q, %q, %q) = %q, want %q", c.name, c.username, c.phone, got, c.want)
		}
	}
}

func TestQuery(t *testing.T) {
	for who, want := range map[string]struct {
		id              int64
		username, phone string
	}{
		"":        {id: 7},
		"@ann":    {username: "ann"},
		"+1555":   {phone: "+1555"},
		"0044123": {phone: "0044123"},
		"u42":     {id: 42},
		"42":      {id: 42},
	} {
		q, err := query(who, 7)
		if err != nil {
			t.Fatalf("%q: %v", who, err)
		}
		if q.GetUserId() != want.id || q.GetUsername() != want.username || q.GetPhone() != want.phone {
			t.Errorf("query(%q) = %v, want %+v", who, q, want)
		}
	}
	for _, bad := range []string{"ann", "-3", "u0"} {
		if _, err := query(bad, 7); parley.ErrorReason(err) != ReasonBadPerson {
			t.Errorf("query(%q): %v", bad, err)
		}
	}
}
