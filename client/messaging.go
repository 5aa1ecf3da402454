package client

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client/broadcast"
	"github.com/parleyhq/parley/client/conn"
	"github.com/parleyhq/parley/client/localstore"
	"github.com/parleyhq/parley/content"
	"github.com/parleyhq/parley/proto/parleypb"
)

// Send sends text to a person ("+E164", "@username") or a chat (its
// conversation id). For a person it finds or creates the direct
// conversation: it claims KeyPackages for every device of both users,
// creates the MLS group (group id = conversation id), commits the adds and
// creates the conversation with the commit, Welcome and GroupInfo.
//
// Send first processes what the server has pending for this device (Sync).
// The message is encrypted with the conversation's MLS group and stored
// locally as pending before it is sent; Send returns once the server has
// it durably (status sent). A retried send reuses the client id, so the
// server appends it once. Errors: CodeNotFound (no such user),
// CodeBlocked, CodeForbidden, CodeUnavailable.
func (c *Client) Send(ctx context.Context, to, text string) (MessageRecord, error) {
	if strings.TrimSpace(text) == "" {
		return MessageRecord{}, parley.Errorf(parley.CodeInvalid, parley.ReasonEmptyMessage, "the message is empty")
	}
	// Catch up first, so the message is encrypted in the conversation's
	// current epoch (devices that joined in a later epoch could not read it).
	if err := c.Sync(ctx); err != nil {
		return MessageRecord{}, err
	}
	conv, err := c.resolveChat(ctx, to, true)
	if err != nil {
		return MessageRecord{}, err
	}
	return c.sendContent(ctx, conv, MessageRecord{Kind: KindText, Text: text})
}

// sendContent sends a message with m's content (Kind, Text, Media,
// Forwarded) to conv under a new client id, re-encrypting in the current
// epoch if the group moved on at the server.
func (c *Client) sendContent(ctx context.Context, conv parley.ConversationID, m MessageRecord) (MessageRecord, error) {
	return c.sendAs(ctx, conv, m, parley.NewClientMessageID())
}

// sendAs is sendContent under the client id id.
func (c *Client) sendAs(ctx context.Context, conv parley.ConversationID, m MessageRecord, id parley.ClientMessageID) (MessageRecord, error) {
	m.ClientID = id
	for attempt := 0; ; attempt++ {
		rec, err := c.sendRecord(ctx, conv, m)
		if err != nil && parley.ErrorReason(err) == parley.ReasonWrongEpoch && attempt < 3 {
			// The group moved on at the server: catch up, re-encrypt.
			if err := c.Sync(ctx); err != nil {
				return rec, err
			}
			continue
		}
		return rec, err
	}
}

// sendRecord encrypts m's content under its client id, stores it as a
// pending message, then sends it.
func (c *Client) sendRecord(ctx context.Context, conv parley.ConversationID, m MessageRecord) (MessageRecord, error) {
	acct := c.Account()
	now := c.clock.Now()
	c.cryptoMu.Lock()
	g, err := c.loadGroup(ctx, conv)
	if err == nil && g == nil {
		err = parley.Errorf(parley.CodeNotFound, localstore.ReasonNotJoined, "this device is not in chat %s", conv)
	}
	if err != nil {
		c.cryptoMu.Unlock()
		return MessageRecord{}, err
	}
	rec := MessageRecord{Conversation: conv, ClientID: m.ClientID, Sender: acct.User, SenderDevice: acct.Device, Outgoing: true,
		Kind: m.Kind, Text: m.Text, Media: m.Media, Forwarded: m.Forwarded, SentAt: now, StoredAt: now, Status: StatusPending}
	payload, err := g.Encrypt(content.Encode(content.RecordBody(rec)), nil)
	if err != nil {
		c.forgetGroup(conv)
		c.cryptoMu.Unlock()
		return MessageRecord{}, fmt.Errorf("encrypt: %w", err)
	}
	rec.Payload, rec.Epoch = payload, g.Epoch()
	err = c.saveGroup(ctx, conv, g, Applied{Message: &rec})
	c.cryptoMu.Unlock()
	if err != nil {
		return rec, err
	}
	return c.deliver(ctx, rec)
}

