package groups

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/proto/parleypb"
)

func linkFrom(l *parleypb.GroupLink) InviteLink {
	out := InviteLink{ID: l.GetId(), Group: parley.ConversationID(l.GetConversationId()), CreatedBy: parley.UserID(l.GetCreatedBy()),
		CreatedAt: time.UnixMilli(l.GetCreatedMs()), MaxUses: int(l.GetMaxUses()), Uses: int(l.GetUses()), Approve: l.GetApprove(), Revoked: l.GetRevoked()}
	if l.GetExpiresMs() != 0 {
		out.ExpiresAt = time.UnixMilli(l.GetExpiresMs())
	}
	if l.GetToken() != "" {
		out.Link = LinkPrefix + l.GetToken()
	}
	return out
}

// CreateInviteLink creates an invite link to a group (admins only).
func (a *Access) CreateInviteLink(ctx context.Context, ref string, o LinkOptions) (InviteLink, error) {
	if o.ExpiresIn < 0 || o.MaxUses < 0 || o.ExpiresIn > 0 && o.ExpiresIn < time.Second {
		return InviteLink{}, parley.Errorf(parley.CodeInvalid, parley.ReasonInviteLimits, "expiry must be at least a second and the use limit not negative")
	}
	g, err := a.core.Group(ctx, ref)
	if err != nil {
		return InviteLink{}, err
	}
	f, err := a.core.RequestOnce(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_GroupLinkCreate{GroupLinkCreate: &parleypb.GroupLinkCreateRequest{
		ConversationId: string(g.ID), ExpiresInSeconds: uint32(o.ExpiresIn / time.Second), MaxUses: uint32(o.MaxUses), Approve: o.Approve}}})
	if err != nil {
		return InviteLink{}, errorf("create invite link", err)
	}
	return linkFrom(f.GetGroupLink()), nil
}

// InviteLinks lists a group's invite links (admins only), without tokens.
func (a *Access) InviteLinks(ctx context.Context, ref string) ([]InviteLink, error) {
	g, err := a.core.Group(ctx, ref)
	if err != nil {
		return nil, err
	}
	f, err := a.core.Request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_GroupLinks{GroupLinks: &parleypb.GroupLinksRequest{ConversationId: string(g.ID)}}})
	if err != nil {
		return nil, errorf("invite links", err)
	}
	var out []InviteLink
	for _, l := range f.GetGroupLinkList().GetLinks() {
		out = append(out, linkFrom(l))
	}
	return out, nil
}

// RevokeInviteLink revokes a link (admins only), given by its ID or the
// link itself.
func (a *Access) RevokeInviteLink(ctx context.Context, ref, link string) error {
	g, err := a.core.Group(ctx, ref)
	if err != nil {
		return err
	}
	id := link
	if tok, ok := strings.CutPrefix(strings.TrimSpace(link), LinkPrefix); ok {
		id = linkIDOf(tok)
	}
	_, err = a.core.Request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_GroupLinkRevoke{GroupLinkRevoke: &parleypb.GroupLinkRevokeRequest{
		ConversationId: string(g.ID), LinkId: id}}})
	return errorf("revoke invite link", err)
}

// JoinByLink uses an invite link. Without approval this user joins at once
// by an MLS external commit from the group's GroupInfo (no admin needs to be
// online); with approval it asks to join (Pending) and, once an admin
// approved, a second JoinByLink (or AcceptGroupInvitation) joins.
func (a *Access) JoinByLink(ctx context.Context, link string) (JoinResult, error) {
	tok := strings.TrimPrefix(strings.TrimSpace(link), LinkPrefix)
	if tok == "" {
		return JoinResult{}, parley.Errorf(parley.CodeInvalid, ReasonInviteLink, "not an invite link")
	}
	f, err := a.core.Request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_GroupLinkRedeem{GroupLinkRedeem: &parleypb.GroupLinkRedeemRequest{Token: tok}}})
	if err != nil {
		return JoinResult{}, errorf("join by link", err)
	}
	r := f.GetGroupLinkRedeemed()
	id := parley.ConversationID(r.GetConversationId())
	if r.GetPending() {
		return JoinResult{Group: Group{ID: id, Name: r.GetName()}, Pending: true}, nil
	}
	g, err := a.core.AcceptGroupInvitation(ctx, string(id))
	if err != nil {
		return JoinResult{}, err
	}
	return JoinResult{Group: g}, nil
}

// JoinRequests lists a group's pending join requests (admins only).
func (a *Access) JoinRequests(ctx context.Context, ref string) ([]JoinRequest, error) {
	g, err := a.core.Group(ctx, ref)
	if err != nil {
		return nil, err
	}
	f, err := a.core.Request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_GroupJoinRequests{GroupJoinRequests: &parleypb.GroupJoinRequestsRequest{ConversationId: string(g.ID)}}})
	if err != nil {
		return nil, errorf("join requests", err)
	}
	var out []JoinRequest
	for _, r := range f.GetGroupJoinRequestList().GetRequests() {
		out = append(out, JoinRequest{User: parley.UserID(r.GetUserId()), At: time.UnixMilli(r.GetCreatedMs())})
	}
	return out, nil
}

// DecideJoinRequest approves or rejects a join request (admins only). An
// approved user is invited and joins by JoinByLink or AcceptGroupInvitation.
func (a *Access) DecideJoinRequest(ctx context.Context, ref string, user parley.UserID, approve bool) error {
	g, err := a.core.Group(ctx, ref)
	if err != nil {
		return err
	}
	_, err = a.core.Request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_GroupJoinDecide{GroupJoinDecide: &parleypb.GroupJoinDecideRequest{
		ConversationId: string(g.ID), UserId: int64(user), Approve: approve}}})
	return errorf("decide join request", err)
}

// linkIDOf is the public ID of the link with this token, as the server
// computes it (groups.LinkID of groups.TokenHash).
func linkIDOf(token string) string {
	h := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(token))))
	return hex.EncodeToString(h[:8])
}
