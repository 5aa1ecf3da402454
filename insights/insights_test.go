package insights_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/insights"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/store/sqlite"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var t0 = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

func newService(t testing.TB) (*insights.Service, *sqlite.Store) {
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return insights.New(s, parleytest.NewClock(t0.Add(48*time.Hour)), nil), s
}

func mustRecord(t *testing.T, svc *insights.Service, evs ...parley.MessageEvent) {
	t.Helper()
	for _, ev := range evs {
		if ev.Business == 0 {
			ev.Business = 1
		}
		if err := svc.Record(t.Context(), ev); err != nil {
			t.Fatal(err)
		}
	}
}

// seed: a campaign template to two customers, a free-form answer, a
// failure; customers write, the business answers after 2 and 10 minutes.
func seed(t *testing.T, svc *insights.Service) {
	mustRecord(t, svc,
		parley.MessageEvent{MessageID: "in1", Customer: "c1", Status: "inbound", At: t0},
		parley.MessageEvent{MessageID: "m1", Customer: "c1", Status: "sent", At: t0.Add(2 * time.Minute)},
		parley.MessageEvent{MessageID: "m1", Status: "delivered", At: t0.Add(3 * time.Minute)},
		parley.MessageEvent{MessageID: "m1", Status: "read", At: t0.Add(4 * time.Minute)},
		parley.MessageEvent{MessageID: "m1", Status: "read", At: t0.Add(5 * time.Minute)}, // repeat: counted once
		parley.MessageEvent{MessageID: "t1", Customer: "c1", Template: "black_friday", Category: "MARKETING", Campaign: "bf26", Status: "sent", At: t0.Add(time.Hour)},
		parley.MessageEvent{MessageID: "t1", Status: "delivered", At: t0.Add(time.Hour)},
		parley.MessageEvent{MessageID: "t1", Status: "read", At: t0.Add(25 * time.Hour)},
		parley.MessageEvent{MessageID: "t1", Status: "replied", At: t0.Add(25 * time.Hour)},
		parley.MessageEvent{MessageID: "t2", Customer: "c2", Template: "black_friday", Category: "MARKETING", Campaign: "bf26", Status: "sent", At: t0.Add(time.Hour)},
		parley.MessageEvent{MessageID: "t2", Status: "failed", At: t0.Add(time.Hour)},
		parley.MessageEvent{MessageID: "in2", Customer: "c2", Status: "inbound", At: t0.Add(26 * time.Hour)},
		parley.MessageEvent{MessageID: "m2", Customer: "c2", Status: "sent", At: t0.Add(26*time.Hour + 10*time.Minute)},
		parley.MessageEvent{Business: 2, MessageID: "other", Customer: "c9", Status: "sent", At: t0}, // another business
	)
}

