package groups

import (
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/content"
)

func TestDescribeMembers(t *testing.T) {
	who := func(u parley.UserID) string {
		return map[parley.UserID]string{1: "you", 2: "Bob", 3: "Carol", 4: "Dan"}[u]
	}
	never := func(parley.UserID) bool { return false }
	for _, tc := range []struct {
		by            parley.UserID
		before, after []parley.UserID
		left          func(parley.UserID) bool
		want          string
	}{
		{2, []parley.UserID{1, 2}, []parley.UserID{1, 2, 3, 4}, never, "Bob added Carol and Dan"},
		{1, []parley.UserID{1, 2, 3}, []parley.UserID{1, 2}, never, "You removed Carol"},
		{2, []parley.UserID{1, 2, 3}, []parley.UserID{1, 2, 4}, never, "Bob added Dan and removed Carol"},
		{2, []parley.UserID{1, 2, 3}, []parley.UserID{1, 2}, func(u parley.UserID) bool { return u == 3 }, ""},
		{4, []parley.UserID{1, 2}, []parley.UserID{1, 2, 4}, never, "Dan joined"},
		{2, []parley.UserID{1, 2}, []parley.UserID{2, 1}, never, ""},
	} {
		if got := DescribeMembers(tc.by, tc.before, tc.after, tc.left, who); got != tc.want {
			t.Errorf("DescribeMembers(%d, %v, %v) = %q, want %q", tc.by, tc.before, tc.after, got, tc.want)
		}
	}
	if got := DescribeJoin(2, 1, false, who); got != "Bob added you" {
		t.Errorf("join: %q", got)
	}
	if got := DescribeJoin(1, 1, false, who); got != "" {
		t.Errorf("join from this user's own device: %q", got)
	}
	if got := DescribeJoin(2, 1, true, who); got != "Bob created the group and added you" {
		t.Errorf("the creation's Welcome: %q", got)
	}
	if got := DescribeJoin(1, 1, true, who); got != "You created the group" {
		t.Errorf("the creation's Welcome on the creator's other device: %q", got)
	}
	if got, u := DescribeLeft([]byte(`{"left_user":3}`), who); got != "Carol left" || u != 3 {
		t.Errorf("left: %q %d", got, u)
	}
	if got, _ := DescribeLeft([]byte(`{"group_change":"info"}`), who); got != "" {
		t.Errorf("not a leave: %q", got)
	}
	hist := []content.MessageRecord{{ClientID: "left/3/1700000000"}, {ClientID: "left/31/1"}}
	if !LeftIn(hist, 3) || LeftIn(hist, 2) || LeftIn(hist[1:], 3) {
		t.Error("LeftIn")
	}
}
