package client_test

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/accounts"
	"github.com/parleyhq/parley/client/profile"
)

// mustPNG is a w×h PNG of one colour.
func mustPNG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		for y := range h {
			img.Set(x, y, color.RGBA{200, 80, byte(x), 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// The server hands a profile photo only to those the owner's "who can see
// my photo" setting admits: a contact, someone sharing a chat, never a
// stranger, and no one but the owner under "nobody".
func TestProfilePhotoPrivacyEnforcedByServer(t *testing.T) {
	ts := mustServer(t)
	ctx := ctxT(t)
	alice := mustRegister(t, ts, phone(1), "Alice")
	bob := mustRegister(t, ts, phone(2), "Bob")     // alice adds bob as a contact
	carol := mustRegister(t, ts, phone(3), "Carol") // shares a chat with alice, not a contact
	dave := mustRegister(t, ts, phone(4), "Dave")   // a stranger who knows alice's id
	if _, err := alice.AddContact(ctx, bob.phone); err != nil {
		t.Fatal(err)
	}
	if _, err := carol.SendText(ctx, alice.phone, "hi alice", 0); err != nil {
		t.Fatal(err)
	}
	mustEvent(t, alice.Client, "carol's message", isMessage("hi alice"))

	photo, err := profile.PhotoFromImage(bytes.NewReader(mustPNG(t, 640, 480)))
	if err != nil {
		t.Fatal(err)
	}
	tag, err := alice.Profiles.SetPhoto(ctx, photo)
	if err != nil || tag == "" {
		t.Fatalf("set photo: tag %q, %v", tag, err)
	}
	me := alice.Account().User
	sees := func(who *user) bool {
		t.Helper()
		got, gotTag, err := who.Profiles.Photo(ctx, me, "")
		switch {
		case err == nil:
			if !bytes.Equal(got, photo) || gotTag != tag {
				t.Fatalf("%s got another photo (tag %q)", who.phone, gotTag)
			}
			return true
		case parley.ErrorReason(err) == accounts.ReasonPhotoNotFound:
			return false
		}
		t.Fatalf("photo for %s: %v", who.phone, err)
		return false
	}
	tagFor := func(who *user) string {
		t.Helper()
		p, err := who.Profiles.Show(ctx, alice.phone)
		if err != nil {
			t.Fatal(err)
		}
		return p.PhotoTag
	}

	for _, c := range []struct {
		setting                       parley.Visibility
		self, contact, chat, stranger bool
	}{
		{parley.VisibleEveryone, true, true, true, false},
		{parley.VisibleContacts, true, true, false, false},
		{parley.VisibleNobody, true, false, false, false},
	} {
		if err := alice.Profiles.SetPhotoPrivacy(ctx, c.setting); err != nil {
			t.Fatal(err)
		}
		for _, w := range []struct {
			who  *user
			want bool
		}{{alice, c.self}, {bob, c.contact}, {carol, c.chat}, {dave, c.stranger}} {
			if got := sees(w.who); got != w.want {
				t.Errorf("%s: %s sees the photo = %v, want %v", c.setting, w.who.phone, got, w.want)
			}
			if w.who != dave { // dave cannot resolve alice by id; by phone he could, but not her photo
				if got := tagFor(w.who) != ""; got != w.want {
					t.Errorf("%s: %s is told the photo tag = %v, want %v", c.setting, w.who.phone, got, w.want)
				}
			}
		}
	}

	// A block hides it from a contact; removing it hides it from everyone.
	if err := alice.Profiles.SetPhotoPrivacy(ctx, parley.VisibleEveryone); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.Block(ctx, bob.phone); err != nil {
		t.Fatal(err)
	}
	if sees(bob) {
		t.Error("a blocked contact sees the photo")
	}
	if err := alice.Profiles.RemovePhoto(ctx); err != nil {
		t.Fatal(err)
	}
	if sees(carol) || sees(alice) {
		t.Error("a removed photo is still served")
	}
}

// Name and about are set by their owner and shown to others; the server
// refuses what breaks the rules.
func TestProfileNameAboutAndRefusals(t *testing.T) {
	ts := mustServer(t)
	ctx := ctxT(t)
	alice := mustRegister(t, ts, phone(1), "Alice")
	bob := mustRegister(t, ts, phone(2), "Bob")
	if err := alice.Profiles.SetName(ctx, "Alice Liddell"); err != nil {
		t.Fatal(err)
	}
	if err := alice.Profiles.SetAbout(ctx, "Down the rabbit hole"); err != nil {
		t.Fatal(err)
	}
	p, err := bob.Profiles.Show(ctx, alice.phone)
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "Alice Liddell" || p.About != "Down the rabbit hole" || p.Title() != "Alice Liddell" {
		t.Fatalf("bob sees %+v", p)
	}
	self, err := alice.Profiles.Show(ctx, "")
	if err != nil || self.Name != "Alice Liddell" {
		t.Fatalf("alice sees herself as %+v, %v", self, err)
	}

	long := string(bytes.Repeat([]byte("a"), accounts.MaxAboutRunes+1))
	for _, c := range []struct {
		name   string
		err    error
		reason string
	}{
		{"about too long", alice.Profiles.SetAbout(ctx, long), accounts.ReasonAboutInvalid},
		{"empty name", alice.Profiles.SetName(ctx, "  "), accounts.ReasonNameInvalid},
		{"not a jpeg", func() error { _, err := alice.Profiles.SetPhoto(ctx, mustPNG(t, 8, 8)); return err }(), accounts.ReasonPhotoInvalid},
		{"too many pixels", func() error {
			var b bytes.Buffer
			if err := jpeg.Encode(&b, image.NewGray(image.Rect(0, 0, accounts.MaxPhotoSide+1, 4)), nil); err != nil {
				t.Fatal(err)
			}
			_, err := alice.Profiles.SetPhoto(ctx, b.Bytes())
			return err
		}(), accounts.ReasonPhotoTooLarge},
	} {
		if parley.ErrorReason(c.err) != c.reason {
			t.Errorf("%s: %v, want reason %s", c.name, c.err, c.reason)
		}
	}
}
