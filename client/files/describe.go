package files

import (
	"bytes"
	"context"
	"io"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/attachment"
	"github.com/parleyhq/parley/content"
)

// SendMediaOptions are the options of SendMedia.
type SendMediaOptions struct {
	// Kind presents the file as content.KindImage, content.KindVideo, content.KindVoice or
	// content.KindDocument; "" chooses by content (image, video, else document).
	// A file that is not a decodable image is never sent as an image.
	Kind string
	// Caption is shown with the file.
	Caption string
	// MIME is the sender's idea of the type (e.g. the browser's
	// Blob.type), used when the content does not tell.
	MIME string
	// Duration of a voice note or video the sender recorded, used when
	// the file's own metadata has none (e.g. WebM from a browser).
	Duration time.Duration
	// Thumbnail (a JPEG of at most MaxSenderThumbnail bytes) and the
	// dimensions of an image or video, made by the sender's platform
	// when the client cannot decode the file itself: the browser build
	// has no image decoders (a canvas makes the thumbnail) and no client
	// decodes video frames. With them, an image file the client cannot
	// decode is still sent as an image. Metadata the client computed
	// itself takes precedence.
	Thumbnail     []byte
	Width, Height int
	// Waveform of a voice note the sender recorded: at most
	// attachment.WaveformBars levels 0–255, computed by the sender's
	// platform when the client cannot decode the recording (a browser's
	// Opus in WebM; the browser decodes it with Web Audio). A waveform the
	// client computed itself (WAV) takes precedence.
	Waveform []byte
}

// ReasonBadWaveform (CodeInvalid): SendMediaOptions.Waveform is longer
// than attachment.WaveformBars.
const ReasonBadWaveform = "bad_waveform"

// MaxSenderThumbnail is the largest thumbnail SendMediaOptions accepts.
const MaxSenderThumbnail = 64 << 10

// validSenderThumbnail reports whether o carries a usable thumbnail: a
// JPEG within MaxSenderThumbnail and dimensions within the image limits.
func validSenderThumbnail(o SendMediaOptions) error {
	if o.Thumbnail == nil {
		return nil
	}
	if len(o.Thumbnail) > MaxSenderThumbnail || !bytes.HasPrefix(o.Thumbnail, []byte{0xff, 0xd8, 0xff}) {
		return parley.Errorf(parley.CodeInvalid, attachment.ReasonBadThumbnail, "a thumbnail must be a JPEG of at most %d bytes", MaxSenderThumbnail)
	}
	if o.Width <= 0 || o.Height <= 0 || o.Width > 1<<16 || o.Height > 1<<16 {
		return parley.Errorf(parley.CodeInvalid, attachment.ReasonBadThumbnail, "dimensions %dx%d", o.Width, o.Height)
	}
	return nil
}

// describeMedia describes a file for sending as o asks.
func describeMedia(r io.ReaderAt, size int64, name string, o SendMediaOptions) (attachment.Descriptor, error) {
	var d attachment.Descriptor
	var err error
	switch o.Kind {
	case "", content.KindImage, content.KindVideo, content.KindDocument:
		d, err = attachment.Describe(r, size, name)
	case content.KindVoice:
		d, err = attachment.DescribeVoice(r, size, name)
	default:
		return d, parley.Errorf(parley.CodeInvalid, ReasonBadMediaKind, "cannot send a file as %q", o.Kind)
	}
	if err != nil {
		return d, err
	}
	if err := validSenderThumbnail(o); err != nil {
		return d, err
	}
	if m := strings.TrimSpace(o.MIME); m != "" && (d.MIME == "" || d.MIME == "application/octet-stream" || strings.HasPrefix(d.MIME, "text/plain")) {
		d.MIME = m
	}
	if o.Thumbnail != nil && d.Kind == attachment.KindDocument && strings.HasPrefix(d.MIME, "image/") && (o.Kind == "" || o.Kind == content.KindImage) {
		d.Kind, d.Width, d.Height, d.Thumbnail = attachment.KindImage, o.Width, o.Height, o.Thumbnail
	}
	if o.Thumbnail != nil && (d.Kind == attachment.KindVideo || o.Kind == content.KindVideo) && d.Thumbnail == nil {
		d.Thumbnail = o.Thumbnail
		if d.Width == 0 || d.Height == 0 {
			d.Width, d.Height = o.Width, o.Height
		}
	}
	switch o.Kind {
	case content.KindVideo:
		d.Kind = attachment.KindVideo
	case content.KindDocument:
		d.Kind, d.Thumbnail, d.Width, d.Height, d.Duration = attachment.KindDocument, nil, 0, 0, 0
	}
	if d.Duration == 0 && o.Duration > 0 && (d.Kind == attachment.KindVoice || d.Kind == attachment.KindVideo) {
		d.Duration = o.Duration
	}
	if len(o.Waveform) > attachment.WaveformBars {
		return d, parley.Errorf(parley.CodeInvalid, ReasonBadWaveform, "a waveform has at most %d levels, not %d", attachment.WaveformBars, len(o.Waveform))
	}
	if d.Kind == attachment.KindVoice && len(d.Waveform) == 0 && len(o.Waveform) > 0 {
		d.Waveform = o.Waveform
	}
	d.Caption = o.Caption
	return d, nil
}

// SendMedia sends a file read from r (size bytes; name is the file name
// shown to the recipients) to a person or chat, as SendFile does for a file
// on disk: it describes the file, encrypts it under a fresh key while
// uploading only ciphertext, then sends the descriptor inside the
// MLS-encrypted message. progress, when not nil, is called as the server
// acknowledges the upload (ciphertext bytes stored and total); with
// Config.UploadChunk set the upload goes in requests of that size, so
// progress advances per chunk.
//
// The reader needs random access (io.ReaderAt) because the upload resumes
// from the server's offset after network failures; a browser File gives
// it. Unlike SendFile, an upload that fails for good is not recorded for a
// later call to resume.
//
// Errors: as SendFile.
func (fl *Files) SendMedia(ctx context.Context, to, name string, r io.ReaderAt, size int64, o SendMediaOptions, progress func(sent, total int64)) (content.MessageRecord, error) {
	if size < 0 {
		return content.MessageRecord{}, parley.Errorf(parley.CodeInvalid, ReasonBadSize, "file size %d", size)
	}
	if size > attachment.MaxFileSize {
		return content.MessageRecord{}, parley.Errorf(parley.CodeTooLarge, parley.ReasonFileTooLarge, "file of %d bytes is larger than the 2 GiB limit", size)
	}
	if err := fl.core.Sync(ctx); err != nil {
		return content.MessageRecord{}, err
	}
	conv, err := fl.core.SendTarget(ctx, to)
	if err != nil {
		return content.MessageRecord{}, err
	}
	ac, err := fl.core.Attachments()
	if err != nil {
		return content.MessageRecord{}, err
	}
	d, err := describeMedia(r, size, name, o)
	if err != nil {
		return content.MessageRecord{}, err
	}
	up := *ac
	up.Progress = progress
	if err := up.Upload(ctx, conv, r, &d); err != nil {
		return content.MessageRecord{}, err
	}
	return fl.core.SendMedia(ctx, conv, d, false)
}
