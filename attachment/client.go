package attachment

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/apiclient"
)

// MaxFileSize is the largest plaintext the default server accepts (2 GiB);
// Upload refuses larger files before sending a byte.
const MaxFileSize = 2 << 30

// The media service's HTTP interface (served by package media).
const (
	UploadsPath     = "/media/v1/uploads/" // tus v1 creation endpoint; uploads live under it
	BlobsPath       = "/media/v1/blobs/"   // GET/HEAD BlobsPath+ID, POST BlobsPath+ID+"/links"
	CapabilityHdr   = "Parley-Capability"  // base64 (standard, padded) download capability
	BlobHdr         = "Parley-Blob"        // the blob ID, on upload creation
	tusVersion      = "1.0.0"
	defaultRetries  = 8
	transferBufSize = 256 << 10
)

// Client moves attachments between this device and a Parley server's media
// service. It is safe for concurrent use.
type Client struct {
	BaseURL string // the server, e.g. "https://chat.example.com"
	Device  parley.DeviceID
	Secret  []byte // the device's bearer secret
	// HTTP is the client used for every request; nil means one with large
	// buffers and no overall timeout (transfers are long).
	HTTP *http.Client
	// MaxRetries bounds how often one Upload or Download resumes after a
	// network failure (default 8). Progress resets the count.
	MaxRetries int
	// ChunkSize, when > 0, bounds the ciphertext bytes of one upload
	// request: the upload is sent in several tus PATCH requests. The
	// browser (js/wasm) buffers each request body whole, so it needs
	// this; 0 sends the rest of the file in one request.
	ChunkSize int64
	// Progress, when set, is called after every upload request the server
	// acknowledged, with the ciphertext bytes it has and the total.
	Progress func(sent, total int64)
}

var defaultHTTP = &http.Client{Transport: &http.Transport{
	Proxy:                 http.ProxyFromEnvironment,
	DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
	MaxIdleConnsPerHost:   4,
	IdleConnTimeout:       90 * time.Second,
	TLSHandshakeTimeout:   10 * time.Second,
	ResponseHeaderTimeout: 5 * time.Minute, // a PATCH's response comes after its whole body
	WriteBufferSize:       transferBufSize,
	ReadBufferSize:        transferBufSize,
	ForceAttemptHTTP2:     true,
}}

func (c *Client) http() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return defaultHTTP
}

func (c *Client) retries() int {
	if c.MaxRetries > 0 {
		return c.MaxRetries
	}
	return defaultRetries
}

// newRequest is a request to url (below BaseURL, or absolute) with the
// device's credential.
func (c *Client) newRequest(ctx context.Context, method, url string, body io.Reader) (*http.Request, error) {
	api := apiclient.Client{Base: strings.TrimSuffix(c.BaseURL, "/"), Auth: apiclient.DeviceAuth(c.Device, c.Secret)}
	return api.NewRequest(ctx, method, url, body)
}

