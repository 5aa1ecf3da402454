package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client/localstore"
	"github.com/parleyhq/parley/content"
	"github.com/parleyhq/parley/proto/parleypb"
)

// processLoop handles pushed frames one at a time, in arrival order, which
// is log order within each conversation.
func (c *Client) processLoop() {
	defer c.wg.Done()
	for {
		f := c.inbox.Pop()
		if f == nil {
			return
		}
		c.busy.Store(true)
		c.handlePush(f)
		c.busy.Store(false)
		c.markProgress()
	}
}

func (c *Client) handlePush(f *parleypb.ServerFrame) {
	ctx := c.ctx
	switch {
	case f.GetEnvelope() != nil:
		c.handleEnvelope(ctx, f.GetEnvelope())
	case f.GetReceipt() != nil:
		c.handleReceipt(ctx, f.GetReceipt())
	case f.GetTyping() != nil:
		t := f.GetTyping()
		c.emit(Event{Kind: EventTyping, Conversation: parley.ConversationID(t.GetConversationId()),
			Typing: &Typing{User: parley.UserID(t.GetUserId()), Typing: t.GetTyping()}})
	case f.GetPresence() != nil:
		p := f.GetPresence()
		ev := &Presence{User: parley.UserID(p.GetUserId()), Online: p.GetOnline()}
		if p.GetLastSeenMs() != 0 {
			ev.LastSeen = time.UnixMilli(p.GetLastSeenMs())
		}
		c.emit(Event{Kind: EventPresence, Presence: ev})
	case f.GetCallEvent() != nil || f.GetCallSignal() != nil:
		c.HandleCallFrame(f)
	case f.GetKeyPackagesLow() != nil:
		if err := c.replenishKeyPackages(ctx, int(f.GetKeyPackagesLow().GetOneTimeLeft())); err != nil && ctx.Err() == nil {
			c.log.Warn("replenish key packages", "err", err)
		}
	case f.GetConversationsChanged() != nil:
		for _, id := range f.GetConversationsChanged().GetConversationIds() {
			c.emit(Event{Kind: EventConversation, Conversation: parley.ConversationID(id)})
		}
		if err := c.joinMissing(ctx); err != nil && ctx.Err() == nil {
			c.log.Warn("join conversations", "err", err)
		}
	}
}

// handleEnvelope processes one envelope and acknowledges it once its effect
// is stored. Envelopes at or below the conversation's cursor were processed
// before (the server delivers at least once) and are only acknowledged.
func (c *Client) handleEnvelope(ctx context.Context, env *parleypb.Envelope) {
	conv, seq := parley.ConversationID(env.GetConversationId()), parley.Seq(env.GetSeq())
	c.cryptoMu.Lock()
	chat, err := c.store.Chat(ctx, conv)
	if err == nil && seq <= chat.Cursor {
		c.cryptoMu.Unlock()
		c.ack(conv, seq)
		return
	}
	kind := parley.EnvelopeKind(env.GetKind())
	err = c.applyEnvelope(ctx, env)
	c.cryptoMu.Unlock()
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		var pe *parley.Error
		if errors.As(err, &pe) && (pe.Code == parley.CodeInternal && pe.Reason == localstore.ReasonFailed || pe.Reason == reasonRulesUnavailable) {
			// Not stored: leave it unacknowledged so it comes again.
			c.log.Error("store envelope", "conversation", conv, "seq", seq, "err", err)
			return
		}
		c.log.Warn("drop envelope", "conversation", conv, "seq", seq, "kind", kind, "err", err)
		if c.needsResync(ctx, env) { // resync.go
			c.scheduleResync(conv)
		}
		a := Applied{Conversation: conv, Seq: seq}
		if kind == parley.EnvelopeApplication {
			// Keep a visible trace of a message this device cannot read.
			a.Message = &MessageRecord{Conversation: conv, Seq: seq, ClientID: parley.ClientMessageID(env.GetClientId()),
				Sender: parley.UserID(env.GetSenderUser()), SenderDevice: parley.DeviceID(env.GetSenderDevice()),
				Outgoing: parley.UserID(env.GetSenderUser()) == c.Account().User, Kind: KindUndecryptable,
				SentAt: time.UnixMilli(env.GetSentMs()), StoredAt: c.clock.Now(), Status: StatusReceived}
		}
		if serr := c.store.Apply(ctx, a); serr != nil {
			return
		}
		if a.Message != nil {
			c.emit(Event{Kind: EventMessage, Conversation: conv, Message: a.Message})
		}
	}
	c.ack(conv, seq)
	if kind == parley.EnvelopeSystem {
		if err := c.reconcileMembers(ctx, conv); err != nil && ctx.Err() == nil {
			c.log.Warn("remove departed devices", "conversation", conv, "err", err)
		}
	}
}

