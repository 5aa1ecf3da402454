package moderation_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/moderation"
)

const conv = "cabcdefghijklmnopqrstuvwxyz" // a valid conversation id shape

func evidence(n int, text string) string {
	var es []string
	for i := range n {
		es = append(es, fmt.Sprintf(`{"seq":%d,"sender":7,"sent_at":"2026-12-01T10:00:00Z","kind":"text","text":%q}`, i+1, text))
	}
	return "[" + strings.Join(es, ",") + "]"
}

// escapedEvidence is n messages of the longest text, every character one
// that encoding/json escapes (<, six bytes).
func escapedEvidence(n int) string {
	var ev []parley.ReportEvidence
	for i := range n {
		ev = append(ev, parley.ReportEvidence{Seq: parley.Seq(i + 1), Sender: 7, Kind: "text", Text: strings.Repeat("<", moderation.MaxEvidenceText)})
	}
	b, _ := json.Marshal(ev)
	return string(b)
}

func TestDecodeReport(t *testing.T) {
	if !parley.ConversationID(conv).Valid() {
		t.Fatalf("the test's conversation id %q is not valid", conv)
	}
	for name, tc := range map[string]struct {
		body   string
		reason string
	}{
		"user":                {`{"target":"user","user":7,"category":"spam"}`, ""},
		"chat":                {`{"target":"chat","conversation":"` + conv + `","category":"abuse","text":"threats"}`, ""},
		"message":             {`{"target":"message","conversation":"` + conv + `","seq":3,"category":"other"}`, ""},
		"ten messages":        {`{"target":"message","conversation":"` + conv + `","seq":3,"category":"spam","evidence":` + evidence(10, "x") + `}`, ""},
		"eleven messages":     {`{"target":"message","conversation":"` + conv + `","seq":3,"category":"spam","evidence":` + evidence(11, "x") + `}`, moderation.ReasonTooMuchEvidence},
		"long evidence":       {`{"target":"chat","conversation":"` + conv + `","category":"spam","evidence":` + evidence(1, strings.Repeat("é", 2049)) + `}`, moderation.ReasonEvidenceTooLong},
		"evidence, no chat":   {`{"target":"user","user":7,"category":"spam","evidence":` + evidence(1, "x") + `}`, moderation.ReasonBadEvidence},
		"evidence, no kind":   {`{"target":"chat","conversation":"` + conv + `","category":"spam","evidence":[{"seq":1,"sender":7}]}`, moderation.ReasonBadEvidence},
		"long text":           {`{"target":"user","user":7,"category":"spam","text":"` + strings.Repeat("x", moderation.MaxText+1) + `"}`, moderation.ReasonReportTextTooLong},
		"no target":           {`{"category":"spam"}`, moderation.ReasonReportTarget},
		"user without id":     {`{"target":"user","category":"spam"}`, moderation.ReasonReportTarget},
		"message without seq": {`{"target":"message","conversation":"` + conv + `","category":"spam"}`, moderation.ReasonReportTarget},
		"bad chat id":         {`{"target":"chat","conversation":"../x","category":"spam"}`, moderation.ReasonReportTarget},
		"category":            {`{"target":"user","user":7,"category":"boring"}`, moderation.ReasonReportCategory},
		"unknown field":       {`{"target":"user","user":7,"category":"spam","reporter":1}`, parley.ReasonBadJSON},
		"trailing":            {`{"target":"user","user":7,"category":"spam"} {}`, parley.ReasonBadJSON},
		"too large":           {`{"text":"` + strings.Repeat("x", moderation.MaxBody) + `"}`, moderation.ReasonReportTooLarge},
		"largest, escaped":    {`{"target":"chat","conversation":"` + conv + `","category":"spam","evidence":` + escapedEvidence(moderation.MaxEvidence) + `}`, ""},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := moderation.DecodeReport([]byte(tc.body))
			if parley.ErrorReason(err) != tc.reason || (tc.reason == "" && err != nil) {
				t.Fatalf("err %v, want reason %q", err, tc.reason)
			}
		})
	}
}

// FuzzDecodeReport: any bytes decode into a report that keeps every bound,
// or are refused with a parley error carrying a reason (never a panic);
// an accepted report survives a JSON round trip unchanged.
func FuzzDecodeReport(f *testing.F) {
	for _, s := range []string{
		`{"target":"user","user":7,"category":"spam"}`,
		`{"target":"message","conversation":"` + conv + `","seq":3,"category":"other","text":"t","evidence":` + evidence(2, "hi") + `}`,
		`{"target":"chat","conversation":"` + conv + `","category":"abuse","evidence":` + evidence(11, "x") + `}`,
		`{"target":"user","user":-1,"category":"spam"}`,
		`[]`, `null`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := moderation.DecodeReport(b)
		if err != nil {
			if parley.ErrorReason(err) == "" || parley.ErrorCode(err) == parley.CodeInternal {
				t.Fatalf("refusal without a reason: %v", err)
			}
			return
		}
		if len(b) > moderation.MaxBody || len(r.Evidence) > moderation.MaxEvidence || len(r.Text) > moderation.MaxText {
			t.Fatalf("accepted a report over a bound: %d bytes, %d messages, %d bytes of text", len(b), len(r.Evidence), len(r.Text))
		}
		for _, e := range r.Evidence {
			if len(e.Text) > moderation.MaxEvidenceText {
				t.Fatalf("accepted evidence of %d bytes", len(e.Text))
			}
		}
		again, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		r2, err := moderation.DecodeReport(again)
		if err != nil || !reflect.DeepEqual(normal(r), normal(r2)) {
			t.Fatalf("round trip: %v\n%+v\n%+v", err, r, r2)
		}
	})
}

// normal drops what JSON does not keep exactly (monotonic clock, zones).
func normal(r moderation.ReportRequest) moderation.ReportRequest {
	ev := make([]parley.ReportEvidence, len(r.Evidence))
	for i, e := range r.Evidence {
		e.SentAt = e.SentAt.UTC()
		ev[i] = e
	}
	r.Evidence = ev
	return r
}
