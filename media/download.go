package media

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/parleyhq/parley"
)

// serveBlob serves a complete blob's ciphertext, with Range support (single
// and multiple ranges, If-Range) from http.ServeContent.
func (s *Service) serveBlob(w http.ResponseWriter, r *http.Request) {
	b, dev, err := s.access(r, parley.BlobID(r.PathValue("id")))
	if err == nil && !b.Complete() {
		err = parley.Errorf(parley.CodeNotFound, ReasonUploadIncomplete, "the file is still being uploaded")
	}
	if err == nil {
		var ok bool
		ok, err = s.memberOfAny(r.Context(), dev, b.Conversations)
		if err == nil && !ok {
			err = errNotMember
		}
	}
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("ETag", strconv.Quote(string(b.ID))) // blobs are immutable
	h.Set("Cache-Control", "private, max-age=31536000, immutable")
	h.Set("X-Content-Type-Options", "nosniff")
	content := &blobReader{ctx: r.Context(), blobs: s.cfg.Blobs, id: b.ID, size: b.Size}
	defer content.Close()
	http.ServeContent(w, r, "", b.CompletedAt, content)
}

// blobReader is an io.ReadSeeker over a blob that opens the store's reader
// lazily at the current position, so ServeContent's seeks cost nothing and
// a Range request reads only its range.
type blobReader struct {
	ctx   context.Context
	blobs parley.BlobStore
	id    parley.BlobID
	size  int64
	pos   int64
	rc    io.ReadCloser
}

func (b *blobReader) Read(p []byte) (int, error) {
	if b.pos >= b.size {
		return 0, io.EOF
	}
	if b.rc == nil {
		rc, err := b.blobs.Get(b.ctx, b.id, b.pos, -1)
		if err != nil {
			return 0, err
		}
		b.rc = rc
	}
	n, err := b.rc.Read(p)
	b.pos += int64(n)
	return n, err
}

func (b *blobReader) Seek(offset int64, whence int) (int64, error) {
	var pos int64
	switch whence {
	case io.SeekStart:
		pos = offset
	case io.SeekCurrent:
		pos = b.pos + offset
	case io.SeekEnd:
		pos = b.size + offset
	}
	if pos < 0 {
		return 0, errors.New("media: seek before start")
	}
	if pos != b.pos && b.rc != nil {
		b.rc.Close()
		b.rc = nil
	}
	b.pos = pos
	return pos, nil
}

func (b *blobReader) Close() error {
	if b.rc != nil {
		return b.rc.Close()
	}
	return nil
}
