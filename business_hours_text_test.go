package parley_test

import (
	"reflect"
	"testing"

	"github.com/parleyhq/parley"
)

func TestParseBusinessHours(t *testing.T) {
	for name, tc := range map[string]struct {
		spec, want string // want "": refused with ReasonHoursSpec
	}{
		"week days":   {"mon-fri 09:00-18:00; sat 10:00-13:00, 15:00-18:00", "mon 09:00-18:00; tue 09:00-18:00; wed 09:00-18:00; thu 09:00-18:00; fri 09:00-18:00; sat 10:00-13:00, 15:00-18:00"},
		"wraps":       {"fri-mon 10:00-12:00", "sun 10:00-12:00; mon 10:00-12:00; fri 10:00-12:00; sat 10:00-12:00"},
		"upper case":  {"SUN 00:00-24:00", "sun 00:00-24:00"},
		"empty":       {"", ""},
		"no times":    {"mon", ""},
		"bad day":     {"funday 09:00-10:00", ""},
		"bad clock":   {"mon 9-10", ""},
		"bad minutes": {"mon 09:60-10:00", ""},
	} {
		t.Run(name, func(t *testing.T) {
			h, err := parley.ParseBusinessHours("Europe/Paris", tc.spec)
			if tc.want == "" && tc.spec != "" {
				if parley.ErrorReason(err) != parley.ReasonHoursSpec {
					t.Fatalf("ParseBusinessHours(%q) = %v, %v; want %s", tc.spec, h, err, parley.ReasonHoursSpec)
				}
				return
			}
			if err != nil || h.Spec() != tc.want {
				t.Fatalf("ParseBusinessHours(%q).Spec() = %q, %v; want %q", tc.spec, h.Spec(), err, tc.want)
			}
			if tc.want != "" && h.String() != tc.want+" (Europe/Paris)" {
				t.Fatalf("String() = %q", h.String())
			}
		})
	}
	if s := (parley.BusinessHours{}).String(); s != "always open" {
		t.Fatalf("no zone: %q", s)
	}
	if s := (parley.BusinessHours{Zone: "UTC"}).String(); s != "closed (UTC)" {
		t.Fatalf("no days: %q", s)
	}
	if _, err := parley.ParseBusinessHours("UTC", "mon 10:00-09:00"); parley.ErrorReason(err) != "business_hours" {
		t.Fatalf("backwards interval: %v", err)
	}
}

// FuzzParseBusinessHours: any accepted spec reads back the same from its
// Spec.
func FuzzParseBusinessHours(f *testing.F) {
	for _, s := range []string{"mon-fri 09:00-18:00; sat 10:00-13:00, 15:00-18:00", "sun 00:00-24:00", "fri-mon 1:5-2:7", ";;", "mon"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		h, err := parley.ParseBusinessHours("UTC", spec)
		if err != nil {
			return
		}
		again, err := parley.ParseBusinessHours("UTC", h.Spec())
		if err != nil || !reflect.DeepEqual(normal(again), normal(h)) {
			t.Fatalf("%q → %q → %v, %v", spec, h.Spec(), again, err)
		}
	})
}

// normal drops empty days, which parse and print alike.
func normal(h parley.BusinessHours) parley.BusinessHours {
	for d, s := range h.Days {
		if len(s) == 0 {
			delete(h.Days, d)
		}
	}
	return h
}
