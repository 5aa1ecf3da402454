package attachment

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley"
)

// Limits of the metadata the client computes.
const (
	ThumbnailMax    = 320        // pixels on the longer side
	WaveformBars    = 64         // levels in a voice note's waveform
	maxImagePixels  = 64 << 20   // larger images get no thumbnail (decompression bombs)
	maxPDFScan      = 32 << 20   // larger PDFs get no page count
	thumbnailQualty = 70         // JPEG quality
	maxVCard        = 64 << 10   // bytes
	sniffLen        = 512        // bytes read to detect the type
	oggTail         = 64<<10 + 1 // bytes read from the end of an Ogg file
)

// Describe inspects the file (size bytes readable through r) and returns a
// Descriptor with its kind, MIME type, file name and the kind's metadata:
// dimensions and thumbnail for images, duration and dimensions for MP4
// videos, page count for PDFs. Metadata that cannot be computed cheaply is
// left empty; only an unreadable file is an error. The blob fields are
// filled in by Upload.
func Describe(r io.ReaderAt, size int64, name string) (Descriptor, error) {
	d := Descriptor{Kind: KindDocument, FileName: filepath.Base(name), Size: size}
	head := make([]byte, min(size, sniffLen))
	if _, err := r.ReadAt(head, 0); err != nil && !errors.Is(err, io.EOF) {
		return d, fmt.Errorf("describe %s: %w", name, err)
	}
	d.MIME = detectMIME(head, name)
	switch {
	case strings.HasPrefix(d.MIME, "image/"):
		thumb, w, h, err := Thumbnail(io.NewSectionReader(r, 0, size))
		if err == nil {
			d.Kind, d.Width, d.Height, d.Thumbnail = KindImage, w, h, thumb
		}
	case d.MIME == "video/mp4" || d.MIME == "video/quicktime":
		d.Kind = KindVideo
		d.Duration, d.Width, d.Height, _ = MP4Info(r, size)
	case strings.HasPrefix(d.MIME, "video/"):
		d.Kind = KindVideo
	case d.MIME == "application/pdf" && size <= maxPDFScan:
		d.Pages = PDFPages(io.NewSectionReader(r, 0, size))
	}
	return d, nil
}

// DescribeVoice describes a voice note: duration and waveform for WAV (PCM
// or float), duration for Ogg Opus/Vorbis. Other audio formats are accepted
// without metadata.
func DescribeVoice(r io.ReaderAt, size int64, name string) (Descriptor, error) {
	d, err := Describe(r, size, name)
	if err != nil {
		return d, err
	}
	d.Kind, d.Thumbnail, d.Width, d.Height = KindVoice, nil, 0, 0
	switch {
	case d.MIME == "audio/wav" || d.MIME == "audio/wave" || d.MIME == "audio/x-wav":
		d.Duration, d.Waveform, err = WAVInfo(r, size)
		if err != nil {
			return d, err
		}
	case d.MIME == "application/ogg" || d.MIME == "audio/ogg" || d.MIME == "audio/opus":
		d.MIME = "audio/ogg"
		d.Duration, _ = OggDuration(r, size)
	}
	return d, nil
}

func detectMIME(head []byte, name string) string {
	t := http.DetectContentType(head)
	if t == "application/octet-stream" || strings.HasPrefix(t, "text/plain") {
		if e := mime.TypeByExtension(strings.ToLower(filepath.Ext(name))); e != "" {
			t = e
		}
	}
	if i := strings.IndexByte(t, ';'); i >= 0 && !strings.HasPrefix(t, "text/") {
		t = t[:i]
	}
	return t
}

