package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley"
)

// Every POST carries, besides the Cloud API's body signature
// (SignatureHeader), a signed timestamp so that a receiver can refuse a
// captured POST sent again (Stripe's scheme):
//
//	X-Parley-Timestamp: 1733580000
//	X-Parley-Signature: t=1733580000,v1=<hex HMAC-SHA256(app secret, "1733580000" + "." + body)>
//
// The timestamp is the Unix time (seconds) of the attempt: a retry is signed
// again with its own time.
const (
	TimestampHeader      = "X-Parley-Timestamp"
	TimedSignatureHeader = "X-Parley-Signature"
	// DefaultTolerance is how far a POST's timestamp may be from the
	// receiver's clock (either way) for ReadRequest to accept it.
	DefaultTolerance = 5 * time.Minute
)

// The reasons of the CodeUnauthenticated errors ReadRequest and
// Receiver.Read return.
const (
	ReasonBadSignature     = "bad_signature"     // X-Hub-Signature-256 or the v1 signature does not match
	ReasonMissingTimestamp = "missing_timestamp" // no X-Parley-Timestamp / X-Parley-Signature, or malformed
	ReasonStaleTimestamp   = "stale_timestamp"   // the timestamp is outside the tolerance window
	ReasonReplayed         = "replayed"          // this exact POST was accepted before
)

// SignTimed returns the X-Parley-Signature value of body sent at t:
// "t=<unix seconds>,v1=<hex HMAC-SHA256 of "<unix seconds>.<body>">".
func SignTimed(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + timedMAC(secret, ts, body)
}

func timedMAC(secret, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// VerifyTimed checks header (an X-Parley-Signature value) against body and
// secret, and its timestamp against now within tolerance (either way). It
// returns the signed time and the v1 signature (a POST's identity for
// replay detection). Errors: CodeUnauthenticated with ReasonMissingTimestamp,
// ReasonBadSignature or ReasonStaleTimestamp.
func VerifyTimed(secret string, body []byte, header string, now time.Time, tolerance time.Duration) (time.Time, string, error) {
	var ts, sig string
	for part := range strings.SplitSeq(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			if sig == "" {
				sig = strings.ToLower(v)
			}
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sig == "" {
		return time.Time{}, "", parley.Errorf(parley.CodeUnauthenticated, ReasonMissingTimestamp,
			"the %s header must be t=<unix seconds>,v1=<hex signature>", TimedSignatureHeader)
	}
	if !hmac.Equal([]byte(timedMAC(secret, ts, body)), []byte(sig)) {
		return time.Time{}, "", parley.Errorf(parley.CodeUnauthenticated, ReasonBadSignature,
			"the %s header does not match the timestamp and body", TimedSignatureHeader)
	}
	at := time.Unix(sec, 0)
	if d := now.Sub(at); d > tolerance || d < -tolerance {
		return time.Time{}, "", parley.Errorf(parley.CodeUnauthenticated, ReasonStaleTimestamp,
			"the webhook was signed at %s, more than %s from now (%s)", at.UTC().Format(time.RFC3339), tolerance, now.UTC().Format(time.RFC3339))
	}
	return at, sig, nil
}

// maxRemembered bounds a replay cache. Only correctly signed POSTs enter
// it, so only the holder of the secret can fill it; when full, entries
// that left the tolerance window go first, then arbitrary ones.
const maxRemembered = 1 << 16

// replayCache remembers the v1 signatures of accepted POSTs until their
// timestamp leaves the tolerance window (after which the window check
// refuses them anyway).
type replayCache struct {
	mu   sync.Mutex
	seen map[string]time.Time // v1 signature → signed time
}

// remember records sig signed at at; it reports false if sig was seen.
func (c *replayCache) remember(sig string, at, now time.Time, tolerance time.Duration) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.seen[sig]; ok {
		return false
	}
	if c.seen == nil {
		c.seen = map[string]time.Time{}
	}
	if len(c.seen) >= maxRemembered {
		for s, t := range c.seen {
			if now.Sub(t) > tolerance {
				delete(c.seen, s)
			}
		}
		for s := range c.seen {
			if len(c.seen) < maxRemembered {
				break
			}
			delete(c.seen, s)
		}
	}
	c.seen[sig] = at
	return true
}

// Receiver verifies webhook POSTs for one app secret: the body signature,
// the signed timestamp within Tolerance of Clock, and that the same POST
// was not accepted before (a replay). It is safe for concurrent use.
type Receiver struct {
	Secret    string
	Tolerance time.Duration // DefaultTolerance when zero
	Clock     parley.Clock  // the system clock when nil

	replays replayCache
}

// shared is ReadRequest's replay memory (v1 signatures differ across
// secrets, so one cache serves every secret).
var shared = &Receiver{}

func (rv *Receiver) check(secret string, body []byte, h headerGetter) error {
	if !Verify(secret, body, h.Get(SignatureHeader)) {
		return parley.Errorf(parley.CodeUnauthenticated, ReasonBadSignature, "the %s header does not match the body", SignatureHeader)
	}
	tol := rv.Tolerance
	if tol <= 0 {
		tol = DefaultTolerance
	}
	var now time.Time
	if rv.Clock != nil {
		now = rv.Clock.Now()
	} else {
		now = time.Now()
	}
	at, sig, err := VerifyTimed(secret, body, h.Get(TimedSignatureHeader), now, tol)
	if err != nil {
		return err
	}
	if ts := h.Get(TimestampHeader); ts != "" && ts != strconv.FormatInt(at.Unix(), 10) {
		return parley.Errorf(parley.CodeUnauthenticated, ReasonBadSignature, "%s and %s disagree", TimestampHeader, TimedSignatureHeader)
	}
	if !rv.replays.remember(sig, at, now, tol) {
		return parley.Errorf(parley.CodeUnauthenticated, ReasonReplayed, "this webhook POST was already received")
	}
	return nil
}

type headerGetter interface{ Get(string) string }
