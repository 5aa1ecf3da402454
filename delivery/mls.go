package delivery

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/wire"
)

// Limits of the MLS Delivery Service operations.
const (
	MaxKeyPackageBytes = 16 << 10 // one serialised KeyPackage
	MaxKeyPackageRef   = 256
	MaxClaimUsers      = 1024 // users in one ClaimKeyPackages
)

// UploadKeyPackages stores the device's KeyPackages and returns how many
// one-time KeyPackages it now has. CodeTooLarge "too_many_key_packages" when
// the stock would exceed MaxKeyPackages; CodeInvalid for empty or oversized
// KeyPackages or more than one last-resort KeyPackage.
func (s *Service) UploadKeyPackages(ctx context.Context, dev parley.Device, kps []parley.KeyPackage) (int, error) {
	oneTime, lastResort := 0, 0
	for i := range kps {
		kp := &kps[i]
		if len(kp.Data) == 0 || len(kp.Data) > MaxKeyPackageBytes || len(kp.Ref) > MaxKeyPackageRef {
			return 0, parley.Errorf(parley.CodeInvalid, ReasonKeyPackage, "key package %d is empty or larger than %d bytes", i, MaxKeyPackageBytes)
		}
		kp.Device = dev.ID
		if kp.LastResort {
			lastResort++
		} else {
			oneTime++
		}
	}
	if lastResort > 1 {
		return 0, parley.Errorf(parley.CodeInvalid, ReasonLastResort, "at most one last-resort key package")
	}
	have, err := s.store.CountKeyPackages(ctx, dev.ID)
	if err != nil {
		return 0, fmt.Errorf("count key packages: %w", err)
	}
	if have+oneTime > s.cfg.MaxKeyPackages {
		return have, parley.Errorf(parley.CodeTooLarge, ReasonTooManyKeyPackages, "a device may keep at most %d key packages (has %d)", s.cfg.MaxKeyPackages, have)
	}
	if len(kps) == 0 {
		return have, nil
	}
	if err := s.store.AddKeyPackages(ctx, dev.ID, kps); err != nil {
		return 0, fmt.Errorf("add key packages: %w", err)
	}
	return have + oneTime, nil
}

// KeyPackageCount returns how many one-time KeyPackages the device has left.
func (s *Service) KeyPackageCount(ctx context.Context, dev parley.DeviceID) (int, error) {
	return s.store.CountKeyPackages(ctx, dev)
}

// ReasonTooManyClaims is the CodeRateLimited reason of ClaimKeyPackages
// beyond Config.ClaimsPerTarget.
const ReasonTooManyClaims = "too_many_claims"

// ClaimedKeyPackage is one device's KeyPackage handed to a claimer.
type ClaimedKeyPackage struct {
	User       parley.UserID
	Device     parley.DeviceID
	KeyPackage parley.KeyPackage
}

