package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCLIVideoThumbnail: with ffmpeg installed, `parley send --file` of a
// video attaches a thumbnail and the duration (made by ffmpeg, which the Go
// core cannot do); with no ffmpeg on PATH the video still goes, and stderr
// says once that it went without a thumbnail.
func TestCLIVideoThumbnail(t *testing.T) {
	s := mustServe(t)
	alice := newDevice(t, "alice", "+14155550921")
	bob := newDevice(t, "bob", "+14155550922")
	alice.mustRegister(s, "alice")
	bob.mustRegister(s, "bob")
	clip, err := filepath.Abs("../cmd/internal/ffmpeg/testdata/clip.webm")
	if err != nil {
		t.Fatal(err)
	}

	// No ffmpeg: an empty PATH.
	media, stderr := sendVideo(t, alice, bob.phone, clip, t.TempDir())
	if strings.Count(stderr, "ffmpeg not found: video sent without a thumbnail") != 1 {
		t.Fatalf("without ffmpeg, stderr = %q", stderr)
	}
	if media["kind"] != "video" || media["thumbnail_bytes"] != nil {
		t.Fatalf("without ffmpeg, media = %v", media)
	}

	_, err1 := exec.LookPath("ffmpeg")
	_, err2 := exec.LookPath("ffprobe")
	if err1 != nil || err2 != nil {
		t.Skip("ffmpeg is not installed (scripts/ffmpeg-install.sh installs it): the thumbnail path is untested here")
	}
	media, stderr = sendVideo(t, alice, bob.phone, clip, os.Getenv("PATH"))
	if strings.Contains(stderr, "without a thumbnail") {
		t.Fatalf("with ffmpeg, stderr = %q", stderr)
	}
	if n, _ := media["thumbnail_bytes"].(float64); n <= 0 || media["width"] != float64(320) || media["height"] != float64(180) {
		t.Fatalf("with ffmpeg, media = %v", media)
	}
	if d, _ := media["duration_ms"].(float64); d < 1900 || d > 2100 {
		t.Fatalf("with ffmpeg, duration_ms = %v", media["duration_ms"])
	}
	// Bob receives the thumbnail and duration inside the encrypted message.
	var got map[string]any
	for _, l := range bob.must("history", alice.phone).lines() {
		if m, ok := l["media"].(map[string]any); ok && m["thumbnail_bytes"] != nil {
			got = m
		}
	}
	if got == nil || got["duration_ms"] != media["duration_ms"] {
		t.Fatalf("bob's copy: %v", got)
	}
}

// sendVideo runs `parley send --file` on d with PATH set to path and
// returns the sent message's media object and stderr.
func sendVideo(t *testing.T, d *device, to, file, path string) (map[string]any, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, parleyBin, "--json", "--profile", d.profile, "send", "--to", to, "--file", file)
	cmd.Env = append(os.Environ(), "PATH="+path)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("parley send --file: %v\n%s", err, stderr.String())
	}
	var sent map[string]any
	if err := json.Unmarshal(bytes.TrimSpace(stdout.Bytes()), &sent); err != nil {
		t.Fatalf("sent: %v: %q", err, stdout.String())
	}
	media, _ := sent["media"].(map[string]any)
	return media, stderr.String()
}
