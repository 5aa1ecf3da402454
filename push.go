package parley

import (
	"context"
	"time"
)

// PushSubscription is a browser's Web Push subscription (RFC 8030, the
// W3C Push API's PushSubscription) registered by one device: the push
// service's Endpoint URL, and the browser's P-256 public key (P256DH,
// uncompressed, 65 bytes) and authentication secret (Auth, 16 bytes) that
// encrypt payloads to it (RFC 8291). The endpoint is unique: a browser
// subscription belongs to one device.
type PushSubscription struct {
	Endpoint  string
	Device    DeviceID
	User      UserID
	P256DH    []byte
	Auth      []byte
	CreatedAt time.Time
}

// VAPIDKey is the server's P-256 key pair that signs its Web Push requests
// (RFC 8292): Private is the 32-byte scalar, Public the 65-byte
// uncompressed point that browsers get as applicationServerKey.
type VAPIDKey struct {
	Private   []byte
	Public    []byte
	CreatedAt time.Time
}

// PushStore keeps the Web Push key pair and subscriptions (package push).
type PushStore interface {
	// EnsureVAPIDKey returns the stored key pair, storing k first when
	// there is none: concurrent first starts agree on one key.
	EnsureVAPIDKey(ctx context.Context, k VAPIDKey) (VAPIDKey, error)
	// PutPushSubscription stores s, replacing a subscription with the same
	// endpoint (a browser re-subscribing, possibly as another device).
	PutPushSubscription(ctx context.Context, s PushSubscription) error
	// DeletePushSubscription deletes the subscription with this endpoint;
	// when device is not 0, only if it is that device's. Deleting what
	// does not exist is not an error.
	DeletePushSubscription(ctx context.Context, device DeviceID, endpoint string) error
	// PushSubscriptions lists the subscriptions of the given devices,
	// ordered by device, then endpoint.
	PushSubscriptions(ctx context.Context, devices []DeviceID) ([]PushSubscription, error)
}
