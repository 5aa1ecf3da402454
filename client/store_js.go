//go:build js

package client

import (
	"context"

	"github.com/parleyhq/parley"
)

// openDefaultStore has no default in the browser: the caller sets
// Config.Store (IndexedDB-backed, supplied by the web client).
func openDefaultStore(ctx context.Context, dir string) (LocalStore, error) {
	return nil, parley.Errorf(parley.CodeInvalid, ReasonNoStore, "set Config.Store: there is no default local store in the browser")
}
