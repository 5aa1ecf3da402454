package client

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client/groups"
	"github.com/parleyhq/parley/client/localstore"
	"github.com/parleyhq/parley/proto/parleypb"
)

func groupFrom(d *parleypb.GroupDetails) Group {
	g := Group{
		ID: parley.ConversationID(d.GetConversationId()), Name: d.GetName(), Description: d.GetDescription(), Icon: d.GetIcon(),
		OnlyAdminsSend: d.GetOnlyAdminsSend(), OnlyAdminsEditInfo: d.GetOnlyAdminsEditInfo(), JoinApproval: d.GetJoinApproval(),
		CreatedBy: parley.UserID(d.GetCreatedBy()), CreatedAt: time.UnixMilli(d.GetCreatedMs()),
		Community: parley.ConversationID(d.GetCommunityId()),
	}
	for _, m := range d.GetMembers() {
		u := parley.UserID(m.GetUserId())
		g.Members = append(g.Members, GroupMember{User: u, Admin: m.GetAdmin(), JoinedAt: time.UnixMilli(m.GetJoinedMs()),
			Devices: deviceKeysFrom(u, m.GetDevices())})
	}
	return g
}

// Groups lists the groups this user is a member of, and brings the titles of
// their local chats up to date.
func (c *Client) Groups(ctx context.Context) ([]Group, error) {
	f, err := c.request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_GroupList{GroupList: &parleypb.GroupListRequest{}}}, true)
	if err != nil {
		return nil, errorf("list groups", err)
	}
	var out []Group
	for _, d := range f.GetGroups().GetGroups() {
		g := groupFrom(d)
		out = append(out, g)
		if ch, err := c.store.Chat(ctx, g.ID); err == nil && (ch.Title != g.Name || ch.Kind != parley.KindGroup) {
			_ = c.store.Apply(ctx, Applied{Conversation: g.ID, Chat: &Chat{Kind: parley.KindGroup, Title: g.Name}})
		}
	}
	return out, nil
}

// Group returns a group by reference: its id, or its name when exactly one
// of this user's groups has it (compared case-insensitively). CodeNotFound
// "group_not_found"; CodeInvalid "ambiguous_group" when several match.
func (c *Client) Group(ctx context.Context, ref string) (Group, error) {
	if id := parley.ConversationID(ref); id.Valid() {
		f, err := c.request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_GroupGet{GroupGet: &parleypb.GroupGetRequest{ConversationId: string(id)}}}, true)
		if err == nil {
			return groupFrom(f.GetGroup()), nil
		}
		if !parley.IsCode(err, parley.CodeNotFound) {
			return Group{}, errorf("group", err)
		}
	}
	all, err := c.Groups(ctx)
	if err != nil {
		return Group{}, err
	}
	var found []Group
	for _, g := range all {
		if strings.EqualFold(g.Name, strings.TrimSpace(ref)) {
			found = append(found, g)
		}
	}
	switch len(found) {
	case 0:
		return Group{}, parley.Errorf(parley.CodeNotFound, parley.ReasonGroupNotFound, "no group %q", ref)
	case 1:
		return found[0], nil
	}
	return Group{}, parley.Errorf(parley.CodeInvalid, ReasonAmbiguousGroup, "%d groups are named %q: use the group id", len(found), ref)
}

// resolveUsers resolves member references ("+E164", "@username", user id)
// to distinct users other than this one.
func (c *Client) resolveUsers(ctx context.Context, refs []string) ([]parley.UserID, error) {
	me := c.Account().User
	var out []parley.UserID
	for _, ref := range refs {
		ct, err := c.Resolve(ctx, ref)
		if err != nil {
			return nil, err
		}
		if ct.User != me && !slices.Contains(out, ct.User) {
			out = append(out, ct.User)
		}
	}
	return out, nil
}

// claimed is the KeyPackages of the devices a commit adds.
type claimed struct {
	adds    [][]byte
	members []*parleypb.AddedDevice
	users   []parley.UserID // users with at least one device claimed
	// fillPath makes the commit carry this device's UpdatePath (trees.go,
	// "Filling the tree").
	fillPath bool
}

