package groups

import (
	"context"
	"slices"
	"strings"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client/localstore"
	"github.com/parleyhq/parley/content"
	"github.com/parleyhq/parley/proto/parleypb"
)

// A community is a group of kind "community": its announcement group, which
// every member is in and only admins post to, with up to 100 sub-groups
// under it. Its members are the announcement group's; its admins, the
// announcement group's admins. Members see the sub-groups and join them
// (an MLS external commit the server allows to community members);
// removing someone from the community (RemoveGroupMember on it) removes
// them from every sub-group at the server, in the same transaction, and
// the sub-groups' members then commit the MLS removal.

// CreateCommunity creates a community named name with members (added, or
// invited when their privacy requires it); this user is its admin.
func (a *Access) CreateCommunity(ctx context.Context, name string, members []string, opts GroupOptions) (GroupAddResult, error) {
	opts.Community, opts.OnlyAdminsSend = "", true
	return a.core.NewGroup(ctx, name, members, opts, true)
}

// community resolves a community reference (id or unambiguous name).
func (a *Access) community(ctx context.Context, ref string) (Group, error) {
	g, err := a.core.Group(ctx, ref)
	if err != nil {
		return g, err
	}
	if !g.IsCommunity() {
		return g, parley.Errorf(parley.CodeInvalid, parley.ReasonNotCommunity, "%s is a group, not a community", g.Name)
	}
	return g, nil
}

// CreateCommunityGroup creates a new sub-group of a community (its admins).
func (a *Access) CreateCommunityGroup(ctx context.Context, community, name string, members []string, opts GroupOptions) (GroupAddResult, error) {
	comm, err := a.community(ctx, community)
	if err != nil {
		return GroupAddResult{}, err
	}
	opts.Community = comm.ID
	return a.core.NewGroup(ctx, name, members, opts, false)
}

// AddCommunityGroup puts an existing group under a community (admins of
// both); RemoveCommunityGroup takes it out again (community admins).
func (a *Access) AddCommunityGroup(ctx context.Context, community, group string) error {
	return a.communityGroup(ctx, community, group, false)
}

// RemoveCommunityGroup takes a sub-group out of its community; it stays a
// plain group with its members.
func (a *Access) RemoveCommunityGroup(ctx context.Context, community, group string) error {
	return a.communityGroup(ctx, community, group, true)
}

func (a *Access) communityGroup(ctx context.Context, community, group string, remove bool) error {
	comm, err := a.community(ctx, community)
	if err != nil {
		return err
	}
	gid, err := a.subGroupID(ctx, comm, group)
	if err != nil {
		return err
	}
	_, err = a.core.Request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_CommunityGroup{CommunityGroup: &parleypb.CommunityGroupRequest{
		CommunityId: string(comm.ID), GroupId: string(gid), Remove: remove}}})
	return errorf("community group", err)
}

// subGroupID resolves a group reference: an id, a sub-group's name, or the
// name of one of this user's groups.
func (a *Access) subGroupID(ctx context.Context, comm Group, ref string) (parley.ConversationID, error) {
	if id := parley.ConversationID(ref); id.Valid() {
		return id, nil
	}
	if subs, err := a.CommunityGroups(ctx, string(comm.ID)); err == nil {
		for _, s := range subs {
			if strings.EqualFold(s.Name, strings.TrimSpace(ref)) {
				return s.ID, nil
			}
		}
	}
	g, err := a.core.Group(ctx, ref)
	return g.ID, err
}

// CommunityGroups lists a community's sub-groups (members only).
func (a *Access) CommunityGroups(ctx context.Context, community string) ([]CommunityGroup, error) {
	id := parley.ConversationID(community)
	if !id.Valid() {
		comm, err := a.community(ctx, community)
		if err != nil {
			return nil, err
		}
		id = comm.ID
	}
	f, err := a.core.Request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_CommunityGroups{CommunityGroups: &parleypb.CommunityGroupsRequest{
		CommunityId: string(id)}}})
	if err != nil {
		return nil, errorf("community groups", err)
	}
	var out []CommunityGroup
	for _, g := range f.GetCommunityGroupList().GetGroups() {
		out = append(out, CommunityGroup{ID: parley.ConversationID(g.GetGroupId()), Name: g.GetName(), Description: g.GetDescription(),
			Members: int(g.GetMembers()), Member: g.GetMember(), JoinApproval: g.GetJoinApproval(), Pending: g.GetPending()})
	}
	return out, nil
}

// JoinCommunityGroup joins a sub-group of a community this user is in, by an
// MLS external commit (no admin needs to be online). When the sub-group's
// admins approve new members and this user has no invitation yet, it asks
// to join instead and returns a pending result; once an admin approved,
// calling it again joins.
func (a *Access) JoinCommunityGroup(ctx context.Context, community, group string) (JoinResult, error) {
	comm, err := a.community(ctx, community)
	if err != nil {
		return JoinResult{}, err
	}
	gid, err := a.subGroupID(ctx, comm, group)
	if err != nil {
		return JoinResult{}, err
	}
	if sub, ok := a.findCommunityGroup(ctx, comm.ID, gid); ok && sub.JoinApproval && !sub.Member {
		invited := false
		if invs, err := a.core.GroupInvitations(ctx); err == nil {
			invited = slices.ContainsFunc(invs, func(i GroupInvitation) bool { return i.Group == gid })
		}
		if !invited {
			_, err := a.core.Request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_GroupJoinAsk{GroupJoinAsk: &parleypb.GroupJoinAskRequest{
				GroupId: string(gid)}}})
			if err != nil {
				return JoinResult{}, errorf("ask to join", err)
			}
			return JoinResult{Group: Group{ID: gid, Name: sub.Name, JoinApproval: true, Community: comm.ID}, Pending: true}, nil
		}
	}
	err = a.core.JoinExternal(ctx, gid)
	if err != nil {
		return JoinResult{}, err
	}
	g, err := a.core.Group(ctx, string(gid))
	if err != nil {
		return JoinResult{}, err
	}
	_ = a.core.Store().Apply(ctx, localstore.Applied{Conversation: g.ID, Chat: &localstore.Chat{Kind: parley.KindGroup, Title: g.Name}})
	return JoinResult{Group: g}, nil
}

// findCommunityGroup finds a sub-group in the community's list.
func (a *Access) findCommunityGroup(ctx context.Context, community, id parley.ConversationID) (CommunityGroup, bool) {
	subs, err := a.CommunityGroups(ctx, string(community))
	if err != nil {
		return CommunityGroup{}, false
	}
	i := slices.IndexFunc(subs, func(s CommunityGroup) bool { return s.ID == id })
	if i < 0 {
		return CommunityGroup{}, false
	}
	return subs[i], true
}

// Announce posts text to a community's announcement group (admins only:
// others get CodeForbidden "admins_only_send").
func (a *Access) Announce(ctx context.Context, community, text string) (content.MessageRecord, error) {
	comm, err := a.community(ctx, community)
	if err != nil {
		return content.MessageRecord{}, err
	}
	return a.core.SendText(ctx, string(comm.ID), text, 0)
}
