package gateway

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"github.com/gobwas/ws"
	"google.golang.org/protobuf/proto"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/accounts"
	"github.com/parleyhq/parley/clientip"
	"github.com/parleyhq/parley/delivery"
	"github.com/parleyhq/parley/proto/parleypb"
	"github.com/parleyhq/parley/wire"
)

// Accounts is what the gateway needs of the accounts service
// (*accounts.Service implements it).
type Accounts interface {
	Register(ctx context.Context, phone, name string) (accounts.RegisterResult, error)
	Verify(ctx context.Context, p accounts.VerifyParams) (accounts.Credentials, error)
	Authenticate(ctx context.Context, id parley.DeviceID, secret []byte) (parley.Device, error)
	NewLinkCode(ctx context.Context, primary parley.Device) (string, time.Duration, error)
	LinkDevice(ctx context.Context, code string, identityKey []byte, name string) (accounts.Credentials, error)
	Devices(ctx context.Context, user parley.UserID) ([]parley.Device, error)
	RemoveDevice(ctx context.Context, by parley.Device, id parley.DeviceID) ([]parley.ConversationID, error)
	SetUsername(ctx context.Context, user parley.UserID, username string) error
	SetPrivacy(ctx context.Context, user parley.UserID, p parley.Privacy) error
	SetPIN(ctx context.Context, user parley.UserID, pin, oldPIN string) error
	SetProfile(ctx context.Context, user parley.UserID, name, about *string) error
	SetPhoto(ctx context.Context, user parley.UserID, photo []byte) (string, error)
	Photo(ctx context.Context, viewer, owner parley.UserID) ([]byte, string, error)
	Resolve(ctx context.Context, viewer parley.UserID, q accounts.Query) (accounts.Profile, error)
	AddContact(ctx context.Context, owner, other parley.UserID) error
	RemoveContact(ctx context.Context, owner, other parley.UserID) error
	Block(ctx context.Context, blocker, blocked parley.UserID) error
	Unblock(ctx context.Context, blocker, blocked parley.UserID) error
}

var okFrame = func() *parleypb.ServerFrame {
	return &parleypb.ServerFrame{Body: &parleypb.ServerFrame_Ok{Ok: &parleypb.OK{}}}
}

// handle runs one client frame. It returns false when the session must end.
func (s *session) handle(f *parleypb.ClientFrame) bool {
	id := f.GetId()
	if s.state == stateNew {
		h := f.GetHello()
		if h == nil {
			s.protocolError(id, ReasonHelloRequired, "the first frame must be hello")
			return false
		}
		return s.hello(id, h)
	}
	switch b := f.Body.(type) {
	case nil:
		s.protocolError(id, ReasonEmptyFrame, "the frame has no body")
		return false
	case *parleypb.ClientFrame_Hello:
		s.protocolError(id, ReasonHelloRepeated, "hello was already sent")
		return false
	case *parleypb.ClientFrame_Ping:
		s.reply(id, &parleypb.ServerFrame{Body: &parleypb.ServerFrame_Pong{Pong: &parleypb.Pong{
			ClientTimeMs: b.Ping.GetClientTimeMs(), ServerTimeMs: s.g.clock.Now().UnixMilli(),
		}}})
		return true
	case *parleypb.ClientFrame_Register, *parleypb.ClientFrame_Verify, *parleypb.ClientFrame_LinkDevice:
		s.accountRequest(id, f)
		return true
	case *parleypb.ClientFrame_Auth:
		return s.auth(id, b.Auth)
	}
	if s.state != stateAuthed {
		s.sendErrorIfID(id, parleypb.ErrorCode_UNAUTHENTICATED, ReasonAuthRequired, "authenticate first", 0)
		return true
	}
	s.authedRequest(id, f)
	return true
}

