package groups

import (
	"testing"

	"github.com/parleyhq/parley"
)

func TestDescribeChange(t *testing.T) {
	who := func(u parley.UserID) string { return map[parley.UserID]string{1: "Ann", 2: "Bob"}[u] }
	name, yes, no, empty := "Walkers", true, false, parley.ConversationID("")
	for _, tc := range []struct {
		p    parley.GroupChange
		want string
	}{
		{parley.GroupChange{Change: "info", By: 1, Name: &name, OnlyAdminsSend: &yes}, `Ann changed the group name to "Walkers"; allowed only admins to send messages`},
		{parley.GroupChange{Change: "role", By: 1, User: 2, Admin: &no}, "Ann removed Bob as admin"},
		{parley.GroupChange{Change: "community", By: 2, Community: &empty}, "Bob removed this group from its community"},
		{parley.GroupChange{Change: "role", By: 1, User: 2}, ""},
		{parley.GroupChange{Change: "info", By: 1}, ""},
		{parley.GroupChange{Change: "unknown", By: 1}, ""},
	} {
		if got := DescribeChange(tc.p, who); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.p, got, tc.want)
		}
	}
}
