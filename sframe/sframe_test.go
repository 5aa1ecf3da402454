package sframe_test

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/sframe"
)

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// RFC 9605 Appendix C.1: header encodings.
func TestHeaderVectors(t *testing.T) {
	cases := []struct {
		kid, ctr uint64
		hdr      string
	}{
		{0, 0, "00"}, {0, 1, "01"}, {0, 7, "07"}, {1, 0, "10"}, {7, 7, "77"},
		{0, 0xff, "08ff"}, {0, 0x100, "090100"}, {0, 0xffff, "09ffff"},
		{0, 0x10000, "0a010000"}, {0, 0xffffffffffffffff, "0fffffffffffffffff"},
		{0xff, 0, "80ff"}, {0xffff, 1, "91ffff"}, {0xffff, 0x100, "99ffff0100"},
		{0xffffff, 0, "a0ffffff"}, {0x01000000, 0xff, "b801000000ff"},
		{0x123, 0x4567, "9901234567"},
		{0xffffffffffffffff, 0xffffffffffffffff, "ffffffffffffffffffffffffffffffffff"},
	}
	for _, c := range cases {
		t.Run(c.hdr, func(t *testing.T) {
			got := sframe.AppendHeader(nil, sframe.Header{KID: c.kid, CTR: c.ctr})
			if hex.EncodeToString(got) != c.hdr {
				t.Fatalf("AppendHeader(%#x, %#x) = %x, want %s", c.kid, c.ctr, got, c.hdr)
			}
			h, n, err := sframe.ParseHeader(append(got, 0xAA))
			if err != nil || n != len(got) || h.KID != c.kid || h.CTR != c.ctr {
				t.Fatalf("ParseHeader(%s) = %+v, %d, %v", c.hdr, h, n, err)
			}
		})
	}
}

func TestParseHeaderShort(t *testing.T) {
	for _, in := range []string{"", "90ff", "99ffff01", "8f"} {
		_, _, err := sframe.ParseHeader(mustHex(t, in))
		if parley.ErrorReason(err) != sframe.ReasonShortHeader {
			t.Errorf("ParseHeader(%q): err %v, want reason %s", in, err, sframe.ReasonShortHeader)
		}
	}
}

// RFC 9605 Appendix C.4/C.5: whole SFrame encryption from a base key, for
// KID 0x123 and CTR 0x4567 ("IETF SFrame WG" metadata, "draft-ietf-sframe-enc"
// plaintext).
func TestEncryptionVectors(t *testing.T) {
	const (
		baseKey  = "000102030405060708090a0b0c0d0e0f"
		metadata = "4945544620534672616d65205747"
		pt       = "64726166742d696574662d736672616d652d656e63"
	)
	cases := []struct {
		suite sframe.Suite
		ct    string
	}{
		{sframe.AES128CTRHMACSHA256_80, "9901234567449408b6f490086165b9d6f62b24ae1a59a56486b4ae8ed036b88912e24f11"},
		{sframe.AES128GCMSHA256, "9901234567b7412c2513a1b66dbb48841bbaf17f598751176ad847681a69c6d0b091c07018ce4adb34eb"},
		{sframe.AES256GCMSHA512, "990123456794f509d36e9beacb0e261d99c7d1e972f1fed787d4049f17ca21353c1cc24d56ceabced279"},
	}
	for _, c := range cases {
		t.Run(hex.EncodeToString([]byte{byte(c.suite >> 8), byte(c.suite)}), func(t *testing.T) {
			base := mustHex(t, baseKey)
			k, err := sframe.DeriveKey(c.suite, 0x123, base)
			if err != nil {
				t.Fatal(err)
			}
			got := k.Seal(nil, 0x4567, mustHex(t, metadata), mustHex(t, pt))
			if hex.EncodeToString(got) != c.ct {
				t.Fatalf("Seal = %x\nwant   %s", got, c.ct)
			}
			back, err := k.Open(nil, got, mustHex(t, metadata))
			if err != nil || !bytes.Equal(back, mustHex(t, pt)) {
				t.Fatalf("Open = %x, %v", back, err)
			}
		})
	}
}