// deliver sends a stored pending message and records the server's answer.
func (c *Client) deliver(ctx context.Context, rec MessageRecord) (MessageRecord, error) {
	f, err := c.request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_Send{Send: &parleypb.SendRequest{
		ConversationId: string(rec.Conversation), ClientId: string(rec.ClientID), Kind: uint32(parley.EnvelopeApplication),
		Epoch: uint64(rec.Epoch), Payload: rec.Payload, Broadcast: broadcast.IsCopy(rec.ClientID)}}}, true)
	if err != nil {
		return rec, errorf("send", err)
	}
	seq := parley.Seq(f.GetSent().GetSeq())
	if err := c.store.MarkSent(ctx, rec.Conversation, rec.ClientID, seq); err != nil {
		return rec, storeErr(err)
	}
	c.cryptoMu.Lock()
	c.advanceOwn(ctx, rec.Conversation, []int64{int64(seq)})
	c.cryptoMu.Unlock()
	rec.Seq, rec.Status, rec.Payload = seq, StatusSent, nil
	return rec, nil
}

// advanceOwn moves the cursor past envelopes this device appended (the
// server does not echo them) when nothing can be missing below them. The
// caller holds cryptoMu.
func (c *Client) advanceOwn(ctx context.Context, conv parley.ConversationID, seqs []int64) {
	chat, err := c.store.Chat(ctx, conv)
	if err != nil {
		return
	}
	cur := chat.Cursor
	for _, s := range seqs {
		if parley.Seq(s) == cur+1 {
			cur++
		}
	}
	if cur > chat.Cursor {
		_ = c.store.Apply(ctx, Applied{Conversation: conv, Seq: cur})
	}
}

// flushPending resends messages stored as pending (a send interrupted by a
// lost connection or a crash) under their original client ids.
func (c *Client) flushPending(ctx context.Context) error {
	pending, err := c.store.PendingMessages(ctx)
	if err != nil {
		return storeErr(err)
	}
	for _, rec := range pending {
		sent, err := c.deliver(ctx, rec)
		if parley.ErrorReason(err) == parley.ReasonWrongEpoch {
			sent, err = c.sendRecord(ctx, rec.Conversation, rec)
		}
		if err != nil {
			return err
		}
		c.referenceBlob(ctx, sent)
	}
	return nil
}

// resolveChat finds the conversation addressed by ref: a conversation id, or a
// person ("+E164", "@username", user id) whose direct chat is found, joined
// or (when create is set) created. A person this device already has a
// direct chat with is found locally, without a directory lookup: reading a
// chat's history or members again and again never spends the account's
// lookup budget.
func (c *Client) resolveChat(ctx context.Context, ref string, create bool) (parley.ConversationID, error) {
	if id := parley.ConversationID(ref); id.Valid() {
		if _, err := c.store.Chat(ctx, id); err == nil {
			return id, nil
		}
	}
	if ct, ok := localstore.FindContact(ctx, c.store, ref); ok {
		if id, ok := c.localDirect(ctx, ct.User); ok {
			return id, nil
		}
	}
	ct, err := c.Resolve(ctx, ref)
	if err != nil {
		return "", err
	}
	return c.directWith(ctx, ct, create)
}