// ClaimKeyPackages claims one KeyPackage for every active device of each
// user (the caller's own device excluded). Devices with no KeyPackage at all
// are left out. A device whose one-time stock falls under KeyPackagesLow is
// told so (KeyPackagesLow push). CodeBlocked "blocked" if a named user blocks
// the caller; CodeNotFound "user_not_found" for an unknown user;
// CodeRateLimited ReasonTooManyClaims (with a retry-after) once the device
// claimed one of the users Config.ClaimsPerTarget times. The limit is taken
// for every named user before anything is claimed. Claims of the caller's
// own account (its other devices, claimed with every new chat) are not
// limited: a business endpoint starting chats with thousands of customers
// claims its own phone's KeyPackages each time.
func (s *Service) ClaimKeyPackages(ctx context.Context, dev parley.Device, users []parley.UserID) ([]ClaimedKeyPackage, error) {
	if len(users) > MaxClaimUsers {
		return nil, parley.Errorf(parley.CodeTooLarge, parley.ReasonTooManyUsers, "at most %d users per claim", MaxClaimUsers)
	}
	taken := make(map[parley.UserID]bool, len(users))
	for _, u := range users {
		if taken[u] || u == dev.User {
			continue
		}
		taken[u] = true
		ok, wait, err := s.cfg.Limiter.Allow(ctx, fmt.Sprintf("claim.device:%d.user:%d", dev.ID, u), s.cfg.ClaimsPerTarget)
		if err != nil {
			return nil, &parley.Error{Code: parley.CodeUnavailable, Reason: parley.ReasonLimiterUnavailable,
				Message: "the server cannot check its limits right now; retry later", Err: fmt.Errorf("claim key packages: %w", err)}
		}
		if !ok {
			return nil, parley.RateLimited(ReasonTooManyClaims, wait, fmt.Sprintf("too many KeyPackage claims for user %d", u))
		}
	}
	var out []ClaimedKeyPackage
	seen := make(map[parley.UserID]bool, len(users))
	for _, u := range users {
		if seen[u] {
			continue
		}
		seen[u] = true
		if u != dev.User {
			blocked, err := s.store.IsBlocked(ctx, u, dev.User)
			if err != nil {
				return nil, err
			}
			if blocked {
				return nil, parley.Errorf(parley.CodeBlocked, parley.ReasonBlocked, "user %d has blocked you", u)
			}
		}
		devices, err := s.store.Devices(ctx, u)
		if err != nil {
			return nil, err
		}
		if len(devices) == 0 {
			if _, err := s.store.User(ctx, u); err != nil {
				return nil, parley.Errorf(parley.CodeNotFound, parley.ReasonUserNotFound, "no user %d", u)
			}
		}
		for _, d := range devices {
			if !d.Active() || d.ID == dev.ID {
				continue
			}
			kp, err := s.store.ClaimKeyPackage(ctx, d.ID)
			if parley.IsCode(err, parley.CodeNotFound) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("claim key package of %v: %w", d.ID, err)
			}
			out = append(out, ClaimedKeyPackage{User: u, Device: d.ID, KeyPackage: kp})
			if !kp.LastResort {
				if n, err := s.store.CountKeyPackages(ctx, d.ID); err == nil && n < s.cfg.KeyPackagesLow {
					s.publish([]parley.DeviceID{d.ID}, parley.Event{Kind: parley.EventSignal, Frame: wire.KeyPackagesLowFrame(n)})
				}
			}
		}
	}
	return out, nil
}

// MemberRef names a device added to a conversation.
type MemberRef struct {
	User   parley.UserID
	Device parley.DeviceID
}

// CreateParams describes a conversation whose MLS group the caller created
// and committed to epoch 1.
type CreateParams struct {
	ID        parley.ConversationID
	Kind      parley.ConversationKind
	Members   []MemberRef // every member device except the caller's
	Welcome   []byte      // the Welcome for Members (required when Members is not empty)
	GroupInfo []byte      // the GroupInfo of epoch 1
	ClientID  parley.ClientMessageID
	// Group is the group's record (name, description, icon, settings) for
	// KindGroup when a GroupPolicy is set; required then.
	Group *parley.Group
}

// Appended reports what a conversation operation appended to the log.
type Appended struct {
	Conversation parley.ConversationID
	Seqs         []parley.Seq
	Epoch        parley.Epoch
}