// WAVInfo reads a RIFF/WAVE file (integer PCM of 8, 16, 24 or 32 bits, or
// 32-bit float) and returns its duration and a waveform of WaveformBars
// peak levels scaled so the loudest bar is 255.
func WAVInfo(r io.ReaderAt, size int64) (time.Duration, []byte, error) {
	bad := func(format string, args ...any) error {
		return parley.Errorf(parley.CodeInvalid, ReasonBadAudio, "wav: "+format, args...)
	}
	var hdr [12]byte
	if _, err := r.ReadAt(hdr[:], 0); err != nil || string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return 0, nil, bad("not a RIFF/WAVE file")
	}
	var (
		format, channels, bits uint16
		rate                   uint32
		dataOff, dataLen       int64
	)
	for off := int64(12); off+8 <= size; {
		var ch [8]byte
		if _, err := r.ReadAt(ch[:], off); err != nil {
			return 0, nil, bad("truncated chunk header")
		}
		n := int64(binary.LittleEndian.Uint32(ch[4:]))
		switch string(ch[:4]) {
		case "fmt ":
			var f [16]byte
			if n < 16 {
				return 0, nil, bad("short fmt chunk")
			}
			if _, err := r.ReadAt(f[:], off+8); err != nil {
				return 0, nil, bad("truncated fmt chunk")
			}
			format = binary.LittleEndian.Uint16(f[0:])
			channels = binary.LittleEndian.Uint16(f[2:])
			rate = binary.LittleEndian.Uint32(f[4:])
			bits = binary.LittleEndian.Uint16(f[14:])
			if format == 0xFFFE && n >= 26 { // WAVE_FORMAT_EXTENSIBLE: the sub-format's first two bytes
				var sub [2]byte
				if _, err := r.ReadAt(sub[:], off+8+24); err == nil {
					format = binary.LittleEndian.Uint16(sub[:])
				}
			}
		case "data":
			dataOff, dataLen = off+8, min(n, size-off-8)
		}
		if dataOff > 0 && channels > 0 {
			break
		}
		off += 8 + n + n&1
	}
	if channels == 0 || rate == 0 || dataOff == 0 {
		return 0, nil, bad("missing fmt or data chunk")
	}
	if !(format == 1 && (bits == 8 || bits == 16 || bits == 24 || bits == 32)) && !(format == 3 && bits == 32) {
		return 0, nil, bad("unsupported sample format %d/%d bits", format, bits)
	}
	frameBytes := int64(channels) * int64(bits/8)
	frames := dataLen / frameBytes
	dur := time.Duration(float64(frames) / float64(rate) * float64(time.Second))

	peaks := make([]float64, WaveformBars)
	br := bufio.NewReaderSize(io.NewSectionReader(r, dataOff, frames*frameBytes), 64<<10)
	frame := make([]byte, frameBytes)
	sb := int(bits / 8)
	for i := int64(0); i < frames; i++ {
		if _, err := io.ReadFull(br, frame); err != nil {
			return 0, nil, bad("reading samples: %v", err)
		}
		var peak float64
		for c := 0; c < int(channels); c++ {
			s := frame[c*sb : (c+1)*sb]
			var v float64
			switch {
			case format == 3:
				v = float64(math.Float32frombits(binary.LittleEndian.Uint32(s)))
			case bits == 8:
				v = (float64(s[0]) - 128) / 128
			case bits == 16:
				v = float64(int16(binary.LittleEndian.Uint16(s))) / (1 << 15)
			case bits == 24:
				v = float64(int32(uint32(s[0])<<8|uint32(s[1])<<16|uint32(s[2])<<24)>>8) / (1 << 23)
			case bits == 32:
				v = float64(int32(binary.LittleEndian.Uint32(s))) / (1 << 31)
			}
			peak = max(peak, math.Abs(v))
		}
		bar := int(i * WaveformBars / frames)
		peaks[bar] = max(peaks[bar], peak)
	}
	var loudest float64
	for _, p := range peaks {
		loudest = max(loudest, p)
	}
	wave := make([]byte, WaveformBars)
	if loudest > 0 {
		for i, p := range peaks {
			wave[i] = byte(math.Round(p / loudest * 255))
		}
	}
	return dur, wave, nil
}

