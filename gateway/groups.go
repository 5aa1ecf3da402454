package gateway

import (
	"context"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/delivery"
	"github.com/parleyhq/parley/groups"
	"github.com/parleyhq/parley/proto/parleypb"
)

// Groups is what the gateway needs of the group service (*groups.Service
// implements it); Services.Groups hands it over.
type Groups interface {
	Get(ctx context.Context, user parley.UserID, id parley.ConversationID) (groups.Info, error)
	List(ctx context.Context, user parley.UserID) ([]groups.Info, error)
	Update(ctx context.Context, dev parley.Device, id parley.ConversationID, u groups.Update) error
	SetRole(ctx context.Context, dev parley.Device, id parley.ConversationID, user parley.UserID, admin bool) error
	Leave(ctx context.Context, dev parley.Device, id parley.ConversationID) error
	CheckAdd(ctx context.Context, adder parley.UserID, users []parley.UserID) ([]parley.UserID, error)
	Invite(ctx context.Context, dev parley.Device, id parley.ConversationID, user parley.UserID) error
	Invitations(ctx context.Context, user parley.UserID) ([]groups.Invitation, error)
	Decline(ctx context.Context, user parley.UserID, id parley.ConversationID) error
	SetAddPrivacy(ctx context.Context, user parley.UserID, v parley.Visibility) error
	UserDevices(ctx context.Context, viewer, user parley.UserID) ([]parley.Device, error)
	CreateLink(ctx context.Context, dev parley.Device, id parley.ConversationID, o groups.LinkOptions) (string, parley.GroupInviteLink, error)
	Links(ctx context.Context, dev parley.Device, id parley.ConversationID) ([]parley.GroupInviteLink, error)
	RevokeLink(ctx context.Context, dev parley.Device, id parley.ConversationID, linkID string) error
	Redeem(ctx context.Context, dev parley.Device, token string) (groups.Redeemed, error)
	JoinRequests(ctx context.Context, dev parley.Device, id parley.ConversationID) ([]parley.GroupJoinRequest, error)
	DecideJoinRequest(ctx context.Context, dev parley.Device, id parley.ConversationID, user parley.UserID, approve bool) error
	SetTimer(ctx context.Context, dev parley.Device, id parley.ConversationID, ttl time.Duration) error
	Timer(ctx context.Context, dev parley.Device, id parley.ConversationID) (time.Duration, error)
	AttachGroup(ctx context.Context, dev parley.Device, community, id parley.ConversationID) error
	DetachGroup(ctx context.Context, dev parley.Device, community, id parley.ConversationID) error
	CommunityGroups(ctx context.Context, user parley.UserID, community parley.ConversationID) ([]groups.CommunityGroup, error)
	RequestJoin(ctx context.Context, dev parley.Device, id parley.ConversationID) error
}

