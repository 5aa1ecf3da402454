package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	tusd "github.com/tus/tusd/v2/pkg/handler"

	"github.com/parleyhq/parley"
)

// staging is the tusd DataStore: uploads in progress are files in
// StagingDir named by blob ID; the upload's length and owner live in the
// MediaStore record, so a file's size is its offset and nothing else needs
// persisting. When the last byte arrives the file moves into the BlobStore.
//
// tusd's in-memory locker serialises requests per upload; a new request for
// an upload asks the one holding the lock (a connection that died) to
// release it, so a client resumes at once.
type staging struct{ s *Service }

var bufPool = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

func (st *staging) path(id parley.BlobID) string {
	return filepath.Join(st.s.cfg.StagingDir, string(id))
}

func (st *staging) NewUpload(ctx context.Context, info tusd.FileInfo) (tusd.Upload, error) {
	id := parley.BlobID(info.ID)
	if !id.Valid() {
		return nil, fmt.Errorf("media: upload without a blob id")
	}
	f, err := os.OpenFile(st.path(id), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("media: stage %s: %w", id, err)
	}
	f.Close()
	b, err := st.s.cfg.Store.Blob(ctx, id)
	if err != nil {
		return nil, err
	}
	return &upload{st: st, b: b}, nil
}

func (st *staging) GetUpload(ctx context.Context, id string) (tusd.Upload, error) {
	b, err := st.s.cfg.Store.Blob(ctx, parley.BlobID(id))
	if parley.IsCode(err, parley.CodeNotFound) {
		return nil, tusd.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return &upload{st: st, b: b}, nil
}

type upload struct {
	st *staging
	b  parley.Blob
}

func (u *upload) GetInfo(ctx context.Context) (tusd.FileInfo, error) {
	info := tusd.FileInfo{ID: string(u.b.ID), Size: u.b.Size, MetaData: tusd.MetaData{}}
	if u.b.Complete() {
		info.Offset = u.b.Size
		return info, nil
	}
	fi, err := os.Stat(u.st.path(u.b.ID))
	if errors.Is(err, fs.ErrNotExist) {
		return info, tusd.ErrNotFound // abandoned and swept, or staged on another node
	}
	if err != nil {
		return info, err
	}
	info.Offset = fi.Size()
	return info, nil
}

// WriteChunk appends src at offset (the staged file's size; tusd checked
// it) through a fixed buffer. Bytes received before the connection dropped
// are kept: that is the offset the client resumes from.
func (u *upload) WriteChunk(ctx context.Context, offset int64, src io.Reader) (int64, error) {
	f, err := os.OpenFile(u.st.path(u.b.ID), os.O_WRONLY, 0)
	if err != nil {
		return 0, fmt.Errorf("media: append %s: %w", u.b.ID, err)
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return 0, err
	}
	buf := bufPool.Get().(*[]byte)
	defer bufPool.Put(buf)
	w := &writebackWriter{f: f, off: offset, flushed: offset}
	n, err := io.CopyBuffer(w, src, *buf)
	if err != nil {
		return n, fmt.Errorf("media: append %s: %w", u.b.ID, err)
	}
	return n, nil
}

// writebackInterval is how many bytes a staged upload accumulates before
// their write-back to disk is started (see startWriteback).
const writebackInterval = 8 << 20

// writebackWriter appends to a staged file and starts the write-back of
// every writebackInterval bytes. Being a plain Writer it also hides
// *os.File's ReadFrom, so CopyBuffer uses our buffer.
type writebackWriter struct {
	f            *os.File
	off, flushed int64
}

func (w *writebackWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.off += int64(n)
	if w.off-w.flushed >= writebackInterval {
		startWriteback(w.f, w.flushed, w.off-w.flushed)
		w.flushed = w.off
	}
	return n, err
}

func (u *upload) GetReader(ctx context.Context) (io.ReadCloser, error) {
	return nil, tusd.ErrNotImplemented
}

// FinishUpload moves the staged file into the BlobStore and marks the blob
// complete.
func (u *upload) FinishUpload(ctx context.Context) error {
	s := u.st.s
	path := u.st.path(u.b.ID)
	if imp, ok := s.cfg.Blobs.(parley.BlobFileImporter); ok {
		if err := imp.ImportFile(ctx, u.b.ID, path, u.b.Size); err != nil {
			return fmt.Errorf("media: finish %s: %w", u.b.ID, err)
		}
	} else {
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("media: finish %s: %w", u.b.ID, err)
		}
		err = s.cfg.Blobs.Put(ctx, u.b.ID, f, u.b.Size)
		f.Close()
		if err != nil {
			return fmt.Errorf("media: finish %s: %w", u.b.ID, err)
		}
		_ = os.Remove(path)
	}
	if err := s.cfg.Store.CompleteBlob(ctx, u.b.ID, s.cfg.Clock.Now()); err != nil {
		return fmt.Errorf("media: finish %s: %w", u.b.ID, err)
	}
	u.b.CompletedAt = s.cfg.Clock.Now()
	return nil
}