// CreateConversation stores a new conversation at epoch 1 with the caller's
// device and Members, and appends the Welcome for Members. Rules:
//   - every member is an active device of the user it names;
//   - a direct conversation has the devices of at most two users, the
//     caller's and one other (or only the caller's: notes to self); at most
//     one direct conversation exists per pair (CodeConflict "direct_exists",
//     the message names the existing id); refused with CodeBlocked if either
//     user blocks the other.
//
// Retrying a creation of the same id by the same user returns the existing
// conversation.
func (s *Service) CreateConversation(ctx context.Context, dev parley.Device, p CreateParams) (Appended, error) {
	if !p.ID.Valid() {
		return Appended{}, parley.Errorf(parley.CodeInvalid, parley.ReasonConversationID, "invalid conversation id")
	}
	if p.Kind != parley.KindDirect && p.Kind != parley.KindGroup {
		return Appended{}, parley.Errorf(parley.CodeInvalid, parley.ReasonKind, "kind must be direct or group")
	}
	if len(p.Members)+1 > s.cfg.MaxMembers {
		return Appended{}, parley.Errorf(parley.CodeTooLarge, ReasonTooManyMembers, "at most %d member devices", s.cfg.MaxMembers)
	}
	if len(p.Welcome) > s.cfg.MaxPayloadBytes || len(p.GroupInfo) > s.cfg.MaxPayloadBytes {
		return Appended{}, parley.Errorf(parley.CodeTooLarge, ReasonPayloadTooLarge, "welcome or group info larger than %d bytes", s.cfg.MaxPayloadBytes)
	}
	if len(p.Members) > 0 && len(p.Welcome) == 0 {
		return Appended{}, parley.Errorf(parley.CodeInvalid, ReasonWelcomeRequired, "a welcome is required to add members")
	}
	if len(p.GroupInfo) == 0 {
		return Appended{}, parley.Errorf(parley.CodeInvalid, ReasonGroupInfoRequired, "the group info of epoch 1 is required")
	}
	if existing, err := s.store.Conversation(ctx, p.ID); err == nil {
		if existing.CreatedBy == dev.User {
			return Appended{Conversation: existing.ID, Epoch: existing.Epoch}, nil
		}
		return Appended{}, parley.Errorf(parley.CodeConflict, parley.ReasonConversationExists, "conversation id already in use")
	} else if !parley.IsCode(err, parley.CodeNotFound) {
		return Appended{}, err
	}
	members := []parley.Member{{Conversation: p.ID, User: dev.User, Device: dev.ID}}
	users := []parley.UserID{dev.User}
	recipients := make([]parley.DeviceID, 0, len(p.Members))
	for _, m := range p.Members {
		if m.Device == dev.ID || slices.Contains(recipients, m.Device) {
			return Appended{}, parley.Errorf(parley.CodeInvalid, ReasonDuplicateMember, "device %d is listed twice", m.Device)
		}
		if err := s.checkActiveDevice(ctx, m); err != nil {
			return Appended{}, err
		}
		if !slices.Contains(users, m.User) {
			users = append(users, m.User)
		}
		members = append(members, parley.Member{Conversation: p.ID, User: m.User, Device: m.Device})
		recipients = append(recipients, m.Device)
	}
	if p.Kind == parley.KindDirect {
		if len(users) > 2 {
			return Appended{}, parley.Errorf(parley.CodeInvalid, ReasonDirectMembers, "a direct conversation has the devices of two users")
		}
		a, b := users[0], users[len(users)-1]
		if a != b {
			if err := s.checkNoBlock(ctx, a, b); err != nil {
				return Appended{}, err
			}
		}
		s.directMu.Lock()
		defer s.directMu.Unlock()
		if id, err := s.store.DirectConversation(ctx, a, b); err == nil {
			return Appended{}, parley.Errorf(parley.CodeConflict, parley.ReasonDirectExists, "%s", id)
		} else if !parley.IsCode(err, parley.CodeNotFound) {
			return Appended{}, err
		}
	} else {
		if s.groups != nil && p.Group == nil {
			return Appended{}, parley.Errorf(parley.CodeInvalid, ReasonGroupRequired, "a group conversation is created with its group record")
		}
		for _, u := range users[1:] {
			if err := s.checkNoBlock(ctx, dev.User, u); err != nil {
				return Appended{}, err
			}
		}
	}
	now := s.clock.Now()
	clientID := p.ClientID
	if clientID == "" {
		clientID = "create"
	}
	var first []parley.Envelope
	if len(p.Members) > 0 {
		first = append(first, parley.Envelope{
			Conversation: p.ID, Sender: dev.User, SenderDevice: dev.ID, ClientID: clientID + "/welcome",
			Kind: parley.EnvelopeWelcome, Epoch: 1, Recipients: recipients, Payload: p.Welcome, CreatedAt: now,
		})
	}
	c := parley.Conversation{ID: p.ID, Kind: p.Kind, Epoch: 1, GroupInfo: p.GroupInfo, CreatedBy: dev.User, CreatedAt: now}
	var envs []parley.Envelope
	var err error
	if p.Kind == parley.KindGroup && s.groups != nil {
		envs, err = s.groups.CreateGroup(ctx, dev, *p.Group, c, members, first)
	} else {
		envs, err = s.store.CreateConversation(ctx, c, members, first)
	}
	if err != nil {
		return Appended{}, fmt.Errorf("create conversation %s: %w", p.ID, err)
	}
	s.invalidate(p.ID)
	out := Appended{Conversation: p.ID, Epoch: 1}
	for i := range envs {
		out.Seqs = append(out.Seqs, envs[i].Seq)
		s.publishEnvelope(&envs[i], envs[i].Recipients)
	}
	all := make([]parley.DeviceID, 0, len(members))
	for _, m := range members {
		if m.Device != dev.ID {
			all = append(all, m.Device)
		}
	}
	s.publish(all, parley.Event{Kind: parley.EventSignal, Conversation: p.ID, Frame: wire.ConversationsChangedFrame([]parley.ConversationID{p.ID})})
	return out, nil
}

