//go:build !unix

package client

// lockProfile is a no-op where flock is unavailable (js/wasm, Windows): the
// caller must not open one profile twice.
func lockProfile(dir string) (func(), error) { return func() {}, nil }