// OggDuration returns the duration of an Ogg Opus or Vorbis file from the
// granule position of its last page (no decoding).
func OggDuration(r io.ReaderAt, size int64) (time.Duration, error) {
	head := make([]byte, min(size, 4096))
	if _, err := r.ReadAt(head, 0); err != nil && !errors.Is(err, io.EOF) {
		return 0, err
	}
	var rate, preSkip int64
	if i := bytes.Index(head, []byte("OpusHead")); i >= 0 && i+12 <= len(head) {
		rate, preSkip = 48000, int64(binary.LittleEndian.Uint16(head[i+10:]))
	} else if i := bytes.Index(head, []byte("\x01vorbis")); i >= 0 && i+16 <= len(head) {
		rate = int64(binary.LittleEndian.Uint32(head[i+12:]))
	}
	if rate == 0 {
		return 0, parley.Errorf(parley.CodeInvalid, ReasonBadAudio, "ogg: neither Opus nor Vorbis")
	}
	tail := make([]byte, min(size, oggTail))
	if _, err := r.ReadAt(tail, size-int64(len(tail))); err != nil && !errors.Is(err, io.EOF) {
		return 0, err
	}
	i := bytes.LastIndex(tail, []byte("OggS"))
	if i < 0 || i+14 > len(tail) {
		return 0, parley.Errorf(parley.CodeInvalid, ReasonBadAudio, "ogg: no page found")
	}
	granule := int64(binary.LittleEndian.Uint64(tail[i+6:]))
	if granule < preSkip {
		return 0, nil
	}
	return time.Duration(float64(granule-preSkip) / float64(rate) * float64(time.Second)), nil
}

// MP4Info returns the duration (from the movie header) and the largest
// track's dimensions (from the track headers) of an MP4 or QuickTime file,
// reading only box headers.
func MP4Info(r io.ReaderAt, size int64) (dur time.Duration, width, height int, err error) {
	moov, moovLen, ok := findBox(r, 0, size, "moov")
	if !ok {
		return 0, 0, 0, parley.Errorf(parley.CodeInvalid, ReasonBadVideo, "mp4: no moov box")
	}
	if off, n, ok := findBox(r, moov, moovLen, "mvhd"); ok && n >= 32 {
		b := make([]byte, min(n, 40))
		if _, err := r.ReadAt(b, off); err == nil {
			var scale, units uint64
			if b[0] == 1 && len(b) >= 40 {
				scale, units = uint64(binary.BigEndian.Uint32(b[20:])), binary.BigEndian.Uint64(b[24:])
			} else {
				scale, units = uint64(binary.BigEndian.Uint32(b[12:])), uint64(binary.BigEndian.Uint32(b[16:]))
			}
			if scale > 0 {
				dur = time.Duration(float64(units) / float64(scale) * float64(time.Second))
			}
		}
	}
	// Each trak's tkhd ends with width and height in 16.16 fixed point.
	for off, end := moov, moov+moovLen; off < end; {
		typ, body, bodyLen, next, ok := readBox(r, off, end)
		if !ok {
			break
		}
		if typ == "trak" {
			if t, n, ok := findBox(r, body, bodyLen, "tkhd"); ok && n >= 8 {
				var wh [8]byte
				if _, err := r.ReadAt(wh[:], t+n-8); err == nil {
					w, h := int(binary.BigEndian.Uint32(wh[:4])>>16), int(binary.BigEndian.Uint32(wh[4:])>>16)
					if w*h > width*height {
						width, height = w, h
					}
				}
			}
		}
		off = next
	}
	return dur, width, height, nil
}

// readBox reads the box header at off; body is where its content starts.
func readBox(r io.ReaderAt, off, end int64) (typ string, body, bodyLen, next int64, ok bool) {
	var h [16]byte
	if off+8 > end {
		return "", 0, 0, 0, false
	}
	if _, err := r.ReadAt(h[:8], off); err != nil {
		return "", 0, 0, 0, false
	}
	size, hl := int64(binary.BigEndian.Uint32(h[:4])), int64(8)
	switch size {
	case 0:
		size = end - off
	case 1:
		if _, err := r.ReadAt(h[8:16], off+8); err != nil {
			return "", 0, 0, 0, false
		}
		size, hl = int64(binary.BigEndian.Uint64(h[8:16])), 16
	}
	if size < hl || off+size > end {
		return "", 0, 0, 0, false
	}
	return string(h[4:8]), off + hl, size - hl, off + size, true
}

func findBox(r io.ReaderAt, off, n int64, want string) (body, bodyLen int64, ok bool) {
	for end := off + n; off < end; {
		typ, b, bl, next, ok := readBox(r, off, end)
		if !ok {
			return 0, 0, false
		}
		if typ == want {
			return b, bl, true
		}
		off = next
	}
	return 0, 0, false
}