// offStack runs f, which may call deep into the store, on a short-lived
// goroutine and waits for it. The session's reader goroutine spends an
// idle connection's life parked in a read; a stack it grew once (the SQLite
// driver's call chains need tens of KiB) would stay allocated until the
// garbage collector shrinks it, which takes several cycles: with 15,000
// connections that is most of their memory.
func offStack(f func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	<-done
}

func (s *session) sendErrorIfID(id uint64, code parleypb.ErrorCode, reason, msg string, retry time.Duration) {
	if id != 0 {
		s.sendError(id, code, reason, msg, retry)
	}
}

// hello negotiates the protocol version.
func (s *session) hello(id uint64, h *parleypb.Hello) bool {
	var v uint32
	for _, x := range h.GetVersions() {
		if x <= ProtocolVersion && x >= 1 && x > v {
			v = x
		}
	}
	if v == 0 {
		s.sendError(id, parleypb.ErrorCode_UNSUPPORTED_VERSION, ReasonUnsupportedVersion, "this server speaks protocol version 1", 0)
		s.closeWith(CloseUnsupportedVersion, ReasonUnsupportedVersion)
		return false
	}
	s.state = stateHello
	hb := s.g.cfg.HeartbeatInterval
	// HelloOK is sent even for a hello with id 0.
	s.enqueue(outFrame{op: ws.OpBinary, kind: outReply, b: mustMarshal(&parleypb.ServerFrame{Id: id, Body: &parleypb.ServerFrame_HelloOk{HelloOk: &parleypb.HelloOK{
		Version:          v,
		ServerTimeMs:     s.g.clock.Now().UnixMilli(),
		MaxFrameBytes:    uint32(s.g.cfg.MaxFrameBytes),
		HeartbeatSeconds: uint32(max(1, (hb+time.Second-1)/time.Second)),
		DeliveryWindow:   uint32(s.g.deliveryWindow),
	}}})})
	return true
}

func mustMarshal(f *parleypb.ServerFrame) []byte {
	b, err := proto.Marshal(f)
	if err != nil {
		panic("gateway: marshal: " + err.Error())
	}
	return b
}

// auth authenticates the session's device and attaches its stream.
func (s *session) auth(id uint64, a *parleypb.AuthRequest) bool {
	if s.state == stateAuthed {
		s.sendErrorIfID(id, parleypb.ErrorCode_PROTOCOL, ReasonAlreadyAuthenticated, "the session is already authenticated", 0)
		return true
	}
	// The accounts service limits failed attempts per address and per
	// device; valid credentials always pass.
	dev, err := s.g.acc.Authenticate(s.clientCtx(), parley.DeviceID(a.GetDeviceId()), a.GetSecret())
	if err != nil {
		if parley.IsCode(err, parley.CodeRateLimited) {
			s.replyErr(id, err)
			s.closeWith(CloseAuthFailed, ReasonRateLimited)
			return false
		}
		if parley.IsCode(err, parley.CodeUnauthenticated) {
			s.sendError(id, parleypb.ErrorCode_UNAUTHENTICATED, parley.ErrorReason(err), parley.ErrorMessage(err), 0)
			if parley.ErrorReason(err) == "device_revoked" {
				s.closeWith(CloseDeviceRevoked, parley.ReasonDeviceRevoked)
			} else {
				s.closeWith(CloseAuthFailed, parley.ReasonBadCredentials)
			}
			return false
		}
		if parley.IsCode(err, parley.CodeForbidden) { // the account is suspended
			s.replyErr(id, err)
			s.closeWith(CloseAuthFailed, parley.ErrorReason(err))
			return false
		}
		s.replyErr(id, err)
		s.closeWith(CloseInternal, ReasonInternal)
		return false
	}
	n, err := s.g.del.KeyPackageCount(s.ctx, dev.ID)
	if err != nil {
		s.replyErr(id, err)
		s.closeWith(CloseInternal, ReasonInternal)
		return false
	}
	// The session counts as the device's (and stops holding an
	// unauthenticated slot) before the client hears it is authenticated.
	s.dev = dev
	for _, old := range s.g.authenticated(s, dev.ID) {
		s.g.stats.replaced.Add(1)
		old.closeWith(CloseSessionReplaced, ReasonSessionReplaced)
	}
	s.log(slog.LevelDebug, "session authenticated") // the record carries user and device from here on
	// The reply is queued before the stream can push anything.
	s.reply(id, &parleypb.ServerFrame{Body: &parleypb.ServerFrame_Auth{Auth: &parleypb.AuthResponse{
		UserId: int64(dev.User), DeviceId: int64(dev.ID), KeyPackages: uint32(n),
	}}})
	st, err := s.g.del.Attach(s.ctx, dev, s)
	if err != nil {
		code := parley.ErrorCode(err)
		s.replyErr(0, err)
		s.sendError(0, wireCode(code), parley.ErrorReason(err), parley.ErrorMessage(err), 0)
		s.closeWith(CloseInternal, ReasonAttachFailed)
		return false
	}
	s.stream = st
	return true
}

