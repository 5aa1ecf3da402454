package client_test

import (
	"context"
	"testing"
	"time"

	"github.com/parleyhq/parley/client"
)

// registerIn registers a user whose client keeps its state in dir, so that
// the test can close the client and open it again.
func registerIn(t *testing.T, ts *testServer, dir, phone, name string) *user {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c := mustOpen(t, dir)
	if _, err := c.Register(ctx, ts.URL, phone, name); err != nil {
		t.Fatalf("register %s: %v", phone, err)
	}
	if _, err := c.Verify(ctx, ts.Codes.MustCode(t, phone), ""); err != nil {
		t.Fatalf("verify %s: %v", phone, err)
	}
	return &user{Client: c, phone: phone}
}

// TestReceiptsWhileOffline: receipts are pushed only live; a sender device
// that was offline when the recipient's device acknowledged or the
// recipient read learns the positions when it syncs again.
func TestReceiptsWhileOffline(t *testing.T) {
	for _, tc := range []struct {
		name string
		read bool
		want client.Status
	}{
		{"read", true, client.StatusRead},
		{"delivered", false, client.StatusDelivered},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := mustServer(t)
			ctx := ctxT(t)
			aliceDir, bobDir := t.TempDir(), t.TempDir()
			alice := registerIn(t, ts, aliceDir, phone(1), "Alice")
			bob := registerIn(t, ts, bobDir, phone(2), "Bob")
			bob.Close()

			m, err := alice.Send(ctx, bob.phone, "while you were away")
			if err != nil {
				t.Fatalf("send: %v", err)
			}
			if m.Status != client.StatusSent {
				t.Fatalf("sent message = %+v, want status sent", m)
			}
			alice.Close()

			// Bob comes online, receives (his device acks), maybe reads.
			bobC := mustOpen(t, bobDir)
			mustEvent(t, bobC, "bob receives", isMessage("while you were away"))
			if err := bobC.Sync(ctx); err != nil {
				t.Fatal(err)
			}
			if tc.read {
				if _, err := bobC.MarkRead(ctx, string(m.Conversation)); err != nil {
					t.Fatal(err)
				}
			}
			// Let the ack become durable before bob goes (acks are async).
			time.Sleep(200 * time.Millisecond)
			bobC.Close()

			// Alice reopens and syncs: no receipt is pushed live now.
			aliceC := mustOpen(t, aliceDir)
			var got client.Status
			deadline := time.Now().Add(10 * time.Second)
			for {
				if err := aliceC.Sync(ctx); err != nil {
					t.Fatal(err)
				}
				_, hist, err := aliceC.History(ctx, string(m.Conversation), 0)
				if err != nil {
					t.Fatal(err)
				}
				if len(hist) != 1 {
					t.Fatalf("alice's history = %+v, want one message", hist)
				}
				got = hist[0].Status
				if got == tc.want || time.Now().After(deadline) {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if got != tc.want {
				t.Fatalf("alice's message status = %q, want %q", got, tc.want)
			}
			if !tc.read {
				// Still only delivered after another sync: nothing was read.
				time.Sleep(200 * time.Millisecond)
				if err := aliceC.Sync(ctx); err != nil {
					t.Fatal(err)
				}
				if _, hist, _ := aliceC.History(ctx, string(m.Conversation), 0); len(hist) != 1 || hist[0].Status != client.StatusDelivered {
					t.Fatalf("alice's history = %+v, want one delivered message", hist)
				}
			}
		})
	}
}