var (
	pdfCount = regexp.MustCompile(`/Type\s*/Pages\b[^>]*?/Count\s+(\d+)|/Count\s+(\d+)[^>]*?/Type\s*/Pages\b`)
	pdfPage  = regexp.MustCompile(`/Type\s*/Page\b`)
)

// PDFPages returns the page count of a PDF when its page tree is stored
// uncompressed (the root /Pages /Count, or else the number of /Page
// objects), and 0 when that is not cheap to find (object streams).
func PDFPages(r io.Reader) int {
	b, err := io.ReadAll(io.LimitReader(r, maxPDFScan))
	if err != nil || !bytes.HasPrefix(b, []byte("%PDF-")) {
		return 0
	}
	best := 0
	for _, m := range pdfCount.FindAllSubmatch(b, -1) {
		s := m[1]
		if len(s) == 0 {
			s = m[2]
		}
		if n, err := strconv.Atoi(string(s)); err == nil && n > best {
			best = n
		}
	}
	if best > 0 {
		return best
	}
	return len(pdfPage.FindAllIndex(b, -1))
}

// NewLocation returns a location Descriptor (no blob).
func NewLocation(lat, lon float64, name string) (Descriptor, error) {
	if err := validLocation(lat, lon); err != nil {
		return Descriptor{}, err
	}
	return Descriptor{Kind: KindLocation, Location: &Location{Lat: lat, Lon: lon, Name: name}}, nil
}

// ParseLatLon parses "LAT,LON" in decimal degrees, as `parley send
// --location` takes it.
func ParseLatLon(s string) (lat, lon float64, err error) {
	a, b, ok := strings.Cut(s, ",")
	if ok {
		lat, err = strconv.ParseFloat(strings.TrimSpace(a), 64)
		if err == nil {
			lon, err = strconv.ParseFloat(strings.TrimSpace(b), 64)
		}
	}
	if !ok || err != nil {
		return 0, 0, parley.Errorf(parley.CodeInvalid, ReasonBadLocation, "location %q: want LAT,LON in decimal degrees", s)
	}
	return lat, lon, validLocation(lat, lon)
}

// Contact is the part of a vCard a client shows before opening it.
type Contact struct {
	Name   string
	Phones []string
}

// ParseVCard checks that s is one vCard (BEGIN:VCARD … END:VCARD with an FN
// property) of at most 64 KiB and returns its name and phone numbers.
func ParseVCard(s string) (Contact, error) {
	var c Contact
	bad := func(msg string) (Contact, error) {
		return c, parley.Errorf(parley.CodeInvalid, ReasonBadVCard, "vCard: %s", msg)
	}
	if len(s) > maxVCard {
		return bad("too large")
	}
	// Unfold continuation lines (RFC 6350 3.2).
	s = strings.NewReplacer("\r\n ", "", "\r\n\t", "", "\n ", "", "\n\t", "").Replace(s)
	lines := strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' })
	if len(lines) < 2 || !strings.EqualFold(lines[0], "BEGIN:VCARD") || !strings.EqualFold(lines[len(lines)-1], "END:VCARD") {
		return bad("not a single BEGIN:VCARD … END:VCARD")
	}
	for _, l := range lines[1 : len(lines)-1] {
		prop, val, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		name, _, _ := strings.Cut(prop, ";")
		switch strings.ToUpper(name) {
		case "FN":
			c.Name = val
		case "TEL":
			c.Phones = append(c.Phones, strings.TrimPrefix(val, "tel:"))
		}
	}
	if c.Name == "" {
		return bad("no FN (formatted name)")
	}
	return c, nil
}

// NewContact returns a contact-card Descriptor (no blob).
func NewContact(vcard string) (Descriptor, error) {
	if _, err := ParseVCard(vcard); err != nil {
		return Descriptor{}, err
	}
	return Descriptor{Kind: KindContact, MIME: "text/vcard", VCard: vcard}, nil
}

// VCard formats a minimal vCard 4.0 for a name and phone number.
func VCard(name, phone string) string {
	esc := strings.NewReplacer(`\`, `\\`, ",", `\,`, ";", `\;`, "\n", `\n`)
	return "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:" + esc.Replace(name) + "\r\nTEL;TYPE=cell:" + esc.Replace(phone) + "\r\nEND:VCARD\r\n"
}
