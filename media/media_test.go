package media_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/attachment"
	"github.com/parleyhq/parley/blob/disk"
	"github.com/parleyhq/parley/media"
	"github.com/parleyhq/parley/media/mediatest"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/store/sqlite"
)

type env struct {
	t          testing.TB
	store      *sqlite.Store
	blobs      *disk.Store
	svc        *media.Service
	srv        *httptest.Server
	clock      *parleytest.Clock
	stagingDir string
	conv       parley.ConversationID // devices 1 and 2
	other      parley.ConversationID // devices 1 and 3
}

// secret is the test's device secret: device d's is "secret-d".
func secret(d parley.DeviceID) []byte { return fmt.Appendf(nil, "secret-%d", d) }

func newEnvB(b *testing.B) *env { return newEnv(b, nil) }

func newEnv(t testing.TB, tune func(*media.Config)) *env {
	t.Helper()
	dir := t.TempDir()
	st, err := sqlite.Open(t.Context(), filepath.Join(dir, "parley.db"), sqlite.WithSynchronousNormal())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	blobs, err := disk.Open(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, store: st, blobs: blobs, clock: parleytest.NewClock(time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC))}
	cfg := media.Config{
		Blobs: blobs, Store: st, Members: st, StagingDir: filepath.Join(dir, "uploads"), Clock: e.clock,
		Logger: slog.New(slog.DiscardHandler),
		Authenticate: media.DeviceAuth(func(ctx context.Context, id parley.DeviceID, s []byte) (parley.Device, error) {
			if !bytes.Equal(s, secret(id)) {
				return parley.Device{}, parley.Errorf(parley.CodeUnauthenticated, "bad_credentials", "bad secret")
			}
			return parley.Device{ID: id, User: parley.UserID(id)}, nil
		}),
	}
	e.stagingDir = cfg.StagingDir
	if tune != nil {
		tune(&cfg)
	}
	e.svc, err = media.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(e.svc)
	t.Cleanup(e.srv.Close)
	e.conv = mediatest.MustConversation(t, st, 1, 2)
	e.other = mediatest.MustConversation(t, st, 1, 3)
	return e
}