// directWith returns the direct conversation with a user.
func (c *Client) directWith(ctx context.Context, ct Contact, create bool) (parley.ConversationID, error) {
	me := c.Account().User
	if id, ok := c.localDirect(ctx, ct.User); ok {
		return id, nil
	}
	if !create {
		return "", parley.Errorf(parley.CodeNotFound, ReasonNoChat, "no chat with %s", contactTitle(ct))
	}
	for attempt := 0; ; attempt++ {
		list, err := c.listConversations(ctx)
		if err != nil {
			return "", err
		}
		var found *parleypb.ConversationInfo
		for _, info := range list {
			if info.GetKind() != string(parley.KindDirect) {
				continue
			}
			users := slices.Compact(slices.Sorted(slices.Values(info.GetMemberUsers())))
			want := []int64{int64(me), int64(ct.User)}
			slices.Sort(want)
			want = slices.Compact(want)
			if slices.Equal(users, want) {
				found = info
				break
			}
		}
		switch {
		case found != nil && found.GetJoined():
			// Our Welcome is on its way: process what is pending.
			if err := c.Sync(ctx); err != nil {
				return "", err
			}
			if id, ok := c.localDirect(ctx, ct.User); ok {
				return id, nil
			}
			if attempt > 0 {
				return "", parley.Errorf(parley.CodeUnavailable, localstore.ReasonNotJoined, "joining the chat with %s did not complete", contactTitle(ct))
			}
		case found != nil:
			id := parley.ConversationID(found.GetId())
			c.cryptoMu.Lock()
			err := c.joinExternal(ctx, id, parley.ConversationKind(found.GetKind()))
			c.cryptoMu.Unlock()
			return id, err
		default:
			id, err := c.createDirect(ctx, ct)
			if parley.IsCode(err, parley.CodeConflict) && attempt < 2 {
				continue // created by the other side meanwhile
			}
			return id, err
		}
	}
}

func (c *Client) localDirect(ctx context.Context, peer parley.UserID) (parley.ConversationID, bool) {
	chats, err := c.store.Chats(ctx)
	if err != nil {
		return "", false
	}
	for _, ch := range chats {
		if ch.Kind == parley.KindDirect && ch.Peer == peer {
			if _, err := c.store.Group(ctx, ch.ID); err == nil {
				return ch.ID, true
			}
		}
	}
	return "", false
}

func (c *Client) listConversations(ctx context.Context) ([]*parleypb.ConversationInfo, error) {
	f, err := c.request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_ListConversations{ListConversations: &parleypb.ListConversationsRequest{}}}, true)
	if err != nil {
		return nil, errorf("list conversations", err)
	}
	return f.GetConversations().GetConversations(), nil
}

// createDirect creates the direct conversation with ct: one MLS group whose
// leaves are every device of both users.
func (c *Client) createDirect(ctx context.Context, ct Contact) (parley.ConversationID, error) {
	acct := c.Account()
	users := []int64{int64(ct.User)}
	if ct.User != acct.User {
		users = append(users, int64(acct.User))
	}
	f, err := c.request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_ClaimKeyPackages{ClaimKeyPackages: &parleypb.ClaimKeyPackagesRequest{UserIds: users}}}, false)
	if err != nil {
		return "", errorf("claim key packages", err)
	}
	var adds [][]byte
	var members []*parleypb.AddedDevice
	peerDevices := 0
	for _, kp := range f.GetClaimedKeyPackages().GetKeyPackages() {
		if parley.DeviceID(kp.GetDeviceId()) == acct.Device {
			continue
		}
		if parley.UserID(kp.GetUserId()) == ct.User {
			peerDevices++
		}
		adds = append(adds, kp.GetKeyPackage().GetData())
		members = append(members, &parleypb.AddedDevice{UserId: kp.GetUserId(), DeviceId: kp.GetDeviceId()})
	}
	if peerDevices == 0 && ct.User != acct.User {
		return "", parley.Errorf(parley.CodeNotFound, ReasonNoDevices, "%s has no device that can receive messages", contactTitle(ct))
	}
	conv := parley.NewConversationID()
	c.cryptoMu.Lock()
	defer c.cryptoMu.Unlock()
	g, err := c.eng.CreateGroup([]byte(conv), c.identity(), c.validator(ctx))
	if err != nil {
		return "", fmt.Errorf("create group: %w", err)
	}
	pc, err := g.Commit(adds, nil, false, false)
	if err != nil {
		return "", fmt.Errorf("commit adds: %w", err)
	}
	r, err := c.request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_CreateConversation{CreateConversation: &parleypb.CreateConversationRequest{
		ConversationId: string(conv), Kind: string(parley.KindDirect), Members: members,
		Commit: pc.Commit, Welcome: pc.Welcome, GroupInfo: pc.GroupInfo, ClientId: string(parley.NewClientMessageID())}}}, false)
	if err != nil {
		return "", errorf("create conversation", err)
	}
	if err := g.MergePendingCommit(); err != nil {
		return "", fmt.Errorf("merge commit: %w", err)
	}
	var last parley.Seq
	for _, s := range r.GetAppended().GetSeqs() {
		last = max(last, parley.Seq(s))
	}
	chat := Chat{Kind: parley.KindDirect, Peer: ct.User, Title: contactTitle(ct)}
	if ct.User == acct.User {
		chat.Title = "me"
	}
	if err := c.saveGroup(ctx, conv, g, Applied{Chat: &chat, Seq: last}); err != nil {
		return "", err
	}
	c.emit(Event{Kind: EventConversation, Conversation: conv})
	return conv, nil
}

