// Package push sends Web Push notifications (RFC 8030) to browsers whose
// device has no live session, with no vendor relay: the server signs its
// requests with a VAPID key pair it generates itself (RFC 8292) and
// encrypts every payload to the browser's subscription keys (RFC 8291,
// aes128gcm). Payloads never carry message content — the server has none —
// only which conversation and sequence number to fetch. Push requests go
// through package outbound: an endpoint on loopback, a private network or
// any other internal address is never reached unless the operator allowed
// its range.
package push

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"strings"
	"time"

	"github.com/parleyhq/parley"
)

// Sizes of RFC 8291.
const (
	PublicKeySize  = 65 // an uncompressed P-256 point
	AuthSecretSize = 16
	saltSize       = 16
	headerSize     = saltSize + 4 + 1 + PublicKeySize // salt, rs, idlen, keyid
	recordSize     = 4096
	// MaxPlaintext is the most payload one aes128gcm record of 4096 bytes
	// carries (RFC 8291 section 4: push services accept at least 4096
	// bytes of body).
	MaxPlaintext = recordSize - headerSize - 16 - 1
)

var b64 = base64.RawURLEncoding

// Encrypt encrypts plaintext for a subscription (its p256dh key uaPublic and
// auth secret) as RFC 8291 specifies: a fresh ephemeral key pair and salt,
// one aes128gcm record. The result is the HTTP body of the push request.
func Encrypt(plaintext, uaPublic, auth []byte) ([]byte, error) {
	as, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	salt := make([]byte, saltSize)
	if _, err := rand.Read(salt); err != nil {
		return nil, err
	}
	return encrypt(plaintext, uaPublic, auth, as, salt)
}

func encrypt(plaintext, uaPublic, auth []byte, as *ecdh.PrivateKey, salt []byte) ([]byte, error) {
	if len(plaintext) > MaxPlaintext {
		return nil, parley.Errorf(parley.CodeTooLarge, ReasonPushPayloadTooLarge, "a push payload has at most %d bytes", MaxPlaintext)
	}
	if len(auth) != AuthSecretSize {
		return nil, parley.Errorf(parley.CodeInvalid, ReasonBadPushAuth, "the subscription's auth secret must be %d bytes", AuthSecretSize)
	}
	ua, err := ecdh.P256().NewPublicKey(uaPublic)
	if err != nil {
		return nil, parley.Errorf(parley.CodeInvalid, ReasonBadPushKey, "the subscription's p256dh is not a P-256 point")
	}
	shared, err := as.ECDH(ua)
	if err != nil {
		return nil, err
	}
	asPublic := as.PublicKey().Bytes()
	cek, nonce, err := deriveKeys(shared, auth, uaPublic, asPublic, salt)
	if err != nil {
		return nil, err
	}
	gcm, err := newGCM(cek)
	if err != nil {
		return nil, err
	}
	out := make([]byte, headerSize, headerSize+len(plaintext)+1+gcm.Overhead())
	copy(out, salt)
	binary.BigEndian.PutUint32(out[saltSize:], recordSize)
	out[saltSize+4] = PublicKeySize
	copy(out[saltSize+5:], asPublic)
	record := append(append(make([]byte, 0, len(plaintext)+1), plaintext...), 0x02) // the last (only) record's delimiter
	return gcm.Seal(out, nonce, record, nil), nil
}

