package backup

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// CreateFile writes an archive of opts.DataDir to the file path, which must
// not exist, and returns its manifest. The archive is written beside it as
// path+".partial" (mode 0600), synced and renamed when complete: a file at
// path is always a whole archive. On any error the partial file is
// removed. An empty opts.TempDir is path's folder.
func CreateFile(ctx context.Context, path string, opts Options) (Manifest, error) {
	if _, err := os.Stat(opts.DataDir); err != nil {
		return Manifest{}, fmt.Errorf("data directory: %w", err)
	}
	if opts.TempDir == "" {
		opts.TempDir = filepath.Dir(path)
	}
	f, err := os.OpenFile(path+".partial", os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return Manifest{}, err
	}
	fail := func(err error) (Manifest, error) {
		f.Close()
		os.Remove(f.Name())
		return Manifest{}, err
	}
	if _, err := os.Stat(path); err == nil {
		return fail(fmt.Errorf("%s exists", path))
	}
	m, err := Create(ctx, f, opts)
	if err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		return fail(err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fail(err)
	}
	return m, nil
}

// KeysIn lists the paths of the secrets (KeyNames) that exist in dataDir:
// what an archive without keys leaves to be kept separately.
func KeysIn(dataDir string) []string {
	var present []string
	for _, k := range KeyNames {
		if _, err := os.Stat(filepath.Join(dataDir, k)); err == nil {
			present = append(present, filepath.Join(dataDir, k))
		}
	}
	return present
}

// Size is the total size of the archived files before compression.
func (m Manifest) Size() int64 {
	var size int64
	for _, f := range m.Files {
		size += f.Size
	}
	return size
}

// Hosted reports whether the archive holds hosted business endpoints'
// state, which only the operator key it was sealed under opens.
func (m Manifest) Hosted() bool {
	for _, f := range m.Files {
		if strings.HasPrefix(f.Path, "hosted/") {
			return true
		}
	}
	return false
}
