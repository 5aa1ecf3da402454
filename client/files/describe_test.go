package files

import (
	"bytes"
	"testing"

	"github.com/parleyhq/parley/attachment"
	"github.com/parleyhq/parley/content"
)

// A thumbnail made by the sender's platform (the browser's canvas) makes a
// file the client cannot decode an image, and gives a video its preview;
// a bad one is refused rather than sent.
func TestDescribeMediaSenderThumbnail(t *testing.T) {
	jpeg := append([]byte{0xff, 0xd8, 0xff, 0xe0}, bytes.Repeat([]byte{1}, 100)...)
	// Bytes no decoder reads, named like an image (a HEIC, say).
	heic := bytes.Repeat([]byte{7}, 600)
	mp4 := append([]byte{0, 0, 0, 0x18, 'f', 't', 'y', 'p', 'i', 's', 'o', 'm'}, bytes.Repeat([]byte{0}, 600)...)
	for _, tc := range []struct {
		name      string
		file      []byte
		fileName  string
		o         SendMediaOptions
		kind      attachment.Kind
		width     int
		thumbnail bool
		err       string
	}{
		{"undecodable image without thumbnail", heic, "p.heic", SendMediaOptions{MIME: "image/heic"}, attachment.KindDocument, 0, false, ""},
		{"undecodable image with thumbnail", heic, "p.heic", SendMediaOptions{MIME: "image/heic", Thumbnail: jpeg, Width: 4032, Height: 3024}, attachment.KindImage, 4032, true, ""},
		{"sent as a document", heic, "p.heic", SendMediaOptions{Kind: content.KindDocument, MIME: "image/heic", Thumbnail: jpeg, Width: 4, Height: 3}, attachment.KindDocument, 0, false, ""},
		{"video with thumbnail", mp4, "v.mp4", SendMediaOptions{Thumbnail: jpeg, Width: 640, Height: 360}, attachment.KindVideo, 640, true, ""},
		{"not a JPEG", heic, "p.heic", SendMediaOptions{MIME: "image/heic", Thumbnail: []byte("PNG?"), Width: 4, Height: 3}, "", 0, false, "bad_thumbnail"},
		{"too large", heic, "p.heic", SendMediaOptions{MIME: "image/heic", Thumbnail: append(jpeg, make([]byte, MaxSenderThumbnail)...), Width: 4, Height: 3}, "", 0, false, "bad_thumbnail"},
		{"no dimensions", heic, "p.heic", SendMediaOptions{MIME: "image/heic", Thumbnail: jpeg}, "", 0, false, "bad_thumbnail"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := describeMedia(bytes.NewReader(tc.file), int64(len(tc.file)), tc.fileName, tc.o)
			if tc.err != "" {
				if err == nil || !bytes.Contains([]byte(err.Error()), []byte(tc.err)) {
					t.Fatalf("err %v, want %s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.Kind != tc.kind || d.Width != tc.width || (d.Thumbnail != nil) != tc.thumbnail {
				t.Fatalf("kind %s width %d thumbnail %d bytes, want %s %d %v", d.Kind, d.Width, len(d.Thumbnail), tc.kind, tc.width, tc.thumbnail)
			}
		})
	}
}

// A voice note recorded in the browser (Opus in WebM, which the client cannot
// decode) carries the waveform the page computed with Web Audio; a WAV's own
// waveform wins, and an over-long one is refused.
func TestDescribeMediaSenderWaveform(t *testing.T) {
	webm := append([]byte{0x1a, 0x45, 0xdf, 0xa3}, bytes.Repeat([]byte{3}, 400)...)
	wave := []byte{0, 40, 255, 12}
	d, err := describeMedia(bytes.NewReader(webm), int64(len(webm)), "voice-note.webm", SendMediaOptions{Kind: content.KindVoice, MIME: "audio/webm", Duration: 2500e6, Waveform: wave})
	if err != nil {
		t.Fatal(err)
	}
	if d.Kind != attachment.KindVoice || !bytes.Equal(d.Waveform, wave) || d.Duration != 2500e6 {
		t.Fatalf("kind %s waveform %v duration %v, want voice %v 2.5s", d.Kind, d.Waveform, d.Duration, wave)
	}
	_, err = describeMedia(bytes.NewReader(webm), int64(len(webm)), "voice-note.webm", SendMediaOptions{Kind: content.KindVoice, Waveform: make([]byte, attachment.WaveformBars+1)})
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte(ReasonBadWaveform)) {
		t.Fatalf("err %v, want %s", err, ReasonBadWaveform)
	}
}