// claim claims KeyPackages for every device of users, except this device,
// in batches of 256 users: the answer must fit one frame (a KeyPackage is
// ~300 bytes, a frame at most 256 KiB), and the server takes at most 1,024
// users a request.
func (c *Client) claim(ctx context.Context, users []parley.UserID) (claimed, error) {
	const batch = 256
	var out claimed
	me := c.Account().Device
	for start := 0; start < len(users); start += batch {
		ids := make([]int64, 0, batch)
		for _, u := range users[start:min(len(users), start+batch)] {
			ids = append(ids, int64(u))
		}
		f, err := c.request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_ClaimKeyPackages{ClaimKeyPackages: &parleypb.ClaimKeyPackagesRequest{UserIds: ids}}}, false)
		if err != nil {
			return claimed{}, errorf("claim key packages", err)
		}
		for _, kp := range f.GetClaimedKeyPackages().GetKeyPackages() {
			if parley.DeviceID(kp.GetDeviceId()) == me {
				continue
			}
			out.adds = append(out.adds, kp.GetKeyPackage().GetData())
			out.members = append(out.members, &parleypb.AddedDevice{UserId: kp.GetUserId(), DeviceId: kp.GetDeviceId()})
			if u := parley.UserID(kp.GetUserId()); !slices.Contains(out.users, u) {
				out.users = append(out.users, u)
			}
		}
	}
	return out, nil
}

// checkAdd asks the server which users must be invited rather than added
// (in batches of checkAddBatch users: the server takes at most a group's
// member limit per request, and a community may be larger).
func (c *Client) checkAdd(ctx context.Context, users []parley.UserID) (direct, invite []parley.UserID, err error) {
	const checkAddBatch = 1000
	var inv []int64
	for start := 0; start < len(users) || start == 0; start += checkAddBatch {
		ids := make([]int64, 0, checkAddBatch)
		for _, u := range users[start:min(len(users), start+checkAddBatch)] {
			ids = append(ids, int64(u))
		}
		f, err := c.request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_GroupCheckAdd{GroupCheckAdd: &parleypb.GroupCheckAddRequest{UserIds: ids}}}, true)
		if err != nil {
			return nil, nil, errorf("check group add", err)
		}
		inv = append(inv, f.GetGroupCheckAdd().GetInviteUserIds()...)
		if len(users) == 0 {
			break
		}
	}
	for _, u := range users {
		if slices.Contains(inv, int64(u)) {
			invite = append(invite, u)
		} else {
			direct = append(direct, u)
		}
	}
	return direct, invite, nil
}

// CreateGroup creates a group named name with this user as its admin: one
// MLS group whose leaves are every device of every member (and this user's
// other devices), created by one commit, stored at the server with the
// group's record in one step. Members whose privacy does not let this user
// add them, or who have no device able to join, are invited instead.
func (c *Client) CreateGroup(ctx context.Context, name string, members []string, opts GroupOptions) (GroupAddResult, error) {
	return c.createGroup(ctx, name, members, opts, false)
}

