// Package disk implements parley.BlobStore on files in a directory: the
// default single-machine media store, inside the data directory.
//
// Guarantees, beyond those of parley.BlobStore:
//   - Put writes to a temporary file, fsyncs it and renames it into place,
//     then fsyncs the directory: a blob is either absent or whole, even after
//     a crash or power cut.
//   - ImportFile renames a staged upload into place (no copy) when it is on
//     the same file system, and copies it otherwise.
//   - Blobs are spread over 1,024 sub-directories by the first two
//     characters of their ID, so no directory grows unbounded.
package disk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/parleyhq/parley"
)

// Store is a parley.BlobStore on a directory. It is safe for concurrent use.
type Store struct {
	root string
}

var (
	_ parley.BlobStore        = (*Store)(nil)
	_ parley.BlobFileImporter = (*Store)(nil)
)

// Open returns a store rooted at dir, creating the directory if needed.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o700); err != nil {
		return nil, fmt.Errorf("disk: open %s: %w", dir, err)
	}
	return &Store{root: dir}, nil
}

func (s *Store) path(id parley.BlobID) (string, error) {
	if !id.Valid() {
		return "", parley.Errorf(parley.CodeInvalid, parley.ReasonBadBlobID, "invalid blob id")
	}
	return filepath.Join(s.root, string(id[1:3]), string(id)), nil
}

// Put stores exactly size bytes from r.
func (s *Store) Put(ctx context.Context, id parley.BlobID, r io.Reader, size int64) error {
	dst, err := s.path(id)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Join(s.root, "tmp"), "put-*")
	if err != nil {
		return fmt.Errorf("disk: put %s: %w", id, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after the rename
	n, err := io.Copy(f, io.LimitReader(ctxReader{ctx, r}, size+1))
	if err == nil && n != size {
		err = parley.Errorf(parley.CodeInvalid, parley.ReasonSizeMismatch, "blob is %d bytes, expected %d", n, size)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return wrap("put", id, err)
	}
	return s.place(id, tmp, dst)
}

// ImportFile moves the complete file at path into the store as id.
func (s *Store) ImportFile(ctx context.Context, id parley.BlobID, path string, size int64) error {
	dst, err := s.path(id)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("disk: import %s: %w", id, err)
	}
	st, err := f.Stat()
	if err == nil && st.Size() != size {
		err = parley.Errorf(parley.CodeInvalid, parley.ReasonSizeMismatch, "file is %d bytes, expected %d", st.Size(), size)
	}
	if err == nil {
		err = f.Sync()
	}
	f.Close()
	if err != nil {
		return wrap("import", id, err)
	}
	err = s.place(id, path, dst)
	if errors.Is(err, syscall.EXDEV) { // another file system: copy
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("disk: import %s: %w", id, err)
		}
		defer f.Close()
		if err := s.Put(ctx, id, f, size); err != nil {
			return err
		}
		return os.Remove(path)
	}
	return err
}

// place renames src to dst and makes the rename durable.
func (s *Store) place(id parley.BlobID, src, dst string) error {
	dir := filepath.Dir(dst)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("disk: put %s: %w", id, err)
	}
	if err := os.Rename(src, dst); err != nil {
		return fmt.Errorf("disk: put %s: %w", id, err)
	}
	if d, err := os.Open(dir); err == nil {
		err = d.Sync()
		d.Close()
		if err != nil {
			return fmt.Errorf("disk: put %s: sync dir: %w", id, err)
		}
	}
	return nil
}

// Get returns a reader of length bytes (all when length < 0) from offset.
func (s *Store) Get(ctx context.Context, id parley.BlobID, offset, length int64) (io.ReadCloser, error) {
	p, err := s.path(id)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, wrap("get", id, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, wrap("get", id, err)
	}
	if offset < 0 || offset > st.Size() {
		f.Close()
		return nil, parley.Errorf(parley.CodeInvalid, parley.ReasonBadRange, "offset %d outside blob of %d bytes", offset, st.Size())
	}
	if length < 0 || offset+length > st.Size() {
		length = st.Size() - offset
	}
	return &section{io.NewSectionReader(f, offset, length), f}, nil
}

type section struct {
	*io.SectionReader
	f *os.File
}

func (s *section) Close() error { return s.f.Close() }

// Stat returns the blob's size.
func (s *Store) Stat(ctx context.Context, id parley.BlobID) (parley.BlobInfo, error) {
	p, err := s.path(id)
	if err != nil {
		return parley.BlobInfo{}, err
	}
	st, err := os.Stat(p)
	if err != nil {
		return parley.BlobInfo{}, wrap("stat", id, err)
	}
	return parley.BlobInfo{ID: id, Size: st.Size()}, nil
}

// Delete removes the blob.
func (s *Store) Delete(ctx context.Context, id parley.BlobID) error {
	p, err := s.path(id)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil {
		return wrap("delete", id, err)
	}
	return nil
}

func wrap(op string, id parley.BlobID, err error) error {
	var pe *parley.Error
	if errors.As(err, &pe) {
		return err
	}
	if errors.Is(err, fs.ErrNotExist) {
		return &parley.Error{Code: parley.CodeNotFound, Reason: parley.ReasonNotFound, Message: "blob not found", Err: err}
	}
	return fmt.Errorf("disk: %s %s: %w", op, id, err)
}

// ctxReader stops a copy when ctx is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
