// Package outbound is the one HTTP client the server uses to fetch a URL it
// was given: a business's media link, webhook callback and handshake, a
// browser's Web Push endpoint, the operator's SMS gateway, and any fetch
// added later. No server package makes an outbound HTTP request any other
// way (guard_test.go in this package checks every server package).
//
// Guarantees:
//   - A connection is only ever made to an address Policy.Allowed admits,
//     and the check runs at dial time on the resolved address that is then
//     dialled (never on a name resolved again later), so DNS rebinding
//     cannot get around it; the socket's Control hook checks it once more.
//     Every redirect hop is dialled the same way.
//   - Refused by default (Refused): loopback, RFC 1918 private, CGNAT
//     (100.64/10), link-local (169.254/16, including the 169.254.169.254
//     metadata address, and fe80::/10), unique local (fc00::/7), site-local,
//     multicast, unspecified, broadcast, 0/8, the reserved, benchmarking and
//     documentation ranges, and every IPv6 form embedding a refused IPv4
//     address (IPv4-mapped, IPv4-translated, NAT64 64:ff9b::/96, 6to4
//     2002::/16); IPv4-compatible (::/96) and Teredo (2001::/32) addresses
//     are refused outright. Policy.Allow re-admits ranges an operator names
//     explicitly (`parley serve --outbound-allow`).
//   - Only http and https URLs are fetched, on the first request and on every
//     redirect; at most Limits.MaxRedirects redirects are followed.
//   - Proxy settings in the environment are ignored.
//   - Every request is bounded in time (dial, TLS handshake, response
//     headers, whole exchange, longest pause while reading the body) and its
//     body in size (Limits).
//   - Every failure (refused address, no such host, connection refused,
//     timeout, and with Fetch a non-2xx answer) returns the one error
//     ErrFailed, whose text says nothing about the cause, so callers cannot
//     be used as an oracle on the network behind the server. The cause is
//     logged (log/slog, level Warn) with the operation's name.
package outbound

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/parleyhq/parley"
)

// Reason strings of the errors this package returns.
const (
	// ReasonFailed is the reason of ErrFailed.
	ReasonFailed = "outbound_failed"
	// ReasonBodyTooLarge is the reason of ErrBodyTooLarge.
	ReasonBodyTooLarge = "outbound_body_too_large"
	// ReasonBadAllow is the reason ParseAllow gives a malformed list.
	ReasonBadAllow = "bad_outbound_allow"
)

// ErrFailed is the one error a caller sees when a request could not be
// made or, with Fetch, was not answered with a 2xx status. It carries no
// cause: the cause is in the server log.
var ErrFailed = &parley.Error{Code: parley.CodeUnavailable, Reason: ReasonFailed, Message: "the URL could not be fetched"}

// ErrBodyTooLarge is returned by a response body's Read once the body is
// longer than Limits.MaxBody.
var ErrBodyTooLarge = &parley.Error{Code: parley.CodeTooLarge, Reason: ReasonBodyTooLarge, Message: "the fetched body is too large"}

// Resolver looks names up; *net.Resolver implements it. Tests inject a stub.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Policy says which addresses the server may reach. The zero Policy refuses
// every range Refused lists and resolves names with net.DefaultResolver.
type Policy struct {
	// Allow lists ranges reachable even though Refused would refuse them
	// (an SMS gateway or a webhook receiver on a private network; tests'
	// loopback receivers). Default: none.
	Allow []netip.Prefix
	// Resolver resolves host names (default net.DefaultResolver).
	Resolver Resolver
	// Log receives the cause of every failure (default: discard).
	Log *slog.Logger
}

// Limits bound one client's requests; zero fields take the defaults shown.
type Limits struct {
	Dial   time.Duration // connecting to one address (5 s)
	TLS    time.Duration // the TLS handshake (10 s)
	Header time.Duration // from the request written to the response headers (10 s)
	Total  time.Duration // the whole exchange, body read included (30 s)
	Idle   time.Duration // the longest pause while reading the response body (10 s)
	// MaxBody bounds the response body (1 MiB); reading past it fails
	// with ErrBodyTooLarge.
	MaxBody int64
	// MaxRedirects is how many redirects are followed (0: the default, 5;
	// negative: none, a 3xx answer is returned as it is).
	MaxRedirects int
	// IdlePerHost is how many idle connections are kept per host (2).
	IdlePerHost int
}

