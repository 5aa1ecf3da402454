package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"image"
	"image/color"
	"image/png"
	"io/fs"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/attachment"
	"github.com/parleyhq/parley/client"
)

// TestMedia is issue 5 through the CLI binary: every media kind goes from
// alice to bob and back out through `media get`, a forward re-uses the
// stored ciphertext, a user outside the chat cannot fetch a blob even with
// its capability, tampering is detected, and the server's data directory
// never holds a plaintext byte of the files.
func TestMedia(t *testing.T) {
	s := mustServe(t)
	alice := newDevice(t, "alice", "+14155550111")
	bob := newDevice(t, "bob", "+14155550112")
	carol := newDevice(t, "carol", "+14155550113")
	alice.mustRegister(s, "Alice")
	bob.mustRegister(s, "Bob")
	carol.mustRegister(s, "Carol")

	dir := t.TempDir()
	const docMarker = "PARLEY-PLAINTEXT-MARKER-7f3a91 this document must never reach the server in the clear"
	files := map[string][]byte{
		"photo.png": pngImage(t, 800, 600),
		"note.wav":  wavTone(8000, 1500*time.Millisecond),
		"clip.mp4":  tinyMP4(2500*time.Millisecond, 320, 240),
		"report.pdf": []byte("%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n" +
			"2 0 obj << /Type /Pages /Count 3 /Kids [3 0 R 4 0 R 5 0 R] >> endobj\n" +
			"3 0 obj << /Type /Page >> endobj\n4 0 obj << /Type /Page >> endobj\n5 0 obj << /Type /Page >> endobj\n" +
			"% " + docMarker + "\n%%EOF\n"),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	path := func(name string) string { return filepath.Join(dir, name) }

	// sendOne sends and returns the "sent" line; history on bob then shows
	// the message, returned too.
	sendOne := func(args ...string) (sent, got map[string]any) {
		t.Helper()
		out := alice.must(append([]string{"send", "--to", bob.phone}, args...)...).lines()
		if len(out) != 1 || out[0]["event"] != "sent" || out[0]["id"] == "" {
			t.Fatalf("send %v printed %v", args, out)
		}
		sent = out[0]
		for _, m := range bob.must("history", sent["chat"].(string)).lines() {
			if m["id"] == sent["id"] {
				return sent, m
			}
		}
		t.Fatalf("bob's history has no message %v", sent["id"])
		return nil, nil
	}
	media := func(m map[string]any) map[string]any {
		t.Helper()
		md, ok := m["media"].(map[string]any)
		if !ok {
			t.Fatalf("message without media: %v", m)
		}
		return md
	}
	// mustGet downloads a message's file on d and checks it equals want.
	mustGet := func(d *device, id string, want []byte) {
		t.Helper()
		out := filepath.Join(t.TempDir(), "got")
		res := d.must("media", "get", id, "-o", out).lines()
		got, err := os.ReadFile(out)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s: media get %s: %d bytes, err %v; want the %d bytes sent", d.name, id, len(got), err, len(want))
		}
		sum := sha256.Sum256(want)
		if len(res) != 1 || res[0]["verified"] != true || res[0]["sha256"] != hex.EncodeToString(sum[:]) {
			t.Fatalf("media get printed %v", res)
		}
	}

	// Image: dimensions and a thumbnail, with a caption.
	sent, m := sendOne("--file", path("photo.png"), "--caption", "the view from here")
	if sent["kind"] != "image" || m["kind"] != "image" || m["text"] != "the view from here" {
		t.Fatalf("image: sent %v, received %v", sent, m)
	}
	md := media(m)
	if md["width"] != 800.0 || md["height"] != 600.0 || md["thumbnail_bytes"].(float64) <= 0 || md["file_name"] != "photo.png" ||
		md["mime"] != "image/png" || md["size"] != float64(len(files["photo.png"])) || md["caption"] != "the view from here" {
		t.Fatalf("image media = %v", md)
	}
	imageID := m["id"].(string)
	chat := m["chat"].(string)
	if !strings.HasPrefix(imageID, chat+":") {
		t.Fatalf("message id %q is not CHAT:SEQ of chat %s", imageID, chat)
	}
	mustGet(bob, imageID, files["photo.png"])

	// Voice note: duration and waveform.
	_, m = sendOne("--voice", path("note.wav"))
	md = media(m)
	if m["kind"] != "voice" || md["duration_ms"] != 1500.0 || len(md["waveform"].([]any)) != attachment.WaveformBars {
		t.Fatalf("voice = %v", m)
	}
	voiceID := m["id"].(string)
	mustGet(bob, voiceID, files["note.wav"])

	// Video: duration and dimensions from the MP4 headers.
	_, m = sendOne("--file", path("clip.mp4"))
	md = media(m)
	if m["kind"] != "video" || md["duration_ms"] != 2500.0 || md["width"] != 320.0 || md["height"] != 240.0 || md["mime"] != "video/mp4" {
		t.Fatalf("video = %v", m)
	}
	mustGet(bob, m["id"].(string), files["clip.mp4"])

	// Document: file name and page count.
	_, m = sendOne("--file", path("report.pdf"), "--caption", "Q3")
	md = media(m)
	if m["kind"] != "document" || md["file_name"] != "report.pdf" || md["pages"] != 3.0 || md["mime"] != "application/pdf" {
		t.Fatalf("document = %v", m)
	}
	docID := m["id"].(string)
	mustGet(bob, docID, files["report.pdf"])

	// Location and contact card: no blob.
	_, m = sendOne("--location", "48.8584,2.2945", "--name", "Eiffel Tower")
	md = media(m)
	if m["kind"] != "location" || md["lat"] != 48.8584 || md["lon"] != 2.2945 || md["place"] != "Eiffel Tower" || md["blob"] != nil {
		t.Fatalf("location = %v", m)
	}
	bob.mustFail(exitInvalid, "media", "get", m["id"].(string))
	_, m = sendOne("--contact", "Dana Example,+14155550199")
	md = media(m)
	if m["kind"] != "contact" || md["contact_name"] != "Dana Example" || !strings.Contains(md["vcard"].(string), "TEL;TYPE=cell:+14155550199") {
		t.Fatalf("contact = %v", m)
	}

	// A live listener renders media too.
	l := bob.mustListen()
	alice.must("send", "--to", bob.phone, "--location", "-33.8568,151.2153")
	seen := l.mustSee("location message", func(m map[string]any) bool { return m["event"] == "message" && m["kind"] == "location" })
	if md := media(seen); md["lat"] != -33.8568 || seen["id"] == "" {
		t.Fatalf("listen printed %v", seen)
	}
	l.stop()

	// Over the 2 GiB limit (a sparse file): refused before a byte is sent.
	big := filepath.Join(dir, "big.bin")
	if f, err := os.Create(big); err != nil {
		t.Fatal(err)
	} else {
		f.Truncate(attachment.MaxFileSize + 1)
		f.Close()
	}
	if r := alice.mustFail(exitTooLarge, "send", "--to", bob.phone, "--file", big); !strings.Contains(r.stderr, `"reason":"file_too_large"`) {
		t.Fatalf("sending a file over 2 GiB: %s", r.stderr)
	}

	// Forward without re-upload: bob forwards the photo to carol.
	blobs := countBlobs(t, s.data)
	fwd := bob.must("forward", imageID, "--to", carol.phone).lines()
	if len(fwd) != 1 || fwd[0]["forwarded"] != true || fwd[0]["kind"] != "image" {
		t.Fatalf("forward printed %v", fwd)
	}
	if n := countBlobs(t, s.data); n != blobs {
		t.Fatalf("forwarding changed the server's blob count from %d to %d", blobs, n)
	}
	var fwdMsg map[string]any
	for _, m := range carol.must("history", bob.phone).lines() {
		if m["id"] == fwd[0]["id"] {
			fwdMsg = m
		}
	}
	if fwdMsg == nil || fwdMsg["forwarded"] != true || media(fwdMsg)["blob"] != blobOf(t, bob, imageID) {
		t.Fatalf("carol's forwarded message = %v", fwdMsg)
	}
	mustGet(carol, fwdMsg["id"].(string), files["photo.png"])

	// Carol is outside alice and bob's chat: she does not have the voice
	// note's message, and even with its capability the server refuses her.
	carol.mustFail(exitNotFound, "media", "get", voiceID)
	voice := storedMessage(t, bob, voiceID).Media
	if code := fetchBlob(t, s, carol, voice); code != http.StatusForbidden {
		t.Fatalf("carol fetching the voice note's blob: HTTP %d, want 403", code)
	}
	if code := fetchBlob(t, s, bob, voice); code != http.StatusOK {
		t.Fatalf("bob fetching the voice note's blob: HTTP %d, want 200", code)
	}

	// The server never saw a plaintext byte (the phone number is metadata
	// it keeps: the control).
	mustNotContain(t, s.data, alice.phone, docMarker, "the view from here", "Eiffel Tower", "Dana Example")

	// Tampering: flip a byte of the document's stored ciphertext; media get
	// fails verification and leaves no file behind.
	doc := storedMessage(t, bob, docID).Media
	blobPath := findBlob(t, s.data, string(doc.Blob))
	ct, err := os.ReadFile(blobPath)
	if err != nil {
		t.Fatal(err)
	}
	ct[len(ct)/2] ^= 0x40
	if err := os.WriteFile(blobPath, ct, 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "tampered.pdf")
	r := bob.mustFail(exitInvalid, "media", "get", docID, "-o", out)
	if !strings.Contains(r.stderr, "tampered") {
		t.Fatalf("media get of tampered blob: %s", r.stderr)
	}
	if _, err := os.Stat(out); err == nil {
		t.Fatalf("media get left the unverified file %s", out)
	}
}