// createGroup is CreateGroup, of a community's announcement group when
// isCommunity is set (CreateCommunity).
func (c *Client) createGroup(ctx context.Context, name string, members []string, opts GroupOptions, isCommunity bool) (GroupAddResult, error) {
	if strings.TrimSpace(name) == "" {
		return GroupAddResult{}, parley.Errorf(parley.CodeInvalid, parley.ReasonGroupName, "a group needs a name")
	}
	users, err := c.resolveUsers(ctx, members)
	if err != nil {
		return GroupAddResult{}, err
	}
	direct, invite, err := c.checkAdd(ctx, users)
	if err != nil {
		return GroupAddResult{}, err
	}
	acct := c.Account()
	cl, err := c.claim(ctx, append(slices.Clone(direct), acct.User))
	if err != nil {
		return GroupAddResult{}, err
	}
	var added []parley.UserID
	for _, u := range direct {
		if slices.Contains(cl.users, u) {
			added = append(added, u)
		} else {
			invite = append(invite, u)
		}
	}
	// The creating commit keeps the tree inline (it adds at most
	// InlineTreeMembers-1 devices); the rest are added by batched commits
	// (commitGroup) once the group exists.
	first := min(len(cl.adds), c.inlineTreeMembers()-1, addChunk(cl.adds, c.frameLimit(ctx), c.cfg.MaxAddsPerCommit, true))
	rest := claimed{adds: cl.adds[first:], members: cl.members[first:]}
	cl.adds, cl.members = cl.adds[:first], cl.members[:first]
	conv := parley.NewConversationID()
	community := opts.Community
	if isCommunity {
		community = conv
	}
	c.cryptoMu.Lock()
	err = func() error {
		defer c.cryptoMu.Unlock()
		g, err := c.eng.CreateGroup([]byte(conv), c.identity(), c.validator(ctx))
		if err != nil {
			return fmt.Errorf("create group: %w", err)
		}
		pc, err := g.Commit(cl.adds, nil, false, false)
		if err != nil {
			return fmt.Errorf("commit adds: %w", err)
		}
		r, err := c.request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_GroupCreate{GroupCreate: &parleypb.GroupCreateRequest{
			Conversation: &parleypb.CreateConversationRequest{
				ConversationId: string(conv), Kind: string(parley.KindGroup), Members: cl.members,
				Commit: pc.Commit, Welcome: pc.Welcome, GroupInfo: pc.GroupInfo, ClientId: string(parley.NewClientMessageID()),
			},
			Name: name, Description: opts.Description, Icon: opts.Icon,
			OnlyAdminsSend: opts.OnlyAdminsSend, OnlyAdminsEditInfo: opts.OnlyAdminsEditInfo, CommunityId: string(community),
		}}}, false)
		if err != nil {
			return errorf("create group", err)
		}
		if err := g.MergePendingCommit(); err != nil {
			return fmt.Errorf("merge commit: %w", err)
		}
		var last parley.Seq
		for _, s := range r.GetAppended().GetSeqs() {
			last = max(last, parley.Seq(s))
		}
		return c.saveGroup(ctx, conv, g, Applied{Chat: &Chat{Kind: parley.KindGroup, Title: strings.TrimSpace(name)}, Seq: last,
			Message: c.lines(ctx).Created(conv, last)}) // "You created the group"
	}()
	if err != nil {
		return GroupAddResult{}, err
	}
	c.emit(Event{Kind: EventConversation, Conversation: conv})
	if len(rest.adds) > 0 {
		if err := c.commitGroup(ctx, conv, rest, nil); err != nil {
			return GroupAddResult{}, fmt.Errorf("group %s created; adding the remaining %d devices: %w", conv, len(rest.adds), err)
		}
	}
	for _, u := range invite {
		if err := c.invite(ctx, conv, u); err != nil {
			return GroupAddResult{}, err
		}
	}
	g, err := c.Group(ctx, string(conv))
	return GroupAddResult{Group: g, Added: added, Invited: invite}, err
}

func (c *Client) invite(ctx context.Context, id parley.ConversationID, u parley.UserID) error {
	_, err := c.request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_GroupInvite{GroupInvite: &parleypb.GroupInviteRequest{
		ConversationId: string(id), UserId: int64(u)}}}, true)
	return errorf("invite", err)
}

// commitGroup commits adds and removes to a group: the removes and as many
// adds as fit one frame (addChunk) in the first commit, the other adds in
// as many further commits as needed. Each commit is retried when another
// member's commit won the epoch: it then processes the winner's commit
// (Sync) and commits again on the new epoch, so concurrent admins
// converge. removeUsers are resolved to their leaves at each attempt.
func (c *Client) commitGroup(ctx context.Context, id parley.ConversationID, cl claimed, removeUsers []parley.UserID) error {
	limit := c.frameLimit(ctx)
	for first := true; first || len(cl.adds) > 0; first = false {
		n := min(len(cl.adds), addChunk(cl.adds, limit, c.cfg.MaxAddsPerCommit, false))
		chunk := claimed{adds: cl.adds[:n], members: cl.members[:n]}
		cl.adds, cl.members = cl.adds[n:], cl.members[n:]
		// The last of several batches fills this device's path.
		chunk.fillPath = !first && len(cl.adds) == 0
		var remove []parley.UserID
		if first {
			remove = removeUsers
		}
		if err := c.commitRetrying(ctx, id, chunk, remove); err != nil {
			return err
		}
	}
	return nil
}

