package parley_test

import (
	"testing"

	"github.com/parleyhq/parley"
)

func TestDeviceCredential(t *testing.T) {
	for name, tc := range map[string]struct {
		in   string
		u    parley.UserID
		d    parley.DeviceID
		fail bool
	}{
		"device":        {in: "12:345", u: 12, d: 345},
		"made":          {in: parley.DeviceCredential(7, 9), u: 7, d: 9},
		"no colon":      {in: "12345", fail: true},
		"zero user":     {in: "0:5", fail: true},
		"negative":      {in: "-1:5", fail: true},
		"empty device":  {in: "5:", fail: true},
		"trailing junk": {in: "5:6:7", fail: true},
		"spaces":        {in: " 5:6", fail: true},
		"empty":         {in: "", fail: true},
		"plus sign":     {in: "+7:9", fail: true},
		"leading zero":  {in: "7:09", fail: true},
	} {
		t.Run(name, func(t *testing.T) {
			u, d, err := parley.ParseDeviceCredential(tc.in)
			if tc.fail {
				if err == nil {
					t.Fatalf("%q parsed as %d:%d", tc.in, u, d)
				}
				return
			}
			if err != nil || u != tc.u || d != tc.d {
				t.Fatalf("%q: %d:%d, %v; want %d:%d", tc.in, u, d, err, tc.u, tc.d)
			}
		})
	}
}

// FuzzParseDeviceCredential: the server and the clients parse the
// credential of every leaf a commit names; only the one spelling of a
// device's credential parses.
func FuzzParseDeviceCredential(f *testing.F) {
	f.Add("12:345")
	f.Add("1:1")
	f.Fuzz(func(t *testing.T, s string) {
		u, d, err := parley.ParseDeviceCredential(s)
		if err != nil {
			return
		}
		if u <= 0 || d <= 0 {
			t.Fatalf("%q parsed as %d:%d", s, u, d)
		}
		if back := parley.DeviceCredential(u, d); back != s {
			t.Fatalf("%q parsed as %d:%d, which is spelt %q", s, u, d, back)
		}
	})
}