// clientCtx is the session's context carrying the client's address, for
// the account requests whose limits are kept per address.
func (s *session) clientCtx() context.Context { return clientip.With(s.ctx, s.addr) }

// accountRequest handles register, verify and link_device.
func (s *session) accountRequest(id uint64, f *parleypb.ClientFrame) {
	ctx := s.clientCtx()
	switch b := f.Body.(type) {
	case *parleypb.ClientFrame_Register:
		res, err := s.g.acc.Register(ctx, b.Register.GetPhone(), b.Register.GetName())
		if err != nil {
			s.replyErr(id, err)
			return
		}
		s.reply(id, &parleypb.ServerFrame{Body: &parleypb.ServerFrame_Register{Register: &parleypb.RegisterResponse{
			Phone: res.Phone, ExpiresInSeconds: uint32(res.ExpiresIn / time.Second), ResendAfterSeconds: uint32(res.ResendAfter / time.Second),
		}}})
	case *parleypb.ClientFrame_Verify:
		v := b.Verify
		cred, err := s.g.acc.Verify(ctx, accounts.VerifyParams{
			Phone: v.GetPhone(), Code: v.GetCode(), PIN: v.GetPin(), IdentityKey: v.GetIdentityKey(), DeviceName: v.GetDeviceName(),
		})
		if err != nil {
			s.replyErr(id, err)
			return
		}
		for _, r := range cred.Revoked {
			// A re-registration replaced these devices.
			if err := s.g.del.DeviceRevoked(ctx, parley.Device{ID: r.Device, User: cred.User}, r.Conversations); err != nil {
				s.log(slog.LevelError, "device revoked", "revoked_device", r.Device, "err", err)
			}
		}
		s.reply(id, credentialsFrame(cred))
	case *parleypb.ClientFrame_LinkDevice:
		l := b.LinkDevice
		cred, err := s.g.acc.LinkDevice(ctx, l.GetCode(), l.GetIdentityKey(), l.GetDeviceName())
		if err != nil {
			s.replyErr(id, err)
			return
		}
		s.reply(id, credentialsFrame(cred))
	}
}

func credentialsFrame(c accounts.Credentials) *parleypb.ServerFrame {
	return &parleypb.ServerFrame{Body: &parleypb.ServerFrame_Credentials{Credentials: &parleypb.Credentials{
		UserId: int64(c.User), DeviceId: int64(c.Device), Secret: c.Secret, Primary: c.Primary, Phone: c.Phone,
	}}}
}

func deviceInfo(d parley.Device) *parleypb.DeviceInfo {
	di := &parleypb.DeviceInfo{Id: int64(d.ID), Name: d.Name, Primary: d.Primary, IdentityKey: d.IdentityKey, CreatedMs: d.CreatedAt.UnixMilli()}
	if !d.RevokedAt.IsZero() {
		di.RevokedMs = d.RevokedAt.UnixMilli()
	}
	return di
}

