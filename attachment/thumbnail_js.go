//go:build js

package attachment

import (
	"io"

	"github.com/parleyhq/parley"
)

// Thumbnail is not available in the browser build: the browser decodes
// images itself (and videos, which Go cannot), so the web client makes the
// thumbnail with a canvas and passes it to client.SendMedia. Leaving the
// image decoders out keeps them out of the wasm module the browser
// downloads.
func Thumbnail(io.ReadSeeker) (thumb []byte, width, height int, err error) {
	return nil, 0, 0, parley.Errorf(parley.CodeInvalid, ReasonNoImageDecoder, "images are decoded by the browser in this build")
}
