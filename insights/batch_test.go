package insights_test

import (
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley"
)

// TestRecordBatch: a batch is recorded in one write, once per (business,
// message, status) like Record; invalid events are reported and left out.
func TestRecordBatch(t *testing.T) {
	svc, _ := newService(t)
	evs := []parley.MessageEvent{
		{Business: 1, MessageID: "b1", Customer: "c1", Template: "offer", Status: "sent", At: t0},
		{Business: 1, MessageID: "b2", Customer: "c2", Template: "offer", Status: "sent", At: t0},
		{Business: 1, MessageID: "b1", Status: "delivered", At: t0.Add(time.Minute)},
		{Business: 1, MessageID: "b1", Status: "delivered", At: t0.Add(2 * time.Minute)}, // repeat
		{Business: 1, MessageID: "", Status: "sent"},                                     // invalid
		{Business: 1, MessageID: "b3", Status: "bogus"},                                  // invalid
	}
	err := svc.RecordBatch(t.Context(), evs)
	if err == nil || !strings.Contains(err.Error(), "message id") || !strings.Contains(err.Error(), "bogus") {
		t.Fatalf("RecordBatch error = %v, want both invalid events reported", err)
	}
	r, err := svc.Report(t.Context(), parley.InsightsQuery{Business: 1, From: t0.Add(-time.Hour), To: t0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if r.Total.Sent != 2 || r.Total.Delivered != 1 {
		t.Fatalf("totals after a batch: %+v", r.Total)
	}
	if len(r.Templates) != 1 || r.Templates[0].Key != "offer" || r.Templates[0].Delivered != 1 {
		t.Fatalf("templates after a batch: %+v", r.Templates)
	}
}