func (c *Client) commitRetrying(ctx context.Context, id parley.ConversationID, cl claimed, removeUsers []parley.UserID) error {
	for attempt := 0; ; attempt++ {
		err := c.commitOnce(ctx, id, cl, removeUsers)
		if parley.ErrorReason(err) == parley.ReasonWrongEpoch && attempt < 5 {
			if err := c.Sync(ctx); err != nil {
				return err
			}
			continue
		}
		return err
	}
}

func (c *Client) commitOnce(ctx context.Context, id parley.ConversationID, cl claimed, removeUsers []parley.UserID) error {
	c.cryptoMu.Lock()
	defer c.cryptoMu.Unlock()
	g, err := c.loadGroup(ctx, id)
	if err == nil && g == nil {
		err = parley.Errorf(parley.CodeNotFound, localstore.ReasonNotJoined, "this device is not in group %s", id)
	}
	if err != nil {
		return err
	}
	var leaves []uint32
	var devices []int64
	for _, m := range g.Members() {
		if slices.Contains(removeUsers, m.User) {
			leaves = append(leaves, m.Leaf)
			devices = append(devices, int64(m.Device))
		}
	}
	if len(cl.adds) == 0 && len(leaves) == 0 {
		return nil
	}
	oob := c.outOfBand(len(g.Members()) + len(cl.adds) - len(leaves))
	pc, err := g.Commit(cl.adds, leaves, oob, cl.fillPath && oob)
	if err != nil {
		c.forgetGroup(id)
		return fmt.Errorf("commit: %w", err)
	}
	payload, commitRef, err := c.commitPayload(ctx, id, pc)
	if err != nil {
		c.forgetGroup(id)
		return fmt.Errorf("commit: %w", err)
	}
	ref, err := c.uploadTree(ctx, id, pc.Tree)
	if err != nil {
		c.forgetGroup(id)
		return err
	}
	env := &parleypb.Envelope{ConversationId: string(id), ClientId: string(parley.NewClientMessageID()), SenderDevice: int64(c.Account().Device), SentMs: c.clock.Now().UnixMilli()}
	r, err := c.request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_Commit{Commit: &parleypb.CommitRequest{
		ConversationId: string(id), Epoch: uint64(g.Epoch()), Commit: payload, Welcome: pc.Welcome, GroupInfo: pc.GroupInfo,
		Add: cl.members, Remove: devices, ClientId: env.ClientId, RatchetTreeRef: string(ref), CommitRef: string(commitRef)}}}, false)
	if err != nil {
		c.forgetGroup(id)
		return errorf("commit", err)
	}
	before := g.Members()
	if err := g.MergePendingCommit(); err != nil {
		c.forgetGroup(id)
		return fmt.Errorf("merge commit: %w", err)
	}
	var line *MessageRecord // "You added Bob" (groups.Lines), at the commit's seq
	if seqs := r.GetAppended().GetSeqs(); len(seqs) > 0 {
		env.Seq = seqs[0]
		line = c.lines(ctx).Commit(env, c.identity().Credential, before, g.Members())
	}
	if err := c.saveGroup(ctx, id, g, Applied{Message: line}); err != nil {
		return err
	}
	c.advanceOwn(ctx, id, r.GetAppended().GetSeqs())
	c.emit(Event{Kind: EventConversation, Conversation: id})
	return nil
}

