package sqlite

import "time"

// SetLazyDelay sets how long Stores opened afterwards hold lazy writes
// (acknowledgements) waiting for another write; it returns the old value.
func SetLazyDelay(d time.Duration) time.Duration {
	old := lazyDelay
	lazyDelay = d
	return old
}