// deriveKeys is RFC 8291 section 3.4 then RFC 8188 section 2.2.
func deriveKeys(shared, auth, uaPublic, asPublic, salt []byte) (cek, nonce []byte, err error) {
	info := append(append([]byte("WebPush: info\x00"), uaPublic...), asPublic...)
	ikm, err := hkdf.Key(sha256.New, shared, auth, string(info), 32)
	if err != nil {
		return nil, nil, err
	}
	prk, err := hkdf.Extract(sha256.New, ikm, salt)
	if err != nil {
		return nil, nil, err
	}
	if cek, err = hkdf.Expand(sha256.New, prk, "Content-Encoding: aes128gcm\x00", 16); err != nil {
		return nil, nil, err
	}
	if nonce, err = hkdf.Expand(sha256.New, prk, "Content-Encoding: nonce\x00", 12); err != nil {
		return nil, nil, err
	}
	return cek, nonce, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// Decrypt is the browser's side of Encrypt: it decrypts an aes128gcm push
// body with the subscription's private key and auth secret. The server
// never needs it; tests and tools do. Every malformed body is an error
// with CodeInvalid "bad_push_body".
func Decrypt(body []byte, ua *ecdh.PrivateKey, auth []byte) ([]byte, error) {
	bad := func(why string) error {
		return parley.Errorf(parley.CodeInvalid, ReasonBadPushBody, "push body: %s", why)
	}
	if len(body) < saltSize+5 {
		return nil, bad("shorter than its header")
	}
	salt := body[:saltSize]
	rs := binary.BigEndian.Uint32(body[saltSize:])
	idlen := int(body[saltSize+4])
	if idlen != PublicKeySize || len(body) < saltSize+5+idlen {
		return nil, bad("the key id is not a P-256 point")
	}
	asPublic := body[saltSize+5 : saltSize+5+idlen]
	ct := body[saltSize+5+idlen:]
	if rs < 18 || len(ct) > int(rs) {
		return nil, bad("not a single record")
	}
	as, err := ecdh.P256().NewPublicKey(asPublic)
	if err != nil {
		return nil, bad("the key id is not a P-256 point")
	}
	shared, err := ua.ECDH(as)
	if err != nil {
		return nil, bad("no shared secret")
	}
	cek, nonce, err := deriveKeys(shared, auth, ua.PublicKey().Bytes(), asPublic, salt)
	if err != nil {
		return nil, err
	}
	gcm, err := newGCM(cek)
	if err != nil {
		return nil, err
	}
	pt, err := gcm.Open(nil, nonce, ct, nil)
	if err != nil {
		return nil, bad("authentication failed")
	}
	// Strip the padding: zeros after the 0x02 delimiter of the last record.
	i := len(pt) - 1
	for i >= 0 && pt[i] == 0 {
		i--
	}
	if i < 0 || pt[i] != 0x02 {
		return nil, bad("no last-record delimiter")
	}
	return pt[:i], nil
}

// ---- VAPID (RFC 8292) ----

// NewVAPIDKey generates a P-256 key pair for VAPID.
func NewVAPIDKey(now time.Time) (parley.VAPIDKey, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return parley.VAPIDKey{}, err
	}
	priv, err := k.Bytes()
	if err != nil {
		return parley.VAPIDKey{}, err
	}
	pub, err := k.PublicKey.Bytes()
	if err != nil {
		return parley.VAPIDKey{}, err
	}
	return parley.VAPIDKey{Private: priv, Public: pub, CreatedAt: now}, nil
}

func signer(k parley.VAPIDKey) (*ecdsa.PrivateKey, error) {
	priv, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), k.Private)
	if err != nil {
		return nil, fmt.Errorf("vapid key: %w", err)
	}
	return priv, nil
}

// audience is the origin of a push endpoint (RFC 8292 section 2: the JWT's
// "aud").
func audience(endpoint string) (string, error) {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", parley.Errorf(parley.CodeInvalid, ReasonBadPushEndpoint, "push endpoint %q is not an http(s) URL", endpoint)
	}
	return u.Scheme + "://" + u.Host, nil
}

// vapidHeader returns the Authorization header value "vapid t=<JWT>,
// k=<public key>" for a request to endpoint: an ES256 JWT with the
// endpoint's origin as audience, expiring at exp (at most 24 h ahead), and
// subject sub (a mailto: or https: URI).
func vapidHeader(key *ecdsa.PrivateKey, pub []byte, endpoint, sub string, exp time.Time) (string, error) {
	aud, err := audience(endpoint)
	if err != nil {
		return "", err
	}
	header := b64.EncodeToString([]byte(`{"typ":"JWT","alg":"ES256"}`))
	claims, _ := json.Marshal(struct {
		Aud string `json:"aud"`
		Exp int64  `json:"exp"`
		Sub string `json:"sub"`
	}{aud, exp.Unix(), sub})
	signing := header + "." + b64.EncodeToString(claims)
	digest := sha256.Sum256([]byte(signing))
	r, s, err := ecdsa.Sign(rand.Reader, key, digest[:])
	if err != nil {
		return "", err
	}
	sig := make([]byte, 64) // JWS ES256: r || s, 32 bytes each
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return "vapid t=" + signing + "." + b64.EncodeToString(sig) + ", k=" + b64.EncodeToString(pub), nil
}

// VAPIDClaims are the claims of a verified VAPID token.
type VAPIDClaims struct {
	Aud string `json:"aud"`
	Exp int64  `json:"exp"`
	Sub string `json:"sub"`
}

