package profile

import (
	"io"

	"github.com/parleyhq/parley/attachment"
)

// PhotoFromImage makes a profile photo from a JPEG, PNG, GIF, WebP or BMP
// image: a JPEG at most attachment.ThumbnailMax pixels a side, well under
// the server's size limit. (Not in the browser, which scales photos with a
// canvas.)
func PhotoFromImage(r io.ReadSeeker) ([]byte, error) {
	jpeg, _, _, err := attachment.Thumbnail(r)
	return jpeg, err
}