func parseVisibility(v string) (parley.Visibility, error) {
	vis := parley.Visibility(v)
	if !vis.Valid() {
		return "", parley.Errorf(parley.CodeInvalid, parley.ReasonVisibility, "visibility must be everyone, contacts or nobody")
	}
	return vis, nil
}

// authedRequest handles the requests of an authenticated session.
func (s *session) authedRequest(id uint64, f *parleypb.ClientFrame) {
	ctx := s.ctx
	dev := s.dev
	var (
		out *parleypb.ServerFrame
		err error
	)
	switch b := f.Body.(type) {
	case *parleypb.ClientFrame_Send:
		r := b.Send
		s.beginAsync()
		err = s.stream.Send(ctx, delivery.SendParams{
			Conversation: parley.ConversationID(r.GetConversationId()), ClientID: parley.ClientMessageID(r.GetClientId()),
			Kind: parley.EnvelopeKind(min(r.GetKind(), 255)), Epoch: parley.Epoch(r.GetEpoch()), Payload: r.GetPayload(),
			Broadcast: r.GetBroadcast(),
		}, func(res delivery.SendResult, err error) {
			defer s.endAsync()
			if err != nil {
				s.replyErr(id, err)
				return
			}
			s.reply(id, &parleypb.ServerFrame{Body: &parleypb.ServerFrame_Sent{Sent: &parleypb.SendResponse{
				ConversationId: string(res.Conversation), ClientId: string(res.ClientID), Seq: int64(res.Seq),
				Duplicate: res.Duplicate, ServerTimeMs: res.At,
			}}})
		})
		if err != nil {
			s.endAsync()
			s.replyErr(id, err)
		}
		return
	case *parleypb.ClientFrame_Ack:
		var done func(error)
		if id != 0 {
			s.beginAsync()
			done = func(err error) {
				defer s.endAsync()
				if err != nil {
					s.replyErr(id, err)
					return
				}
				s.reply(id, okFrame())
			}
		}
		err = s.stream.Ack(ctx, parley.ConversationID(b.Ack.GetConversationId()), parley.Seq(b.Ack.GetSeq()), done)
		if err != nil {
			if done != nil {
				s.endAsync()
			}
			s.replyErr(id, err)
		}
		return
	case *parleypb.ClientFrame_Read:
		err = s.g.del.MarkRead(ctx, dev, parley.ConversationID(b.Read.GetConversationId()), parley.Seq(b.Read.GetSeq()))
		out = okFrame()
	case *parleypb.ClientFrame_Typing:
		err = s.g.del.Typing(ctx, dev, parley.ConversationID(b.Typing.GetConversationId()), b.Typing.GetTyping())
		out = okFrame()
	case *parleypb.ClientFrame_Presence:
		var p delivery.Presence
		p, err = s.g.del.Presence(ctx, dev.User, parley.UserID(b.Presence.GetUserId()))
		out = &parleypb.ServerFrame{Body: &parleypb.ServerFrame_Presence{Presence: wire.PresenceToPB(p.User, p.Online, p.LastSeen)}}
	case *parleypb.ClientFrame_LinkCode:
		var code string
		var ttl time.Duration
		code, ttl, err = s.g.acc.NewLinkCode(ctx, dev)
		out = &parleypb.ServerFrame{Body: &parleypb.ServerFrame_LinkCode{LinkCode: &parleypb.LinkCodeResponse{Code: code, ExpiresInSeconds: uint32(ttl / time.Second)}}}
	case *parleypb.ClientFrame_ListDevices:
		var devices []parley.Device
		if u := parley.UserID(b.ListDevices.GetUserId()); u == 0 || u == dev.User {
			devices, err = s.g.acc.Devices(ctx, dev.User)
		} else {
			var p accounts.Profile
			p, err = s.g.acc.Resolve(ctx, dev.User, accounts.Query{User: u})
			devices = p.Devices
		}
		list := &parleypb.DeviceList{}
		for _, d := range devices {
			list.Devices = append(list.Devices, deviceInfo(d))
		}
		out = &parleypb.ServerFrame{Body: &parleypb.ServerFrame_Devices{Devices: list}}
	case *parleypb.ClientFrame_RemoveDevice:
		target := parley.DeviceID(b.RemoveDevice.GetDeviceId())
		var convs []parley.ConversationID
		convs, err = s.g.acc.RemoveDevice(ctx, dev, target)
		if err == nil {
			err = s.g.del.DeviceRevoked(ctx, parley.Device{ID: target, User: dev.User}, convs)
		}
		out = okFrame()
	case *parleypb.ClientFrame_SetUsername:
		err = s.g.acc.SetUsername(ctx, dev.User, b.SetUsername.GetUsername())
		out = okFrame()
	case *parleypb.ClientFrame_SetPrivacy:
		err = s.setPrivacy(ctx, b.SetPrivacy)
		out = okFrame()
	case *parleypb.ClientFrame_SetProfile:
		err = s.g.acc.SetProfile(ctx, dev.User, b.SetProfile.Name, b.SetProfile.About)
		out = okFrame()
	case *parleypb.ClientFrame_SetProfilePhoto:
		var tag string
		tag, err = s.g.acc.SetPhoto(ctx, dev.User, b.SetProfilePhoto.GetPhoto())
		out = &parleypb.ServerFrame{Body: &parleypb.ServerFrame_ProfilePhoto{ProfilePhoto: &parleypb.ProfilePhoto{UserId: int64(dev.User), Tag: tag}}}
	case *parleypb.ClientFrame_ProfilePhoto:
		owner := parley.UserID(b.ProfilePhoto.GetUserId())
		var photo []byte
		var tag string
		photo, tag, err = s.g.acc.Photo(ctx, dev.User, owner)
		out = &parleypb.ServerFrame{Body: &parleypb.ServerFrame_ProfilePhoto{ProfilePhoto: &parleypb.ProfilePhoto{UserId: int64(owner), Tag: tag, Photo: photo}}}
	case *parleypb.ClientFrame_SetPin:
		err = s.g.acc.SetPIN(ctx, dev.User, b.SetPin.GetPin(), b.SetPin.GetOldPin())
		out = okFrame()
	case *parleypb.ClientFrame_Resolve:
		out, err = s.resolve(ctx, b.Resolve)
	case *parleypb.ClientFrame_Contact:
		other := parley.UserID(b.Contact.GetUserId())
		if b.Contact.GetRemove() {
			err = s.g.acc.RemoveContact(ctx, dev.User, other)
		} else {
			err = s.g.acc.AddContact(ctx, dev.User, other)
		}
		out = okFrame()
	case *parleypb.ClientFrame_Block:
		other := parley.UserID(b.Block.GetUserId())
		if b.Block.GetUnblock() {
			err = s.g.acc.Unblock(ctx, dev.User, other)
		} else {
			err = s.g.acc.Block(ctx, dev.User, other)
		}
		if err == nil {
			s.g.del.BlocksChanged(ctx, dev.User, other)
		}
		out = okFrame()
	case *parleypb.ClientFrame_UploadKeyPackages:
		kps := make([]parley.KeyPackage, 0, len(b.UploadKeyPackages.GetKeyPackages()))
		for _, kp := range b.UploadKeyPackages.GetKeyPackages() {
			kps = append(kps, parley.KeyPackage{Ref: kp.GetRef(), Data: kp.GetData(), LastResort: kp.GetLastResort()})
		}
		var n int
		n, err = s.g.del.UploadKeyPackages(ctx, dev, kps)
		out = &parleypb.ServerFrame{Body: &parleypb.ServerFrame_KeyPackageCount{KeyPackageCount: &parleypb.UploadKeyPackagesResponse{OneTimeLeft: uint32(n)}}}
	case *parleypb.ClientFrame_ClaimKeyPackages:
		users := make([]parley.UserID, 0, len(b.ClaimKeyPackages.GetUserIds()))
		for _, u := range b.ClaimKeyPackages.GetUserIds() {
			users = append(users, parley.UserID(u))
		}
		var claimed []delivery.ClaimedKeyPackage
		claimed, err = s.g.del.ClaimKeyPackages(ctx, dev, users)
		resp := &parleypb.ClaimKeyPackagesResponse{}
		for _, c := range claimed {
			resp.KeyPackages = append(resp.KeyPackages, &parleypb.ClaimedKeyPackage{
				UserId: int64(c.User), DeviceId: int64(c.Device),
				KeyPackage: &parleypb.KeyPackage{Ref: c.KeyPackage.Ref, Data: c.KeyPackage.Data, LastResort: c.KeyPackage.LastResort},
			})
		}
		out = &parleypb.ServerFrame{Body: &parleypb.ServerFrame_ClaimedKeyPackages{ClaimedKeyPackages: resp}}
	case *parleypb.ClientFrame_CreateConversation:
		r := b.CreateConversation
		var a delivery.Appended
		a, err = s.g.del.CreateConversation(ctx, dev, delivery.CreateParams{
			ID: parley.ConversationID(r.GetConversationId()), Kind: parley.ConversationKind(r.GetKind()),
			Members: memberRefs(r.GetMembers()), Welcome: r.GetWelcome(), GroupInfo: r.GetGroupInfo(),
			ClientID: parley.ClientMessageID(r.GetClientId()),
		})
		out = appendedFrame(a)
	case *parleypb.ClientFrame_Commit:
		r := b.Commit
		remove := make([]parley.DeviceID, 0, len(r.GetRemove()))
		for _, d := range r.GetRemove() {
			remove = append(remove, parley.DeviceID(d))
		}
		var a delivery.Appended
		a, err = s.g.del.Commit(ctx, dev, delivery.CommitParams{
			Conversation: parley.ConversationID(r.GetConversationId()), Epoch: parley.Epoch(r.GetEpoch()),
			Commit: r.GetCommit(), Welcome: r.GetWelcome(), GroupInfo: r.GetGroupInfo(),
			Add: memberRefs(r.GetAdd()), Remove: remove, External: r.GetExternal(), Resync: r.GetResync(),
			ClientID: parley.ClientMessageID(r.GetClientId()), TreeRef: parley.TreeRef(r.GetRatchetTreeRef()),
			CommitRef: parley.TreeRef(r.GetCommitRef()),
		})
		out = appendedFrame(a)
	case *parleypb.ClientFrame_GroupInfo:
		var c parley.Conversation
		c, err = s.g.del.GroupInfo(ctx, dev, parley.ConversationID(b.GroupInfo.GetConversationId()))
		out = &parleypb.ServerFrame{Body: &parleypb.ServerFrame_GroupInfo{GroupInfo: &parleypb.GroupInfoResponse{
			ConversationId: string(c.ID), Epoch: uint64(c.Epoch), GroupInfo: c.GroupInfo,
		}}}
	case *parleypb.ClientFrame_ListConversations:
		var list []delivery.ConversationSummary
		list, err = s.g.del.ListConversations(ctx, dev)
		resp := &parleypb.ConversationList{}
		for _, c := range list {
			ci := &parleypb.ConversationInfo{
				Id: string(c.Conversation.ID), Kind: string(c.Conversation.Kind), Epoch: uint64(c.Conversation.Epoch),
				LastSeq: int64(c.Conversation.LastSeq), Joined: c.Joined,
			}
			for _, u := range c.MemberUsers {
				ci.MemberUsers = append(ci.MemberUsers, int64(u))
			}
			for _, d := range c.MemberDevices {
				ci.MemberDevices = append(ci.MemberDevices, int64(d))
			}
			ci.Delivered = positionReceipts(c.Delivered)
			ci.Read = positionReceipts(c.Read)
			resp.Conversations = append(resp.Conversations, ci)
		}
		out = &parleypb.ServerFrame{Body: &parleypb.ServerFrame_Conversations{Conversations: resp}}
	default:
		out, err = s.groupRequest(ctx, f) // groups.go; unknown_request for other frames
	}
	if err != nil {
		s.replyErr(id, err)
		return
	}
	s.reply(id, out)
}