// VerifyVAPID checks an Authorization header as a push service does
// (RFC 8292): the "vapid t=…, k=…" form, an ES256 JWT signed by k, not
// expired at now, with aud the origin of endpoint and an exp at most 24 h
// ahead. It returns the claims and the public key. Every failure is
// CodeUnauthenticated "bad_vapid".
func VerifyVAPID(authz, endpoint string, now time.Time) (VAPIDClaims, []byte, error) {
	var c VAPIDClaims
	bad := func(why string) error {
		return parley.Errorf(parley.CodeUnauthenticated, ReasonBadVAPID, "vapid: %s", why)
	}
	rest, ok := strings.CutPrefix(authz, "vapid ")
	if !ok {
		return c, nil, bad("not the vapid scheme")
	}
	var tok, k string
	for _, p := range strings.Split(rest, ",") {
		name, val, _ := strings.Cut(strings.TrimSpace(p), "=")
		switch name {
		case "t":
			tok = val
		case "k":
			k = val
		}
	}
	pub, err := b64.DecodeString(k)
	if err != nil || len(pub) != PublicKeySize {
		return c, nil, bad("k is not a P-256 public key")
	}
	key, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), pub)
	if err != nil {
		return c, nil, bad("k is not a P-256 public key")
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return c, nil, bad("t is not a JWT")
	}
	hdr, err1 := b64.DecodeString(parts[0])
	body, err2 := b64.DecodeString(parts[1])
	sig, err3 := b64.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil || len(sig) != 64 {
		return c, nil, bad("t is not a JWT")
	}
	var h struct {
		Alg string `json:"alg"`
	}
	if json.Unmarshal(hdr, &h) != nil || h.Alg != "ES256" {
		return c, nil, bad("alg is not ES256")
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if !ecdsa.Verify(key, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		return c, nil, bad("bad signature")
	}
	if err := json.Unmarshal(body, &c); err != nil {
		return c, nil, bad("claims are not JSON")
	}
	aud, err := audience(endpoint)
	if err != nil || c.Aud != aud {
		return c, nil, bad("aud is not the endpoint's origin")
	}
	if exp := time.Unix(c.Exp, 0); !exp.After(now) || exp.After(now.Add(24*time.Hour)) {
		return c, nil, bad("exp is past or more than 24 h ahead")
	}
	if !strings.HasPrefix(c.Sub, "mailto:") && !strings.HasPrefix(c.Sub, "https:") {
		return c, nil, bad("sub is not a mailto: or https: URI")
	}
	return c, pub, nil
}

// ---- subscriptions ----

// Subscription is PushSubscription.toJSON() as the browser gives it.
type Subscription struct {
	Endpoint string `json:"endpoint"`
	Keys     struct {
		P256DH string `json:"p256dh"`
		Auth   string `json:"auth"`
	} `json:"keys"`
}

// maxEndpoint bounds an endpoint URL's length.
const maxEndpoint = 2048

var errNoEndpoint = errors.New("no endpoint")

// ParseSubscription decodes and checks a PushSubscription.toJSON(): an
// https endpoint (http only for loopback hosts, for tests and development)
// of at most 2048 bytes, a p256dh that is a P-256 point and a 16-byte auth
// secret (base64url, padded or not). Errors are CodeInvalid with reason
// "bad_subscription".
func ParseSubscription(data []byte) (endpoint string, p256dh, auth []byte, err error) {
	bad := func(format string, args ...any) error {
		return parley.Errorf(parley.CodeInvalid, ReasonBadSubscription, "push subscription: "+format, args...)
	}
	var s Subscription
	if err := json.Unmarshal(data, &s); err != nil {
		return "", nil, nil, bad("not JSON: %v", err)
	}
	if s.Endpoint == "" {
		return "", nil, nil, bad("%v", errNoEndpoint)
	}
	if len(s.Endpoint) > maxEndpoint {
		return "", nil, nil, bad("endpoint longer than %d bytes", maxEndpoint)
	}
	u, err := url.Parse(s.Endpoint)
	if err != nil || u.Host == "" || u.User != nil || (u.Scheme != "https" && !(u.Scheme == "http" && loopback(u.Hostname()))) {
		return "", nil, nil, bad("endpoint is not an https URL")
	}
	decode := func(v string) ([]byte, error) {
		return b64.DecodeString(strings.TrimRight(v, "="))
	}
	if p256dh, err = decode(s.Keys.P256DH); err != nil || len(p256dh) != PublicKeySize {
		return "", nil, nil, bad("keys.p256dh is not a P-256 public key")
	}
	if _, err := ecdh.P256().NewPublicKey(p256dh); err != nil {
		return "", nil, nil, bad("keys.p256dh is not a P-256 public key")
	}
	if auth, err = decode(s.Keys.Auth); err != nil || len(auth) != AuthSecretSize {
		return "", nil, nil, bad("keys.auth is not %d bytes", AuthSecretSize)
	}
	return s.Endpoint, p256dh, auth, nil
}

func loopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}