func (s *Service) publishEnvelope(e *parley.Envelope, to []parley.DeviceID) {
	s.publish(to, parley.Event{Kind: parley.EventEnvelope, Conversation: e.Conversation, Seq: e.Seq, Frame: wire.EnvelopeFrame(e)})
}

// checkActiveDevice checks that m names an active device of m.User.
func (s *Service) checkActiveDevice(ctx context.Context, m MemberRef) error {
	d, err := s.store.Device(ctx, m.Device)
	if err != nil {
		if parley.IsCode(err, parley.CodeNotFound) {
			return parley.Errorf(parley.CodeNotFound, parley.ReasonDeviceNotFound, "no device %d", m.Device)
		}
		return err
	}
	if d.User != m.User {
		return parley.Errorf(parley.CodeInvalid, ReasonDeviceUser, "device %d is not a device of user %d", m.Device, m.User)
	}
	if !d.Active() {
		return parley.Errorf(parley.CodeInvalid, parley.ReasonDeviceRevoked, "device %d is revoked", m.Device)
	}
	return nil
}

// checkNoBlock refuses when a blocks b or b blocks a.
func (s *Service) checkNoBlock(ctx context.Context, a, b parley.UserID) error {
	if blocked, err := s.store.IsBlocked(ctx, b, a); err != nil {
		return err
	} else if blocked {
		return parley.Errorf(parley.CodeBlocked, parley.ReasonBlocked, "this user has blocked you")
	}
	if blocked, err := s.store.IsBlocked(ctx, a, b); err != nil {
		return err
	} else if blocked {
		return parley.Errorf(parley.CodeBlocked, parley.ReasonBlockedByYou, "you have blocked this user")
	}
	return nil
}

// CommitParams is an MLS commit and the membership change it carries.
type CommitParams struct {
	Conversation parley.ConversationID
	Epoch        parley.Epoch // the epoch the commit was made in
	Commit       []byte
	Welcome      []byte // for the added devices
	GroupInfo    []byte // of the new epoch
	Add          []MemberRef
	Remove       []parley.DeviceID
	// External marks an external commit by the caller's device joining the
	// conversation from its GroupInfo (linking a new device).
	External bool
	// Resync marks an external commit by a device that is already a member
	// and rejoins in place of its own old leaf, because its MLS state was
	// lost or broke. Membership does not change.
	Resync   bool
	ClientID parley.ClientMessageID
	// TreeRef names the ratchet tree of the new epoch, uploaded by the
	// caller's device for this conversation, when Welcome and GroupInfo
	// leave it out; the store binds it with the commit (CodeInvalid
	// "tree_ref" when it holds no such tree).
	TreeRef parley.TreeRef
	// CommitRef names the commit's bytes, uploaded like a tree because the
	// commit is too large for a frame (Commit then holds a reference the
	// clients understand); bound to Epoch with the commit.
	CommitRef parley.TreeRef
}