// joinExternal joins a conversation of this user by an MLS external commit
// from the server's GroupInfo. The caller holds cryptoMu.
func (c *Client) joinExternal(ctx context.Context, conv parley.ConversationID, kind parley.ConversationKind) error {
	return c.externalCommit(ctx, conv, kind, false)
}

// externalCommit joins conv by an external commit; with resync this device
// is a member already and rejoins in place of its old leaf (resync.go): the
// chat and its cursor stay as they are. The caller holds cryptoMu.
func (c *Client) externalCommit(ctx context.Context, conv parley.ConversationID, kind parley.ConversationKind, resync bool) error {
	acct := c.Account()
	for attempt := 0; ; attempt++ {
		f, err := c.request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_GroupInfo{GroupInfo: &parleypb.GroupInfoRequest{ConversationId: string(conv)}}}, true)
		if err != nil {
			return errorf("group info "+string(conv), err)
		}
		gi := f.GetGroupInfo()
		g, commit, newGI, newTree, err := c.eng.JoinExternal(gi.GetGroupInfo(), c.identity(), c.validator(ctx), nil, c.inlineTreeMembers(), resync)
		if errors.Is(err, errTreeNeeded) {
			// A large group: its tree is kept out of band.
			c.preloadGroupKeys(ctx, conv)
			tree, ferr := c.fetchTree(ctx, conv, parley.Epoch(gi.GetEpoch()))
			if ferr != nil {
				return ferr
			}
			g, commit, newGI, newTree, err = c.eng.JoinExternal(gi.GetGroupInfo(), c.identity(), c.validator(ctx), tree, c.inlineTreeMembers(), resync)
		}
		var payload []byte
		var commitRef parley.TreeRef
		if err == nil {
			payload, commitRef, err = c.commitPayload(ctx, conv, &pendingCommit{Commit: commit, GroupInfo: newGI})
		}
		if err != nil {
			return fmt.Errorf("external join %s: %w", conv, err)
		}
		ref, err := c.uploadTree(ctx, conv, newTree)
		if err != nil {
			return err
		}
		r, err := c.request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_Commit{Commit: &parleypb.CommitRequest{
			ConversationId: string(conv), Epoch: gi.GetEpoch(), Commit: payload, GroupInfo: newGI,
			Add: []*parleypb.AddedDevice{{UserId: int64(acct.User), DeviceId: int64(acct.Device)}}, External: true, Resync: resync,
			ClientId: string(parley.NewClientMessageID()), RatchetTreeRef: string(ref), CommitRef: string(commitRef)}}}, false)
		if parley.IsCode(err, parley.CodeConflict) && attempt < 3 {
			continue // another commit won the epoch: take the new GroupInfo
		}
		if err != nil {
			return errorf("external commit "+string(conv), err)
		}
		if resync {
			// The cursor stays: envelopes not processed yet still come,
			// and those of earlier epochs are kept as unreadable.
			var a Applied
			if _, err := c.store.Chat(ctx, conv); err != nil {
				chat := c.joinedChat(ctx, conv, g, kind)
				a.Chat = &chat
			}
			if err := c.saveGroup(ctx, conv, g, a); err != nil {
				return err
			}
			c.log.Info("rejoined a conversation whose state had broken", "conversation", conv, "epoch", g.Epoch())
			c.emit(Event{Kind: EventConversation, Conversation: conv})
			return nil
		}
		var last parley.Seq
		for _, s := range r.GetAppended().GetSeqs() {
			last = max(last, parley.Seq(s))
		}
		chat := c.joinedChat(ctx, conv, g, kind)
		if err := c.saveGroup(ctx, conv, g, Applied{Chat: &chat, Seq: last}); err != nil {
			return err
		}
		c.emit(Event{Kind: EventConversation, Conversation: conv})
		return nil
	}
}

