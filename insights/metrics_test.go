package insights_test

import (
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/insights"
	"github.com/parleyhq/parley/latency"
)

// TestHistogramExposition: a histogram is one HELP and TYPE, then its
// cumulative _bucket samples by le ending in +Inf, its _sum and _count,
// each with the series' labels.
func TestHistogramExposition(t *testing.T) {
	var h latency.Histogram
	h.Observe(2 * time.Millisecond)
	h.Observe(time.Minute)
	out := string(insights.Exposition(insights.Histogram("parley_x_seconds", "X.", h.Snapshot(), "op", "append")))
	for _, want := range []string{
		"# HELP parley_x_seconds X.\n# TYPE parley_x_seconds histogram\n",
		`parley_x_seconds_bucket{op="append",le="0.001"} 0` + "\n",
		`parley_x_seconds_bucket{op="append",le="0.0025"} 1` + "\n",
		`parley_x_seconds_bucket{op="append",le="10"} 1` + "\n",
		`parley_x_seconds_bucket{op="append",le="+Inf"} 2` + "\n",
		`parley_x_seconds_sum{op="append"} 60.002` + "\n",
		`parley_x_seconds_count{op="append"} 2` + "\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "# TYPE"); n != 1 {
		t.Errorf("%d TYPE lines, want 1", n)
	}
}