// AddGroupMembers adds users to a group in one MLS commit (admins only: the
// server refuses others with CodeForbidden "not_admin"). Users whose privacy
// requires it, or who have no device able to join, are invited instead.
func (c *Client) AddGroupMembers(ctx context.Context, ref string, members []string) (GroupAddResult, error) {
	if err := c.Sync(ctx); err != nil {
		return GroupAddResult{}, err
	}
	g, err := c.Group(ctx, ref)
	if err != nil {
		return GroupAddResult{}, err
	}
	users, err := c.resolveUsers(ctx, members)
	if err != nil {
		return GroupAddResult{}, err
	}
	users = slices.DeleteFunc(users, g.IsMember)
	direct, invite, err := c.checkAdd(ctx, users)
	if err != nil {
		return GroupAddResult{}, err
	}
	if !g.IsAdmin(c.Account().User) && len(users) > 0 {
		return GroupAddResult{}, parley.Errorf(parley.CodeForbidden, parley.ReasonNotAdmin, "only group admins may add members")
	}
	var cl claimed
	if len(direct) > 0 {
		if cl, err = c.claim(ctx, direct); err != nil {
			return GroupAddResult{}, err
		}
	}
	var added []parley.UserID
	for _, u := range direct {
		if slices.Contains(cl.users, u) {
			added = append(added, u)
		} else {
			invite = append(invite, u)
		}
	}
	if err := c.commitGroup(ctx, g.ID, cl, nil); err != nil {
		return GroupAddResult{}, err
	}
	for _, u := range invite {
		if err := c.invite(ctx, g.ID, u); err != nil {
			return GroupAddResult{}, err
		}
	}
	g, err = c.Group(ctx, string(g.ID))
	return GroupAddResult{Group: g, Added: added, Invited: invite}, err
}

// RemoveGroupMember removes a user (every device) from a group by one MLS
// commit (admins only, CodeForbidden "not_admin"). The removed devices
// cannot decrypt anything sent after the commit.
func (c *Client) RemoveGroupMember(ctx context.Context, ref, member string) error {
	if err := c.Sync(ctx); err != nil {
		return err
	}
	g, err := c.Group(ctx, ref)
	if err != nil {
		return err
	}
	ct, err := c.Resolve(ctx, member)
	if err != nil {
		return err
	}
	if ct.User == c.Account().User {
		return parley.Errorf(parley.CodeInvalid, ReasonRemoveSelf, "use leave to leave a group")
	}
	if !g.IsMember(ct.User) {
		return parley.Errorf(parley.CodeNotFound, parley.ReasonNotMember, "%s is not a member of %s", contactTitle(ct), g.Name)
	}
	return c.commitGroup(ctx, g.ID, claimed{}, []parley.UserID{ct.User})
}

// SetGroupAdmin promotes (admin) or demotes a member (admins only).
func (c *Client) SetGroupAdmin(ctx context.Context, ref, member string, admin bool) error {
	g, err := c.Group(ctx, ref)
	if err != nil {
		return err
	}
	ct, err := c.Resolve(ctx, member)
	if err != nil {
		return err
	}
	_, err = c.request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_GroupRole{GroupRole: &parleypb.GroupRoleRequest{
		ConversationId: string(g.ID), UserId: int64(ct.User), Admin: admin}}}, true)
	return errorf("set role", err)
}

// UpdateGroup changes a group's info or settings.
func (c *Client) UpdateGroup(ctx context.Context, ref string, u GroupUpdate) (Group, error) {
	g, err := c.Group(ctx, ref)
	if err != nil {
		return Group{}, err
	}
	_, err = c.request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_GroupUpdate{GroupUpdate: &parleypb.GroupUpdateRequest{
		ConversationId: string(g.ID), Name: u.Name, Description: u.Description, Icon: u.Icon,
		OnlyAdminsSend: u.OnlyAdminsSend, OnlyAdminsEditInfo: u.OnlyAdminsEditInfo, JoinApproval: u.JoinApproval}}}, true)
	if err != nil {
		return Group{}, errorf("update group", err)
	}
	if u.Name != nil {
		_ = c.store.Apply(ctx, Applied{Conversation: g.ID, Chat: &Chat{Kind: parley.KindGroup, Title: strings.TrimSpace(*u.Name)}})
	}
	return c.Group(ctx, string(g.ID))
}

