package accounts

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"image/jpeg"
	"strings"
	"unicode/utf8"

	"github.com/parleyhq/parley"
)

// Profile limits.
const (
	// MaxAboutRunes is the longest "about" line, in characters.
	MaxAboutRunes = 140
	// MaxPhotoBytes is the largest profile photo accepted. Clients scale
	// photos down before they set them (the CLI and the browser to 320
	// pixels a side, a few tens of KB).
	MaxPhotoBytes = 64 << 10
	// MaxPhotoSide is the most pixels a profile photo may have on a side.
	MaxPhotoSide = 1024
)

// SetProfile changes the user's display name and "about" line; a nil
// field is left unchanged. Names follow the registration rules; the about
// line is at most MaxAboutRunes characters of printable text ("" clears
// it).
//
// Errors: CodeInvalid "name_invalid", "about_invalid" or
// parley.ReasonNameUnsafe; CodeNotFound for an unknown user.
func (s *Service) SetProfile(ctx context.Context, user parley.UserID, name, about *string) error {
	var err error
	if name != nil {
		n, err := cleanName(*name, ReasonNameInvalid)
		if err != nil {
			return err
		}
		if n == "" {
			return parley.Errorf(parley.CodeInvalid, ReasonNameInvalid, "a name cannot be empty")
		}
		name = &n
	}
	if about != nil {
		a := strings.TrimSpace(*about)
		if err = parley.CheckName(a); err != nil {
			return err
		}
		if utf8.RuneCountInString(a) > MaxAboutRunes {
			return parley.Errorf(parley.CodeInvalid, ReasonAboutInvalid, "the about line is at most %d characters", MaxAboutRunes)
		}
		about = &a
	}
	return s.updateUser(ctx, user, func(u *parley.User) error {
		if name != nil {
			u.Name = *name
		}
		if about != nil {
			u.About = *about
		}
		return nil
	})
}

// CheckPhoto checks that photo is a profile photo the server keeps: a
// baseline or progressive JPEG of at most MaxPhotoBytes and MaxPhotoSide
// pixels a side. Only the header is decoded.
//
// Errors: CodeTooLarge "photo_too_large"; CodeInvalid "photo_invalid".
func CheckPhoto(photo []byte) error {
	if len(photo) > MaxPhotoBytes {
		return parley.Errorf(parley.CodeTooLarge, ReasonPhotoTooLarge, "a profile photo is at most %d KB", MaxPhotoBytes>>10)
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(photo))
	if err != nil {
		return parley.Errorf(parley.CodeInvalid, ReasonPhotoInvalid, "a profile photo must be a JPEG image")
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > MaxPhotoSide || cfg.Height > MaxPhotoSide {
		return parley.Errorf(parley.CodeTooLarge, ReasonPhotoTooLarge, "a profile photo is at most %d pixels a side", MaxPhotoSide)
	}
	return nil
}

// SetPhoto sets the user's profile photo (see CheckPhoto), or removes it
// when photo is empty, and returns its tag ("" once removed): a hash of
// the bytes that changes whenever the photo does, so viewers know when to
// fetch it again.
//
// Errors: those of CheckPhoto; CodeNotFound for an unknown user.
func (s *Service) SetPhoto(ctx context.Context, user parley.UserID, photo []byte) (string, error) {
	if len(photo) == 0 {
		if err := s.store.SetProfilePhoto(ctx, user, nil, ""); err != nil {
			return "", internal("remove profile photo", err)
		}
		return "", nil
	}
	if err := CheckPhoto(photo); err != nil {
		return "", err
	}
	sum := sha256.Sum256(photo)
	tag := hex.EncodeToString(sum[:12])
	if err := s.store.SetProfilePhoto(ctx, user, bytes.Clone(photo), tag); err != nil {
		return "", internal("set profile photo", err)
	}
	return tag, nil
}

// Photo returns owner's profile photo and its tag to viewer, if viewer
// may see it (MaySeePhoto). A hidden photo, a missing one and an unknown
// owner all answer CodeNotFound "photo_not_found", so the answer does not
// tell which.
func (s *Service) Photo(ctx context.Context, viewer, owner parley.UserID) ([]byte, string, error) {
	u, err := s.store.User(ctx, owner)
	if parley.IsCode(err, parley.CodeNotFound) {
		return nil, "", errPhotoNotFound()
	}
	if err != nil {
		return nil, "", internal("photo: load user", err)
	}
	ok, err := s.MaySeePhoto(ctx, viewer, u)
	if err != nil {
		return nil, "", err
	}
	if !ok || u.PhotoTag == "" {
		return nil, "", errPhotoNotFound()
	}
	photo, err := s.store.ProfilePhoto(ctx, owner)
	if parley.IsCode(err, parley.CodeNotFound) {
		return nil, "", errPhotoNotFound()
	}
	if err != nil {
		return nil, "", internal("photo", err)
	}
	return photo, u.PhotoTag, nil
}

// MaySeePhoto is the one rule of "who can see my profile photo": a user
// always sees their own; otherwise owner's Privacy.Photo decides —
// nobody: no one; contacts: users owner has added as contacts; everyone:
// anyone who is not a stranger (either has the other as a contact, or
// they share a conversation), since user IDs are not a directory. An owner
// who blocked viewer hides it from them whatever the setting.
func (s *Service) MaySeePhoto(ctx context.Context, viewer parley.UserID, owner parley.User) (bool, error) {
	if viewer == owner.ID {
		return true, nil
	}
	if owner.Privacy.Photo == parley.VisibleNobody {
		return false, nil
	}
	blocked, err := s.store.IsBlocked(ctx, owner.ID, viewer)
	if err != nil {
		return false, internal("photo: blocked", err)
	}
	if blocked {
		return false, nil
	}
	theyAdded, err := s.isContact(ctx, owner.ID, viewer, false)
	if err != nil {
		return false, err
	}
	if !audienceAdmits(owner.Privacy.Photo, theyAdded) {
		return false, nil
	}
	if theyAdded {
		return true, nil
	}
	viewerAdded, err := s.isContact(ctx, viewer, owner.ID, false)
	if err != nil || viewerAdded {
		return viewerAdded, err
	}
	return s.shareConversation(ctx, viewer, owner.ID)
}

func errPhotoNotFound() error {
	return parley.Errorf(parley.CodeNotFound, ReasonPhotoNotFound, "no profile photo")
}
