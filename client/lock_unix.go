//go:build unix

package client

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/parleyhq/parley"
)

// lockProfile takes an exclusive lock on the profile directory for the life
// of the Client: two processes using one device's MLS state at once would
// fork it (and could reuse a message key), so the second is refused.
func lockProfile(dir string) (release func(), err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create profile directory: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock profile: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, parley.Errorf(parley.CodeConflict, ReasonProfileInUse, "profile %s is in use by another parley process (a running listen?)", dir)
		}
		return nil, fmt.Errorf("lock profile: %w", err)
	}
	return func() { f.Close() }, nil
}