func TestReport(t *testing.T) {
	svc, _ := newService(t)
	seed(t, svc)
	rep, err := svc.Report(t.Context(), parley.InsightsQuery{Business: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := parley.StatusCounts{Sent: 4, Delivered: 2, Read: 2, Failed: 1, Replied: 1, Inbound: 2}
	if rep.Total != want {
		t.Fatalf("total %+v, want %+v", rep.Total, want)
	}
	if rep.Rates.Delivered != 0.5 || rep.Rates.Failed != 0.25 {
		t.Fatalf("rates %+v", rep.Rates)
	}
	if len(rep.Days) != 2 || rep.Days[0].Key != "2026-11-20" || rep.Days[0].Sent != 3 || rep.Days[1].Sent != 1 || rep.Days[1].Read != 1 {
		t.Fatalf("days %+v", rep.Days)
	}
	if len(rep.Templates) != 1 || rep.Templates[0].Key != "black_friday" || rep.Templates[0].Sent != 2 || rep.Templates[0].Replied != 1 || rep.Templates[0].Failed != 1 {
		t.Fatalf("templates %+v", rep.Templates)
	}
	rs := rep.Responses
	if rs.Count != 2 || rs.Average != 360 || rs.Max != 600 || rs.Buckets[1] != 1 || rs.Buckets[2] != 1 {
		t.Fatalf("response times %+v", rs)
	}
	camp, err := svc.Report(t.Context(), parley.InsightsQuery{Business: 1, Campaign: "bf26", From: t0, To: t0.Add(24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if camp.Total != (parley.StatusCounts{Sent: 2, Delivered: 1, Failed: 1}) {
		t.Fatalf("campaign, first day: %+v", camp.Total)
	}
	if _, err := svc.Report(t.Context(), parley.InsightsQuery{Business: 1, From: t0, To: t0}); parley.ErrorReason(err) != "bad_range" {
		t.Fatalf("empty range: %v", err)
	}
}

func TestRecordRules(t *testing.T) {
	svc, _ := newService(t)
	for name, ev := range map[string]parley.MessageEvent{
		"no business":      {MessageID: "m", Status: "sent"},
		"no id":            {Business: 1, Status: "sent"},
		"bad status":       {Business: 1, MessageID: "m", Status: "opened"},
		"inbound, no from": {Business: 1, MessageID: "m", Status: "inbound"},
		"long":             {Business: 1, MessageID: strings.Repeat("m", insights.MaxField+1), Status: "sent"},
	} {
		if err := svc.Record(t.Context(), ev); parley.ErrorReason(err) != "bad_message_event" {
			t.Errorf("%s: got %v", name, err)
		}
	}
}

func TestHandler(t *testing.T) {
	svc, _ := newService(t)
	seed(t, svc)
	srv := httptest.NewServer(svc.Handler(func(r *http.Request) (parley.UserID, error) {
		switch r.Header.Get("Authorization") {
		case "Parley one":
			return 1, nil
		case "Parley two":
			return 2, nil
		}
		return 0, parley.Errorf(parley.CodeUnauthenticated, "bad_credentials", "no")
	}))
	defer srv.Close()
	get := func(path, auth string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	resp, body := get("/business/v1/insights?from=2026-11-01&to=2026-12-01", "Parley one")
	var rep insights.Report
	if resp.StatusCode != 200 || json.Unmarshal(body, &rep) != nil || rep.Total.Sent != 4 {
		t.Fatalf("insights: %d %s", resp.StatusCode, body)
	}
	if resp, body := get("/business/v1/insights?from=2026-11-01&to=2026-12-01", "Parley two"); !bytes.Contains(body, []byte(`"sent":1,`)) {
		t.Fatalf("business two sees %d %s", resp.StatusCode, body)
	}
	if resp, _ := get("/business/v1/insights", ""); resp.StatusCode != 401 {
		t.Fatalf("no credentials: %d", resp.StatusCode)
	}
	if resp, body := get("/business/v1/insights?from=yesterday", "Parley one"); resp.StatusCode != 400 || !bytes.Contains(body, []byte("bad_time")) {
		t.Fatalf("bad time: %d %s", resp.StatusCode, body)
	}
	resp, body = get("/business/v1/insights/messages/t1", "Parley one")
	var m parley.MessageStatuses
	if resp.StatusCode != 200 || json.Unmarshal(body, &m) != nil || m.Template != "black_friday" || len(m.At) != 4 {
		t.Fatalf("message: %d %s", resp.StatusCode, body)
	}
	if resp, _ := get("/business/v1/insights/messages/t1", "Parley two"); resp.StatusCode != 404 {
		t.Fatalf("another business's message: %d", resp.StatusCode)
	}
	for _, c := range []string{"days", "templates", "campaigns", "responses"} {
		resp, body := get("/business/v1/insights/charts/"+c+".svg?from=2026-11-01&to=2026-12-01", "Parley one")
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/svg+xml" || wellFormed(body) != nil || !bytes.Contains(body, []byte("<rect")) {
			t.Fatalf("chart %s: %d %v %s", c, resp.StatusCode, wellFormed(body), body)
		}
	}
	resp, body = get("/business/insights", "")
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte("/business/v1/insights")) || resp.Header.Get("Content-Security-Policy") == "" {
		t.Fatalf("dashboard: %d", resp.StatusCode)
	}
}

func wellFormed(svg []byte) error {
	d := xml.NewDecoder(bytes.NewReader(svg))
	for {
		_, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func TestMetrics(t *testing.T) {
	svc, _ := newService(t)
	seed(t, svc)
	extra := func(context.Context) ([]insights.Metric, error) {
		return []insights.Metric{{Name: "parley_test_gauge", Help: "A test\ngauge.", Type: "gauge", Labels: []string{"k", `a"b\`}, Value: 1.5}}, nil
	}
	srv := httptest.NewServer(insights.MetricsHandler("tok", svc.StoreMetrics, extra))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("no token: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest("GET", srv.URL, nil)
	req.Header.Set("Authorization", "Bearer tok")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		"# TYPE parley_business_message_events_total counter\n",
		`parley_business_message_events_total{status="sent"} 5` + "\n", // both businesses
		`parley_business_message_events_total{status="failed"} 1` + "\n",
		"# HELP parley_test_gauge A test\\ngauge.\n",
		`parley_test_gauge{k="a\"b\\"} 1.5` + "\n",
		"parley_metrics_source_errors_total 0\n",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
}

func FuzzBarChart(f *testing.F) {
	f.Add("Messages", "black_friday", "sent", 3.0)
	f.Add("<script>", `"]]><x a='&'`, "\x00\xff", -1.0)
	f.Fuzz(func(t *testing.T, title, cat, series string, v float64) {
		svg := insights.BarChart(title, []string{cat, "b"}, []insights.Series{{Name: series, Color: "#000", Values: []float64{v, 1}}})
		if !strings.HasPrefix(string(svg), "<svg") {
			t.Fatal("not an svg")
		}
		// Markup from the names never escapes into elements.
		if err := wellFormed(svg); err != nil || strings.Contains(string(svg), "<script") {
			t.Fatalf("%v: %s", err, svg)
		}
	})
}