const (
	exitInvalid  = 3
	exitTooLarge = 9
)

// storedMessage reads a message from a device's local store.
func storedMessage(t *testing.T, d *device, id string) client.MessageRecord {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := client.OpenSQLiteStore(ctx, filepath.Join(d.profile, "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	conv, seq, err := client.ParseMessageID(id)
	if err != nil {
		t.Fatal(err)
	}
	m, err := st.Message(ctx, conv, seq)
	if err != nil || m.Media == nil {
		t.Fatalf("%s: stored message %s: %v (media %v)", d.name, id, err, m.Media)
	}
	return m
}

func blobOf(t *testing.T, d *device, id string) string {
	return string(storedMessage(t, d, id).Media.Blob)
}

// fetchBlob GETs a blob from the media service with d's credentials and the
// descriptor's capability and returns the status code.
func fetchBlob(t *testing.T, s *server, d *device, m *attachment.Descriptor) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := client.OpenSQLiteStore(ctx, filepath.Join(d.profile, "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	acct, err := st.Account(ctx)
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+attachment.BlobsPath+string(m.Blob), nil)
	req.Header.Set("Authorization", "Parley "+strconv.FormatInt(int64(acct.Device), 10)+":"+base64.StdEncoding.EncodeToString(acct.Secret))
	req.Header.Set(attachment.CapabilityHdr, base64.StdEncoding.EncodeToString(m.Capability))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// countBlobs counts the stored blobs (files under data/blobs but its tmp).
func countBlobs(t *testing.T, data string) int {
	t.Helper()
	n := 0
	root := filepath.Join(data, "blobs")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p == filepath.Join(root, "tmp") {
			return filepath.SkipDir
		}
		if !d.IsDir() {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func findBlob(t *testing.T, data, id string) string {
	t.Helper()
	p := filepath.Join(data, "blobs", id[1:3], id)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("blob %s: %v", id, err)
	}
	return p
}

// pngImage is a w×h gradient PNG.
func pngImage(t *testing.T, w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), uint8(x + y), 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// wavTone is a mono 16-bit PCM WAV of a 440 Hz tone rising in volume.
func wavTone(rate int, d time.Duration) []byte {
	n := int(int64(rate) * int64(d) / int64(time.Second))
	var b bytes.Buffer
	le := binary.LittleEndian
	b.WriteString("RIFF")
	binary.Write(&b, le, uint32(36+2*n))
	b.WriteString("WAVEfmt ")
	binary.Write(&b, le, uint32(16))
	binary.Write(&b, le, uint16(1)) // PCM
	binary.Write(&b, le, uint16(1)) // mono
	binary.Write(&b, le, uint32(rate))
	binary.Write(&b, le, uint32(2*rate))
	binary.Write(&b, le, uint16(2))
	binary.Write(&b, le, uint16(16))
	b.WriteString("data")
	binary.Write(&b, le, uint32(2*n))
	for i := 0; i < n; i++ {
		v := float64(i) / float64(n) * math.Sin(2*math.Pi*440*float64(i)/float64(rate))
		binary.Write(&b, le, int16(v*30000))
	}
	return b.Bytes()
}

// tinyMP4 is an MP4 with only the boxes a player reads first: ftyp, and a
// moov with an mvhd (duration) and one trak whose tkhd has the dimensions.
func tinyMP4(d time.Duration, w, h int) []byte {
	box := func(typ string, body ...[]byte) []byte {
		n := 8
		for _, p := range body {
			n += len(p)
		}
		out := binary.BigEndian.AppendUint32(nil, uint32(n))
		out = append(out, typ...)
		for _, p := range body {
			out = append(out, p...)
		}
		return out
	}
	be := binary.BigEndian
	mvhd := make([]byte, 100)                         // version 0
	be.PutUint32(mvhd[12:], 1000)                     // timescale
	be.PutUint32(mvhd[16:], uint32(d.Milliseconds())) // duration
	be.PutUint32(mvhd[20:], 0x00010000)               // rate 1.0
	tkhd := make([]byte, 84)                          // version 0
	be.PutUint32(tkhd[76:], uint32(w)<<16)
	be.PutUint32(tkhd[80:], uint32(h)<<16)
	ftyp := box("ftyp", []byte("isom"), []byte{0, 0, 2, 0}, []byte("isomiso2mp41"))
	moov := box("moov", box("mvhd", mvhd), box("trak", box("tkhd", tkhd)))
	mdat := box("mdat", bytes.Repeat([]byte{0x5a}, 4096))
	return append(append(ftyp, moov...), mdat...)
}