// storeErr wraps a local store failure (localstore.Failed).
func storeErr(err error) error { return localstore.Failed(err) }

func (c *Client) applyEnvelope(ctx context.Context, env *parleypb.Envelope) error {
	acct := c.Account()
	conv, seq := parley.ConversationID(env.GetConversationId()), parley.Seq(env.GetSeq())
	fromMe := parley.DeviceID(env.GetSenderDevice()) == acct.Device
	switch parley.EnvelopeKind(env.GetKind()) {
	case parley.EnvelopeWelcome:
		if g, _ := c.loadGroup(ctx, conv); g != nil || fromMe {
			return storeErr(c.store.Apply(ctx, Applied{Conversation: conv, Seq: seq}))
		}
		kps, err := c.store.KeyPackages(ctx)
		if err != nil {
			return storeErr(err)
		}
		g, used, err := c.eng.JoinFromWelcome(env.GetPayload(), c.identity(), kps, c.validator(ctx), nil)
		if errors.Is(err, errTreeNeeded) {
			// A large group: its tree is kept out of band (trees.go).
			c.preloadGroupKeys(ctx, conv)
			tree, ferr := c.fetchTree(ctx, conv, parley.Epoch(env.GetEpoch()))
			if ferr != nil {
				return fmt.Errorf("join %s from welcome: %w", conv, ferr)
			}
			g, used, err = c.eng.JoinFromWelcome(env.GetPayload(), c.identity(), kps, c.validator(ctx), tree)
		}
		if errors.Is(err, errNotForMe) {
			return storeErr(c.store.Apply(ctx, Applied{Conversation: conv, Seq: seq}))
		}
		if err != nil {
			return fmt.Errorf("join %s from welcome: %w", conv, err)
		}
		chat := c.welcomeChat(ctx, conv, g) // group.go: a group chat is titled with its name
		var line *MessageRecord             // "Ann added you" (groups.Lines)
		if chat.Kind == parley.KindGroup {
			line = c.lines(ctx).Join(env)
		}
		if err := c.saveGroup(ctx, conv, g, Applied{Seq: seq, Chat: &chat, UsedKeyPackage: used, Message: line}); err != nil {
			return err
		}
		c.emit(Event{Kind: EventConversation, Conversation: conv})
		return nil

	case parley.EnvelopeCommit, parley.EnvelopeProposal:
		g, err := c.loadGroup(ctx, conv)
		if err != nil || g == nil {
			return storeErr(c.store.Apply(ctx, Applied{Conversation: conv, Seq: seq}))
		}
		if parley.Epoch(env.GetEpoch()) < g.Epoch() || fromMe {
			// Applied already: our own commit (merged when the server
			// accepted it) or one from before we joined.
			return storeErr(c.store.Apply(ctx, Applied{Conversation: conv, Seq: seq}))
		}
		msg, err := c.largeCommit(ctx, conv, parley.Epoch(env.GetEpoch()), env.GetPayload()) // trees.go: a commit sent out of band
		if err != nil {
			return err
		}
		g.SetCommitPolicy(c.commitRules(ctx, conv, g)) // commit_rules.go
		before := g.Members()
		p, err := g.Process(msg)
		g.SetCommitPolicy(nil)
		if err != nil {
			c.forgetGroup(conv)
			if refused := commitRefusal(err); refused != nil {
				c.emit(Event{Kind: EventCommitRefused, Conversation: conv, Err: refused})
				return fmt.Errorf("refuse commit %s/%d: %w", conv, seq, refused)
			}
			return fmt.Errorf("process commit %s/%d: %w", conv, seq, err)
		}
		if p.Removed {
			c.forgetGroup(conv)
			if err := c.store.DeleteGroup(ctx, conv); err != nil {
				return storeErr(err)
			}
			c.emit(Event{Kind: EventConversation, Conversation: conv})
			return storeErr(c.store.Apply(ctx, Applied{Conversation: conv, Seq: seq}))
		}
		line := c.lines(ctx).Commit(env, p.Sender, before, g.Members()) // "Ann added Bob"
		if err := c.saveGroup(ctx, conv, g, Applied{Seq: seq, Message: line}); err != nil {
			return err
		}
		if line != nil {
			c.emit(Event{Kind: EventMessage, Conversation: conv, Message: line})
		}
		if p.Commit {
			c.emit(Event{Kind: EventConversation, Conversation: conv})
		}
		return nil

	case parley.EnvelopeApplication:
		if fromMe {
			// Our own message coming back: it is stored already.
			if err := c.store.MarkSent(ctx, conv, parley.ClientMessageID(env.GetClientId()), seq); err != nil {
				return storeErr(err)
			}
			return storeErr(c.store.Apply(ctx, Applied{Conversation: conv, Seq: seq}))
		}
		g, err := c.loadGroup(ctx, conv)
		if err != nil || g == nil {
			return fmt.Errorf("message for %s, which this device has not joined", conv)
		}
		p, err := g.Process(env.GetPayload())
		if err != nil {
			c.forgetGroup(conv)
			return fmt.Errorf("decrypt %s/%d: %w", conv, seq, err)
		}
		u, d, err := parseCredential(p.Sender)
		if err != nil || u != parley.UserID(env.GetSenderUser()) || d != parley.DeviceID(env.GetSenderDevice()) {
			c.forgetGroup(conv)
			return fmt.Errorf("decrypt %s/%d: sender %q does not match the envelope's %d:%d", conv, seq, p.Sender, env.GetSenderUser(), env.GetSenderDevice())
		}
		b, err := content.Decode(p.Application)
		if err != nil {
			c.forgetGroup(conv)
			return fmt.Errorf("decode %s/%d: %w", conv, seq, err)
		}
		if done, err := c.applyKind(ctx, conv, seq, u, d, b); err != nil || done { // kinds.go
			if err != nil {
				c.forgetGroup(conv)
				return err
			}
			// A control message: no message to store.
			if err := c.saveGroup(ctx, conv, g, Applied{Seq: seq}); err != nil {
				return err
			}
			if content.IsControl(b.Kind) && b.Ext != nil && b.Ext.Target > 0 {
				c.emit(Event{Kind: EventExtras, Conversation: conv, Target: b.Ext.Target})
			}
			return nil
		}
		m := &MessageRecord{
			Conversation: conv, Seq: seq, ClientID: parley.ClientMessageID(env.GetClientId()),
			Sender: u, SenderDevice: d, Outgoing: u == acct.User, Kind: b.Kind, Text: b.Text,
			Media: b.Media, Forwarded: b.Fwd, SentAt: time.UnixMilli(b.SentAt), StoredAt: c.clock.Now(), Status: StatusReceived,
		}
		if m.Outgoing {
			m.Status = StatusSent
		}
		if b.Ext != nil {
			m.Business = b.Ext.Biz // validated by decodeBody
		}
		if err := c.saveGroup(ctx, conv, g, Applied{Seq: seq, Message: m}); err != nil {
			return err
		}
		c.emit(Event{Kind: EventMessage, Conversation: conv, Message: m})
		return nil

	case parley.EnvelopeSystem:
		// Roles or members may have changed (commit_rules.go).
		c.forgetRules(conv)
		if err := c.noteSystem(ctx, conv, env.GetPayload()); err != nil { // kinds.go: disappearing-messages timer
			return err
		}
		m := c.systemRecord(ctx, env) // group_changes.go: a history line for a group change
		if err := c.store.Apply(ctx, Applied{Conversation: conv, Seq: seq, Message: m}); err != nil {
			return storeErr(err)
		}
		if m != nil {
			c.emit(Event{Kind: EventMessage, Conversation: conv, Message: m})
		}
		return nil
	}
	return fmt.Errorf("unknown envelope kind %d", env.GetKind())
}