// Commit applies an MLS commit: exactly one commit per epoch is accepted
// (others get CodeConflict "wrong_epoch"). Authorisation:
//   - the committer is a member; or, for External, a device of a user who is
//     already a member (the commit adds only the committer), or with Resync
//     a member device rejoining (it adds and removes nobody at the server);
//   - added devices are active devices of the users they name; in a direct
//     conversation only devices of the users already in it
//     (CodeForbidden "add_not_allowed");
//   - in a direct conversation a device may remove only devices of its own
//     user (revoked devices are already removed by the server)
//     (CodeForbidden "remove_not_allowed");
//   - in a group conversation the GroupPolicy decides (admins add and remove
//     users; invited users join by external commit) and applies the commit
//     with the group's membership record.
//
// The commit envelope goes to the members before the commit (the committer
// excepted), the Welcome to the added devices only.
func (s *Service) Commit(ctx context.Context, dev parley.Device, p CommitParams) (Appended, error) {
	if !p.Conversation.Valid() {
		return Appended{}, parley.Errorf(parley.CodeInvalid, parley.ReasonConversationID, "invalid conversation id")
	}
	if len(p.Commit) == 0 {
		return Appended{}, parley.Errorf(parley.CodeInvalid, ReasonCommitRequired, "the commit is empty")
	}
	if len(p.Commit) > s.cfg.MaxPayloadBytes || len(p.Welcome) > s.cfg.MaxPayloadBytes || len(p.GroupInfo) > s.cfg.MaxPayloadBytes {
		return Appended{}, parley.Errorf(parley.CodeTooLarge, ReasonPayloadTooLarge, "commit, welcome or group info larger than %d bytes", s.cfg.MaxPayloadBytes)
	}
	if len(p.GroupInfo) == 0 {
		return Appended{}, parley.Errorf(parley.CodeInvalid, ReasonGroupInfoRequired, "the group info of the new epoch is required")
	}
	s.invalidate(p.Conversation)
	ci, err := s.conv(ctx, p.Conversation)
	if err != nil {
		if parley.IsCode(err, parley.CodeNotFound) {
			return Appended{}, parley.Errorf(parley.CodeNotFound, parley.ReasonConversationNotFound, "no such conversation")
		}
		return Appended{}, err
	}
	_, isMember := ci.member(dev.ID)
	var add []parley.Member
	if p.Resync && (!p.External || !isMember) {
		return Appended{}, parley.Errorf(parley.CodeInvalid, ReasonResyncNotMember, "only a member device rejoins by a resync external commit")
	}
	if p.Resync {
		if len(p.Welcome) > 0 || len(p.Remove) > 0 || len(p.Add) > 1 || (len(p.Add) == 1 && p.Add[0].Device != dev.ID) {
			return Appended{}, parley.Errorf(parley.CodeInvalid, ReasonExternalAdds, "a resync adds and removes only the committing device")
		}
	} else if p.External {
		if isMember {
			return Appended{}, parley.Errorf(parley.CodeInvalid, parley.ReasonAlreadyMember, "this device is already a member")
		}
		if !ci.hasUser(dev.User) && (ci.kind != parley.KindGroup || s.groups == nil) {
			// A group's policy decides (member users, invitations).
			return Appended{}, parley.Errorf(parley.CodeForbidden, parley.ReasonNotMember, "only devices of member users may join by external commit")
		}
		if len(p.Welcome) > 0 || len(p.Add) > 1 || (len(p.Add) == 1 && p.Add[0].Device != dev.ID) {
			return Appended{}, parley.Errorf(parley.CodeInvalid, ReasonExternalAdds, "an external commit adds only the committing device")
		}
		add = []parley.Member{{Conversation: p.Conversation, User: dev.User, Device: dev.ID}}
	} else {
		if !isMember {
			return Appended{}, parley.Errorf(parley.CodeForbidden, parley.ReasonNotMember, "this device is not a member of the conversation")
		}
		if len(ci.members)+len(p.Add) > s.cfg.MaxMembers {
			return Appended{}, parley.Errorf(parley.CodeTooLarge, ReasonTooManyMembers, "at most %d member devices", s.cfg.MaxMembers)
		}
		for _, m := range p.Add {
			if _, dup := ci.member(m.Device); dup || slices.ContainsFunc(add, func(x parley.Member) bool { return x.Device == m.Device }) {
				return Appended{}, parley.Errorf(parley.CodeInvalid, parley.ReasonAlreadyMember, "device %d is already a member", m.Device)
			}
			if err := s.checkActiveDevice(ctx, m); err != nil {
				return Appended{}, err
			}
			if ci.kind == parley.KindDirect && !ci.hasUser(m.User) {
				return Appended{}, parley.Errorf(parley.CodeForbidden, ReasonAddNotAllowed, "a direct conversation admits only its two users' devices")
			}
			if ci.kind == parley.KindGroup && m.User != dev.User {
				if err := s.checkNoBlock(ctx, dev.User, m.User); err != nil {
					return Appended{}, err
				}
			}
			add = append(add, parley.Member{Conversation: p.Conversation, User: m.User, Device: m.Device})
		}
		if len(add) > 0 && len(p.Welcome) == 0 {
			return Appended{}, parley.Errorf(parley.CodeInvalid, ReasonWelcomeRequired, "a welcome is required to add devices")
		}
	}
	if err := ci.checkBlocked(dev.User); err != nil {
		return Appended{}, err
	}
	var remove []parley.DeviceID
	for _, d := range p.Remove {
		m, ok := ci.member(d)
		if !ok || slices.Contains(remove, d) {
			continue // already gone (revoked devices are removed by the server)
		}
		if ci.kind == parley.KindDirect && m.User != dev.User {
			return Appended{}, parley.Errorf(parley.CodeForbidden, ReasonRemoveNotAllowed, "in a direct conversation you may remove only your own devices")
		}
		remove = append(remove, d)
	}

	if s.handshakes {
		if err := s.checkHandshake(ctx, dev, p); err != nil { // handshake.go
			return Appended{}, err
		}
	}
	now := s.clock.Now()
	clientID := p.ClientID
	if clientID == "" {
		clientID = parley.ClientMessageID(fmt.Sprintf("commit/%d", p.Epoch))
	}
	before := ci.devicesExcept(dev.ID)
	commitEnv := parley.Envelope{
		Conversation: p.Conversation, Sender: dev.User, SenderDevice: dev.ID, ClientID: clientID,
		Kind: parley.EnvelopeCommit, Epoch: p.Epoch, Payload: p.Commit, CreatedAt: now,
	}
	if len(add) > 0 {
		// The added devices join by the Welcome and must not get the commit.
		commitEnv.Recipients = before
	}
	envs := []parley.Envelope{commitEnv}
	var added []parley.DeviceID
	for _, m := range add {
		added = append(added, m.Device)
	}
	if len(p.Welcome) > 0 && !p.External {
		envs = append(envs, parley.Envelope{
			Conversation: p.Conversation, Sender: dev.User, SenderDevice: dev.ID, ClientID: clientID + "/welcome",
			Kind: parley.EnvelopeWelcome, Epoch: p.Epoch + 1, Recipients: added, Payload: p.Welcome, CreatedAt: now,
		})
	}
	if p.TreeRef != "" && !p.TreeRef.Valid() {
		return Appended{}, parley.Errorf(parley.CodeInvalid, ReasonTreeRef, "ratchet_tree_ref is not a tree ref")
	}
	if p.CommitRef != "" && !p.CommitRef.Valid() {
		return Appended{}, parley.Errorf(parley.CodeInvalid, parley.ReasonCommitRef, "commit_ref is not a ref")
	}
	commit := parley.Commit{
		Conversation: p.Conversation, Epoch: p.Epoch, Add: add, Remove: remove, GroupInfo: p.GroupInfo, Envelopes: envs,
		TreeRef: p.TreeRef, CommitRef: p.CommitRef,
	}
	var out []parley.Envelope
	if ci.kind == parley.KindGroup && s.groups != nil {
		out, err = s.groups.AuthorizeCommit(ctx, dev, ci.members, commit, p.External)
	} else {
		out, err = s.store.ApplyCommit(ctx, commit)
	}
	s.invalidate(p.Conversation)
	if err != nil {
		if parley.IsCode(err, parley.CodeConflict) {
			return Appended{}, err
		}
		return Appended{}, fmt.Errorf("apply commit %s: %w", p.Conversation, err)
	}
	res := Appended{Conversation: p.Conversation, Epoch: p.Epoch + 1}
	for i := range out {
		e := &out[i]
		res.Seqs = append(res.Seqs, e.Seq)
		switch e.Kind {
		case parley.EnvelopeWelcome:
			s.publishEnvelope(e, added)
		default:
			s.publishEnvelope(e, before)
		}
	}
	if len(add) > 0 || len(remove) > 0 {
		notify := append(slices.Clone(before), added...)
		s.publish(notify, parley.Event{Kind: parley.EventSignal, Conversation: p.Conversation, Frame: wire.ConversationsChangedFrame([]parley.ConversationID{p.Conversation})})
	}
	return res, nil
}

// GroupInfo returns the conversation with its current epoch and GroupInfo.
// Members may fetch it, and so may other devices of member users (to join by
// external commit). Others get CodeNotFound.
func (s *Service) GroupInfo(ctx context.Context, dev parley.Device, id parley.ConversationID) (parley.Conversation, error) {
	if !id.Valid() {
		return parley.Conversation{}, parley.Errorf(parley.CodeInvalid, parley.ReasonConversationID, "invalid conversation id")
	}
	notFound := parley.Errorf(parley.CodeNotFound, parley.ReasonConversationNotFound, "no such conversation")
	ci, err := s.conv(ctx, id)
	if err != nil {
		if parley.IsCode(err, parley.CodeNotFound) {
			return parley.Conversation{}, notFound
		}
		return parley.Conversation{}, err
	}
	if _, ok := ci.member(dev.ID); !ok && !ci.hasUser(dev.User) {
		if ci.kind != parley.KindGroup || s.groups == nil {
			return parley.Conversation{}, notFound
		}
		if err := s.groups.CanJoin(ctx, dev, id); err != nil {
			return parley.Conversation{}, err
		}
	}
	return s.store.Conversation(ctx, id)
}

// ConversationSummary is one conversation of a user.
type ConversationSummary struct {
	Conversation  parley.Conversation
	MemberUsers   []parley.UserID
	MemberDevices []parley.DeviceID
	Joined        bool // the calling device is a member
	// Positions, for devices that missed the live receipts: Delivered holds
	// each member device's acknowledged position (kind delivered; devices
	// that acknowledged nothing since joining are left out; empty for
	// conversations of more than Config.ReceiptMaxMembers member devices,
	// which get no live delivered receipts either), Read each member user's
	// read mark (kind read, Device 0; users with none are left out). At is
	// zero.
	Delivered []parley.Receipt
	Read      []parley.Receipt
}

// ListConversations lists the conversations of the device's user, and
// whether this device is in each (a newly linked device joins the others by
// external commit).
func (s *Service) ListConversations(ctx context.Context, dev parley.Device) ([]ConversationSummary, error) {
	convs, err := s.store.ConversationsOfUser(ctx, dev.User)
	if err != nil {
		return nil, fmt.Errorf("conversations of %v: %w", dev.User, err)
	}
	out := make([]ConversationSummary, 0, len(convs))
	for _, c := range convs {
		ci, err := s.conv(ctx, c.ID)
		if err != nil {
			if parley.IsCode(err, parley.CodeNotFound) {
				continue
			}
			return nil, err
		}
		sum := ConversationSummary{Conversation: c, MemberUsers: slices.Clone(ci.users)}
		for _, m := range ci.members {
			sum.MemberDevices = append(sum.MemberDevices, m.Device)
			if m.Device == dev.ID {
				sum.Joined = true
			}
		}
		if err := s.positions(ctx, &sum, len(ci.members)); err != nil {
			return nil, err
		}
		out = append(out, sum)
	}
	return out, nil
}

// positions fills in sum's delivered and read positions: one read of the
// members (cursors; skipped for conversations too large for delivered
// receipts) and one of the read marks.
func (s *Service) positions(ctx context.Context, sum *ConversationSummary, devices int) error {
	id := sum.Conversation.ID
	if devices <= s.cfg.ReceiptMaxMembers {
		// Fresh from the store: the cached membership's cursors are stale.
		members, err := s.store.Members(ctx, id)
		if err != nil && !parley.IsCode(err, parley.CodeNotFound) {
			return fmt.Errorf("members of %s: %w", id, err)
		}
		for _, m := range members {
			if m.Cursor > m.FromSeq {
				sum.Delivered = append(sum.Delivered, parley.Receipt{Conversation: id, Kind: parley.ReceiptDelivered, User: m.User, Device: m.Device, Seq: m.Cursor})
			}
		}
	}
	marks, err := s.store.ReadMarks(ctx, id)
	if err != nil && !parley.IsCode(err, parley.CodeNotFound) {
		return fmt.Errorf("read marks of %s: %w", id, err)
	}
	users := slices.Sorted(maps.Keys(marks))
	for _, u := range users {
		if seq := marks[u]; seq > 0 {
			sum.Read = append(sum.Read, parley.Receipt{Conversation: id, Kind: parley.ReceiptRead, User: u, Seq: seq})
		}
	}
	return nil
}

// RemovedDevicePayload is the JSON payload of the system envelope appended to
// a conversation when the server removes a revoked device from it.
type RemovedDevicePayload struct {
	RemovedDevice parley.DeviceID `json:"removed_device"`
	User          parley.UserID   `json:"user"`
}

// DeviceRevoked must be called after a device was revoked
// (DeviceStore.RevokeDevice), with the conversations it was removed from.
// It appends a system envelope {"removed_device":ID,"user":U} to each (so
// the remaining devices commit the MLS Remove), tells the remaining member
// devices that membership changed, and closes the revoked device's
// connections (EventRevoked). Appending is idempotent per (conversation,
// device), so calling it twice is harmless.
func (s *Service) DeviceRevoked(ctx context.Context, dev parley.Device, convs []parley.ConversationID) error {
	s.invalidate(convs...)
	defer s.publish([]parley.DeviceID{dev.ID}, parley.Event{Kind: parley.EventRevoked})
	if len(convs) == 0 {
		return nil
	}
	payload, _ := json.Marshal(RemovedDevicePayload{RemovedDevice: dev.ID, User: dev.User})
	now := s.clock.Now()
	envs := make([]parley.Envelope, 0, len(convs))
	fanouts := make(map[parley.ConversationID][]parley.DeviceID, len(convs))
	for _, id := range convs {
		c, err := s.store.Conversation(ctx, id)
		if err != nil {
			continue
		}
		ci, err := s.conv(ctx, id)
		if err != nil {
			continue
		}
		fanouts[id] = ci.devicesExcept(dev.ID)
		envs = append(envs, parley.Envelope{
			Conversation: id, ClientID: parley.ClientMessageID(fmt.Sprintf("removed-device/%d", dev.ID)),
			Kind: parley.EnvelopeSystem, Epoch: c.Epoch, Payload: payload, CreatedAt: now,
		})
	}
	_, err := s.appendSync(ctx, envs, func(e parley.Envelope) []parley.DeviceID { return fanouts[e.Conversation] })
	for id, devices := range fanouts {
		s.publish(devices, parley.Event{Kind: parley.EventSignal, Conversation: id, Frame: wire.ConversationsChangedFrame([]parley.ConversationID{id})})
	}
	return err
}

// GroupPolicy is the authority over group conversations (KindGroup):
// groups.Service implements it. When one is set (Config.Groups), delivery asks
// it to create group conversations with their record, to authorise and
// apply every commit to a group (with the group's membership record, in one
// transaction), to allow non-member users to fetch a group's GroupInfo
// (invitations), and to authorise every application message sent to a
// group (a cached check: it is on the send path).
type GroupPolicy interface {
	CreateGroup(ctx context.Context, dev parley.Device, g parley.Group, c parley.Conversation, members []parley.Member, first []parley.Envelope) ([]parley.Envelope, error)
	// AuthorizeCommit gets the member devices before the commit; c.Remove
	// lists only current members.
	AuthorizeCommit(ctx context.Context, dev parley.Device, members []parley.Member, c parley.Commit, external bool) ([]parley.Envelope, error)
	AuthorizeSend(ctx context.Context, id parley.ConversationID, user parley.UserID) error
	CanJoin(ctx context.Context, dev parley.Device, id parley.ConversationID) error
}

// PublishGroupChange delivers envelopes the group service appended (with
// their Seq) to the devices in to (or an envelope's own Recipients), drops
// the cached membership, and tells the devices in notify that the
// conversation changed. Best effort, like every push: the envelopes are in
// the log.
func (s *Service) PublishGroupChange(_ context.Context, id parley.ConversationID, envs []parley.Envelope, to, notify []parley.DeviceID) {
	s.invalidate(id)
	for i := range envs {
		rcpt := to
		if len(envs[i].Recipients) > 0 {
			rcpt = envs[i].Recipients
		}
		s.publishEnvelope(&envs[i], rcpt)
	}
	s.publish(notify, parley.Event{Kind: parley.EventSignal, Conversation: id, Frame: wire.ConversationsChangedFrame([]parley.ConversationID{id})})
}