// groupRequest handles the group frames (docs/groups.md); any other frame
// is an unknown request.
func (s *session) groupRequest(ctx context.Context, f *parleypb.ClientFrame) (*parleypb.ServerFrame, error) {
	unknown := parley.Errorf(parley.CodeInvalid, ReasonUnknownRequest, "unknown request")
	svc := s.g.groups
	ok := svc != nil
	switch f.Body.(type) {
	case *parleypb.ClientFrame_GroupCreate, *parleypb.ClientFrame_GroupGet, *parleypb.ClientFrame_GroupList,
		*parleypb.ClientFrame_GroupUpdate, *parleypb.ClientFrame_GroupRole, *parleypb.ClientFrame_GroupLeave,
		*parleypb.ClientFrame_GroupCheckAdd, *parleypb.ClientFrame_GroupInvite, *parleypb.ClientFrame_GroupInvitations,
		*parleypb.ClientFrame_GroupDecline, *parleypb.ClientFrame_GroupPrivacy, *parleypb.ClientFrame_GroupUserKeys,
		*parleypb.ClientFrame_GroupLinkCreate, *parleypb.ClientFrame_GroupLinks, *parleypb.ClientFrame_GroupLinkRevoke,
		*parleypb.ClientFrame_GroupLinkRedeem, *parleypb.ClientFrame_GroupJoinRequests, *parleypb.ClientFrame_GroupJoinDecide,
		*parleypb.ClientFrame_ChatTimer, *parleypb.ClientFrame_CommunityGroup, *parleypb.ClientFrame_CommunityGroups,
		*parleypb.ClientFrame_GroupJoinAsk:
		if !ok {
			return nil, parley.Errorf(parley.CodeUnavailable, ReasonGroupsDisabled, "this server does not host groups")
		}
	default:
		if out, handled, err := s.businessRequest(ctx, f); handled { // business.go
			return out, err
		}
		if out, handled, err := s.callRequest(ctx, f); handled { // calls.go
			return out, err
		}
		return nil, unknown
	}
	dev := s.dev
	ok1 := okFrame()
	switch b := f.Body.(type) {
	case *parleypb.ClientFrame_GroupCreate:
		r := b.GroupCreate
		cr := r.GetConversation()
		a, err := s.g.del.CreateConversation(ctx, dev, delivery.CreateParams{
			ID: parley.ConversationID(cr.GetConversationId()), Kind: parley.KindGroup,
			Members: memberRefs(cr.GetMembers()), Welcome: cr.GetWelcome(), GroupInfo: cr.GetGroupInfo(),
			ClientID: parley.ClientMessageID(cr.GetClientId()),
			Group: &parley.Group{Name: r.GetName(), Description: r.GetDescription(), Icon: r.GetIcon(),
				Settings:  parley.GroupSettings{OnlyAdminsSend: r.GetOnlyAdminsSend(), OnlyAdminsEditInfo: r.GetOnlyAdminsEditInfo()},
				Community: parley.ConversationID(r.GetCommunityId())},
		})
		return appendedFrame(a), err
	case *parleypb.ClientFrame_GroupGet:
		info, err := svc.Get(ctx, dev.User, parley.ConversationID(b.GroupGet.GetConversationId()))
		if err != nil {
			return nil, err
		}
		return &parleypb.ServerFrame{Body: &parleypb.ServerFrame_Group{Group: groupDetails(info)}}, nil
	case *parleypb.ClientFrame_GroupList:
		list, err := svc.List(ctx, dev.User)
		if err != nil {
			return nil, err
		}
		resp := &parleypb.GroupList{}
		for _, info := range list {
			resp.Groups = append(resp.Groups, groupDetails(info))
		}
		return &parleypb.ServerFrame{Body: &parleypb.ServerFrame_Groups{Groups: resp}}, nil
	case *parleypb.ClientFrame_GroupUpdate:
		r := b.GroupUpdate
		return ok1, svc.Update(ctx, dev, parley.ConversationID(r.GetConversationId()), groups.Update{
			Name: r.Name, Description: r.Description, Icon: r.Icon,
			OnlyAdminsSend: r.OnlyAdminsSend, OnlyAdminsEditInfo: r.OnlyAdminsEditInfo, JoinApproval: r.JoinApproval,
		})
	case *parleypb.ClientFrame_GroupRole:
		r := b.GroupRole
		return ok1, svc.SetRole(ctx, dev, parley.ConversationID(r.GetConversationId()), parley.UserID(r.GetUserId()), r.GetAdmin())
	case *parleypb.ClientFrame_GroupLeave:
		return ok1, svc.Leave(ctx, dev, parley.ConversationID(b.GroupLeave.GetConversationId()))
	case *parleypb.ClientFrame_GroupCheckAdd:
		users := make([]parley.UserID, 0, len(b.GroupCheckAdd.GetUserIds()))
		for _, u := range b.GroupCheckAdd.GetUserIds() {
			users = append(users, parley.UserID(u))
		}
		invite, err := svc.CheckAdd(ctx, dev.User, users)
		resp := &parleypb.GroupCheckAddResponse{}
		for _, u := range invite {
			resp.InviteUserIds = append(resp.InviteUserIds, int64(u))
		}
		return &parleypb.ServerFrame{Body: &parleypb.ServerFrame_GroupCheckAdd{GroupCheckAdd: resp}}, err
	case *parleypb.ClientFrame_GroupInvite:
		r := b.GroupInvite
		return ok1, svc.Invite(ctx, dev, parley.ConversationID(r.GetConversationId()), parley.UserID(r.GetUserId()))
	case *parleypb.ClientFrame_GroupInvitations:
		invs, err := svc.Invitations(ctx, dev.User)
		resp := &parleypb.GroupInvitationList{}
		for _, inv := range invs {
			resp.Invitations = append(resp.Invitations, &parleypb.GroupInvitationInfo{
				ConversationId: string(inv.Group), Name: inv.Name, InvitedBy: int64(inv.InvitedBy), CreatedMs: inv.CreatedAt.UnixMilli(),
			})
		}
		return &parleypb.ServerFrame{Body: &parleypb.ServerFrame_GroupInvitations{GroupInvitations: resp}}, err
	case *parleypb.ClientFrame_GroupDecline:
		return ok1, svc.Decline(ctx, dev.User, parley.ConversationID(b.GroupDecline.GetConversationId()))
	case *parleypb.ClientFrame_GroupPrivacy:
		return ok1, svc.SetAddPrivacy(ctx, dev.User, parley.Visibility(b.GroupPrivacy.GetAddMe()))
	case *parleypb.ClientFrame_GroupUserKeys:
		devices, err := svc.UserDevices(ctx, dev.User, parley.UserID(b.GroupUserKeys.GetUserId()))
		list := &parleypb.DeviceList{}
		for _, d := range devices {
			list.Devices = append(list.Devices, deviceInfo(d))
		}
		return &parleypb.ServerFrame{Body: &parleypb.ServerFrame_Devices{Devices: list}}, err
	case *parleypb.ClientFrame_GroupLinkCreate:
		r := b.GroupLinkCreate
		token, l, err := svc.CreateLink(ctx, dev, parley.ConversationID(r.GetConversationId()), groups.LinkOptions{
			ExpiresIn: time.Duration(r.GetExpiresInSeconds()) * time.Second, MaxUses: int(r.GetMaxUses()), Approve: r.GetApprove()})
		if err != nil {
			return nil, err
		}
		pl := linkProto(l)
		pl.Token = token
		return &parleypb.ServerFrame{Body: &parleypb.ServerFrame_GroupLink{GroupLink: pl}}, nil
	case *parleypb.ClientFrame_GroupLinks:
		links, err := svc.Links(ctx, dev, parley.ConversationID(b.GroupLinks.GetConversationId()))
		resp := &parleypb.GroupLinkList{}
		for _, l := range links {
			resp.Links = append(resp.Links, linkProto(l))
		}
		return &parleypb.ServerFrame{Body: &parleypb.ServerFrame_GroupLinkList{GroupLinkList: resp}}, err
	case *parleypb.ClientFrame_GroupLinkRevoke:
		r := b.GroupLinkRevoke
		return ok1, svc.RevokeLink(ctx, dev, parley.ConversationID(r.GetConversationId()), r.GetLinkId())
	case *parleypb.ClientFrame_GroupLinkRedeem:
		red, err := svc.Redeem(ctx, dev, b.GroupLinkRedeem.GetToken())
		return &parleypb.ServerFrame{Body: &parleypb.ServerFrame_GroupLinkRedeemed{GroupLinkRedeemed: &parleypb.GroupLinkRedeemed{
			ConversationId: string(red.Group), Name: red.Name, Pending: red.Pending}}}, err
	case *parleypb.ClientFrame_GroupJoinRequests:
		reqs, err := svc.JoinRequests(ctx, dev, parley.ConversationID(b.GroupJoinRequests.GetConversationId()))
		resp := &parleypb.GroupJoinRequestList{}
		for _, r := range reqs {
			resp.Requests = append(resp.Requests, &parleypb.GroupJoinRequestInfo{UserId: int64(r.User), CreatedMs: r.CreatedAt.UnixMilli()})
		}
		return &parleypb.ServerFrame{Body: &parleypb.ServerFrame_GroupJoinRequestList{GroupJoinRequestList: resp}}, err
	case *parleypb.ClientFrame_GroupJoinDecide:
		r := b.GroupJoinDecide
		return ok1, svc.DecideJoinRequest(ctx, dev, parley.ConversationID(r.GetConversationId()), parley.UserID(r.GetUserId()), r.GetApprove())
	case *parleypb.ClientFrame_ChatTimer:
		r := b.ChatTimer
		id := parley.ConversationID(r.GetConversationId())
		if r.Seconds != nil {
			if err := svc.SetTimer(ctx, dev, id, time.Duration(r.GetSeconds())*time.Second); err != nil {
				return nil, err
			}
		}
		ttl, err := svc.Timer(ctx, dev, id)
		return &parleypb.ServerFrame{Body: &parleypb.ServerFrame_ChatTimer{ChatTimer: &parleypb.ChatTimer{
			ConversationId: string(id), Seconds: uint32(ttl / time.Second)}}}, err
	case *parleypb.ClientFrame_CommunityGroup:
		r := b.CommunityGroup
		community, gid := parley.ConversationID(r.GetCommunityId()), parley.ConversationID(r.GetGroupId())
		if r.GetRemove() {
			return ok1, svc.DetachGroup(ctx, dev, community, gid)
		}
		return ok1, svc.AttachGroup(ctx, dev, community, gid)
	case *parleypb.ClientFrame_CommunityGroups:
		list, err := svc.CommunityGroups(ctx, dev.User, parley.ConversationID(b.CommunityGroups.GetCommunityId()))
		resp := &parleypb.CommunityGroupList{}
		for _, cg := range list {
			resp.Groups = append(resp.Groups, &parleypb.CommunityGroupInfo{GroupId: string(cg.Group.ID), Name: cg.Group.Name,
				Description: cg.Group.Description, Members: uint32(cg.Members), Member: cg.Member,
				JoinApproval: cg.Group.Settings.JoinApproval, Pending: cg.Pending})
		}
		return &parleypb.ServerFrame{Body: &parleypb.ServerFrame_CommunityGroupList{CommunityGroupList: resp}}, err
	case *parleypb.ClientFrame_GroupJoinAsk:
		return ok1, svc.RequestJoin(ctx, dev, parley.ConversationID(b.GroupJoinAsk.GetGroupId()))
	}
	return nil, unknown
}