// ack acknowledges a conversation up to seq on the current session, if any;
// without one the server delivers the envelope again and the cursor drops it.
func (c *Client) ack(conv parley.ConversationID, seq parley.Seq) {
	c.mu.Lock()
	s := c.sess
	c.mu.Unlock()
	if s == nil || s.Authed == nil {
		return
	}
	_ = s.Send(c.ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_Ack{Ack: &parleypb.Ack{ConversationId: string(conv), Seq: int64(seq)}}})
}

func (c *Client) handleReceipt(ctx context.Context, r *parleypb.Receipt) {
	conv := parley.ConversationID(r.GetConversationId())
	ev := c.applyReceipt(ctx, r)
	c.emit(Event{Kind: EventReceipt, Conversation: conv, Receipt: ev})
}

// applyPositions applies the receipt positions of a ListConversations
// answer as if the receipts had arrived live (a device that was offline
// missed them). Statuses only rise, so applying a position again is
// harmless. A receipt event is emitted only for positions that changed a
// message's status.
func (c *Client) applyPositions(ctx context.Context, list []*parleypb.ConversationInfo) {
	for _, info := range list {
		conv := parley.ConversationID(info.GetId())
		for _, rs := range [][]*parleypb.Receipt{info.GetDelivered(), info.GetRead()} {
			for _, r := range rs {
				if r.GetConversationId() != string(conv) {
					continue
				}
				if ev := c.applyReceipt(ctx, r); len(ev.Updated) > 0 {
					c.emit(Event{Kind: EventReceipt, Conversation: conv, Receipt: ev})
				}
			}
		}
	}
}