// NoRedirects is Limits.MaxRedirects for clients that follow none.
const NoRedirects = -1

func (l *Limits) defaults() {
	if l.Dial <= 0 {
		l.Dial = 5 * time.Second
	}
	if l.TLS <= 0 {
		l.TLS = 10 * time.Second
	}
	if l.Header <= 0 {
		l.Header = 10 * time.Second
	}
	if l.Total <= 0 {
		l.Total = 30 * time.Second
	}
	if l.Idle <= 0 {
		l.Idle = 10 * time.Second
	}
	if l.MaxBody <= 0 {
		l.MaxBody = 1 << 20
	}
	if l.MaxRedirects == 0 {
		l.MaxRedirects = 5
	}
	if l.IdlePerHost <= 0 {
		l.IdlePerHost = 2
	}
}

// Client makes outbound requests under a Policy and Limits. It is safe for
// concurrent use.
type Client struct {
	name     string
	policy   Policy
	limits   Limits
	log      *slog.Logger
	resolver Resolver
	hc       *http.Client
	tr       *http.Transport
}

// New returns a client; name identifies its use in logs ("webhook",
// "push", …). tlsConfig may be nil (the system roots); tests pass the
// roots of their TLS receivers.
func New(name string, p Policy, l Limits, tlsConfig *tls.Config) *Client {
	l.defaults()
	c := &Client{name: name, policy: p, limits: l, log: p.Log, resolver: p.Resolver}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.resolver == nil {
		c.resolver = net.DefaultResolver
	}
	c.tr = &http.Transport{
		Proxy:                  nil, // environment proxies are ignored
		DialContext:            c.dial,
		TLSClientConfig:        tlsConfig,
		TLSHandshakeTimeout:    l.TLS,
		ResponseHeaderTimeout:  l.Header,
		MaxIdleConnsPerHost:    l.IdlePerHost,
		IdleConnTimeout:        90 * time.Second,
		ForceAttemptHTTP2:      true,
		MaxResponseHeaderBytes: 64 << 10,
	}
	c.hc = &http.Client{Transport: c.tr, Timeout: l.Total, CheckRedirect: c.checkRedirect}
	return c
}

// Limits returns the client's limits, defaults filled in.
func (c *Client) Limits() Limits { return c.limits }

// CloseIdleConnections closes the client's idle connections.
func (c *Client) CloseIdleConnections() { c.tr.CloseIdleConnections() }

// refusal is the cause of a refused dial, kept for the log.
type refusal struct{ addr netip.Addr }

func (r refusal) Error() string {
	return "address " + r.addr.String() + " is refused by the outbound policy"
}

// Allowed reports whether the client may connect to addr: the policy's
// Allow list admits it, or Refused does not refuse it.
func (c *Client) Allowed(addr netip.Addr) bool { return c.policy.Allowed(addr) }

// Allowed reports whether addr may be reached under p.
func (p Policy) Allowed(addr netip.Addr) bool {
	addr = addr.WithZone("")
	for _, pre := range p.Allow {
		if pre.Contains(addr) || addr.Is4In6() && pre.Contains(addr.Unmap()) {
			return true
		}
	}
	return !Refused(addr)
}

// dial resolves address's host, checks each resolved address and dials the
// first allowed one that answers, by its IP (no second lookup).
func (c *Client) dial(ctx context.Context, network, address string) (net.Conn, error) {
	host, portS, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	port, err := strconv.ParseUint(portS, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("dial %s: bad port", address)
	}
	var addrs []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{ip}
	} else {
		addrs, err = c.resolver.LookupNetIP(ctx, "ip", host)
		if err != nil {
			return nil, fmt.Errorf("resolve %s: %w", host, err)
		}
	}
	var errs []error
	for _, a := range addrs {
		if !c.policy.Allowed(a) {
			errs = append(errs, refusal{a})
			continue
		}
		d := net.Dialer{Timeout: c.limits.Dial, Control: c.control}
		// IPv4 answers may come IPv4-mapped: dial them as IPv4.
		conn, err := d.DialContext(ctx, network, netip.AddrPortFrom(a.Unmap(), uint16(port)).String())
		if err == nil {
			return conn, nil
		}
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		return nil, fmt.Errorf("resolve %s: no addresses", host)
	}
	return nil, errors.Join(errs...)
}

