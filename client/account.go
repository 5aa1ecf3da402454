package client

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client/conn"
	"github.com/parleyhq/parley/proto/parleypb"
)

// Key package targets: how many one-time KeyPackages a device keeps on the
// server, and the level below which it uploads more.
const (
	KeyPackageTarget = 50
	KeyPackageLow    = 10
)

// Registration is the server's answer to Register.
type Registration struct {
	Phone        string // normalised E.164
	ExpiresIn    time.Duration
	ResendAfter  time.Duration
	AlreadyKnown bool
}

// Register asks the server to send a verification code to phone. The
// profile remembers the server, the normalised phone and the name for
// Verify (which may run in another process).
func (c *Client) Register(ctx context.Context, server, phone, name string) (Registration, error) {
	acct := c.Account()
	if acct.Registered() {
		return Registration{}, parley.Errorf(parley.CodeConflict, ReasonAlreadyRegistered, "this profile is already registered as %s", acct.Phone)
	}
	if _, err := conn.WebSocketURL(server); err != nil {
		return Registration{}, err
	}
	c.setServer(server)
	f, err := c.requestAs(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_Register{Register: &parleypb.RegisterRequest{Phone: phone, Name: name}}}, false, true)
	if err != nil {
		return Registration{}, errorf("register", err)
	}
	r := f.GetRegister()
	acct.ServerURL, acct.Phone, acct.Name = server, r.GetPhone(), name
	if err := c.putAccount(ctx, acct); err != nil {
		return Registration{}, err
	}
	return Registration{Phone: r.GetPhone(), ExpiresIn: time.Duration(r.GetExpiresInSeconds()) * time.Second,
		ResendAfter: time.Duration(r.GetResendAfterSeconds()) * time.Second}, nil
}

// Verify completes registration with the code sent by Register (and the
// two-step PIN when the account has one). The device gets its credentials,
// connects, and uploads its KeyPackages.
func (c *Client) Verify(ctx context.Context, code, pin string) (Account, error) {
	acct := c.Account()
	if acct.Registered() {
		return acct, parley.Errorf(parley.CodeConflict, ReasonAlreadyRegistered, "this profile is already registered as %s", acct.Phone)
	}
	if acct.Phone == "" || acct.ServerURL == "" {
		return acct, parley.Errorf(parley.CodeInvalid, ReasonNotRegistering, "run account register first")
	}
	if err := c.ensureSignatureKey(ctx, &acct); err != nil {
		return acct, err
	}
	c.setServer(acct.ServerURL)
	f, err := c.requestAs(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_Verify{Verify: &parleypb.VerifyRequest{
		Phone: acct.Phone, Code: code, Pin: pin, IdentityKey: acct.SigPub, DeviceName: c.cfg.DeviceName}}}, false, false)
	if err != nil {
		return acct, errorf("verify", err)
	}
	return c.becomeDevice(ctx, acct, f.GetCredentials())
}

// LinkCode asks the server for a short-lived, single-use code that links a
// new device to this account (primary devices only).
func (c *Client) LinkCode(ctx context.Context) (string, time.Duration, error) {
	f, err := c.request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_LinkCode{LinkCode: &parleypb.LinkCodeRequest{}}}, false)
	if err != nil {
		return "", 0, errorf("link code", err)
	}
	r := f.GetLinkCode()
	return r.GetCode(), time.Duration(r.GetExpiresInSeconds()) * time.Second, nil
}

