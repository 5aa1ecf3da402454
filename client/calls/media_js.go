//go:build js

package calls

import "github.com/parleyhq/parley"

// startMedia: the Go client's media participant is native only; the
// browser client uses the browser's WebRTC with encoded transforms.
func (cl *Call) startMedia() error {
	return parley.Errorf(parley.CodeUnavailable, ReasonCallNativeOnly, "the Go client's call media runs natively, not in the browser build")
}
