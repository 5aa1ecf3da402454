package accounts_test

import (
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/accounts"
)

func TestNormalizePhone(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" means rejected with phone_invalid
	}{
		{"+44 20 7946 0958", "+442079460958"},
		{"+442079460958", "+442079460958"},
		{"0044 20 7946 0958", "+442079460958"},
		{"+44 (0) 20 7946 0958", "+442079460958"},
		{"+1 (415) 555-0100", "+14155550100"},
		{"+1.415.555.0100", "+14155550100"},
		{"  +14155550100  ", "+14155550100"},
		{"001 415 555 0100", "+14155550100"},
		{"+33 6 12 34 56 78", "+33612345678"},
		{"+49 30 12345678", "+493012345678"},
		{"+61 2 9876 5432", "+61298765432"},
		{"", ""},
		{"+", ""},
		{"00", ""},
		{"4155550100", ""},        // no country
		{"020 7946 0958", ""},     // national format: no country
		{"+1 415 555 01", ""},     // too short
		{"+1 415 555 0100 9", ""}, // too long
		{"+999 1234567", ""},      // no such country
		{"+1-800-FLOWERS", ""},    // letters
		{"+1 415 555 0100 ext 5", ""},
		{"tel:+14155550100", ""},
		{"+44 20 7946 0958 0000000000000000000000000000000000000000000000000000", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := accounts.NormalizePhone(tt.in)
			if tt.want == "" {
				wantErr(t, err, parley.CodeInvalid, "phone_invalid")
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("NormalizePhone(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}
