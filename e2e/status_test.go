package e2e

import (
	"bytes"
	"image"
	"image/png"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/blob/disk"
	"github.com/parleyhq/parley/media"
	"github.com/parleyhq/parley/parleytest"
	parleyserver "github.com/parleyhq/parley/server"
)

// TestStatusCLI is issue 16's Status test: the real server (in this
// process, for its injected clock) driven by the real CLI binary. A
// status to "only share with Bob" is seen by Bob, on both his devices, and
// not by Carol, who is in Alice's contacts; Alice sees that Bob viewed it;
// Bob's private reply lands in their 1:1 chat; mute and an early delete
// work; 24 hours later every status is gone from every device, and the
// prune removes them from the server's store and blob store. The
// plaintext of a status never appears in the server's data directory.
func TestStatusCLI(t *testing.T) {
	clock := parleytest.NewClock(time.Now().UTC())
	blobDir := t.TempDir()
	blobs, err := disk.Open(filepath.Join(blobDir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	ps := parleytest.Start(t, func(c *parleyserver.Config) {
		c.Clock = clock
		c.Media = &media.Config{Blobs: blobs, StagingDir: filepath.Join(blobDir, "uploads")}
	})
	register := func(d *device) {
		d.must("account", "register", "--server", ps.URL, "--phone", d.phone, "--name", d.name)
		d.must("account", "verify", "--code", ps.Codes.Code(d.phone))
	}
	alice := newDevice(t, "alice", "+14155550901")
	bob := newDevice(t, "bob", "+14155550902")
	carol := newDevice(t, "carol", "+14155550903")
	for _, d := range []*device{alice, bob, carol} {
		register(d)
	}
	bob2 := newDevice(t, "bob2", "")
	bob2.mustLink(&server{URL: ps.URL}, bob)
	for _, d := range []*device{bob, carol} {
		alice.must("contacts", "add", d.phone)
		d.must("contacts", "add", alice.phone)
	}

	const textMarker = "status-text-marker: the north face is dry"
	const captionMarker = "status-caption-marker: topo"
	posted := alice.must("status", "post", textMarker, "--audience", "only:"+bob.phone, "--background", "#102030", "--font", "serif").lines()
	if len(posted) != 1 || posted[0]["event"] != "status_posted" || posted[0]["audience"] != float64(1) || posted[0]["rotated"] != true {
		t.Fatalf("status post printed %v", posted)
	}
	textID := posted[0]["id"].(string)
	clock.Advance(time.Minute)

	img := image.NewNRGBA(image.Rect(0, 0, 80, 60))
	for i := range img.Pix {
		img.Pix[i] = byte(i*31 + i/7)
	}
	var png1 bytes.Buffer
	if err := png.Encode(&png1, img); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "topo.png")
	if err := os.WriteFile(file, png1.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	blobsBefore := countBlobs(t, blobDir)
	posted = alice.must("status", "post", "--file", file, captionMarker, "--audience", "only:"+bob.phone).lines()
	imageID := posted[0]["id"].(string)
	if n := countBlobs(t, blobDir) - blobsBefore; n != 1 {
		t.Fatalf("the image was stored %d times", n)
	}
	clock.Advance(time.Minute)

	// Bob, on both devices, sees both, newest first; carol sees nothing.
	for _, d := range []*device{bob, bob2} {
		l := d.must("status", "list").lines()
		if len(l) != 2 || l[0]["id"] != imageID || l[0]["kind"] != "image" || l[0]["text"] != captionMarker ||
			l[1]["id"] != textID || l[1]["text"] != textMarker || l[1]["background"] != "#102030" || l[1]["font"] != "serif" || l[1]["seen"] != false {
			t.Fatalf("%s's statuses: %v", d.name, l)
		}
	}
	if l := carol.must("status", "list").lines(); len(l) != 0 {
		t.Fatalf("carol's statuses: %v", l)
	}
	carol.mustFail(exitNotFound, "status", "viewers", textID)

	// Bob watches them, saving the image.
	saved := t.TempDir()
	v := bob.must("status", "view", alice.phone, "--save", saved).lines()
	if len(v) != 2 || v[0]["id"] != textID || v[1]["id"] != imageID || v[1]["file"] == nil {
		t.Fatalf("bob's view: %v", v)
	}
	if got, err := os.ReadFile(v[1]["file"].(string)); err != nil || !bytes.Equal(got, png1.Bytes()) {
		t.Fatalf("bob's copy of the image: %d bytes, %v", len(got), err)
	}
	viewers := alice.must("status", "viewers", imageID).lines()
	if len(viewers) != 2 || viewers[0]["event"] != "status_viewer" || viewers[0]["name"] == "" || viewers[1]["count"] != float64(1) {
		t.Fatalf("viewers: %v", viewers)
	}
	bob.mustFail(exitForbidden, "status", "viewers", imageID)

	// A private reply lands in the 1:1 chat.
	const replyMarker = "status-reply-marker: going tomorrow"
	r := bob.must("status", "reply", imageID, replyMarker).lines()
	if len(r) != 1 || r[0]["event"] != "status_replied" {
		t.Fatalf("status reply printed %v", r)
	}
	h := alice.must("history", bob.phone).lines()
	if got := texts(h); !slices.Contains(got, replyMarker) {
		t.Fatalf("alice's chat with bob: %v", got)
	}
	for _, m := range h {
		if m["text"] == replyMarker {
			q, _ := m["status_reply"].(map[string]any)
			if q["id"] != imageID || q["kind"] != "image" || q["preview"] != captionMarker {
				t.Fatalf("the reply's quote of the status: %v", m)
			}
		}
	}

	// Mute, and an early delete.
	bob.must("status", "mute", alice.phone)
	if l := bob.must("status", "list").lines(); len(l) != 0 {
		t.Fatalf("bob's list with alice muted: %v", l)
	}
	bob.must("status", "unmute", alice.phone)
	posted = alice.must("status", "post", "status-marker: gone soon", "--audience", "contacts").lines()
	goneID := posted[0]["id"].(string)
	if l := carol.must("status", "list").lines(); len(l) != 1 || l[0]["id"] != goneID {
		t.Fatalf("carol's list: %v", l)
	}
	bob.mustFail(exitForbidden, "status", "delete", goneID)
	alice.must("status", "delete", goneID)
	for _, d := range []*device{bob, carol} {
		for _, p := range d.must("status", "list").lines() {
			if p["id"] == goneID {
				t.Fatalf("%s still lists the deleted status", d.name)
			}
		}
	}

	// The server keeps ciphertext only.
	mustNotContain(t, ps.Dir, alice.phone, textMarker, captionMarker, replyMarker)
	window := png1.Bytes()[len(png1.Bytes())/2:][:64]
	filepath.WalkDir(blobDir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if data, _ := os.ReadFile(path); bytes.Contains(data, window) || bytes.Contains(data, []byte(captionMarker)) {
				t.Errorf("%s holds the image or its caption in the clear", path)
			}
		}
		return nil
	})

	// 24 hours later.
	clock.Advance(24 * time.Hour)
	for _, d := range []*device{alice, bob, bob2, carol} {
		if l := d.must("status", "list", "--muted").lines(); len(l) != 0 {
			t.Fatalf("%s's statuses after 24 h: %v", d.name, l)
		}
	}
	n, err := ps.Server.Status.Prune(t.Context())
	if err != nil || n != 2 {
		t.Fatalf("prune: %d, %v", n, err)
	}
	for _, id := range []string{textID, imageID} {
		if _, err := ps.Store.StatusPost(t.Context(), parley.StatusID(id)); !parley.IsCode(err, parley.CodeNotFound) {
			t.Fatalf("status %s is still stored: %v", id, err)
		}
	}
	if n := countBlobs(t, blobDir); n != blobsBefore {
		t.Fatalf("%d blobs after the prune, want %d", n, blobsBefore)
	}
	if r := bob.run("status", "view", alice.phone); r.code != 0 || strings.TrimSpace(r.stdout) != "" {
		t.Fatalf("bob's view after 24 h: %d %s", r.code, r.stdout)
	}
}