// applyReceipt updates the local store for a receipt: another user's
// delivered or read receipt raises the status of this user's messages, this
// user's own read receipt (from another of its devices) marks incoming
// messages read.
func (c *Client) applyReceipt(ctx context.Context, r *parleypb.Receipt) *Receipt {
	acct := c.Account()
	conv := parley.ConversationID(r.GetConversationId())
	ev := &Receipt{Kind: parley.ReceiptKind(r.GetKind()), User: parley.UserID(r.GetUserId()), Device: parley.DeviceID(r.GetDeviceId()),
		Seq: parley.Seq(r.GetSeq())}
	if r.GetAtMs() != 0 {
		ev.At = time.UnixMilli(r.GetAtMs())
	}
	var err error
	switch {
	case ev.User != acct.User && ev.Kind == parley.ReceiptDelivered:
		ev.Updated, err = c.store.RaiseStatus(ctx, conv, ev.Seq, StatusDelivered)
	case ev.User != acct.User && ev.Kind == parley.ReceiptRead:
		ev.Updated, err = c.store.RaiseStatus(ctx, conv, ev.Seq, StatusRead)
	case ev.User == acct.User && ev.Kind == parley.ReceiptRead:
		err = c.store.MarkRead(ctx, conv, ev.Seq)
	}
	if err == nil && ev.User != acct.User { // per member, for Message info
		err = c.Tools().NoteReceipt(ctx, conv, ev.User, ev.Kind, ev.Seq, ev.At)
	}
	if err != nil {
		c.log.Warn("store receipt", "conversation", conv, "err", err)
	}
	return ev
}

// identity returns this device's MLS identity.
func (c *Client) identity() identity {
	a := c.Account()
	return identity{Credential: credentialFor(a.User, a.Device), SigPriv: a.SigPriv, SigPub: a.SigPub}
}

// loadGroup returns the conversation's group, or nil if this device has
// none. The caller holds cryptoMu.
func (c *Client) loadGroup(ctx context.Context, conv parley.ConversationID) (group, error) {
	if g := c.groups[conv]; g != nil {
		return g, nil
	}
	state, err := c.store.Group(ctx, conv)
	if parley.IsCode(err, parley.CodeNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, storeErr(err)
	}
	g, err := c.eng.LoadGroup(state, c.identity(), c.validator(ctx))
	if err != nil {
		return nil, fmt.Errorf("load group %s: %w", conv, err)
	}
	c.groups[conv] = g
	return g, nil
}

// forgetGroup drops the in-memory group so the next use reloads the stored
// state (after a failed or abandoned operation).
func (c *Client) forgetGroup(conv parley.ConversationID) { delete(c.groups, conv) }

// saveGroup stores g's state together with the rest of a.
func (c *Client) saveGroup(ctx context.Context, conv parley.ConversationID, g group, a Applied) error {
	state, err := g.MarshalState()
	if err != nil {
		c.forgetGroup(conv)
		return fmt.Errorf("save group %s: %w", conv, err)
	}
	a.Conversation, a.Group, a.Epoch = conv, state, g.Epoch()
	if err := c.store.Apply(ctx, a); err != nil {
		c.forgetGroup(conv)
		return storeErr(err)
	}
	c.groups[conv] = g
	return nil
}

