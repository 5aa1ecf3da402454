// Package clientip finds the address of the client behind an HTTP request,
// the one key every per-address abuse limit uses.
//
// The client's address is the TCP peer's, unless the peer is a trusted
// proxy (an operator's --trusted-proxies range): then the Forwarded header
// (RFC 7239) or, when there is none, X-Forwarded-For is read from the right,
// skipping the trusted proxies, and the first address that is not a trusted
// proxy is the client's. Headers from an untrusted peer are ignored, so a
// client cannot choose the address it is limited by.
//
// Every HTTP and WebSocket entry point of the server goes through Handler,
// which stores the address in the request context; services read it with
// From.
package clientip

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Resolver finds client addresses. The zero value trusts no proxy.
type Resolver struct {
	trusted []netip.Prefix
}

// New returns a Resolver that believes forwarding headers only from peers in
// trusted.
func New(trusted []netip.Prefix) *Resolver {
	r := &Resolver{}
	for _, p := range trusted {
		r.trusted = append(r.trusted, p.Masked())
	}
	return r
}

// ParseCIDRs parses a comma-separated list of CIDR prefixes or single
// addresses ("10.0.0.0/8, 192.0.2.7, ::1"). Empty entries are skipped.
func ParseCIDRs(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if strings.Contains(f, "/") {
			p, err := netip.ParsePrefix(f)
			if err != nil {
				return nil, fmt.Errorf("trusted proxies: %q: %w", f, err)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("trusted proxies: %q: %w", f, err)
		}
		a = a.Unmap().WithZone("")
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// Trusted reports whether a is a trusted proxy.
func (r *Resolver) Trusted(a netip.Addr) bool {
	a = a.Unmap().WithZone("")
	for _, p := range r.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Addr returns the client address of req (see the package comment). It is
// the zero Addr only when req.RemoteAddr is not an IP address (as in tests
// that build requests by hand).
func (r *Resolver) Addr(req *http.Request) netip.Addr {
	peer := parseHostPort(req.RemoteAddr)
	if !peer.IsValid() || !r.Trusted(peer) {
		return peer
	}
	var hops []string
	if fw := req.Header.Values("Forwarded"); len(fw) > 0 {
		hops = ForwardedFor(strings.Join(fw, ","))
	} else if xff := req.Header.Values("X-Forwarded-For"); len(xff) > 0 {
		for _, h := range xff {
			for f := range strings.SplitSeq(h, ",") {
				hops = append(hops, strings.TrimSpace(f))
			}
		}
	}
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a := parseNode(hops[i])
		if !a.IsValid() {
			// A trusted proxy wrote something that is not an address
			// ("unknown", an obfuscated node): the last address known is
			// the best there is.
			return client
		}
		client = a
		if !r.Trusted(a) {
			return a
		}
	}
	return client
}

// ForwardedFor returns the "for" parameters of a Forwarded header value
// (RFC 7239), one per element, in order; an element without one gives "".
// Quoted strings are unquoted. Malformed input never fails: what cannot be
// read gives "" for its element.
func ForwardedFor(h string) []string {
	var out []string
	for _, elem := range splitQuoted(h, ',') {
		if strings.TrimSpace(elem) == "" {
			continue
		}
		val := ""
		for _, pair := range splitQuoted(elem, ';') {
			k, v, ok := strings.Cut(pair, "=")
			if !ok || !strings.EqualFold(strings.TrimSpace(k), "for") {
				continue
			}
			val = unquote(strings.TrimSpace(v))
			break
		}
		out = append(out, val)
	}
	return out
}

// splitQuoted splits s at sep outside double-quoted strings.
func splitQuoted(s string, sep byte) []string {
	var out []string
	inQuote, escaped, start := false, false, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case escaped:
			escaped = false
		case inQuote && c == '\\':
			escaped = true
		case c == '"':
			inQuote = !inQuote
		case c == sep && !inQuote:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

func unquote(v string) string {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return v
	}
	var b strings.Builder
	esc := false
	for i := 1; i < len(v)-1; i++ {
		if !esc && v[i] == '\\' {
			esc = true
			continue
		}
		esc = false
		b.WriteByte(v[i])
	}
	return b.String()
}

// parseNode reads one hop: "192.0.2.1", "192.0.2.1:4711", "2001:db8::1",
// "[2001:db8::1]" or "[2001:db8::1]:4711". Anything else is the zero Addr.
func parseNode(s string) netip.Addr {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone("")
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		if a, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil {
			return a.Unmap().WithZone("")
		}
		return netip.Addr{}
	}
	return parseHostPort(s)
}

func parseHostPort(s string) netip.Addr {
	host, _, err := net.SplitHostPort(s)
	if err != nil {
		host = s
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap().WithZone("")
}

type ctxKey struct{}

// With returns ctx carrying the client address a.
func With(ctx context.Context, a netip.Addr) context.Context {
	return context.WithValue(ctx, ctxKey{}, a)
}

// From returns the client address stored by With or Handler; ok is false
// when there is none (a call that did not come through an entry point).
func From(ctx context.Context) (a netip.Addr, ok bool) {
	a, ok = ctx.Value(ctxKey{}).(netip.Addr)
	return a, ok && a.IsValid()
}

// Handler stores the client address of every request in its context (see
// From) before calling next.
func (r *Resolver) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		next.ServeHTTP(w, req.WithContext(With(req.Context(), r.Addr(req))))
	})
}

// Key returns the address as a limit key: IPv4 addresses whole, IPv6
// addresses by their /64 (one subscriber's allocation), so a client cannot
// escape a per-address limit by walking its own prefix.
func Key(a netip.Addr) string {
	if !a.IsValid() {
		return "none"
	}
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}