// LinkDevice makes this (new, empty) profile a linked device of the account
// that showed code. The device then joins every conversation of the account
// by an MLS external commit, so no other device needs to be online.
//
// A conversation that cannot be joined (junk instead of valid MLS, a broken
// group state) does not stop the link: it is skipped, logged and listed by
// SkippedChats. A failure of the link itself after the server created the
// device (the server unreachable, the local store failing, ctx ending) is
// rolled back: the device removes itself from the server, which drops it
// from every conversation it had joined (members' clients then commit its
// MLS removal), and the error says so.
func (c *Client) LinkDevice(ctx context.Context, server, code string) (Account, error) {
	acct := c.Account()
	if acct.Registered() {
		return acct, parley.Errorf(parley.CodeConflict, ReasonAlreadyRegistered, "this profile is already registered as %s", acct.Phone)
	}
	if _, err := conn.WebSocketURL(server); err != nil {
		return acct, err
	}
	acct.ServerURL = server
	if err := c.ensureSignatureKey(ctx, &acct); err != nil {
		return acct, err
	}
	c.setServer(server)
	f, err := c.requestAs(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_LinkDevice{LinkDevice: &parleypb.LinkDeviceRequest{
		Code: strings.TrimSpace(code), IdentityKey: acct.SigPub, DeviceName: c.cfg.DeviceName}}}, false, false)
	if err != nil {
		return acct, errorf("link device", err)
	}
	acct, err = c.becomeDevice(ctx, acct, f.GetCredentials())
	if err != nil {
		return c.rollbackLink(ctx, acct, err)
	}
	if err := c.joinMissing(ctx); err != nil {
		return c.rollbackLink(ctx, acct, errorf("join conversations", err))
	}
	return acct, nil
}

func (c *Client) ensureSignatureKey(ctx context.Context, acct *Account) error {
	if len(acct.SigPriv) > 0 {
		return nil
	}
	priv, pub, err := c.eng.NewSignatureKey()
	if err != nil {
		return fmt.Errorf("generate signature key: %w", err)
	}
	acct.SigPriv, acct.SigPub = priv, pub
	return c.putAccount(ctx, *acct)
}

// becomeDevice stores new credentials, reconnects with them and uploads
// KeyPackages.
func (c *Client) becomeDevice(ctx context.Context, acct Account, cr *parleypb.Credentials) (Account, error) {
	if cr == nil {
		return acct, parley.Errorf(parley.CodeInternal, conn.ReasonProtocol, "no credentials in reply")
	}
	acct.User, acct.Device, acct.Secret, acct.Primary = parley.UserID(cr.GetUserId()), parley.DeviceID(cr.GetDeviceId()), cr.GetSecret(), cr.GetPrimary()
	if cr.GetPhone() != "" {
		acct.Phone = cr.GetPhone()
	}
	if err := c.putAccount(ctx, acct); err != nil {
		return acct, err
	}
	c.reconnect()
	c.kpMu.Lock()
	err := c.uploadKeyPackages(ctx, KeyPackageTarget, true)
	c.kpMu.Unlock()
	if err != nil {
		return acct, errorf("upload key packages", err)
	}
	return acct, nil
}

func (c *Client) putAccount(ctx context.Context, a Account) error {
	if err := c.store.PutAccount(ctx, a); err != nil {
		return storeErr(err)
	}
	c.mu.Lock()
	c.acct = a
	c.mu.Unlock()
	return nil
}

func (c *Client) setServer(server string) {
	c.mu.Lock()
	c.acct.ServerURL = server
	c.mu.Unlock()
	c.start()
}

// afterAuth runs on every new authenticated session: KeyPackages are
// topped up, unsent messages are resent, and the receipt positions missed
// while offline are applied.
func (c *Client) afterAuth(s *conn.Session) {
	ctx := s.Context()
	if left := int(s.Authed.GetKeyPackages()); left < KeyPackageLow {
		if err := c.replenishKeyPackages(ctx, left); err != nil {
			c.log.Warn("replenish key packages", "err", err)
		}
	}
	if err := c.flushPending(ctx); err != nil && ctx.Err() == nil {
		c.log.Warn("resend pending messages", "err", err)
	}
	// Receipts are pushed only live: catch up on those missed while offline.
	if list, err := c.listConversations(ctx); err != nil {
		if ctx.Err() == nil {
			c.log.Warn("list conversations", "err", err)
		}
	} else {
		c.applyPositions(ctx, list)
	}
}

