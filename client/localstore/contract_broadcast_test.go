package localstore

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley"
)

// TestContractBroadcastLists: lists are created, replaced (renamed,
// edited), listed by name, survive a reopen and are deleted; deleting a
// missing list is CodeNotFound.
func TestContractBroadcastLists(t *testing.T) {
	forEachStore(t, func(t *testing.T, reopen func() Store) {
		ctx := context.Background()
		s := reopen()
		at := time.UnixMilli(1_700_000_000_000)
		must(t, s.PutBroadcastList(ctx, BroadcastList{ID: "l2", Name: "zeta", Recipients: []parley.UserID{3, 1, 2}, CreatedAt: at}))
		must(t, s.PutBroadcastList(ctx, BroadcastList{ID: "l1", Name: "alpha", Recipients: []parley.UserID{9}, CreatedAt: at}))
		must(t, s.PutBroadcastList(ctx, BroadcastList{ID: "l1", Name: "beta", Recipients: []parley.UserID{9, 8}, CreatedAt: at}))

		s = reopen()
		ls, err := s.BroadcastLists(ctx)
		must(t, err)
		if len(ls) != 2 || ls[0].ID != "l1" || ls[0].Name != "beta" || !slices.Equal(ls[0].Recipients, []parley.UserID{9, 8}) ||
			ls[1].Name != "zeta" || !slices.Equal(ls[1].Recipients, []parley.UserID{3, 1, 2}) || !ls[1].CreatedAt.Equal(at) {
			t.Fatalf("lists: %+v", ls)
		}
		ls[0].Recipients[0] = 100 // the caller's copy
		if again, _ := s.BroadcastLists(ctx); again[0].Recipients[0] != 9 {
			t.Fatal("BroadcastLists shares its slices with the store")
		}

		must(t, s.DeleteBroadcastList(ctx, "l2"))
		if err := s.DeleteBroadcastList(ctx, "l2"); !parley.IsCode(err, parley.CodeNotFound) {
			t.Fatalf("delete again: %v", err)
		}
		s = reopen()
		if ls, err := s.BroadcastLists(ctx); err != nil || len(ls) != 1 || ls[0].ID != "l1" {
			t.Fatalf("after delete: %+v, %v", ls, err)
		}
	})
}