// joinedChat describes a chat joined by external commit: a group's is
// titled with the group's name (as for a Welcome).
func (c *Client) joinedChat(ctx context.Context, conv parley.ConversationID, g group, kind parley.ConversationKind) Chat {
	if kind == parley.KindGroup {
		if chat, ok := c.groupChat(ctx, conv); ok {
			return chat
		}
	}
	return c.chatFor(ctx, g, kind) // a group stays a group if its name cannot be fetched
}

// joinMissing joins, by external commit, every conversation of this user
// that this device is not a member of (a newly linked device). A
// conversation that cannot be joined is skipped (SkippedChats); the error
// is a failure of this device or its connection (joinFatal).
func (c *Client) joinMissing(ctx context.Context) error {
	list, err := c.listConversations(ctx)
	if err != nil {
		return err
	}
	skipped, err := c.joinListed(ctx, list)
	c.setSkipped(skipped)
	for _, s := range skipped {
		c.log.Warn("skipped a conversation that cannot be joined", "conversation", s.Conversation, "err", s.Err)
	}
	return err
}

// joinListed joins the conversations list says this device is not in. It
// stops at the first fatal error (joinFatal) and returns the conversations
// it skipped.
func (c *Client) joinListed(ctx context.Context, list []*parleypb.ConversationInfo) ([]SkippedChat, error) {
	var skipped []SkippedChat
	for _, info := range list {
		if info.GetJoined() {
			continue
		}
		id := parley.ConversationID(info.GetId())
		c.cryptoMu.Lock()
		// The list may be stale: another joinMissing (a conversations-changed
		// signal racing the one LinkDevice runs) may have joined meanwhile,
		// and joining again would put this device in the tree twice.
		if g, err := c.loadGroup(ctx, id); err == nil && g != nil {
			c.cryptoMu.Unlock()
			continue
		}
		err := c.joinExternal(ctx, id, parley.ConversationKind(info.GetKind()))
		c.cryptoMu.Unlock()
		switch {
		case err == nil:
		case joinFatal(ctx, err):
			return skipped, err
		default:
			skipped = append(skipped, SkippedChat{Conversation: id, Err: err})
		}
	}
	return skipped, nil
}

// reconcileMembers commits the MLS removal of devices the server no longer
// lists as members (revoked devices). When several devices race, the first
// commit wins; the others get wrong_epoch, drop theirs and process the
// winner's.
func (c *Client) reconcileMembers(ctx context.Context, conv parley.ConversationID) error {
	list, err := c.listConversations(ctx)
	if err != nil {
		return err
	}
	var info *parleypb.ConversationInfo
	for _, i := range list {
		if i.GetId() == string(conv) {
			info = i
		}
	}
	if info == nil {
		return nil
	}
	c.cryptoMu.Lock()
	defer c.cryptoMu.Unlock()
	g, err := c.loadGroup(ctx, conv)
	if err != nil || g == nil {
		return err
	}
	var leaves []uint32
	var devices []int64
	for _, m := range g.Members() {
		if !slices.Contains(info.GetMemberDevices(), int64(m.Device)) {
			leaves = append(leaves, m.Leaf)
			devices = append(devices, int64(m.Device))
		}
	}
	if len(leaves) == 0 {
		return nil
	}
	pc, err := g.Commit(nil, leaves, c.outOfBand(len(g.Members())-len(leaves)), false)
	if err != nil {
		c.forgetGroup(conv)
		return fmt.Errorf("commit removal: %w", err)
	}
	payload, commitRef, err := c.commitPayload(ctx, conv, pc)
	if err != nil {
		c.forgetGroup(conv)
		return fmt.Errorf("commit removal: %w", err)
	}
	ref, err := c.uploadTree(ctx, conv, pc.Tree)
	if err != nil {
		c.forgetGroup(conv)
		return err
	}
	r, err := c.request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_Commit{Commit: &parleypb.CommitRequest{
		ConversationId: string(conv), Epoch: uint64(g.Epoch()), Commit: payload, GroupInfo: pc.GroupInfo,
		Remove: devices, ClientId: string(parley.NewClientMessageID()), RatchetTreeRef: string(ref), CommitRef: string(commitRef)}}}, false)
	if err != nil {
		c.forgetGroup(conv)
		if parley.IsCode(err, parley.CodeConflict) {
			return nil // another device won; its commit comes through the log
		}
		return errorf("commit removal", err)
	}
	if err := g.MergePendingCommit(); err != nil {
		c.forgetGroup(conv)
		return fmt.Errorf("merge removal: %w", err)
	}
	if err := c.saveGroup(ctx, conv, g, Applied{}); err != nil {
		return err
	}
	c.advanceOwn(ctx, conv, r.GetAppended().GetSeqs())
	c.emit(Event{Kind: EventConversation, Conversation: conv})
	return nil
}

// Sync waits until the envelopes the server had for this device when Sync
// was called are processed: every joined conversation's cursor reaches the
// server's last sequence number, or nothing has arrived for a short quiet
// period (envelopes addressed to other devices leave gaps).
func (c *Client) Sync(ctx context.Context) error {
	list, err := c.listConversations(ctx)
	if err != nil {
		return err
	}
	c.applyPositions(ctx, list)
	const quiet = 400 * time.Millisecond
	deadline := time.Now().Add(quiet)
	for {
		behind := false
		for _, info := range list {
			if !info.GetJoined() {
				continue
			}
			chat, err := c.store.Chat(ctx, parley.ConversationID(info.GetId()))
			if err != nil || chat.Cursor < parley.Seq(info.GetLastSeq()) {
				behind = true
				break
			}
		}
		idle := c.inbox.Len() == 0 && !c.busy.Load()
		if !behind && idle {
			return nil
		}
		c.mu.Lock()
		progress := c.progress
		c.mu.Unlock()
		wait := time.Until(deadline)
		if wait <= 0 && idle {
			return nil
		}
		t := time.NewTimer(max(wait, time.Millisecond))
		select {
		case <-progress:
			deadline = time.Now().Add(quiet)
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return &parley.Error{Code: parley.CodeUnavailable, Reason: conn.ReasonTimeout, Message: "catching up with the server took too long", Err: ctx.Err()}
		}
		t.Stop()
	}
}

// Chats lists this device's chats, most recently active first. A direct
// chat in which nothing has been said yet, with someone who is not in this
// user's contacts, is left out until its first message: a chat a stranger
// opened, or one created to carry a broadcast copy the server withheld
// (the recipient has not saved the sender), shows nothing.
func (c *Client) Chats(ctx context.Context) ([]Chat, error) {
	chats, err := c.store.Chats(ctx)
	if err != nil {
		return nil, storeErr(err)
	}
	me, out := c.Account().User, chats[:0]
	for _, ch := range chats {
		if ch.Kind == parley.KindDirect && ch.LastText == "" && ch.Unread == 0 && !ch.Pinned && !ch.Archived && ch.Peer != me {
			if ct, err := c.store.Contact(ctx, ch.Peer); err != nil || !ct.Contact {
				continue
			}
		}
		out = append(out, ch)
	}
	return out, nil
}

// Chat resolves a chat reference: a conversation id, "+E164", "@username"
// or user id (the direct chat with that person). CodeNotFound if there is
// no such chat on this device.
func (c *Client) Chat(ctx context.Context, ref string) (Chat, error) {
	id, err := c.resolveChat(ctx, ref, false)
	if err != nil {
		return Chat{}, err
	}
	ch, err := c.store.Chat(ctx, id)
	return ch, storeErr(err)
}

// OpenChat returns the chat addressed by ref as Chat does, creating the
// direct chat with a person ("+E164", "@username", user id) when there is
// none yet, so that a chat can be opened before its first message. The
// person's devices are added to the new chat's MLS group (they see an
// empty chat with this user); nothing else is sent.
func (c *Client) OpenChat(ctx context.Context, ref string) (Chat, error) {
	if err := c.Sync(ctx); err != nil {
		return Chat{}, err
	}
	id, err := c.resolveChat(ctx, ref, true)
	if err != nil {
		return Chat{}, err
	}
	ch, err := c.store.Chat(ctx, id)
	return ch, storeErr(err)
}

// History returns the last limit messages of a chat (all when limit <= 0),
// oldest first.
func (c *Client) History(ctx context.Context, ref string, limit int) (Chat, []MessageRecord, error) {
	ch, err := c.Chat(ctx, ref)
	if err != nil {
		return ch, nil, err
	}
	ms, err := c.store.Messages(ctx, ch.ID, limit)
	if err == nil {
		err = c.businessOf(ctx, ms) // business.go
	}
	return ch, ms, storeErr(err)
}

// MarkRead marks a chat read up to its latest message: the server sends a
// read receipt to the other members and to this user's other devices.
// It returns the sequence number marked.
func (c *Client) MarkRead(ctx context.Context, ref string) (parley.Seq, error) {
	ch, err := c.Chat(ctx, ref)
	if err != nil {
		return 0, err
	}
	ms, err := c.store.Messages(ctx, ch.ID, 1)
	if err != nil {
		return 0, storeErr(err)
	}
	seq := ch.Cursor
	if len(ms) > 0 {
		seq = max(seq, ms[len(ms)-1].Seq)
	}
	if seq == 0 {
		return 0, nil
	}
	if _, err := c.request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_Read{Read: &parleypb.ReadRequest{ConversationId: string(ch.ID), Seq: int64(seq)}}}, true); err != nil {
		return 0, errorf("mark read", err)
	}
	return seq, storeErr(c.store.MarkRead(ctx, ch.ID, seq))
}

// Typing tells the other members of a chat that this user is (or stopped)
// typing. Best effort: never stored.
func (c *Client) Typing(ctx context.Context, ref string, typing bool) error {
	ch, err := c.Chat(ctx, ref)
	if err != nil {
		return err
	}
	s, err := c.session(ctx, true)
	if err != nil {
		return err
	}
	return s.Send(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_Typing{Typing: &parleypb.Typing{ConversationId: string(ch.ID), Typing: typing}}})
}

// Members returns the devices in a chat's MLS group as this device sees it.
func (c *Client) Members(ctx context.Context, ref string) ([]DeviceKey, error) {
	ch, err := c.Chat(ctx, ref)
	if err != nil {
		return nil, err
	}
	c.cryptoMu.Lock()
	defer c.cryptoMu.Unlock()
	g, err := c.loadGroup(ctx, ch.ID)
	if err != nil || g == nil {
		return nil, parley.Errorf(parley.CodeNotFound, localstore.ReasonNotJoined, "this device is not in chat %s", ch.ID)
	}
	var out []DeviceKey
	for _, m := range g.Members() {
		out = append(out, DeviceKey{Device: m.Device, User: m.User, IdentityKey: m.SignatureKey})
	}
	return out, nil
}