// replenishKeyPackages uploads enough one-time KeyPackages to get back to
// KeyPackageTarget.
//
// A low-stock notice can be overtaken by an upload (the server counted
// before our upload landed); one arriving shortly after an upload that left
// the stock healthy is treated as stale, so the stock is not topped up twice.
func (c *Client) replenishKeyPackages(ctx context.Context, left int) error {
	c.kpMu.Lock()
	defer c.kpMu.Unlock()
	if left >= KeyPackageTarget {
		return nil
	}
	if c.kpStock >= KeyPackageLow && c.clock.Now().Sub(c.kpAt) < 5*time.Second {
		return nil
	}
	return c.uploadKeyPackages(ctx, KeyPackageTarget-left, false)
}

// uploadKeyPackages generates n one-time KeyPackages (and a last-resort one
// when lastResort is set), stores their private halves, then uploads them.
func (c *Client) uploadKeyPackages(ctx context.Context, n int, lastResort bool) error {
	id := c.identity()
	var secrets []KeyPackageSecret
	var kps []*parleypb.KeyPackage
	for i := 0; i < n+1; i++ {
		lr := i == n
		if lr && !lastResort {
			break
		}
		ref, pub, priv, err := c.eng.NewKeyPackage(id, lr)
		if err != nil {
			return fmt.Errorf("new key package: %w", err)
		}
		secrets = append(secrets, KeyPackageSecret{Ref: ref, Private: priv, LastResort: lr})
		kps = append(kps, &parleypb.KeyPackage{Ref: ref, Data: pub, LastResort: lr})
	}
	if err := c.store.PutKeyPackages(ctx, secrets); err != nil {
		return storeErr(err)
	}
	f, err := c.request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_UploadKeyPackages{UploadKeyPackages: &parleypb.UploadKeyPackagesRequest{KeyPackages: kps}}}, true)
	if err != nil {
		return err
	}
	c.kpStock, c.kpAt = int(f.GetKeyPackageCount().GetOneTimeLeft()), c.clock.Now()
	return nil
}

// SetUsername sets (or with "" removes) this user's username.
func (c *Client) SetUsername(ctx context.Context, username string) error {
	_, err := c.request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_SetUsername{SetUsername: &parleypb.SetUsernameRequest{Username: strings.TrimPrefix(username, "@")}}}, true)
	return errorf("set username", err)
}

// SetPrivacy changes privacy settings; empty values are left unchanged.
func (c *Client) SetPrivacy(ctx context.Context, findByPhone, lastSeen parley.Visibility) error {
	_, err := c.request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_SetPrivacy{SetPrivacy: &parleypb.SetPrivacyRequest{
		FindByPhone: string(findByPhone), LastSeen: string(lastSeen)}}}, true)
	return errorf("set privacy", err)
}

// SetPIN sets, changes (old required) or with pin "" removes the two-step PIN.
func (c *Client) SetPIN(ctx context.Context, pin, old string) error {
	_, err := c.request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_SetPin{SetPin: &parleypb.SetPINRequest{Pin: pin, OldPin: old}}}, true)
	return errorf("set pin", err)
}

// Devices lists this user's devices, revoked ones included.
func (c *Client) Devices(ctx context.Context) ([]DeviceKey, error) {
	f, err := c.request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_ListDevices{ListDevices: &parleypb.ListDevicesRequest{}}}, true)
	if err != nil {
		return nil, errorf("list devices", err)
	}
	return deviceKeysFrom(c.Account().User, f.GetDevices().GetDevices()), nil
}

// RemoveDevice revokes one of this user's devices. The server drops it from
// every conversation at once; the remaining devices then commit its MLS
// removal.
func (c *Client) RemoveDevice(ctx context.Context, id parley.DeviceID) error {
	_, err := c.request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_RemoveDevice{RemoveDevice: &parleypb.RemoveDeviceRequest{DeviceId: int64(id)}}}, true)
	return errorf("remove device", err)
}