func linkProto(l parley.GroupInviteLink) *parleypb.GroupLink {
	pl := &parleypb.GroupLink{Id: l.ID, ConversationId: string(l.Group), CreatedBy: int64(l.CreatedBy), CreatedMs: l.CreatedAt.UnixMilli(),
		MaxUses: uint32(l.MaxUses), Uses: uint32(l.Uses), Approve: l.Approve, Revoked: l.Revoked}
	if !l.ExpiresAt.IsZero() {
		pl.ExpiresMs = l.ExpiresAt.UnixMilli()
	}
	return pl
}

func groupDetails(info groups.Info) *parleypb.GroupDetails {
	g := info.Group
	d := &parleypb.GroupDetails{
		ConversationId: string(g.ID), Name: g.Name, Description: g.Description, Icon: g.Icon,
		OnlyAdminsSend: g.Settings.OnlyAdminsSend, OnlyAdminsEditInfo: g.Settings.OnlyAdminsEditInfo,
		CreatedBy: int64(g.CreatedBy), CreatedMs: g.CreatedAt.UnixMilli(), CommunityId: string(g.Community),
		JoinApproval: g.Settings.JoinApproval,
	}
	for _, m := range info.Members {
		mi := &parleypb.GroupMemberInfo{UserId: int64(m.User), Admin: m.Role == parley.RoleAdmin, JoinedMs: m.JoinedAt.UnixMilli()}
		for _, dev := range info.Devices[m.User] {
			mi.Devices = append(mi.Devices, deviceInfo(dev))
		}
		d.Members = append(d.Members, mi)
	}
	return d
}