// LeaveGroup leaves a group: the server removes every device of this user at
// once (promoting an admin if this user was the last), and the remaining
// members commit the MLS removal. This device forgets the group's keys.
func (c *Client) LeaveGroup(ctx context.Context, ref string) error {
	g, err := c.Group(ctx, ref)
	if err != nil {
		return err
	}
	if _, err := c.request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_GroupLeave{GroupLeave: &parleypb.GroupLeaveRequest{
		ConversationId: string(g.ID)}}}, true); err != nil {
		return errorf("leave group", err)
	}
	c.cryptoMu.Lock()
	c.forgetGroup(g.ID)
	err = c.store.DeleteGroup(ctx, g.ID)
	c.cryptoMu.Unlock()
	if err != nil && !parley.IsCode(err, parley.CodeNotFound) {
		return storeErr(err)
	}
	c.emit(Event{Kind: EventConversation, Conversation: g.ID})
	return nil
}

// GroupInvitations lists this user's pending group invitations.
func (c *Client) GroupInvitations(ctx context.Context) ([]GroupInvitation, error) {
	f, err := c.request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_GroupInvitations{GroupInvitations: &parleypb.GroupInvitationsRequest{}}}, true)
	if err != nil {
		return nil, errorf("group invitations", err)
	}
	var out []GroupInvitation
	for _, inv := range f.GetGroupInvitations().GetInvitations() {
		out = append(out, GroupInvitation{Group: parley.ConversationID(inv.GetConversationId()), Name: inv.GetName(),
			InvitedBy: parley.UserID(inv.GetInvitedBy()), At: time.UnixMilli(inv.GetCreatedMs())})
	}
	return out, nil
}

func (c *Client) invitation(ctx context.Context, ref string) (GroupInvitation, error) {
	invs, err := c.GroupInvitations(ctx)
	if err != nil {
		return GroupInvitation{}, err
	}
	var found []GroupInvitation
	for _, inv := range invs {
		if string(inv.Group) == ref || strings.EqualFold(inv.Name, strings.TrimSpace(ref)) {
			found = append(found, inv)
		}
	}
	switch len(found) {
	case 0:
		return GroupInvitation{}, parley.Errorf(parley.CodeNotFound, parley.ReasonNoInvitation, "no invitation to %q", ref)
	case 1:
		return found[0], nil
	}
	return GroupInvitation{}, parley.Errorf(parley.CodeInvalid, ReasonAmbiguousGroup, "several invitations match %q: use the group id", ref)
}

// AcceptGroupInvitation joins a group this user was invited to, by an MLS
// external commit from the group's GroupInfo (no admin needs to be online).
func (c *Client) AcceptGroupInvitation(ctx context.Context, ref string) (Group, error) {
	inv, err := c.invitation(ctx, ref)
	if err != nil {
		return Group{}, err
	}
	// Members are not resolvable by id yet (no shared conversation): the
	// validator gets their keys through the invitation (groupUserKeys).
	c.cryptoMu.Lock()
	err = c.joinExternal(ctx, inv.Group, parley.KindGroup)
	c.cryptoMu.Unlock()
	if err != nil {
		return Group{}, err
	}
	g, err := c.Group(ctx, string(inv.Group))
	if err != nil {
		return Group{}, err
	}
	_ = c.store.Apply(ctx, Applied{Conversation: g.ID, Chat: &Chat{Kind: parley.KindGroup, Title: g.Name}})
	return g, nil
}

// DeclineGroupInvitation deletes an invitation.
func (c *Client) DeclineGroupInvitation(ctx context.Context, ref string) error {
	inv, err := c.invitation(ctx, ref)
	if err != nil {
		return err
	}
	_, err = c.request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_GroupDecline{GroupDecline: &parleypb.GroupDeclineRequest{
		ConversationId: string(inv.Group)}}}, true)
	return errorf("decline invitation", err)
}

