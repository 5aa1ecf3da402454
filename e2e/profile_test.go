package e2e

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestProfileCLI: `parley profile` sets a name, an about line and a photo
// (a PNG scaled to a small JPEG), and who may see the photo; another user
// sees them as the server allows, and nothing once the photo is hidden or
// removed.
func TestProfileCLI(t *testing.T) {
	s := mustServe(t)
	alice := newDevice(t, "alice", "+14155550901")
	bob := newDevice(t, "bob", "+14155550902")
	alice.mustRegister(s, "alice")
	bob.mustRegister(s, "bob")
	alice.must("contacts", "add", bob.phone)

	alice.must("profile", "name", "Alice", "Liddell")
	alice.must("profile", "about", "Down the rabbit hole")
	img := image.NewRGBA(image.Rect(0, 0, 900, 600))
	for x := range 900 {
		img.Set(x, x%600, color.RGBA{255, 0, 0, 255})
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "me.png")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	set := alice.must("profile", "photo", path).lines()
	if len(set) != 1 || set[0]["event"] != "profile_photo" || set[0]["tag"] == "" {
		t.Fatalf("profile photo printed %v", set)
	}

	show := func() map[string]any {
		t.Helper()
		ls := bob.must("profile", "show", alice.phone).lines()
		if len(ls) != 1 || ls[0]["event"] != "profile" {
			t.Fatalf("profile show printed %v", ls)
		}
		return ls[0]
	}
	p := show()
	if p["name"] != "Alice Liddell" || p["title"] != "Alice Liddell" || p["about"] != "Down the rabbit hole" || p["photo_tag"] != set[0]["tag"] {
		t.Fatalf("bob sees %v", p)
	}
	alice.must("profile", "photo", "--who", "nobody")
	if p := show(); p["photo_tag"] != "" {
		t.Fatalf("a photo for nobody is shown to bob: %v", p)
	}
	alice.must("profile", "photo", "--who", "contacts")
	if p := show(); p["photo_tag"] != set[0]["tag"] {
		t.Fatalf("bob is alice's contact but is not shown her photo: %v", p)
	}
	alice.must("profile", "photo", "--remove")
	if p := show(); p["photo_tag"] != "" {
		t.Fatalf("a removed photo is shown: %v", p)
	}
	r := alice.mustFail(exitInvalid, "profile", "photo", filepath.Join("..", "go.mod"))
	if !strings.Contains(r.stderr, "not_an_image") {
		t.Fatalf("a text file as a photo: %s", r.stderr)
	}
}