// chatFor describes a group's chat from its members: a direct chat's peer is
// the one other user (this user for notes to self).
func (c *Client) chatFor(ctx context.Context, g group, kind parley.ConversationKind) Chat {
	me := c.Account().User
	chat := Chat{Kind: kind, Peer: me}
	for _, m := range g.Members() {
		if m.User != me {
			chat.Peer = m.User
			break
		}
	}
	if ct, err := c.store.Contact(ctx, chat.Peer); err == nil {
		chat.Title = contactTitle(ct)
	} else if chat.Peer != me {
		if ct, err := c.lookupUser(ctx, &parleypb.ResolveRequest{Who: &parleypb.ResolveRequest_UserId{UserId: int64(chat.Peer)}}); err == nil {
			chat.Title = contactTitle(ct)
		}
	} else {
		chat.Title = "me"
	}
	return chat
}

func contactTitle(ct Contact) string {
	switch {
	case ct.Username != "":
		return "@" + ct.Username
	case ct.Phone != "":
		return ct.Phone
	case ct.Name != "":
		return ct.Name
	}
	return ct.User.String()
}

// validator checks member credentials against the identity keys the server
// publishes for devices, fetching (and caching) them as needed. Groups keep
// their validator, so it uses the client's context, not the caller's.
func (c *Client) validator(context.Context) validator {
	ctx := c.ctx
	return func(credential string, sigKey []byte) error {
		u, d, err := parseCredential(credential)
		if err != nil {
			return err
		}
		for _, force := range []bool{false, true} {
			keys, err := c.deviceKeys(ctx, u, force)
			if err != nil {
				return fmt.Errorf("validate %s: %w", credential, err)
			}
			for _, k := range keys {
				if k.Device == d {
					if !bytes.Equal(k.IdentityKey, sigKey) {
						return parley.Errorf(parley.CodeForbidden, ReasonBadCredential, "device %s: signature key does not match its published identity key", credential)
					}
					return nil
				}
			}
		}
		return parley.Errorf(parley.CodeForbidden, ReasonUnknownDevice, "device %s is not a device of user %d", credential, u)
	}
}

const deviceKeysTTL = 2 * time.Minute

// deviceKeys returns the user's devices with identity keys (cached).
func (c *Client) deviceKeys(ctx context.Context, u parley.UserID, force bool) ([]DeviceKey, error) {
	c.keysMu.Lock()
	k, ok := c.keys[u]
	c.keysMu.Unlock()
	if ok && !force && c.clock.Now().Sub(k.at) < deviceKeysTTL {
		return k.keys, nil
	}
	var keys []DeviceKey
	if u == c.Account().User {
		f, err := c.request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_ListDevices{ListDevices: &parleypb.ListDevicesRequest{}}}, true)
		if err != nil {
			return nil, err
		}
		keys = deviceKeysFrom(u, f.GetDevices().GetDevices())
	} else {
		ct, err := c.lookupUser(ctx, &parleypb.ResolveRequest{Who: &parleypb.ResolveRequest_UserId{UserId: int64(u)}})
		if parley.IsCode(err, parley.CodeNotFound) {
			// A member who has left a group we share (group.go).
			ct.Devices, err = c.groupUserKeys(ctx, u)
		}
		if err != nil {
			return nil, err
		}
		keys = ct.Devices
	}
	c.keysMu.Lock()
	c.keys[u] = deviceKeys{at: c.clock.Now(), keys: keys}
	c.keysMu.Unlock()
	return keys, nil
}

func deviceKeysFrom(u parley.UserID, ds []*parleypb.DeviceInfo) []DeviceKey {
	var out []DeviceKey
	for _, d := range ds {
		k := DeviceKey{Device: parley.DeviceID(d.GetId()), User: u, Name: d.GetName(), Primary: d.GetPrimary(),
			IdentityKey: d.GetIdentityKey(), Revoked: d.GetRevokedMs() != 0}
		if d.GetCreatedMs() != 0 {
			k.CreatedAt = time.UnixMilli(d.GetCreatedMs())
		}
		out = append(out, k)
	}
	return out
}