// SetGroupAddPrivacy sets who may add this user to groups directly:
// "everyone", "contacts" or "nobody"; others must invite.
func (c *Client) SetGroupAddPrivacy(ctx context.Context, who string) error {
	_, err := c.request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_GroupPrivacy{GroupPrivacy: &parleypb.GroupPrivacyRequest{AddMe: who}}}, true)
	return errorf("set group privacy", err)
}

// welcomeChat describes the chat of a conversation this device joined by a
// Welcome: a group's chat is titled with its name; anything else is a
// direct chat.
func (c *Client) welcomeChat(ctx context.Context, conv parley.ConversationID, g group) Chat {
	if chat, ok := c.groupChat(ctx, conv); ok {
		return chat
	}
	return c.chatFor(ctx, g, parley.KindDirect)
}

// groupChat describes conv as a group chat titled with the group's name, if
// the server knows it as a group this user may see.
func (c *Client) groupChat(ctx context.Context, conv parley.ConversationID) (Chat, bool) {
	f, err := c.request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_GroupGet{GroupGet: &parleypb.GroupGetRequest{ConversationId: string(conv)}}}, true)
	if err != nil {
		return Chat{}, false
	}
	return Chat{Kind: parley.KindGroup, Title: f.GetGroup().GetName()}, true
}

// InviteToGroup invites a user to a group (admins only): they may then join
// by accepting (AcceptGroupInvitation), whatever their privacy.
func (c *Client) InviteToGroup(ctx context.Context, ref, member string) error {
	g, err := c.Group(ctx, ref)
	if err != nil {
		return err
	}
	ct, err := c.Resolve(ctx, member)
	if err != nil {
		return err
	}
	return c.invite(ctx, g.ID, ct.User)
}

// groupUserKeys fetches a user's device keys through a group shared now or
// in the past (members who left stay verifiable in the group's history).
func (c *Client) groupUserKeys(ctx context.Context, u parley.UserID) ([]DeviceKey, error) {
	f, err := c.request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_GroupUserKeys{GroupUserKeys: &parleypb.GroupUserKeysRequest{UserId: int64(u)}}}, true)
	if err != nil {
		return nil, err
	}
	return deviceKeysFrom(u, f.GetDevices().GetDevices()), nil
}

// Group types and the invite-link and community features: see package
// groups.
type (
	Group           = groups.Group
	GroupMember     = groups.GroupMember
	GroupOptions    = groups.GroupOptions
	GroupAddResult  = groups.GroupAddResult
	GroupUpdate     = groups.GroupUpdate
	GroupInvitation = groups.GroupInvitation
	CommunityGroup  = groups.CommunityGroup
	InviteLink      = groups.InviteLink
	LinkOptions     = groups.LinkOptions
	JoinResult      = groups.JoinResult
	JoinRequest     = groups.JoinRequest
)

// LinkPrefix starts every invite link: the rest is the link's secret token.
const LinkPrefix = groups.LinkPrefix

// groupsCore is the Client as package groups sees it (groups.Core).
type groupsCore struct{ *Client }

func (g groupsCore) Request(ctx context.Context, f *parleypb.ClientFrame) (*parleypb.ServerFrame, error) {
	return g.request(ctx, f, true)
}
func (g groupsCore) RequestOnce(ctx context.Context, f *parleypb.ClientFrame) (*parleypb.ServerFrame, error) {
	return g.request(ctx, f, false)
}
func (g groupsCore) Store() LocalStore { return g.store }
func (g groupsCore) NewGroup(ctx context.Context, name string, members []string, opts GroupOptions, community bool) (GroupAddResult, error) {
	return g.createGroup(ctx, name, members, opts, community)
}
func (g groupsCore) JoinExternal(ctx context.Context, conv parley.ConversationID) error {
	g.cryptoMu.Lock()
	defer g.cryptoMu.Unlock()
	return g.joinExternal(ctx, conv, parley.KindGroup)
}
