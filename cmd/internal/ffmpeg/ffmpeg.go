// Package ffmpeg makes a video's thumbnail and reads its duration with the
// ffmpeg and ffprobe programs, when they are installed: the Go core cannot
// decode video (the browser makes both with a <video> element instead).
//
// The programs run without a shell, with fixed arguments (the file is
// passed as an absolute path, so it can never read as an option), under a
// time limit, and their output is read only up to a size limit.
package ffmpeg

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/jpeg"
	"io"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley/attachment"
	"github.com/parleyhq/parley/client/files"
)

// Limits of one run.
const (
	// Timeout is the longest one program may run.
	Timeout = 20 * time.Second
	// MaxThumbnail is the most bytes of JPEG read from ffmpeg: a thumbnail
	// larger than the client sends (files.MaxSenderThumbnail) is an error.
	MaxThumbnail = files.MaxSenderThumbnail
	maxProbe     = 4 << 10
)

// ErrNotFound is returned when ffmpeg or ffprobe is not on PATH.
var ErrNotFound = errors.New("ffmpeg not found")

// Available reports whether both ffmpeg and ffprobe are on PATH.
func Available() bool {
	_, err1 := exec.LookPath("ffmpeg")
	_, err2 := exec.LookPath("ffprobe")
	return err1 == nil && err2 == nil
}

// Video returns the thumbnail (a JPEG at most attachment.ThumbnailMax
// pixels a side, taken from the first frame), its dimensions and the
// duration of the video at path. ErrNotFound when the programs are not
// installed.
func Video(ctx context.Context, path string) (files.VideoInfo, error) {
	if !Available() {
		return files.VideoInfo{}, ErrNotFound
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return files.VideoInfo{}, err
	}
	var v files.VideoInfo
	side := strconv.Itoa(attachment.ThumbnailMax)
	// Fit the longer side in ThumbnailMax (never enlarging), keep the
	// aspect ratio with an even other side.
	scale := "scale=w='if(gte(iw,ih),min(" + side + ",iw),-2)':h='if(gte(iw,ih),-2,min(" + side + ",ih))'"
	thumb, err := run(ctx, MaxThumbnail, "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error",
		"-i", abs, "-frames:v", "1", "-vf", scale, "-q:v", "5", "-f", "image2pipe", "-c:v", "mjpeg", "pipe:1")
	if err != nil {
		return v, fmt.Errorf("video thumbnail: %w", err)
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(thumb))
	if err != nil {
		return v, fmt.Errorf("video thumbnail: ffmpeg wrote no JPEG: %w", err)
	}
	v.Thumbnail, v.Width, v.Height = thumb, cfg.Width, cfg.Height
	out, err := run(ctx, maxProbe, "ffprobe", "-v", "error", "-show_entries", "format=duration",
		"-of", "default=noprint_wrappers=1:nokey=1", abs)
	if err != nil {
		return v, fmt.Errorf("video duration: %w", err)
	}
	secs, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil || secs < 0 || secs > 30*24*3600 {
		return v, fmt.Errorf("video duration: ffprobe said %q", strings.TrimSpace(string(out)))
	}
	v.Duration = time.Duration(secs * float64(time.Second))
	return v, nil
}

// run runs program with args under Timeout and returns its standard
// output, refusing more than limit bytes of it.
func run(ctx context.Context, limit int, program string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, program, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &limitedWriter{w: &stderr, n: 2 << 10}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	out, rerr := io.ReadAll(io.LimitReader(stdout, int64(limit)+1))
	if rerr == nil && len(out) > limit {
		rerr = fmt.Errorf("%s wrote more than %d bytes", program, limit)
		_ = cmd.Process.Kill()
	}
	werr := cmd.Wait()
	switch {
	case rerr != nil:
		return nil, rerr
	case ctx.Err() != nil:
		return nil, fmt.Errorf("%s took longer than %s", program, Timeout)
	case werr != nil:
		return nil, fmt.Errorf("%s: %w: %s", program, werr, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// limitedWriter keeps the first n bytes written to it and drops the rest.
type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(len(p), l.n)
		_, _ = l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}

// Reporting is Video for the CLI's files.SendFileOptions.Video: it tells
// stderr, once per process, when a video goes without a thumbnail —
// "ffmpeg not found: video sent without a thumbnail" when the programs are
// not installed.
func Reporting(stderr io.Writer) func(ctx context.Context, path string) (files.VideoInfo, error) {
	return func(ctx context.Context, path string) (files.VideoInfo, error) {
		v, err := Video(ctx, path)
		if err != nil {
			reportOnce.Do(func() {
				if errors.Is(err, ErrNotFound) {
					fmt.Fprintln(stderr, "ffmpeg not found: video sent without a thumbnail")
				} else {
					fmt.Fprintf(stderr, "video sent without a thumbnail: %v\n", err)
				}
			})
		}
		return v, err
	}
}

var reportOnce sync.Once
