package client

import (
	"context"

	"github.com/parleyhq/parley/client/localstore"
)

// The local store lives in package localstore; these aliases keep the
// client's API (CLI, browser bridge, bots, hosted endpoints) unchanged.
type (
	// LocalStore is the client's durable state (localstore.Store).
	LocalStore       = localstore.Store
	Account          = localstore.Account
	Chat             = localstore.Chat
	Contact          = localstore.Contact
	DeviceKey        = localstore.DeviceKey
	KeyPackageSecret = localstore.KeyPackageSecret
	Applied          = localstore.Applied
	ChatFlags        = localstore.ChatFlags
	KV               = localstore.KV
	MemKV            = localstore.MemKV
)

// NewMemKV returns an empty in-memory KV (localstore.NewMemKV).
func NewMemKV() *MemKV { return localstore.NewMemKV() }

// OpenKVStore loads a local store kept in kv (localstore.OpenKV).
func OpenKVStore(ctx context.Context, kv KV) (LocalStore, error) { return localstore.OpenKV(ctx, kv) }
