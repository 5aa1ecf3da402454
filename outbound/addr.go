package outbound

import (
	"net/netip"
	"strings"

	"github.com/parleyhq/parley"
)

// refusedV4 are the IPv4 ranges no outbound request may reach unless
// allowed: anything that is not a public unicast address.
var refusedV4 = prefixes(
	"0.0.0.0/8",       // "this network", including the unspecified address
	"10.0.0.0/8",      // RFC 1918 private
	"100.64.0.0/10",   // RFC 6598 carrier-grade NAT
	"127.0.0.0/8",     // loopback
	"169.254.0.0/16",  // link-local, including the 169.254.169.254 cloud metadata service
	"172.16.0.0/12",   // RFC 1918 private
	"192.0.0.0/24",    // IETF protocol assignments
	"192.0.2.0/24",    // documentation (TEST-NET-1)
	"192.88.99.0/24",  // 6to4 relay anycast
	"192.168.0.0/16",  // RFC 1918 private
	"198.18.0.0/15",   // benchmarking
	"198.51.100.0/24", // documentation (TEST-NET-2)
	"203.0.113.0/24",  // documentation (TEST-NET-3)
	"224.0.0.0/4",     // multicast
	"240.0.0.0/4",     // reserved, including 255.255.255.255 broadcast
)

// refusedV6 are the IPv6 ranges refused outright (the ones embedding an
// IPv4 address are checked on the embedded address instead, in Refused).
var refusedV6 = prefixes(
	"::/128",         // unspecified
	"::1/128",        // loopback
	"64:ff9b:1::/48", // local-use NAT64
	"100::/64",       // discard-only
	"2001::/23",      // IETF protocol assignments, including Teredo 2001::/32 (it embeds any IPv4 address)
	"2001:db8::/32",  // documentation
	"fc00::/7",       // RFC 4193 unique local
	"fe80::/10",      // link-local
	"fec0::/10",      // deprecated site-local
	"ff00::/8",       // multicast
)

var (
	compat     = netip.MustParsePrefix("::/96")           // deprecated IPv4-compatible ::a.b.c.d
	translated = netip.MustParsePrefix("::ffff:0:0:0/96") // SIIT IPv4-translated ::ffff:0:a.b.c.d
	nat64      = netip.MustParsePrefix("64:ff9b::/96")    // well-known NAT64 prefix
	sixToFour  = netip.MustParsePrefix("2002::/16")       // 6to4: 2002:AABB:CCDD::/48 embeds AA.BB.CC.DD
)

func prefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

// Refused reports whether addr is refused by default: not a public unicast
// address, or an IPv6 address embedding a refused IPv4 one. An invalid
// address is refused.
func Refused(addr netip.Addr) bool {
	if !addr.IsValid() {
		return true
	}
	addr = addr.WithZone("")
	if addr.Is4In6() {
		return refused4(addr.Unmap())
	}
	if addr.Is4() {
		return refused4(addr)
	}
	b := addr.As16()
	v4 := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{b[i], b[i+1], b[i+2], b[i+3]}) }
	switch {
	case compat.Contains(addr):
		// :: and ::1 are in here too; every IPv4-compatible address is
		// deprecated (RFC 4291) and refused whatever it embeds.
		return true
	case translated.Contains(addr), nat64.Contains(addr):
		return refused4(v4(12))
	case sixToFour.Contains(addr):
		return refused4(v4(2))
	}
	for _, p := range refusedV6 {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

func refused4(a netip.Addr) bool {
	for _, p := range refusedV4 {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// MaxAllow bounds the ranges of one allow list.
const MaxAllow = 256

// ParseAllow parses an allow list: CIDR prefixes or single addresses,
// separated by commas (spaces around them are ignored; an empty list is
// nil). A prefix with host bits set is masked (10.1.2.3/8 is 10.0.0.0/8).
// Errors: CodeInvalid with reason ReasonBadAllow, CodeTooLarge (more than
// MaxAllow ranges).
func ParseAllow(s string) ([]netip.Prefix, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	parts := strings.Split(s, ",")
	if len(parts) > MaxAllow {
		return nil, parley.Errorf(parley.CodeTooLarge, ReasonBadAllow, "outbound allow list: %d ranges, at most %d", len(parts), MaxAllow)
	}
	out := make([]netip.Prefix, 0, len(parts))
	for _, part := range parts {
		part = strings.TrimSpace(part)
		var p netip.Prefix
		if strings.Contains(part, "/") {
			pp, err := netip.ParsePrefix(part)
			if err != nil {
				return nil, parley.Errorf(parley.CodeInvalid, ReasonBadAllow, "outbound allow list: %q is not a CIDR range such as 10.0.0.0/8 or fd00::/8", part)
			}
			p = pp.Masked()
		} else {
			a, err := netip.ParseAddr(part)
			if err != nil || a.Zone() != "" {
				return nil, parley.Errorf(parley.CodeInvalid, ReasonBadAllow, "outbound allow list: %q is not an address or a CIDR range", part)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p)
	}
	return out, nil
}

// FormatAllow is the inverse of ParseAllow.
func FormatAllow(ps []netip.Prefix) string {
	ss := make([]string, len(ps))
	for i, p := range ps {
		ss[i] = p.String()
	}
	return strings.Join(ss, ",")
}
