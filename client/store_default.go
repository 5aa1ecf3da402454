//go:build !js

package client

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/parleyhq/parley/client/localstore"
)

// openDefaultStore opens the SQLite store in the profile directory.
func openDefaultStore(ctx context.Context, dir string) (LocalStore, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create profile directory: %w", err)
	}
	return localstore.OpenSQLite(ctx, filepath.Join(dir, "parley.db"))
}

// OpenSQLiteStore opens (creating if needed) the SQLite local store at path
// (localstore.OpenSQLite).
func OpenSQLiteStore(ctx context.Context, path string) (LocalStore, error) {
	return localstore.OpenSQLite(ctx, path)
}

// OpenSealedSQLiteStore opens the SQLite local store at path with its
// secrets and MLS state sealed under key (localstore.OpenSealedSQLite).
func OpenSealedSQLiteStore(ctx context.Context, path string, key []byte) (LocalStore, error) {
	return localstore.OpenSealedSQLite(ctx, path, key)
}
