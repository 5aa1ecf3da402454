package ffmpeg_test

import (
	"bytes"
	"context"
	"errors"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/attachment"
	"github.com/parleyhq/parley/cmd/internal/ffmpeg"
)

// testdata/clip.webm: 2 s of ffmpeg's test pattern, 640×360 (VP8).
const clip = "testdata/clip.webm"

func needFFmpeg(t *testing.T) {
	t.Helper()
	if !ffmpeg.Available() {
		t.Skip("ffmpeg is not installed (scripts/ffmpeg-install.sh installs it)")
	}
}

func TestVideo(t *testing.T) {
	needFFmpeg(t)
	v, err := ffmpeg.Video(context.Background(), clip)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(v.Thumbnail))
	if err != nil {
		t.Fatalf("the thumbnail is not a JPEG: %v", err)
	}
	if cfg.Width != attachment.ThumbnailMax || cfg.Height != 180 || v.Width != cfg.Width || v.Height != cfg.Height {
		t.Fatalf("thumbnail %dx%d (said %dx%d), want %dx180", cfg.Width, cfg.Height, v.Width, v.Height, attachment.ThumbnailMax)
	}
	if v.Duration < 1900*time.Millisecond || v.Duration > 2100*time.Millisecond {
		t.Fatalf("duration %s, want 2s", v.Duration)
	}
}

// A file that is not a video, or a name that looks like an option, is an
// error, never a command line of ffmpeg's.
func TestVideoRefusesWhatIsNotAVideo(t *testing.T) {
	needFFmpeg(t)
	dir := t.TempDir()
	for _, name := range []string{"notes.txt", "-version", "-i"} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("just text, no frames"), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Chdir(dir)
		if _, err := ffmpeg.Video(context.Background(), name); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// Without ffmpeg on PATH the video is sent without a thumbnail, and the
// CLI says so once.
func TestReportingWithoutFFmpeg(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	if ffmpeg.Available() {
		t.Fatal("ffmpeg found on an empty PATH")
	}
	var stderr bytes.Buffer
	video := ffmpeg.Reporting(&stderr)
	for range 2 {
		if _, err := video(context.Background(), clip); !errors.Is(err, ffmpeg.ErrNotFound) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
	}
	if got := stderr.String(); strings.Count(got, "ffmpeg not found: video sent without a thumbnail\n") != 1 || strings.Count(got, "\n") != 1 {
		t.Fatalf("stderr = %q", got)
	}
}