func (e *env) client(d parley.DeviceID) *attachment.Client {
	return &attachment.Client{BaseURL: e.srv.URL, Device: d, Secret: secret(d), HTTP: e.srv.Client()}
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func randomBytes(n int, seed byte) []byte {
	b := make([]byte, n)
	_, _ = rand.NewChaCha8([32]byte{seed}).Read(b)
	return b
}

func pngImage(t *testing.T, w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 128, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func wav(seconds, rate int) []byte {
	n := seconds * rate
	var b bytes.Buffer
	le := func(v any) { _ = binaryWrite(&b, v) }
	b.WriteString("RIFF")
	le(uint32(36 + 2*n))
	b.WriteString("WAVEfmt ")
	le(uint32(16))
	le(uint16(1))
	le(uint16(1))
	le(uint32(rate))
	le(uint32(2 * rate))
	le(uint16(2))
	le(uint16(16))
	b.WriteString("data")
	le(uint32(2 * n))
	for i := range n {
		amp := float64(i) / float64(n) // a crescendo
		le(int16(amp * 30000 * sin(float64(i)/8)))
	}
	return b.Bytes()
}

func mustDownload(t *testing.T, c *attachment.Client, d attachment.Descriptor) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := c.Download(t.Context(), d, &b); err != nil {
		t.Fatalf("Download: %v", err)
	}
	return b.Bytes()
}

func TestRoundTripKinds(t *testing.T) {
	e := newEnv(t, nil)
	up, down := e.client(1), e.client(2)
	pdf := []byte("%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [3 0 R 4 0 R 5 0 R] /Count 3 >> endobj\n%%EOF\n")
	for name, c := range map[string]struct {
		file  string
		data  []byte
		voice bool
		check func(t *testing.T, d attachment.Descriptor)
	}{
		"image": {"photo.png", pngImage(t, 800, 600), false, func(t *testing.T, d attachment.Descriptor) {
			if d.Kind != attachment.KindImage || d.Width != 800 || d.Height != 600 || len(d.Thumbnail) == 0 {
				t.Fatalf("image descriptor: %v %dx%d thumb %d", d.Kind, d.Width, d.Height, len(d.Thumbnail))
			}
			th, _, err := image.DecodeConfig(bytes.NewReader(d.Thumbnail))
			if err != nil || th.Width != attachment.ThumbnailMax || th.Height != 240 {
				t.Fatalf("thumbnail %dx%d, %v", th.Width, th.Height, err)
			}
		}},
		"voice": {"note.wav", wav(3, 8000), true, func(t *testing.T, d attachment.Descriptor) {
			if d.Kind != attachment.KindVoice || d.Duration != 3*time.Second || len(d.Waveform) != attachment.WaveformBars {
				t.Fatalf("voice descriptor: %v %v wave %d", d.Kind, d.Duration, len(d.Waveform))
			}
			if d.Waveform[0] > d.Waveform[len(d.Waveform)-1] || d.Waveform[len(d.Waveform)-1] != 255 {
				t.Fatalf("waveform of a crescendo: %v", d.Waveform)
			}
		}},
		"document": {"report.pdf", pdf, false, func(t *testing.T, d attachment.Descriptor) {
			if d.Kind != attachment.KindDocument || d.Pages != 3 || d.FileName != "report.pdf" || d.MIME != "application/pdf" {
				t.Fatalf("document descriptor: %+v", d)
			}
		}},
		"video": {"clip.mp4", mp4(t, 90_000, 450_000, 1280, 720), false, func(t *testing.T, d attachment.Descriptor) {
			if d.Kind != attachment.KindVideo || d.Duration != 5*time.Second || d.Width != 1280 || d.Height != 720 {
				t.Fatalf("video descriptor: %v %v %dx%d", d.Kind, d.Duration, d.Width, d.Height)
			}
		}},
		"empty":       {"empty.bin", nil, false, nil},
		"multi-chunk": {"data.bin", randomBytes(3*attachment.ChunkSize+17, 1), false, nil},
	} {
		t.Run(name, func(t *testing.T) {
			d, err := up.UploadFile(t.Context(), e.conv, writeFile(t, c.file, c.data), c.voice, "a caption")
			if err != nil {
				t.Fatal(err)
			}
			// Through the message: marshal, unmarshal, validate.
			raw, _ := d.Marshal()
			got, err := attachment.Unmarshal(raw)
			if err != nil {
				t.Fatal(err)
			}
			if c.check != nil {
				c.check(t, got)
			}
			if plain := mustDownload(t, down, got); !bytes.Equal(plain, c.data) {
				t.Fatalf("downloaded %d bytes differ from the %d uploaded", len(plain), len(c.data))
			}
			// The server holds ciphertext only.
			stored, err := e.blobs.Stat(t.Context(), got.Blob)
			if err != nil || stored.Size != attachment.EncryptedSize(int64(len(c.data))) {
				t.Fatalf("stored blob %+v, %v", stored, err)
			}
		})
	}
	for name, c := range map[string]func() (attachment.Descriptor, error){
		"location": func() (attachment.Descriptor, error) { return attachment.NewLocation(51.5007, -0.1246, "Big Ben") },
		"contact": func() (attachment.Descriptor, error) {
			return attachment.NewContact(attachment.VCard("Ada Lovelace", "+447700900123"))
		},
	} {
		t.Run(name, func(t *testing.T) {
			d, err := c()
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := d.Marshal()
			got, err := attachment.Unmarshal(raw)
			if err != nil || got.HasBlob() || got.String() == "" {
				t.Fatalf("Unmarshal: %+v, %v", got, err)
			}
		})
	}
}

// dropper cuts the body of the first `drops` PATCH requests after `after`
// bytes, as a dropped connection would.
type dropper struct {
	base  http.RoundTripper
	after int64
	drops atomic.Int32
	cut   atomic.Int32
}

type cutBody struct {
	r    io.ReadCloser
	left int64
}

func (c *cutBody) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, errors.New("connection dropped (test)")
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}
func (c *cutBody) Close() error { return c.r.Close() }

func (d *dropper) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPatch && d.drops.Add(-1) >= 0 {
		d.cut.Add(1)
		r = r.Clone(r.Context())
		r.Body = &cutBody{r: r.Body, left: d.after}
	}
	return d.base.RoundTrip(r)
}

func TestInterruptedUploadResumes(t *testing.T) {
	e := newEnv(t, nil)
	size := 100 << 20
	if testing.Short() {
		size = 8 << 20
	}
	data := randomBytes(size, 2)
	path := writeFile(t, "big.bin", data)
	dr := &dropper{base: e.srv.Client().Transport, after: int64(size) / 3}
	dr.drops.Store(2)
	c := e.client(1)
	c.HTTP = &http.Client{Transport: dr}
	d, err := c.UploadFile(t.Context(), e.conv, path, false, "")
	if err != nil {
		t.Fatal(err)
	}
	if dr.cut.Load() != 2 {
		t.Fatalf("%d PATCH requests were cut, want 2", dr.cut.Load())
	}
	h := sha256.New()
	if err := e.client(2).Download(t.Context(), d, h); err != nil {
		t.Fatal(err)
	}
	if want := sha256.Sum256(data); !bytes.Equal(h.Sum(nil), want[:]) {
		t.Fatal("SHA-256 of the received file differs from the original")
	}
}

func TestRangeDownload(t *testing.T) {
	e := newEnv(t, nil)
	data := randomBytes(5*attachment.ChunkSize+1000, 3)
	d, err := e.client(1).UploadFile(t.Context(), e.conv, writeFile(t, "f.bin", data), false, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct{ off, n int64 }{{0, 10}, {attachment.ChunkSize - 5, 10}, {100_000, 150_000}, {int64(len(data)) - 3, -1}, {7, 0}} {
		rc, err := e.client(2).OpenRange(t.Context(), d, r.off, r.n)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		end := int64(len(data))
		if r.n >= 0 {
			end = r.off + r.n
		}
		if err != nil || !bytes.Equal(got, data[r.off:end]) {
			t.Fatalf("OpenRange(%d, %d): %d bytes, %v", r.off, r.n, len(got), err)
		}
	}
	// The raw HTTP interface answers 206 with exactly the range.
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+media.BlobsPath+string(d.Blob), nil)
	req.Header.Set("Authorization", "Parley 2:"+base64.StdEncoding.EncodeToString(secret(2)))
	req.Header.Set(media.CapabilityHdr, base64.StdEncoding.EncodeToString(d.Capability))
	req.Header.Set("Range", "bytes=100-199")
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || len(body) != 100 || resp.Header.Get("Content-Range") != fmt.Sprintf("bytes 100-199/%d", d.EncryptedSize) {
		t.Fatalf("Range GET: %d, %d bytes, %q", resp.StatusCode, len(body), resp.Header.Get("Content-Range"))
	}
}

func TestTamperedBlobDetected(t *testing.T) {
	e := newEnv(t, nil)
	data := randomBytes(200_000, 4)
	d, err := e.client(1).UploadFile(t.Context(), e.conv, writeFile(t, "f.bin", data), false, "")
	if err != nil {
		t.Fatal(err)
	}
	// Flip one byte of the stored ciphertext.
	rc, _ := e.blobs.Get(t.Context(), d.Blob, 0, -1)
	ct, _ := io.ReadAll(rc)
	rc.Close()
	ct[70_000] ^= 1
	if err := e.blobs.Put(t.Context(), d.Blob, bytes.NewReader(ct), int64(len(ct))); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err = e.client(2).Download(t.Context(), d, &out)
	if !errors.Is(err, attachment.ErrTampered) {
		t.Fatalf("Download of tampered ciphertext: %v, want ErrTampered", err)
	}
	if out.Len() > attachment.ChunkSize {
		t.Fatalf("%d bytes were released past the first bad chunk", out.Len())
	}
}

func TestLimits(t *testing.T) {
	e := newEnv(t, func(c *media.Config) { c.MaxBlobSize = 1 << 20; c.UserQuota = 2<<20 + 100 })
	c := e.client(1)
	_, err := c.UploadFile(t.Context(), e.conv, writeFile(t, "big", randomBytes(1<<20+1, 5)), false, "")
	if parley.ErrorReason(err) != "file_too_large" || !parley.IsCode(err, parley.CodeTooLarge) {
		t.Fatalf("upload over MaxBlobSize: %v, want too_large/file_too_large", err)
	}
	small := writeFile(t, "small", randomBytes(1<<20-1000, 6))
	for i := range 2 {
		if _, err := c.UploadFile(t.Context(), e.conv, small, false, ""); err != nil {
			t.Fatalf("upload %d within quota: %v", i, err)
		}
	}
	_, err = c.UploadFile(t.Context(), e.conv, small, false, "")
	if parley.ErrorReason(err) != "quota_exceeded" || !parley.IsCode(err, parley.CodeTooLarge) {
		t.Fatalf("upload over quota: %v, want too_large/quota_exceeded", err)
	}
	// Another user has their own quota.
	if _, err := e.client(2).UploadFile(t.Context(), e.conv, small, false, ""); err != nil {
		t.Fatalf("another user's upload: %v", err)
	}
	// A plaintext over 2 GiB is refused by the client before any request.
	d := attachment.Descriptor{Size: attachment.MaxFileSize + 1}
	if err := c.Upload(t.Context(), e.conv, bytes.NewReader(nil), &d); parley.ErrorReason(err) != "file_too_large" {
		t.Fatalf("Upload of 2 GiB + 1: %v", err)
	}
}

func TestAccessControl(t *testing.T) {
	e := newEnv(t, nil)
	data := randomBytes(1000, 7)
	d, err := e.client(1).UploadFile(t.Context(), e.conv, writeFile(t, "f", data), false, "")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	// Device 3 is not in the conversation, even with the capability.
	if err := e.client(3).Download(t.Context(), d, &out); !parley.IsCode(err, parley.CodeForbidden) {
		t.Fatalf("outsider download: %v, want forbidden", err)
	}
	// A wrong capability does not reveal the blob.
	bad := d
	bad.Capability = bytes.Repeat([]byte{1}, 32)
	if err := e.client(2).Download(t.Context(), bad, &out); !parley.IsCode(err, parley.CodeNotFound) {
		t.Fatalf("wrong capability: %v, want not found", err)
	}
	// Wrong credentials.
	c := e.client(2)
	c.Secret = []byte("nope")
	if err := c.Download(t.Context(), d, &out); !parley.IsCode(err, parley.CodeUnauthenticated) {
		t.Fatalf("bad secret: %v, want unauthenticated", err)
	}
	// An outsider cannot upload into the conversation nor link into it.
	if _, err := e.client(3).UploadFile(t.Context(), e.conv, writeFile(t, "g", data), false, ""); !parley.IsCode(err, parley.CodeForbidden) {
		t.Fatalf("outsider upload: %v, want forbidden", err)
	}
	if err := e.client(3).Link(t.Context(), d, e.conv, 0); !parley.IsCode(err, parley.CodeForbidden) {
		t.Fatalf("outsider link: %v, want forbidden", err)
	}
	// Another device cannot append to or probe someone's upload.
	req, _ := http.NewRequest(http.MethodHead, e.srv.URL+media.UploadsPath+string(d.Blob), nil)
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Authorization", "Parley 2:"+base64.StdEncoding.EncodeToString(secret(2)))
	resp, err := e.srv.Client().Do(req)
	if err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("HEAD of another device's upload: %v %v", resp.StatusCode, err)
	}
	resp.Body.Close()
}

func TestForwardWithoutReupload(t *testing.T) {
	e := newEnv(t, nil)
	data := randomBytes(100_000, 8)
	d, err := e.client(1).UploadFile(t.Context(), e.conv, writeFile(t, "f", data), false, "")
	if err != nil {
		t.Fatal(err)
	}
	usage, _ := e.store.MediaUsage(t.Context(), 1)
	// Device 1 forwards the same descriptor into the conversation with device 3.
	if err := e.client(1).Link(t.Context(), d, e.other, 0); err != nil {
		t.Fatal(err)
	}
	if got := mustDownload(t, e.client(3), d); !bytes.Equal(got, data) {
		t.Fatal("forwarded download differs")
	}
	if after, _ := e.store.MediaUsage(t.Context(), 1); after != usage {
		t.Fatalf("forwarding changed the usage from %d to %d: re-uploaded?", usage, after)
	}
}

func TestSweeper(t *testing.T) {
	e := newEnv(t, func(c *media.Config) {
		c.Retention = time.Hour
		c.AbandonAfter = 2 * time.Hour
		c.MaxAge = 24 * time.Hour
	})
	ctx := t.Context()
	up := func() attachment.Descriptor {
		d, err := e.client(1).UploadFile(ctx, e.conv, writeFile(t, "f", randomBytes(5000, 9)), false, "")
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	unreferenced, referenced := up(), up()
	seq := mediatest.MustAppend(t, e.store, e.conv, 1, e.clock.Now())
	if err := e.client(1).Link(ctx, referenced, e.conv, seq); err != nil {
		t.Fatal(err)
	}
	// An upload that never completes.
	var created parley.BlobID
	func() {
		dr := &dropper{base: e.srv.Client().Transport, after: 10}
		dr.drops.Store(1000)
		c := e.client(1)
		c.HTTP, c.MaxRetries = &http.Client{Transport: dr}, 1
		d := attachment.Descriptor{Size: 5000}
		_ = c.Upload(ctx, e.conv, bytes.NewReader(randomBytes(5000, 10)), &d)
		created = d.Blob
	}()
	if b, err := e.store.Blob(ctx, created); err != nil || b.Complete() {
		t.Fatalf("abandoned upload: %+v, %v", b, err)
	}
	fresh := up()

	alive := func(id parley.BlobID) bool {
		_, err := e.store.Blob(ctx, id)
		return err == nil
	}
	sweep := func(want int) {
		t.Helper()
		n, err := e.svc.Sweep(ctx)
		if err != nil || n != want {
			t.Fatalf("Sweep = %d, %v; want %d", n, err, want)
		}
	}
	sweep(0) // nothing is past its retention yet

	e.clock.Advance(90 * time.Minute)
	fresh2 := up()
	sweep(2) // unreferenced and fresh: past Retention, no undelivered reference
	if alive(unreferenced.Blob) || alive(fresh.Blob) || !alive(referenced.Blob) || !alive(created) || !alive(fresh2.Blob) {
		t.Fatal("wrong blobs swept")
	}
	if _, err := e.blobs.Stat(ctx, unreferenced.Blob); !parley.IsCode(err, parley.CodeNotFound) {
		t.Fatalf("swept blob's ciphertext still stored: %v", err)
	}

	e.clock.Advance(90 * time.Minute)
	sweep(2) // the abandoned upload and fresh2
	if alive(created) || alive(fresh2.Blob) || !alive(referenced.Blob) {
		t.Fatal("wrong blobs swept")
	}
	if _, err := os.Stat(filepath.Join(e.stagingDir, string(created))); !os.IsNotExist(err) {
		t.Fatalf("abandoned upload's staging file: %v", err)
	}

	// The referencing envelope is delivered to device 2, then to device 1.
	if err := e.store.Ack(ctx, e.conv, 2, seq); err != nil {
		t.Fatal(err)
	}
	sweep(0)
	if err := e.store.Ack(ctx, e.conv, 1, seq); err != nil {
		t.Fatal(err)
	}
	sweep(1)
	if alive(referenced.Blob) {
		t.Fatal("delivered blob not swept")
	}
}
