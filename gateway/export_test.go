package gateway

import "github.com/parleyhq/parley/proto/parleypb"

// SetFrameHook makes h run before every frame a session handles, until the
// returned function removes it.
func SetFrameHook(h func(*parleypb.ClientFrame)) (restore func()) {
	frameHook.Store(&h)
	return func() { frameHook.Store(nil) }
}
