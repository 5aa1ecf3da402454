package bench

import (
	"math"
	"sort"
	"time"
)

// latencies collects durations and reports percentiles. It is not safe for
// concurrent use; merge per-goroutine instances.
type latencies struct{ d []time.Duration }

func (l *latencies) add(d time.Duration) { l.d = append(l.d, d) }

func (l *latencies) merge(o *latencies) { l.d = append(l.d, o.d...) }

// ms returns the q-quantile (0..1) in milliseconds, or 0 with no samples.
func (l *latencies) ms(q float64) float64 {
	if len(l.d) == 0 {
		return 0
	}
	sort.Slice(l.d, func(i, j int) bool { return l.d[i] < l.d[j] })
	i := int(math.Ceil(q*float64(len(l.d)))) - 1
	if i < 0 {
		i = 0
	}
	return round3(float64(l.d[i]) / float64(time.Millisecond))
}

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }
