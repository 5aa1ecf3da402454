package parley_test

import (
	"testing"
	"time"

	"github.com/parleyhq/parley"
)

func TestParseMoney(t *testing.T) {
	for _, tc := range []struct {
		in, cur string
		want    int64
		ok      bool
	}{
		{"12", "eur", 12000, true},
		{"12.5", "EUR", 12500, true},
		{"0.001", "KWD", 1, true},
		{"12.3456", "EUR", 0, false},
		{"-1", "EUR", 0, false},
		{"1e3", "EUR", 0, false},
		{"", "EUR", 0, false},
		{"12", "EURO", 0, false},
		{"999999999999999", "EUR", 0, false},
	} {
		m, err := parley.ParseMoney(tc.in, tc.cur)
		if (err == nil) != tc.ok || tc.ok && m.Amount1000 != tc.want {
			t.Errorf("ParseMoney(%q, %q) = %+v, %v", tc.in, tc.cur, m, err)
		}
	}
	if s := (parley.Money{Amount1000: 12500, Currency: "EUR"}).String(); s != "12.50 EUR" {
		t.Errorf("String = %q", s)
	}
}

func TestBusinessHoursOpenAt(t *testing.T) {
	h := parley.BusinessHours{Zone: "Europe/Paris", Days: map[time.Weekday][]parley.Span{
		time.Monday: {{From: 9 * 60, To: 12 * 60}, {From: 14 * 60, To: 18 * 60}},
	}}
	if err := h.Validate(); err != nil {
		t.Fatal(err)
	}
	paris, _ := time.LoadLocation("Europe/Paris")
	for _, tc := range []struct {
		at   time.Time
		open bool
	}{
		{time.Date(2026, 11, 23, 9, 0, 0, 0, paris), true}, // a Monday
		{time.Date(2026, 11, 23, 12, 30, 0, 0, paris), false},
		{time.Date(2026, 11, 23, 17, 59, 0, 0, paris), true},
		{time.Date(2026, 11, 23, 18, 0, 0, 0, paris), false},
		{time.Date(2026, 11, 24, 10, 0, 0, 0, paris), false},   // Tuesday: closed
		{time.Date(2026, 11, 23, 8, 30, 0, 0, time.UTC), true}, // 9:30 in Paris
	} {
		if got := h.OpenAt(tc.at); got != tc.open {
			t.Errorf("OpenAt(%v) = %v", tc.at, got)
		}
	}
	if !(parley.BusinessHours{}).OpenAt(time.Now()) {
		t.Error("no hours: always open")
	}
	for _, bad := range []parley.BusinessHours{
		{Zone: "Mars/Olympus"},
		{Days: map[time.Weekday][]parley.Span{time.Monday: {{From: 0, To: 60}}}},
		{Zone: "UTC", Days: map[time.Weekday][]parley.Span{time.Monday: {{From: 60, To: 60}}}},
		{Zone: "UTC", Days: map[time.Weekday][]parley.Span{time.Monday: {{From: 0, To: 1441}}}},
		{Zone: "UTC", Days: map[time.Weekday][]parley.Span{9: {{From: 0, To: 1}}}},
	} {
		if parley.ErrorReason(bad.Validate()) != "business_hours" {
			t.Errorf("Validate(%+v) = %v", bad, bad.Validate())
		}
	}
}
