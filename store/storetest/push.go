package storetest

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
)

// RunPush runs the contract tests of parley.PushStore. open returns a store
// that is empty on the first call for a given t; a second call with the
// same t reopens the same data (both are closed by the caller's cleanup).
func RunPush(t *testing.T, open func(t *testing.T) parley.PushStore) {
	t.Run("VAPIDKey", func(t *testing.T) { testVAPIDKey(t, open) })
	t.Run("Subscriptions", func(t *testing.T) { testPushSubscriptions(t, open(t)) })
}

func testVAPIDKey(t *testing.T, open func(t *testing.T) parley.PushStore) {
	ctx := context.Background()
	s := open(t)
	at := time.Unix(1_700_000_000, 0)
	// Concurrent first starts agree on one key.
	keys := make([]parley.VAPIDKey, 8)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k, err := s.EnsureVAPIDKey(ctx, parley.VAPIDKey{Private: []byte{byte(i), 1}, Public: []byte{byte(i), 2}, CreatedAt: at})
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
		}()
	}
	wg.Wait()
	for _, k := range keys[1:] {
		if !bytes.Equal(k.Private, keys[0].Private) || !bytes.Equal(k.Public, keys[0].Public) {
			t.Fatalf("keys differ: %v vs %v", k, keys[0])
		}
	}
	if keys[0].Private[0] != keys[0].Public[0] || !keys[0].CreatedAt.Equal(at) {
		t.Fatalf("stored key %+v is not one of those given", keys[0])
	}
	// It survives reopening and is not replaced.
	s2 := open(t)
	k, err := s2.EnsureVAPIDKey(ctx, parley.VAPIDKey{Private: []byte("new"), Public: []byte("new"), CreatedAt: at})
	must(t, err)
	if !bytes.Equal(k.Private, keys[0].Private) {
		t.Fatalf("reopened key %v, want %v", k, keys[0])
	}
}

func testPushSubscriptions(t *testing.T, s parley.PushStore) {
	ctx := context.Background()
	at := time.Unix(1_700_000_000, 0)
	sub := func(ep string, d parley.DeviceID) parley.PushSubscription {
		return parley.PushSubscription{Endpoint: ep, Device: d, User: parley.UserID(d * 10), P256DH: []byte("key-" + ep), Auth: []byte("auth-" + ep), CreatedAt: at}
	}
	must(t, s.PutPushSubscription(ctx, sub("https://push.example/b", 2)))
	must(t, s.PutPushSubscription(ctx, sub("https://push.example/a", 2)))
	must(t, s.PutPushSubscription(ctx, sub("https://push.example/c", 3)))
	got, err := s.PushSubscriptions(ctx, []parley.DeviceID{3, 2, 99})
	must(t, err)
	var eps []string
	for _, g := range got {
		eps = append(eps, g.Endpoint)
	}
	equal(t, "endpoints", eps, []string{"https://push.example/a", "https://push.example/b", "https://push.example/c"})
	if g := got[0]; g.Device != 2 || g.User != 20 || string(g.P256DH) != "key-https://push.example/a" || string(g.Auth) != "auth-https://push.example/a" || !g.CreatedAt.Equal(at) {
		t.Fatalf("subscription %+v", g)
	}
	if none, err := s.PushSubscriptions(ctx, nil); err != nil || len(none) != 0 {
		t.Fatalf("no devices: %v %v", none, err)
	}

	// The same endpoint re-subscribed by another device moves to it.
	must(t, s.PutPushSubscription(ctx, sub("https://push.example/c", 4)))
	got, err = s.PushSubscriptions(ctx, []parley.DeviceID{3, 4})
	must(t, err)
	if len(got) != 1 || got[0].Device != 4 || got[0].User != 40 {
		t.Fatalf("moved subscription: %+v", got)
	}

	// A device deletes only its own; device 0 deletes any.
	must(t, s.DeletePushSubscription(ctx, 3, "https://push.example/c"))
	got, _ = s.PushSubscriptions(ctx, []parley.DeviceID{4})
	equal(t, "after another device's delete", len(got), 1)
	must(t, s.DeletePushSubscription(ctx, 4, "https://push.example/c"))
	must(t, s.DeletePushSubscription(ctx, 0, "https://push.example/a"))
	must(t, s.DeletePushSubscription(ctx, 0, "https://push.example/missing"))
	got, _ = s.PushSubscriptions(ctx, []parley.DeviceID{2, 3, 4})
	if len(got) != 1 || got[0].Endpoint != "https://push.example/b" {
		t.Fatalf("after deletes: %+v", got)
	}
}
