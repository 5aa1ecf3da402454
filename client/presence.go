package client

import (
	"context"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/proto/parleypb"
)

// Presence asks the server whether user is online and when it was last
// seen. The server applies the user's privacy settings: a user who hides
// last seen from this one is reported offline with no LastSeen. Changes
// after the call arrive as EventPresence for users who share a chat.
// CodeNotFound when the user does not exist.
func (c *Client) Presence(ctx context.Context, user parley.UserID) (Presence, error) {
	s, err := c.session(ctx, true)
	if err != nil {
		return Presence{}, err
	}
	r, err := s.Request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_Presence{Presence: &parleypb.PresenceRequest{UserId: int64(user)}}})
	if err != nil {
		return Presence{}, err
	}
	p := r.GetPresence()
	if p == nil {
		return Presence{}, parley.Errorf(parley.CodeInternal, ReasonBadReply, "presence: the server answered %T", r.GetBody())
	}
	out := Presence{User: parley.UserID(p.GetUserId()), Online: p.GetOnline()}
	if ms := p.GetLastSeenMs(); ms != 0 {
		out.LastSeen = time.UnixMilli(ms)
	}
	return out, nil
}
