//go:build !js

package localstore

import (
	"context"
	"path/filepath"
	"testing"
)

func init() {
	storeImpls = append([]storeImpl{{"sqlite", func(t *testing.T) func() Store {
		path := filepath.Join(t.TempDir(), "parley.db")
		return func() Store {
			s, err := OpenSQLite(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
	}}}, storeImpls...)
}
