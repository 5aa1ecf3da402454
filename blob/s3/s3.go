// Package s3 implements parley.BlobStore on an S3-compatible object store
// (AWS S3, MinIO, versitygw, SeaweedFS…) with minio-go: the media store of a
// cluster of Parley servers.
//
// Guarantees, beyond those of parley.BlobStore:
//   - Put streams: blobs up to PartSize go up in one PUT, larger ones in a
//     multipart upload holding one part (PartSize, 16 MiB by default) in
//     memory at a time. S3 makes an object visible only when its PUT or
//     multipart completion succeeds, so readers never see partial blobs; a
//     failed Put leaves nothing behind (the multipart upload is aborted).
//   - Put fails, storing nothing, when the reader yields more or fewer bytes
//     than declared.
//   - Get issues one ranged GET; Stat one HEAD.
//   - Objects are named Prefix + blob ID, in one bucket created by Open if
//     it does not exist. Path-style addressing is used, which every
//     S3-compatible server supports.
package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/parleyhq/parley"
)

// Config says where the bucket is.
type Config struct {
	Endpoint  string // host:port, without scheme
	Secure    bool   // HTTPS
	AccessKey string
	SecretKey string
	Region    string // default "us-east-1"
	Bucket    string
	Prefix    string // object key prefix, e.g. "media/"
	// PartSize is the multipart part size in bytes (default 16 MiB, minimum
	// 5 MiB): the memory one Put holds.
	PartSize uint64
}

// Store is a parley.BlobStore on one S3 bucket. It is safe for concurrent use.
type Store struct {
	c   *minio.Client
	cfg Config
}

var _ parley.BlobStore = (*Store)(nil)

// Open connects to the endpoint and creates the bucket if it is missing.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.PartSize == 0 {
		cfg.PartSize = 16 << 20
	}
	c, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:        credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:       cfg.Secure,
		Region:       cfg.Region,
		BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		return nil, fmt.Errorf("s3: open %s: %w", cfg.Endpoint, err)
	}
	ok, err := c.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("s3: open %s/%s: %w", cfg.Endpoint, cfg.Bucket, err)
	}
	if !ok {
		err := c.MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{Region: cfg.Region})
		if err != nil && minio.ToErrorResponse(err).Code != "BucketAlreadyOwnedByYou" {
			return nil, fmt.Errorf("s3: create bucket %s: %w", cfg.Bucket, err)
		}
	}
	return &Store{c: c, cfg: cfg}, nil
}

func (s *Store) key(id parley.BlobID) (string, error) {
	if !id.Valid() {
		return "", parley.Errorf(parley.CodeInvalid, parley.ReasonBadBlobID, "invalid blob id")
	}
	return s.cfg.Prefix + string(id), nil
}

// Put stores exactly size bytes from r.
func (s *Store) Put(ctx context.Context, id parley.BlobID, r io.Reader, size int64) error {
	key, err := s.key(id)
	if err != nil {
		return err
	}
	er := &exactReader{r: r, left: size}
	_, err = s.c.PutObject(ctx, s.cfg.Bucket, key, er, size, minio.PutObjectOptions{
		ContentType: "application/octet-stream",
		PartSize:    s.cfg.PartSize,
		NumThreads:  1,
	})
	if er.err != nil {
		return er.err
	}
	if err != nil {
		return s.wrap("put", id, err)
	}
	return nil
}

// exactReader yields at most left bytes and fails if r has fewer or more.
type exactReader struct {
	r    io.Reader
	left int64
	err  error
}

func (e *exactReader) Read(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	if e.left == 0 {
		var one [1]byte
		if n, _ := io.ReadFull(e.r, one[:]); n > 0 {
			e.err = parley.Errorf(parley.CodeInvalid, parley.ReasonSizeMismatch, "blob is longer than declared")
			return 0, e.err
		}
		return 0, io.EOF
	}
	if int64(len(p)) > e.left {
		p = p[:e.left]
	}
	n, err := e.r.Read(p)
	e.left -= int64(n)
	if err == io.EOF && e.left > 0 {
		e.err = parley.Errorf(parley.CodeInvalid, parley.ReasonSizeMismatch, "blob is shorter than declared")
		return n, e.err
	}
	if err == io.EOF {
		err = nil // probe for extra bytes on the next Read
	}
	if err != nil {
		e.err = err
	}
	return n, err
}

// Get returns a reader of length bytes (all when length < 0) from offset.
func (s *Store) Get(ctx context.Context, id parley.BlobID, offset, length int64) (io.ReadCloser, error) {
	info, err := s.Stat(ctx, id)
	if err != nil {
		return nil, err
	}
	if offset < 0 || offset > info.Size {
		return nil, parley.Errorf(parley.CodeInvalid, parley.ReasonBadRange, "offset %d outside blob of %d bytes", offset, info.Size)
	}
	if length < 0 || offset+length > info.Size {
		length = info.Size - offset
	}
	if length == 0 {
		return io.NopCloser(strings.NewReader("")), nil
	}
	key, _ := s.key(id)
	var opts minio.GetObjectOptions
	if offset > 0 || length < info.Size {
		if err := opts.SetRange(offset, offset+length-1); err != nil {
			return nil, fmt.Errorf("s3: get %s: %w", id, err)
		}
	}
	obj, err := s.c.GetObject(ctx, s.cfg.Bucket, key, opts)
	if err != nil {
		return nil, s.wrap("get", id, err)
	}
	// GetObject is lazy: Stat sends the request so a missing object fails
	// here rather than on the first Read.
	if _, err := obj.Stat(); err != nil {
		obj.Close()
		return nil, s.wrap("get", id, err)
	}
	return obj, nil
}

// Stat returns the blob's size.
func (s *Store) Stat(ctx context.Context, id parley.BlobID) (parley.BlobInfo, error) {
	key, err := s.key(id)
	if err != nil {
		return parley.BlobInfo{}, err
	}
	oi, err := s.c.StatObject(ctx, s.cfg.Bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return parley.BlobInfo{}, s.wrap("stat", id, err)
	}
	return parley.BlobInfo{ID: id, Size: oi.Size}, nil
}

// Delete removes the blob. Deleting a missing blob succeeds (S3 semantics).
func (s *Store) Delete(ctx context.Context, id parley.BlobID) error {
	key, err := s.key(id)
	if err != nil {
		return err
	}
	if err := s.c.RemoveObject(ctx, s.cfg.Bucket, key, minio.RemoveObjectOptions{}); err != nil {
		return s.wrap("delete", id, err)
	}
	return nil
}

func (s *Store) wrap(op string, id parley.BlobID, err error) error {
	var pe *parley.Error
	if errors.As(err, &pe) {
		return err
	}
	resp := minio.ToErrorResponse(err)
	if resp.Code == "NoSuchKey" || resp.StatusCode == http.StatusNotFound {
		return &parley.Error{Code: parley.CodeNotFound, Reason: parley.ReasonNotFound, Message: "blob not found", Err: err}
	}
	return fmt.Errorf("s3: %s %s: %w", op, id, err)
}
