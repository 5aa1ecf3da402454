package bridge

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/parleyhq/parley/attachment"
	"github.com/parleyhq/parley/client"
)

func TestSendMediaOptionsClient(t *testing.T) {
	jpeg := []byte{0xff, 0xd8, 0xff, 0xe0, 1, 2, 3}
	url := thumbnailPrefix + base64.StdEncoding.EncodeToString(jpeg)
	for _, tc := range []struct {
		name string
		o    SendMediaOptions
		blob string
		mime string
		ok   bool
	}{
		{"blob type", SendMediaOptions{Kind: "image"}, "image/heic", "image/heic", true},
		{"own type first", SendMediaOptions{MIME: "video/webm"}, "application/octet-stream", "video/webm", true},
		{"thumbnail", SendMediaOptions{Thumbnail: url, Width: 40, Height: 30}, "image/heic", "image/heic", true},
		{"png data URL", SendMediaOptions{Thumbnail: "data:image/png;base64,AAAA"}, "", "", false},
		{"not base64", SendMediaOptions{Thumbnail: thumbnailPrefix + "*!"}, "", "", false},
		{"too large", SendMediaOptions{Thumbnail: thumbnailPrefix + strings.Repeat("A", 4*(client.MaxSenderThumbnail/3+8))}, "", "", false},
		{"waveform", SendMediaOptions{Kind: "voice", Waveform: []int{0, 128, 255}}, "audio/webm", "audio/webm", true},
		{"waveform level over 255", SendMediaOptions{Kind: "voice", Waveform: []int{0, 256}}, "", "", false},
		{"negative waveform level", SendMediaOptions{Kind: "voice", Waveform: []int{-1}}, "", "", false},
		{"waveform too long", SendMediaOptions{Kind: "voice", Waveform: make([]int, attachment.WaveformBars+1)}, "", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			co, err := tc.o.Client(tc.blob)
			if (err == nil) != tc.ok {
				t.Fatalf("err %v, want ok=%v", err, tc.ok)
			}
			if !tc.ok {
				return
			}
			if co.MIME != tc.mime {
				t.Fatalf("MIME %q, want %q", co.MIME, tc.mime)
			}
			if len(co.Waveform) != len(tc.o.Waveform) {
				t.Fatalf("waveform %v, want %v", co.Waveform, tc.o.Waveform)
			}
			if tc.o.Thumbnail != "" && (string(co.Thumbnail) != string(jpeg) || co.Width != 40 || co.Height != 30) {
				t.Fatalf("thumbnail %x %dx%d", co.Thumbnail, co.Width, co.Height)
			}
		})
	}
}

// FuzzSendMediaOptionsClient: any thumbnail string from the page decodes to
// at most client.MaxSenderThumbnail bytes or is refused, never a panic.
func FuzzSendMediaOptionsClient(f *testing.F) {
	f.Add(thumbnailPrefix+base64.StdEncoding.EncodeToString([]byte{0xff, 0xd8, 0xff}), 4, 3)
	f.Add("data:image/jpeg;base64,", 0, 0)
	f.Add("data:image/jpeg;base64,=", -1, 1<<20)
	f.Fuzz(func(t *testing.T, thumb string, w, h int) {
		co, err := SendMediaOptions{Thumbnail: thumb, Width: w, Height: h}.Client("")
		if err == nil && len(co.Thumbnail) > client.MaxSenderThumbnail+3 {
			t.Fatalf("%d bytes accepted", len(co.Thumbnail))
		}
	})
}