// positionReceipts converts ListConversations' receipt positions (at_ms 0).
func positionReceipts(rs []parley.Receipt) []*parleypb.Receipt {
	if len(rs) == 0 {
		return nil
	}
	out := make([]*parleypb.Receipt, len(rs))
	for i, r := range rs {
		out[i] = &parleypb.Receipt{ConversationId: string(r.Conversation), Kind: uint32(r.Kind),
			UserId: int64(r.User), DeviceId: int64(r.Device), Seq: int64(r.Seq)}
	}
	return out
}

func memberRefs(ms []*parleypb.AddedDevice) []delivery.MemberRef {
	out := make([]delivery.MemberRef, 0, len(ms))
	for _, m := range ms {
		out = append(out, delivery.MemberRef{User: parley.UserID(m.GetUserId()), Device: parley.DeviceID(m.GetDeviceId())})
	}
	return out
}

func appendedFrame(a delivery.Appended) *parleypb.ServerFrame {
	r := &parleypb.AppendResponse{ConversationId: string(a.Conversation), Epoch: uint64(a.Epoch)}
	for _, s := range a.Seqs {
		r.Seqs = append(r.Seqs, int64(s))
	}
	return &parleypb.ServerFrame{Body: &parleypb.ServerFrame_Appended{Appended: r}}
}

