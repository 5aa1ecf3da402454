package insights

import (
	"bytes"
	"fmt"
	"html"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/parleyhq/parley"
)

// Series is one coloured set of bars in a chart.
type Series struct {
	Name   string
	Color  string // a CSS colour from this package (never user input)
	Values []float64
}

// BarChart renders a grouped bar chart as a standalone SVG document: one
// group per category, one bar per series, a y axis with 5 ticks, a legend.
// Text (title, categories, series names) is escaped, so user-chosen
// template or campaign names cannot inject markup.
func BarChart(title string, categories []string, series []Series) []byte {
	const w, h, left, right, top, bottom = 720.0, 300.0, 48.0, 12.0, 40.0, 56.0
	maxV := 0.0
	for _, s := range series {
		for _, v := range s.Values {
			maxV = math.Max(maxV, v)
		}
	}
	step := niceStep(maxV / 4)
	axisMax := step * 4
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %g %g" width="%g" height="%g" role="img" aria-label="%s" font-family="sans-serif" font-size="11">`, w, h, w, h, esc(title))
	fmt.Fprintf(&b, `<title>%s</title><text x="%g" y="18" font-size="14" font-weight="bold">%s</text>`, esc(title), left, esc(title))
	plotH := h - top - bottom
	for i := 0; i <= 4; i++ {
		y := top + plotH - plotH*float64(i)/4
		fmt.Fprintf(&b, `<line x1="%g" y1="%.1f" x2="%g" y2="%.1f" stroke="#ddd"/><text x="%g" y="%.1f" text-anchor="end">%s</text>`,
			left, y, w-right, y, left-4, y+4, num(step*float64(i)))
	}
	if len(categories) == 0 {
		fmt.Fprintf(&b, `<text x="%g" y="%g" text-anchor="middle" fill="#888">no data in this period</text>`, w/2, top+plotH/2)
	} else {
		groupW := (w - left - right) / float64(len(categories))
		barW := groupW * 0.8 / float64(max(1, len(series)))
		for ci, cat := range categories {
			gx := left + groupW*float64(ci) + groupW*0.1
			for si, s := range series {
				v := 0.0
				if ci < len(s.Values) {
					v = s.Values[ci]
				}
				bh := 0.0
				if axisMax > 0 {
					bh = plotH * v / axisMax
				}
				fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s: %s</title></rect>`,
					gx+barW*float64(si), top+plotH-bh, math.Max(barW-1, 1), bh, s.Color, esc(cat), esc(s.Name), num(v))
			}
			if len(categories) <= 16 || ci%((len(categories)+15)/16) == 0 {
				label := cat
				if r := []rune(label); len(r) > 14 {
					label = string(r[:13]) + "…"
				}
				fmt.Fprintf(&b, `<text x="%.1f" y="%g" text-anchor="middle">%s</text>`, gx+groupW*0.4, top+plotH+16, esc(label))
			}
		}
	}
	for si, s := range series {
		x := left + float64(si)*110
		fmt.Fprintf(&b, `<rect x="%g" y="%g" width="10" height="10" fill="%s"/><text x="%g" y="%g">%s</text>`, x, h-18, s.Color, x+14, h-9, esc(s.Name))
	}
	b.WriteString(`</svg>`)
	return b.Bytes()
}

// The status colours.
var statusColors = map[string]string{
	parley.StatusSent: "#4c78a8", parley.StatusDelivered: "#72b7b2", parley.StatusRead: "#54a24b",
	parley.StatusReplied: "#eeca3b", parley.StatusFailed: "#e45756", parley.StatusInbound: "#b279a2",
}

// StatusChart charts rows (days, templates or campaigns) by status.
func StatusChart(title string, rows []parley.InsightsRow) []byte {
	cats := make([]string, len(rows))
	statuses := []string{parley.StatusSent, parley.StatusDelivered, parley.StatusRead, parley.StatusReplied, parley.StatusFailed}
	series := make([]Series, len(statuses))
	for i, st := range statuses {
		series[i] = Series{Name: st, Color: statusColors[st], Values: make([]float64, len(rows))}
	}
	for ri, r := range rows {
		cats[ri] = r.Key
		for i, v := range []int64{r.Sent, r.Delivered, r.Read, r.Replied, r.Failed} {
			series[i].Values[ri] = float64(v)
		}
	}
	return BarChart(title, cats, series)
}

// ResponseChart charts the response-time buckets.
func ResponseChart(st ResponseStats) []byte {
	vals := make([]float64, len(BucketLabels))
	for i := range vals {
		if i < len(st.Buckets) {
			vals[i] = float64(st.Buckets[i])
		}
	}
	cats := BucketLabels
	if st.Count == 0 {
		cats = nil
	}
	return BarChart("Response times (answers per delay)", cats, []Series{{Name: "answers", Color: "#4c78a8", Values: vals}})
}

// esc makes s safe as SVG text: characters XML does not allow (controls,
// invalid UTF-8) become U+FFFD, then markup is escaped.
func esc(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == utf8.RuneError || r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0xFFFE || r == 0xFFFF || r >= 0xD800 && r <= 0xDFFF {
			return '\uFFFD'
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
	return html.EscapeString(s)
}

func num(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

// niceStep rounds x up to 1, 2 or 5 times a power of ten (at least 1).
func niceStep(x float64) float64 {
	if x <= 1 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= x {
			return m * p
		}
	}
	return 10 * p
}