// control checks, once more, the address the socket is about to connect
// to: whatever path led here, no refused address is ever connected.
func (c *Client) control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("dial %s: %w", address, err)
	}
	if !c.policy.Allowed(ap.Addr()) {
		return refusal{ap.Addr()}
	}
	return nil
}

func (c *Client) checkRedirect(req *http.Request, via []*http.Request) error {
	if c.limits.MaxRedirects < 0 {
		return http.ErrUseLastResponse
	}
	if len(via) > c.limits.MaxRedirects {
		return fmt.Errorf("more than %d redirects", c.limits.MaxRedirects)
	}
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return fmt.Errorf("redirect to a %q URL", req.URL.Scheme)
	}
	return nil
}

// Do sends req and returns the response whatever its status; the response
// body is bounded by Limits.MaxBody and Limits.Idle. Every failure is
// ErrFailed (the cause is logged). The caller closes the body.
func (c *Client) Do(req *http.Request) (*http.Response, error) {
	if req.URL == nil || req.URL.Scheme != "http" && req.URL.Scheme != "https" || req.URL.Host == "" {
		c.fail(req, errors.New("not an absolute http(s) URL"))
		return nil, ErrFailed
	}
	ctx, cancel := context.WithCancel(req.Context())
	resp, err := c.hc.Do(req.WithContext(ctx))
	if err != nil {
		cancel()
		c.fail(req, err)
		return nil, ErrFailed
	}
	// A body that pauses longer than Idle is cut (the whole exchange is
	// bounded by Total besides).
	idle := time.AfterFunc(c.limits.Idle, cancel)
	resp.Body = &body{c: c, req: req, rc: resp.Body, left: c.limits.MaxBody, idle: idle, cancel: cancel}
	return resp, nil
}

// Fetch is Do for callers that want a 2xx answer: any other status closes
// the body and returns ErrFailed (the status is logged).
func (c *Client) Fetch(req *http.Request) (*http.Response, error) {
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		resp.Body.Close()
		c.fail(req, fmt.Errorf("answered %s", resp.Status))
		return nil, ErrFailed
	}
	return resp, nil
}

// fail logs the cause of a failed request. The query string is left out:
// it may carry secrets (a webhook's verify token).
func (c *Client) fail(req *http.Request, cause error) {
	target := ""
	if req.URL != nil {
		target = req.URL.Scheme + "://" + req.URL.Host + req.URL.Path
	}
	c.log.LogAttrs(req.Context(), slog.LevelWarn, "outbound request failed",
		slog.String("use", c.name), slog.String("method", req.Method), slog.String("url", target), slog.String("err", cause.Error()))
}

// body bounds a response body in size and in the pause between reads.
type body struct {
	c      *Client
	req    *http.Request
	rc     io.ReadCloser
	left   int64
	idle   *time.Timer
	cancel context.CancelFunc

	mu     sync.Mutex
	failed bool
}

func (b *body) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more tells a body of exactly MaxBody from a longer one.
		var one [1]byte
		n, err := b.rc.Read(one[:])
		if n > 0 {
			b.logOnce(errors.New("the body is longer than the limit"))
			return 0, ErrBodyTooLarge
		}
		if err == io.EOF {
			return 0, io.EOF
		}
		return 0, b.readErr(err)
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	if n > 0 {
		b.idle.Reset(b.c.limits.Idle)
	}
	if err != nil && err != io.EOF {
		return n, b.readErr(err)
	}
	return n, err
}

func (b *body) readErr(err error) error {
	if err == nil {
		return nil
	}
	b.logOnce(fmt.Errorf("reading the body: %w", err))
	return ErrFailed
}

func (b *body) logOnce(err error) {
	b.mu.Lock()
	first := !b.failed
	b.failed = true
	b.mu.Unlock()
	if first {
		b.c.fail(b.req, err)
	}
}

func (b *body) Close() error {
	b.idle.Stop()
	err := b.rc.Close()
	b.cancel()
	return err
}
