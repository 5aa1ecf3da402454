package insights

import (
	"bytes"
	"context"
	"crypto/subtle"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/parleyhq/parley/latency"
)

// Metric is one Prometheus sample.
type Metric struct {
	Name   string // e.g. parley_webhook_deliveries_total
	Help   string
	Type   string   // "counter", "gauge" or "histogram"
	Labels []string // name, value, name, value…
	Value  float64
	// Suffix follows Name in the sample's name: a histogram's samples are
	// Name_bucket, Name_sum and Name_count under one HELP and TYPE
	// (Histogram makes them).
	Suffix string
}

// Histogram returns the samples of a latency histogram named name (in
// seconds): cumulative buckets by le, then the sum and the count.
func Histogram(name, help string, s latency.Snapshot, labels ...string) []Metric {
	out := make([]Metric, 0, len(s.Buckets)+3)
	for i, b := range s.Buckets {
		l := append(slices.Clip(labels), "le", strconv.FormatFloat(latency.Bounds[i], 'g', -1, 64))
		out = append(out, Metric{Name: name, Help: help, Type: "histogram", Suffix: "_bucket", Labels: l, Value: float64(b)})
	}
	inf := append(slices.Clip(labels), "le", "+Inf")
	return append(out,
		Metric{Name: name, Help: help, Type: "histogram", Suffix: "_bucket", Labels: inf, Value: float64(s.Count)},
		Metric{Name: name, Help: help, Type: "histogram", Suffix: "_sum", Labels: labels, Value: s.Sum},
		Metric{Name: name, Help: help, Type: "histogram", Suffix: "_count", Labels: labels, Value: float64(s.Count)})
}

// MetricSource reports samples when /metrics is scraped.
type MetricSource func(ctx context.Context) ([]Metric, error)

// StoreMetrics reports the business message events of all businesses per
// status, counted in the store (so they survive restarts).
func (s *Service) StoreMetrics(ctx context.Context) ([]Metric, error) {
	c, err := s.store.InsightsStatusTotals(ctx)
	if err != nil {
		return nil, err
	}
	var out []Metric
	for _, kv := range []struct {
		status string
		n      int64
	}{{"sent", c.Sent}, {"delivered", c.Delivered}, {"read", c.Read}, {"failed", c.Failed}, {"replied", c.Replied}, {"inbound", c.Inbound}} {
		out = append(out, Metric{Name: "parley_business_message_events_total", Help: "Business message events recorded, by status.",
			Type: "counter", Labels: []string{"status", kv.status}, Value: float64(kv.n)})
	}
	return out, nil
}

// MetricsHandler serves the samples of sources in the Prometheus text
// exposition format (version 0.0.4), hand-written: a dozen counters and
// gauges do not justify client_golang's dependency tree. When token is not
// empty, requests need "Authorization: Bearer <token>". A failing source
// is reported as parley_metrics_source_errors_total and left out.
func MetricsHandler(token string, sources ...MetricSource) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if token != "" && subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte("Bearer "+token)) != 1 {
			http.Error(w, "metrics need Authorization: Bearer <token>", http.StatusUnauthorized)
			return
		}
		var all []Metric
		errs := 0
		for _, src := range sources {
			ms, err := src(r.Context())
			if err != nil {
				errs++
				continue
			}
			all = append(all, ms...)
		}
		all = append(all, Metric{Name: "parley_metrics_source_errors_total", Help: "Metric sources that failed in this scrape.", Type: "gauge", Value: float64(errs)})
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_, _ = w.Write(Exposition(all))
	})
}

// Exposition renders samples in the text format, grouped by name (stable
// order of first appearance), HELP and TYPE once per name.
func Exposition(ms []Metric) []byte {
	var names []string
	by := map[string][]Metric{}
	for _, m := range ms {
		if _, ok := by[m.Name]; !ok {
			names = append(names, m.Name)
		}
		by[m.Name] = append(by[m.Name], m)
	}
	var b bytes.Buffer
	for _, n := range names {
		group := by[n]
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", n, escapeHelp(group[0].Help), n, group[0].Type)
		for _, m := range group {
			b.WriteString(n)
			b.WriteString(m.Suffix)
			if len(m.Labels) >= 2 {
				b.WriteByte('{')
				for i := 0; i+1 < len(m.Labels); i += 2 {
					if i > 0 {
						b.WriteByte(',')
					}
					fmt.Fprintf(&b, "%s=\"%s\"", m.Labels[i], escapeLabel(m.Labels[i+1]))
				}
				b.WriteByte('}')
			}
			b.WriteByte(' ')
			b.WriteString(strconv.FormatFloat(m.Value, 'g', -1, 64))
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

func escapeLabel(s string) string { return labelEscaper.Replace(s) }

func escapeHelp(s string) string { return strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(s) }
