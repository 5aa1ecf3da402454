package parley_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/parleyhq/parley"
)

func TestCheckName(t *testing.T) {
	for name, tc := range map[string]struct {
		in string
		ok bool
	}{
		"plain":                  {"Ann Smith", true},
		"accents and scripts":    {"Zoë Ἀθηνᾶ 山田 محمد", true},
		"emoji":                  {"Ann 🎉", true},
		"emoji zwj sequence":     {"dev 👩\u200d💻", true},
		"emoji zwj with tone":    {"👩🏽\u200d💻", true},
		"family":                 {"👨\u200d👩\u200d👧", true},
		"empty":                  {"", true},
		"RLO":                    {"Ann\u202egnp.exe", false},
		"LRE":                    {"\u202aAnn", false},
		"PDF":                    {"Ann\u202c", false},
		"RLI":                    {"\u2067Ann", false},
		"PDI":                    {"Ann\u2069", false},
		"LRM":                    {"Ann\u200e", false},
		"RLM":                    {"Ann\u200f", false},
		"ALM":                    {"Ann\u061c", false},
		"ZWSP":                   {"An\u200bn", false},
		"ZWNJ":                   {"An\u200cn", false},
		"ZWJ between letters":    {"An\u200dn", false},
		"ZWJ after emoji only":   {"🎉\u200dAnn", false},
		"ZWJ at end":             {"🎉\u200d", false},
		"word joiner":            {"An\u2060n", false},
		"BOM":                    {"\ufeffAnn", false},
		"soft hyphen":            {"An\u00adn", false},
		"NUL":                    {"Ann\x00", false},
		"newline":                {"Ann\nBob", false},
		"DEL":                    {"Ann\x7f", false},
		"C1":                     {"Ann\u0085", false},
		"line separator":         {"Ann\u2028", false},
		"private use":            {"Ann\ue000", false},
		"hangul filler":          {"\u3164", false},
		"braille blank":          {"\u2800", false},
		"tag character":          {"Ann\U000e0041", false},
		"invalid utf-8":          {"Ann\xff", false},
		"interlinear annotation": {"Ann\ufff9", false},
	} {
		t.Run(name, func(t *testing.T) {
			err := parley.CheckName(tc.in)
			if tc.ok {
				if err != nil {
					t.Fatalf("CheckName(%q) = %v, want nil", tc.in, err)
				}
				return
			}
			var pe *parley.Error
			if !parley.IsCode(err, parley.CodeInvalid) || !asError(err, &pe) || pe.Reason != parley.ReasonNameUnsafe {
				t.Fatalf("CheckName(%q) = %v, want CodeInvalid %s", tc.in, err, parley.ReasonNameUnsafe)
			}
		})
	}
}

func asError(err error, pe **parley.Error) bool {
	e, ok := err.(*parley.Error)
	*pe = e
	return ok
}

// FuzzCheckName checks that an accepted name is valid UTF-8 and holds no
// character of the refused classes, except a joiner between two symbols.
func FuzzCheckName(f *testing.F) {
	for _, s := range []string{"Ann", "Ann\u202egnp", "👩\u200d💻", "a\u200db", "\ufeff", "山田", "\x00", "🎉\u200d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if parley.CheckName(s) != nil {
			return
		}
		if !utf8.ValidString(s) {
			t.Fatalf("accepted invalid UTF-8 %q", s)
		}
		rs := []rune(s)
		for i, r := range rs {
			if r == '\u200d' {
				if i == 0 || i == len(rs)-1 || !unicode.Is(unicode.So, rs[i+1]) {
					t.Fatalf("accepted a joiner outside an emoji sequence in %q", s)
				}
				continue
			}
			if unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co, unicode.Zl, unicode.Zp) {
				t.Fatalf("accepted %U in %q", r, s)
			}
			if strings.ContainsRune("\u115f\u1160\u3164\uffa0\u2800", r) {
				t.Fatalf("accepted blank letter %U in %q", r, s)
			}
		}
	})
}