// Resolve finds a user by "+E164" phone number, "@username" or numeric user
// id, and caches what the server tells.
func (c *Client) Resolve(ctx context.Context, who string) (Contact, error) {
	who = strings.TrimSpace(who)
	req := &parleypb.ResolveRequest{}
	switch {
	case strings.HasPrefix(who, "@"):
		req.Who = &parleypb.ResolveRequest_Username{Username: who[1:]}
	case strings.HasPrefix(who, "+") || strings.HasPrefix(who, "00"):
		req.Who = &parleypb.ResolveRequest_Phone{Phone: who}
	default:
		var id int64
		if _, err := fmt.Sscanf(strings.TrimPrefix(who, "u"), "%d", &id); err != nil || id <= 0 {
			return Contact{}, parley.Errorf(parley.CodeInvalid, ReasonBadContact, "%q: want +PHONE, @username or a user id", who)
		}
		req.Who = &parleypb.ResolveRequest_UserId{UserId: id}
	}
	return c.lookupUser(ctx, req)
}

func (c *Client) lookupUser(ctx context.Context, req *parleypb.ResolveRequest) (Contact, error) {
	f, err := c.request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_Resolve{Resolve: req}}, true)
	if err != nil {
		return Contact{}, errorf("resolve", err)
	}
	u := f.GetUser()
	ct := Contact{User: parley.UserID(u.GetId()), Name: u.GetName(), Username: u.GetUsername(), Phone: u.GetPhone(),
		Contact: u.GetContact(), Blocked: u.GetBlocked()}
	ct.Devices = deviceKeysFrom(ct.User, u.GetDevices())
	if old, err := c.store.Contact(ctx, ct.User); err == nil && ct.Phone == "" {
		ct.Phone = old.Phone
	}
	if err := c.store.PutContact(ctx, ct); err != nil {
		return ct, storeErr(err)
	}
	c.keysMu.Lock()
	c.keys[ct.User] = deviceKeys{at: c.clock.Now(), keys: ct.Devices}
	c.keysMu.Unlock()
	return ct, nil
}

// AddContact adds a user (by phone, @username or id) to this user's contacts.
func (c *Client) AddContact(ctx context.Context, who string) (Contact, error) {
	return c.setContact(ctx, who, false)
}

// RemoveContact removes a user from this user's contacts.
func (c *Client) RemoveContact(ctx context.Context, who string) (Contact, error) {
	return c.setContact(ctx, who, true)
}

func (c *Client) setContact(ctx context.Context, who string, remove bool) (Contact, error) {
	ct, err := c.Resolve(ctx, who)
	if err != nil {
		return ct, err
	}
	if _, err := c.request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_Contact{Contact: &parleypb.ContactRequest{UserId: int64(ct.User), Remove: remove}}}, true); err != nil {
		return ct, errorf("contact", err)
	}
	ct.Contact = !remove
	return ct, storeErr(c.store.PutContact(ctx, ct))
}

// Block blocks a user: the server refuses their messages to this user.
func (c *Client) Block(ctx context.Context, who string) (Contact, error) {
	return c.setBlock(ctx, who, false)
}

// Unblock lifts a block.
func (c *Client) Unblock(ctx context.Context, who string) (Contact, error) {
	return c.setBlock(ctx, who, true)
}

func (c *Client) setBlock(ctx context.Context, who string, unblock bool) (Contact, error) {
	ct, err := c.Resolve(ctx, who)
	if err != nil {
		return ct, err
	}
	if _, err := c.request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_Block{Block: &parleypb.BlockRequest{UserId: int64(ct.User), Unblock: unblock}}}, true); err != nil {
		return ct, errorf("block", err)
	}
	ct.Blocked = !unblock
	return ct, storeErr(c.store.PutContact(ctx, ct))
}

// Contacts lists the users this device knows (contacts, blocked users and
// people it has chatted with).
func (c *Client) Contacts(ctx context.Context) ([]Contact, error) {
	cs, err := c.store.Contacts(ctx)
	return cs, storeErr(err)
}

// Who returns how this device names a user: "@username", phone, name or id.
func (c *Client) Who(ctx context.Context, u parley.UserID) string {
	if u == c.Account().User {
		return "me"
	}
	if ct, err := c.store.Contact(ctx, u); err == nil {
		return contactTitle(ct)
	}
	return u.String()
}
