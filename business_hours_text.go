package parley

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ReasonHoursSpec is the reason of ParseBusinessHours's refusal of a
// malformed text form.
const ReasonHoursSpec = "hours_spec"

var weekdayNames = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

// ParseBusinessHours reads opening hours in zone from their text form,
// days and their intervals separated by ";":
//
//	mon-fri 09:00-18:00; sat 10:00-13:00, 15:00-18:00
//
// A day range wraps around the week (fri-mon). The result is validated; a
// spec that is not of this form is CodeInvalid, reason ReasonHoursSpec.
// An empty spec is no hours (closed every day, or always open without a
// zone).
func ParseBusinessHours(zone, spec string) (BusinessHours, error) {
	h := BusinessHours{Zone: zone, Days: map[time.Weekday][]Span{}}
	bad := func(part string) error {
		return Errorf(CodeInvalid, ReasonHoursSpec, "%q: want DAY[-DAY] HH:MM-HH:MM[, HH:MM-HH:MM] separated by ;", part)
	}
	clock := func(s string) (int, bool) {
		hh, mm, ok := strings.Cut(strings.TrimSpace(s), ":")
		h, err1 := strconv.Atoi(hh)
		m, err2 := strconv.Atoi(mm)
		if !ok || err1 != nil || err2 != nil || h < 0 || h > 24 || m < 0 || m > 59 {
			return 0, false
		}
		return h*60 + m, true
	}
	for _, part := range strings.Split(spec, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		days, times, ok := strings.Cut(part, " ")
		if !ok {
			return h, bad(part)
		}
		from, to, isRange := strings.Cut(strings.ToLower(days), "-")
		d1, ok1 := weekdayNames[from]
		d2 := d1
		ok2 := true
		if isRange {
			d2, ok2 = weekdayNames[to]
		}
		if !ok1 || !ok2 {
			return h, bad(part)
		}
		var spans []Span
		for _, t := range strings.Split(times, ",") {
			a, b, ok := strings.Cut(t, "-")
			fa, oka := clock(a)
			fb, okb := clock(b)
			if !ok || !oka || !okb {
				return h, bad(part)
			}
			spans = append(spans, Span{From: fa, To: fb})
		}
		for d := d1; ; d = (d + 1) % 7 {
			h.Days[d] = append(h.Days[d], spans...)
			if d == d2 {
				break
			}
		}
	}
	return h, h.Validate()
}

// String is the hours for people, one day at a time with the zone:
// "mon 09:00-18:00; tue 09:00-18:00 (Europe/Paris)", "always open" (no
// zone) or "closed (ZONE)".
func (h BusinessHours) String() string {
	if h.Zone == "" {
		return "always open"
	}
	if s := h.Spec(); s != "" {
		return s + " (" + h.Zone + ")"
	}
	return "closed (" + h.Zone + ")"
}

// Spec is the text form ParseBusinessHours reads, one day at a time and
// without the zone; "" for no hours.
func (h BusinessHours) Spec() string {
	var parts []string
	for d := time.Sunday; d <= time.Saturday; d++ {
		var spans []string
		for _, s := range h.Days[d] {
			spans = append(spans, fmt.Sprintf("%02d:%02d-%02d:%02d", s.From/60, s.From%60, s.To/60, s.To%60))
		}
		if len(spans) > 0 {
			parts = append(parts, strings.ToLower(d.String()[:3])+" "+strings.Join(spans, ", "))
		}
	}
	return strings.Join(parts, "; ")
}