// UploadFile describes the file at path (as a voice note if voice is set),
// encrypts and uploads it for conv, and returns the Descriptor to put in
// the message. Send the message, then call Link with its Seq.
func (c *Client) UploadFile(ctx context.Context, conv parley.ConversationID, path string, voice bool, caption string) (Descriptor, error) {
	f, err := os.Open(path)
	if err != nil {
		return Descriptor{}, fmt.Errorf("upload %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Descriptor{}, fmt.Errorf("upload %s: %w", path, err)
	}
	if st.IsDir() {
		return Descriptor{}, parley.Errorf(parley.CodeInvalid, ReasonNotAFile, "%s is a directory", path)
	}
	describe := Describe
	if voice {
		describe = DescribeVoice
	}
	d, err := describe(f, st.Size(), filepath.Base(path))
	if err != nil {
		return d, err
	}
	d.Caption = caption
	if err := c.Upload(ctx, conv, f, &d); err != nil {
		return d, err
	}
	return d, nil
}

// Upload encrypts d.Size bytes of src under a fresh key and uploads the
// ciphertext for conversation conv (the uploading device must be a
// member), resuming from the server's offset after network failures. It
// fills d's blob fields (Blob, Capability, Key, Scheme, EncryptedSize,
// digest).
//
// If Upload fails after the upload was created, d already holds Blob,
// Capability and Key: calling Upload again with the same d and src (even
// from another process, if the caller persisted d) resumes it.
//
// Errors: CodeTooLarge with reason "file_too_large" or "quota_exceeded";
// CodeForbidden "not_member"; CodeUnauthenticated.
func (c *Client) Upload(ctx context.Context, conv parley.ConversationID, src io.ReaderAt, d *Descriptor) error {
	if d.Size > MaxFileSize {
		return parley.Errorf(parley.CodeTooLarge, parley.ReasonFileTooLarge, "file of %d bytes is larger than the 2 GiB limit", d.Size)
	}
	resume := d.Blob != "" && len(d.Key) == KeySize && len(d.Capability) > 0
	if !resume {
		d.Key = NewKey()
	}
	enc, err := NewEncryptor(d.Key, src, d.Size)
	if err != nil {
		return err
	}
	d.Scheme, d.EncryptedSize = Scheme, enc.Size()
	if !resume {
		if err := c.create(ctx, conv, d); err != nil {
			return err
		}
	}
	url := UploadsPath + string(d.Blob)
	var offset int64 = -1 // unknown: ask the server
	failures := 0
	for {
		if offset < 0 {
			offset, err = c.uploadOffset(ctx, url)
		}
		if err == nil && offset < d.EncryptedSize {
			end := d.EncryptedSize
			if c.ChunkSize > 0 && end-offset > c.ChunkSize {
				end = offset + c.ChunkSize
			}
			var sent int64
			sent, err = c.patch(ctx, url, enc, offset, end)
			progressed := sent > offset
			if progressed {
				failures = 0
			}
			offset = sent
			if err == nil && c.Progress != nil {
				c.Progress(offset, d.EncryptedSize)
			}
			if err == nil && progressed && offset < d.EncryptedSize {
				continue // the next chunk
			}
		}
		if err == nil && offset == d.EncryptedSize {
			break
		}
		if err == nil {
			err = fmt.Errorf("server offset %d beyond the upload's %d bytes", offset, d.EncryptedSize)
		}
		if !retryable(err) || ctx.Err() != nil {
			return fmt.Errorf("upload %s: %w", d.Blob, err)
		}
		failures++
		if failures > c.retries() {
			return fmt.Errorf("upload %s: giving up after %d failures: %w", d.Blob, failures, err)
		}
		offset = -1
		if err := sleep(ctx, time.Duration(failures-1)*200*time.Millisecond); err != nil {
			return err
		}
	}
	d.PlainSHA256, err = enc.Digest()
	return err
}

// create makes the tus upload and records its ID and capability in d.
func (c *Client) create(ctx context.Context, conv parley.ConversationID, d *Descriptor) error {
	req, err := c.newRequest(ctx, http.MethodPost, UploadsPath, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Tus-Resumable", tusVersion)
	req.Header.Set("Upload-Length", strconv.FormatInt(d.EncryptedSize, 10))
	req.Header.Set("Upload-Metadata", "conversation "+base64.StdEncoding.EncodeToString([]byte(conv)))
	resp, err := c.http().Do(req)
	if err != nil {
		return fmt.Errorf("create upload: %w", err)
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusCreated {
		return responseError(resp)
	}
	id := parley.BlobID(resp.Header.Get(BlobHdr))
	capability, err := base64.StdEncoding.DecodeString(resp.Header.Get(CapabilityHdr))
	if !id.Valid() || err != nil || len(capability) == 0 {
		return fmt.Errorf("create upload: response without a valid %s or %s", BlobHdr, CapabilityHdr)
	}
	d.Blob, d.Capability = id, capability
	return nil
}

func (c *Client) uploadOffset(ctx context.Context, url string) (int64, error) {
	req, err := c.newRequest(ctx, http.MethodHead, url, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Tus-Resumable", tusVersion)
	resp, err := c.http().Do(req)
	if err != nil {
		return 0, err
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusOK {
		return 0, responseError(resp)
	}
	return strconv.ParseInt(resp.Header.Get("Upload-Offset"), 10, 64)
}

// patch sends the ciphertext from offset to end in one request and
// returns the offset the server confirmed.
func (c *Client) patch(ctx context.Context, url string, enc *Encryptor, offset, end int64) (int64, error) {
	req, err := c.newRequest(ctx, http.MethodPatch, url, io.LimitReader(enc.Reader(offset), end-offset))
	if err != nil {
		return offset, err
	}
	req.ContentLength = end - offset
	req.Header.Set("Tus-Resumable", tusVersion)
	req.Header.Set("Content-Type", "application/offset+octet-stream")
	req.Header.Set("Upload-Offset", strconv.FormatInt(offset, 10))
	resp, err := c.http().Do(req)
	if err != nil {
		return offset, err
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusNoContent {
		return offset, responseError(resp)
	}
	return strconv.ParseInt(resp.Header.Get("Upload-Offset"), 10, 64)
}

// Link makes the blob of d fetchable by the member devices of conv and, if
// seq > 0, records that envelope seq of conv references it, so the server
// keeps the blob until that envelope is delivered. Call it with seq 0
// before sending a forwarded attachment to another conversation (no
// re-upload), and with the envelope's Seq once the message is sent.
// Linking is idempotent.
func (c *Client) Link(ctx context.Context, d Descriptor, conv parley.ConversationID, seq parley.Seq) error {
	body, _ := json.Marshal(struct {
		Conversation parley.ConversationID `json:"conversation"`
		Seq          parley.Seq            `json:"seq,omitempty"`
	}{conv, seq})
	req, err := c.newRequest(ctx, http.MethodPost, BlobsPath+string(d.Blob)+"/links", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(CapabilityHdr, base64.StdEncoding.EncodeToString(d.Capability))
	resp, err := c.http().Do(req)
	if err != nil {
		return fmt.Errorf("link %s: %w", d.Blob, err)
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("link %s: %w", d.Blob, responseError(resp))
	}
	return nil
}

// Download fetches, decrypts and verifies the attachment, writing the
// plaintext to w. Chunks are authenticated before they are written;
// digests are checked at the end, so a caller writing to a file must
// discard it when Download fails (DownloadFile does). After a network
// failure the download resumes with a Range request.
func (c *Client) Download(ctx context.Context, d Descriptor, w io.Writer) error {
	if err := d.Validate(); err != nil {
		return err
	}
	src := &resumingReader{ctx: ctx, c: c, d: d, end: d.EncryptedSize}
	defer src.Close()
	dec, err := NewDecryptor(d.Key, src, d.Size)
	if err != nil {
		return err
	}
	buf := make([]byte, transferBufSize)
	if _, err := io.CopyBuffer(w, dec, buf); err != nil {
		return fmt.Errorf("download %s: %w", d.Blob, err)
	}
	if err := dec.Verify(d.PlainSHA256); err != nil {
		return fmt.Errorf("download %s: %w", d.Blob, err)
	}
	return nil
}

// DownloadFile downloads the attachment to path, through a temporary file
// renamed into place only once it verified.
func (c *Client) DownloadFile(ctx context.Context, d Descriptor, path string) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".part-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := c.Download(ctx, d, f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// OpenRange returns n plaintext bytes from offset off (to the end when
// n < 0), fetching only the chunks that hold them with one Range request:
// seeking in a video, resuming a partial save. Each chunk is verified; the
// whole-file digests are not (use Download for that).
func (c *Client) OpenRange(ctx context.Context, d Descriptor, off, n int64) (io.ReadCloser, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	if off < 0 || off > d.Size {
		return nil, parley.Errorf(parley.CodeInvalid, parley.ReasonBadRange, "offset %d outside a file of %d bytes", off, d.Size)
	}
	if n < 0 || off+n > d.Size {
		n = d.Size - off
	}
	if n == 0 {
		return io.NopCloser(strings.NewReader("")), nil
	}
	first, end := off/ChunkSize, (off+n-1)/ChunkSize+1
	ctEnd := min(ChunkOffset(end), d.EncryptedSize)
	src := &resumingReader{ctx: ctx, c: c, d: d, pos: ChunkOffset(first), end: ctEnd}
	dec, err := NewChunkDecryptor(d.Key, src, d.Size, first, end)
	if err != nil {
		return nil, err
	}
	if _, err := io.CopyN(io.Discard, dec, off-first*ChunkSize); err != nil {
		src.Close()
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{io.LimitReader(dec, n), src}, nil
}

// resumingReader reads ciphertext [pos, end) of a blob, reopening the
// download with a Range request after a network failure.
type resumingReader struct {
	ctx      context.Context
	c        *Client
	d        Descriptor
	pos, end int64
	body     io.ReadCloser
	failures int
}

func (r *resumingReader) Read(p []byte) (int, error) {
	for {
		if r.pos >= r.end {
			return 0, io.EOF
		}
		if r.body == nil {
			body, err := r.open()
			if err != nil {
				if !retryable(err) || r.ctx.Err() != nil || r.failures >= r.c.retries() {
					return 0, err
				}
				r.failures++
				if err := sleep(r.ctx, time.Duration(r.failures-1)*200*time.Millisecond); err != nil {
					return 0, err
				}
				continue
			}
			r.body = body
		}
		n, err := r.body.Read(p[:min(int64(len(p)), r.end-r.pos)])
		r.pos += int64(n)
		if n > 0 {
			r.failures = 0
			return n, nil
		}
		r.body.Close()
		r.body = nil
		if err == io.EOF && r.pos < r.end {
			err = io.ErrUnexpectedEOF
		}
		if err != nil && r.pos < r.end {
			r.failures++
			if r.failures > r.c.retries() || r.ctx.Err() != nil {
				return 0, fmt.Errorf("download: giving up at byte %d: %w", r.pos, err)
			}
		}
	}
}

func (r *resumingReader) open() (io.ReadCloser, error) {
	req, err := r.c.newRequest(r.ctx, http.MethodGet, BlobsPath+string(r.d.Blob), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set(CapabilityHdr, base64.StdEncoding.EncodeToString(r.d.Capability))
	if r.pos > 0 || r.end < r.d.EncryptedSize {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", r.pos, r.end-1))
	}
	resp, err := r.c.http().Do(req)
	if err != nil {
		return nil, err
	}
	want := http.StatusOK
	if req.Header.Get("Range") != "" {
		want = http.StatusPartialContent
	}
	if resp.StatusCode != want {
		defer drain(resp)
		return nil, responseError(resp)
	}
	return resp.Body, nil
}

func (r *resumingReader) Close() error {
	if r.body != nil {
		r.body.Close()
		r.body = nil
	}
	return nil
}

// retryable reports whether err is a network failure (worth resuming) rather
// than an answer from the server.
func retryable(err error) bool {
	var pe *parley.Error
	if errors.As(err, &pe) {
		return pe.Code == parley.CodeUnavailable || pe.Reason == ReasonOffsetMismatch
	}
	return !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

// responseError turns an error response (the media service's JSON, or
// tusd's text) into a *parley.Error.
func responseError(resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if e, ok := apiclient.ParseError(resp.StatusCode, body); ok {
		return e
	}
	msg := strings.TrimSpace(string(body))
	switch resp.StatusCode {
	case http.StatusNotFound:
		return &parley.Error{Code: parley.CodeNotFound, Reason: parley.ReasonNotFound, Message: msg}
	case http.StatusConflict:
		return &parley.Error{Code: parley.CodeConflict, Reason: ReasonOffsetMismatch, Message: msg}
	case http.StatusRequestEntityTooLarge:
		return &parley.Error{Code: parley.CodeTooLarge, Reason: parley.ReasonFileTooLarge, Message: msg}
	case http.StatusUnauthorized:
		return &parley.Error{Code: parley.CodeUnauthenticated, Reason: parley.ReasonUnauthenticated, Message: msg}
	case http.StatusForbidden:
		return &parley.Error{Code: parley.CodeForbidden, Reason: ReasonForbidden, Message: msg}
	case http.StatusServiceUnavailable, http.StatusBadGateway, http.StatusGatewayTimeout, http.StatusLocked:
		return &parley.Error{Code: parley.CodeUnavailable, Reason: ReasonUnavailable, Message: msg}
	}
	if resp.StatusCode >= 500 {
		// tusd reports a body read cut short as a 5xx: the client resumes.
		return &parley.Error{Code: parley.CodeUnavailable, Reason: ReasonServerError, Message: msg}
	}
	return &parley.Error{Code: parley.CodeInvalid, Reason: "http_" + strconv.Itoa(resp.StatusCode), Message: msg}
}

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