func (s *session) setPrivacy(ctx context.Context, r *parleypb.SetPrivacyRequest) error {
	p, err := s.g.acc.Resolve(ctx, s.dev.User, accounts.Query{User: s.dev.User})
	if err != nil {
		return err
	}
	priv := p.User.Privacy
	if v := r.GetFindByPhone(); v != "" {
		if priv.FindByPhone, err = parseVisibility(v); err != nil {
			return err
		}
	}
	if v := r.GetLastSeen(); v != "" {
		if priv.LastSeen, err = parseVisibility(v); err != nil {
			return err
		}
	}
	if v := r.GetPhoto(); v != "" {
		if priv.Photo, err = parseVisibility(v); err != nil {
			return err
		}
	}
	return s.g.acc.SetPrivacy(ctx, s.dev.User, priv)
}

func (s *session) resolve(ctx context.Context, r *parleypb.ResolveRequest) (*parleypb.ServerFrame, error) {
	var q accounts.Query
	switch w := r.GetWho().(type) {
	case *parleypb.ResolveRequest_Phone:
		q.Phone = w.Phone
	case *parleypb.ResolveRequest_Username:
		q.Username = w.Username
	case *parleypb.ResolveRequest_UserId:
		q.User = parley.UserID(w.UserId)
	}
	p, err := s.g.acc.Resolve(ctx, s.dev.User, q)
	if err != nil {
		return nil, err
	}
	ui := &parleypb.UserInfo{
		Id: int64(p.User.ID), Name: p.User.Name, Username: p.User.Username, Contact: p.Contact, Blocked: p.Blocked,
		About: p.User.About, PhotoTag: p.User.PhotoTag,
	}
	if p.PhoneVisible {
		ui.Phone = p.User.Phone
	}
	for _, d := range p.Devices {
		ui.Devices = append(ui.Devices, deviceInfo(d))
	}
	slices.SortFunc(ui.Devices, func(a, b *parleypb.DeviceInfo) int { return int(a.Id - b.Id) })
	return &parleypb.ServerFrame{Body: &parleypb.ServerFrame_User{User: ui}}, nil
}
