// Package profile is the client side of people's profiles: the display
// name and "about" line a user sets for themself, their profile photo
// (set, change, remove) with its privacy setting, and fetching other
// people's photos — which the server hands out only to those the owner's
// setting admits (docs/decisions/0006-profile-photos.md).
//
// The client facade (client.Client.Profiles) makes one with New.
package profile

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client/localstore"
	"github.com/parleyhq/parley/proto/parleypb"
)

// Core is the client as the profiles see it.
type Core interface {
	// Request sends a request on an authenticated session and returns the
	// reply; an Error reply is a *parley.Error.
	Request(ctx context.Context, f *parleypb.ClientFrame) (*parleypb.ServerFrame, error)
	Account() localstore.Account
	Store() localstore.Store
}

// Profile is what this user may know of someone's profile.
type Profile struct {
	User     parley.UserID
	Name     string // the name they registered with or set since
	Username string
	Phone    string // empty when they hide it from this user
	About    string
	// PhotoTag names their current photo; empty when they have none or
	// hide it from this user.
	PhotoTag string
}

// Title is how a person is shown: their name, else @username, else
// their number, else their user id.
func Title(name, username, phone string, user parley.UserID) string {
	switch {
	case name != "":
		return name
	case username != "":
		return "@" + username
	case phone != "":
		return phone
	}
	return user.String()
}

// Title is how p is shown (see the function Title).
func (p Profile) Title() string { return Title(p.Name, p.Username, p.Phone, p.User) }

// Name is how people are shown user u: their name, else @username, else
// their number, else their id, as this device knows them (Show refreshes
// it); this user by the account's name.
func (p *Profiles) Name(ctx context.Context, u parley.UserID) string {
	ct, err := p.core.Store().Contact(ctx, u)
	if a := p.core.Account(); err != nil && u == a.User {
		ct = localstore.Contact{Name: a.Name, Phone: a.Phone}
	}
	return Title(ct.Name, ct.Username, ct.Phone, u)
}

// Profiles are one client's profile operations. Photos fetched are kept in
// memory by tag, so a photo is downloaded once until it changes.
type Profiles struct {
	core Core

	mu     sync.Mutex
	photos map[parley.UserID]photo
}

type photo struct {
	tag  string
	data []byte
}

// New returns the profile operations of core.
func New(core Core) *Profiles {
	return &Profiles{core: core, photos: map[parley.UserID]photo{}}
}

// Show returns the profile of who ("+PHONE", "@username", a user id, or ""
// for this user) as the server lets this user see it, and refreshes the
// name this device keeps for them.
func (p *Profiles) Show(ctx context.Context, who string) (Profile, error) {
	req, err := query(who, p.core.Account().User)
	if err != nil {
		return Profile{}, err
	}
	f, err := p.core.Request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_Resolve{Resolve: req}})
	if err != nil {
		return Profile{}, fmt.Errorf("profile: %w", err)
	}
	u := f.GetUser()
	pr := Profile{User: parley.UserID(u.GetId()), Name: u.GetName(), Username: u.GetUsername(), Phone: u.GetPhone(),
		About: u.GetAbout(), PhotoTag: u.GetPhotoTag()}
	if pr.User != p.core.Account().User {
		st := p.core.Store()
		if ct, err := st.Contact(ctx, pr.User); err == nil && (ct.Name != pr.Name || ct.Username != pr.Username) {
			ct.Name, ct.Username = pr.Name, pr.Username
			if err := st.PutContact(ctx, ct); err != nil {
				return pr, localstore.Failed(err)
			}
		}
	}
	return pr, nil
}

// query is the ResolveRequest for who (see Show).
func query(who string, self parley.UserID) (*parleypb.ResolveRequest, error) {
	who = strings.TrimSpace(who)
	switch {
	case who == "":
		return &parleypb.ResolveRequest{Who: &parleypb.ResolveRequest_UserId{UserId: int64(self)}}, nil
	case strings.HasPrefix(who, "@"):
		return &parleypb.ResolveRequest{Who: &parleypb.ResolveRequest_Username{Username: who[1:]}}, nil
	case strings.HasPrefix(who, "+") || strings.HasPrefix(who, "00"):
		return &parleypb.ResolveRequest{Who: &parleypb.ResolveRequest_Phone{Phone: who}}, nil
	}
	id, err := strconv.ParseInt(strings.TrimPrefix(who, "u"), 10, 64)
	if err != nil || id <= 0 {
		return nil, parley.Errorf(parley.CodeInvalid, ReasonBadPerson, "%q: want +PHONE, @username or a user id", who)
	}
	return &parleypb.ResolveRequest{Who: &parleypb.ResolveRequest_UserId{UserId: id}}, nil
}

