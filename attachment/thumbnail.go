//go:build !js

package attachment

import (
	"bufio"
	"bytes"
	"fmt"
	"image"
	_ "image/gif" // decoders for Thumbnail
	"image/jpeg"
	_ "image/png"
	"io"

	_ "golang.org/x/image/bmp"
	"golang.org/x/image/draw"
	_ "golang.org/x/image/webp"

	"github.com/parleyhq/parley"
)

// Thumbnail decodes a JPEG, PNG, GIF, WebP or BMP image and returns a JPEG
// thumbnail at most ThumbnailMax pixels a side and the image's dimensions.
func Thumbnail(r io.ReadSeeker) (thumb []byte, width, height int, err error) {
	cfg, _, err := image.DecodeConfig(bufio.NewReader(r))
	if err != nil {
		return nil, 0, 0, fmt.Errorf("thumbnail: %w", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > maxImagePixels {
		return nil, cfg.Width, cfg.Height, parley.Errorf(parley.CodeTooLarge, ReasonImageTooLarge, "image of %dx%d pixels", cfg.Width, cfg.Height)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, 0, 0, err
	}
	src, _, err := image.Decode(bufio.NewReader(r))
	if err != nil {
		return nil, 0, 0, fmt.Errorf("thumbnail: %w", err)
	}
	b := src.Bounds()
	tw, th := b.Dx(), b.Dy()
	if tw > ThumbnailMax || th > ThumbnailMax {
		if tw >= th {
			tw, th = ThumbnailMax, max(1, th*ThumbnailMax/tw)
		} else {
			tw, th = max(1, tw*ThumbnailMax/th), ThumbnailMax
		}
	}
	dst := image.NewRGBA(image.Rect(0, 0, tw, th))
	draw.Draw(dst, dst.Bounds(), image.White, image.Point{}, draw.Src) // transparent → white
	draw.BiLinear.Scale(dst, dst.Bounds(), src, b, draw.Over, nil)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, dst, &jpeg.Options{Quality: thumbnailQualty}); err != nil {
		return nil, 0, 0, fmt.Errorf("thumbnail: %w", err)
	}
	return buf.Bytes(), b.Dx(), b.Dy(), nil
}
