//go:build !js

package client

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
)

// openDefaultStore opens the SQLite store in the profile directory.
func openDefaultStore(ctx context.Context, dir string) (LocalStore, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create profile directory: %w", err)
	}
	return OpenSQLiteStore(ctx, filepath.Join(dir, "parley.db"))
}