// SetName changes this user's display name (1 to 64 characters).
func (p *Profiles) SetName(ctx context.Context, name string) error {
	return p.set(ctx, &parleypb.SetProfileRequest{Name: &name})
}

// SetAbout changes this user's "about" line ("" clears it).
func (p *Profiles) SetAbout(ctx context.Context, about string) error {
	return p.set(ctx, &parleypb.SetProfileRequest{About: &about})
}

func (p *Profiles) set(ctx context.Context, r *parleypb.SetProfileRequest) error {
	_, err := p.core.Request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_SetProfile{SetProfile: r}})
	if err != nil {
		return fmt.Errorf("set profile: %w", err)
	}
	return nil
}

// SetPhoto sets this user's profile photo, a JPEG (PhotoFromImage makes
// one from any image), and returns its tag.
func (p *Profiles) SetPhoto(ctx context.Context, jpeg []byte) (string, error) {
	if len(jpeg) == 0 {
		return "", parley.Errorf(parley.CodeInvalid, ReasonEmptyPhoto, "the photo is empty (remove it with RemovePhoto)")
	}
	return p.putPhoto(ctx, jpeg)
}

// RemovePhoto removes this user's profile photo.
func (p *Profiles) RemovePhoto(ctx context.Context) error {
	_, err := p.putPhoto(ctx, nil)
	return err
}

func (p *Profiles) putPhoto(ctx context.Context, jpeg []byte) (string, error) {
	f, err := p.core.Request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_SetProfilePhoto{SetProfilePhoto: &parleypb.SetProfilePhotoRequest{Photo: jpeg}}})
	if err != nil {
		return "", fmt.Errorf("set profile photo: %w", err)
	}
	tag := f.GetProfilePhoto().GetTag()
	p.mu.Lock()
	p.photos[p.core.Account().User] = photo{tag: tag, data: jpeg}
	p.mu.Unlock()
	return tag, nil
}

// SetPhotoPrivacy sets who may see this user's profile photo: everyone
// (who is not a stranger: a contact either way or someone sharing a chat),
// contacts (users this user has added) or nobody.
func (p *Profiles) SetPhotoPrivacy(ctx context.Context, v parley.Visibility) error {
	if v == "" || !v.Valid() {
		return parley.Errorf(parley.CodeInvalid, ReasonBadVisibility, `who can see the photo: "everyone", "contacts" or "nobody"`)
	}
	_, err := p.core.Request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_SetPrivacy{SetPrivacy: &parleypb.SetPrivacyRequest{Photo: string(v)}}})
	if err != nil {
		return fmt.Errorf("set photo privacy: %w", err)
	}
	return nil
}

// Photo returns user's profile photo (a JPEG) and its tag. A photo that is
// missing or hidden from this user is CodeNotFound "photo_not_found". When
// knownTag is the tag of the photo already fetched, the copy in memory is
// returned without a request.
func (p *Profiles) Photo(ctx context.Context, user parley.UserID, knownTag string) ([]byte, string, error) {
	p.mu.Lock()
	got, ok := p.photos[user]
	p.mu.Unlock()
	if ok && knownTag != "" && got.tag == knownTag && got.data != nil {
		return got.data, got.tag, nil
	}
	f, err := p.core.Request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_ProfilePhoto{ProfilePhoto: &parleypb.ProfilePhotoRequest{UserId: int64(user)}}})
	if err != nil {
		return nil, "", fmt.Errorf("profile photo: %w", err)
	}
	ph := f.GetProfilePhoto()
	p.mu.Lock()
	p.photos[user] = photo{tag: ph.GetTag(), data: ph.GetPhoto()}
	p.mu.Unlock()
	return ph.GetPhoto(), ph.GetTag(), nil
}
