package bridge

import (
	"context"
	"encoding/base64"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client/profile"
)

// Profile is api.ts Profile.
type Profile struct {
	User     int64  `json:"user"`
	Name     string `json:"name"`
	Username string `json:"username,omitempty"`
	Phone    string `json:"phone,omitempty"`
	About    string `json:"about"`
	PhotoTag string `json:"photoTag"`
	Title    string `json:"title"`
}

// ProfileOf shapes a profile.
func ProfileOf(p profile.Profile) Profile {
	return Profile{User: int64(p.User), Name: p.Name, Username: p.Username, Phone: p.Phone, About: p.About, PhotoTag: p.PhotoTag, Title: p.Title()}
}

// withNames titles direct chats with the other person's name (else
// @username or number), as this device knows them.
func (api *API) withNames(ctx context.Context, cs ...*Chat) {
	self := int64(api.C.Account().User)
	for _, c := range cs {
		if c.Kind == string(parley.KindDirect) && c.Peer != 0 && c.Peer != self {
			c.Title = api.C.Profiles.Name(ctx, parley.UserID(c.Peer))
		}
	}
}

// profileMethods are the calls of profiles (package client/profile).
var profileMethods = map[string]handler{
	"profile": str1("who", func(ctx context.Context, api *API, who string) (any, error) {
		p, err := api.C.Profiles.Show(ctx, who)
		if err != nil {
			return nil, err
		}
		return ProfileOf(p), nil
	}),
	"setProfileName": str1("name", func(ctx context.Context, api *API, name string) (any, error) {
		return none(api.C.Profiles.SetName(ctx, name))
	}),
	"setAbout": str1("about", func(ctx context.Context, api *API, about string) (any, error) {
		return none(api.C.Profiles.SetAbout(ctx, about))
	}),
	// setProfilePhoto takes the JPEG (the page scales it with a canvas)
	// as base64 and returns the photo's tag.
	"setProfilePhoto": str1("jpeg", func(ctx context.Context, api *API, b64 string) (any, error) {
		jpeg, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return nil, parley.Errorf(parley.CodeInvalid, ReasonBadArgument, "the photo is not base64: %v", err)
		}
		return api.C.Profiles.SetPhoto(ctx, jpeg)
	}),
	"removeProfilePhoto": func(ctx context.Context, api *API, a Args) (any, error) {
		return none(api.C.Profiles.RemovePhoto(ctx))
	},
	"setPhotoPrivacy": str1("who", func(ctx context.Context, api *API, who string) (any, error) {
		return none(api.C.Profiles.SetPhotoPrivacy(ctx, parley.Visibility(who)))
	}),
	// profilePhoto is a user's photo as a data: URL, or null when they
	// have none or hide it from this user.
	"profilePhoto": func(ctx context.Context, api *API, a Args) (any, error) {
		var user int64
		if err := a.Decode(0, "user", &user); err != nil {
			return nil, err
		}
		tag, err := a.Str(1, "tag")
		if err != nil {
			return nil, err
		}
		jpeg, _, err := api.C.Profiles.Photo(ctx, parley.UserID(user), tag)
		if parley.ErrorReason(err) == profile.ReasonPhotoNotFound {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return "data:image/jpeg;base64," + base64.StdEncoding.EncodeToString(jpeg), nil
	},
}
