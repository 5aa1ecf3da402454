package accounts

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/parleyhq/parley"
)

// Username rules: 3 to 32 characters from [a-z0-9_.] (upper-case letters are
// accepted and kept as typed; uniqueness and lookups ignore case), starting
// with a letter.
const (
	minUsername = 3
	maxUsername = 32
)

// ValidUsername reports whether name follows the username rules.
func ValidUsername(name string) bool {
	if len(name) < minUsername || len(name) > maxUsername {
		return false
	}
	lower := strings.ToLower(name)
	if lower[0] < 'a' || lower[0] > 'z' {
		return false
	}
	for i := 0; i < len(lower); i++ {
		c := lower[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// SetUsername sets the user's username, or removes it when username is "".
// Setting the username one already has (in any case) succeeds.
//
// Errors: CodeInvalid "username_invalid"; CodeConflict "username_taken"
// (another user has it, compared case-insensitively); CodeNotFound for an
// unknown user.
func (s *Service) SetUsername(ctx context.Context, user parley.UserID, username string) error {
	if username != "" && !ValidUsername(username) {
		return parley.Errorf(parley.CodeInvalid, ReasonUsernameInvalid,
			"a username is %d to %d letters, digits, _ or ., starting with a letter", minUsername, maxUsername)
	}
	if username != "" {
		other, err := s.store.UserByUsername(ctx, username)
		switch {
		case err == nil && other.ID != user:
			return errUsernameTaken()
		case err != nil && !parley.IsCode(err, parley.CodeNotFound):
			return internal("set username: lookup", err)
		}
	}
	err := s.updateUser(ctx, user, func(u *parley.User) error {
		u.Username = username
		return nil
	})
	if parley.IsCode(err, parley.CodeConflict) {
		return errUsernameTaken() // lost a race: the store's uniqueness is the guarantee
	}
	return err
}

func errUsernameTaken() error {
	return parley.Errorf(parley.CodeConflict, parley.ReasonUsernameTaken, "that username is taken")
}

// updateUser applies change to the stored user under the user's lock.
func (s *Service) updateUser(ctx context.Context, id parley.UserID, change func(*parley.User) error) error {
	defer s.lockUser(id)()
	u, err := s.store.User(ctx, id)
	if err != nil {
		return internal("load user", err)
	}
	if err := change(&u); err != nil {
		return err
	}
	if err := s.store.UpdateUser(ctx, u); err != nil {
		return internal("update user", err)
	}
	return nil
}

// SetPrivacy changes the user's privacy settings. An empty field leaves that
// setting unchanged (the wire protocol's "unchanged"); to restore the
// default, set parley.VisibleEveryone.
//
// Errors: CodeInvalid "privacy_invalid"; CodeNotFound for an unknown user.
func (s *Service) SetPrivacy(ctx context.Context, user parley.UserID, p parley.Privacy) error {
	if !p.FindByPhone.Valid() || !p.LastSeen.Valid() || !p.Photo.Valid() {
		return parley.Errorf(parley.CodeInvalid, ReasonPrivacyInvalid, `privacy settings are "everyone", "contacts" or "nobody"`)
	}
	return s.updateUser(ctx, user, func(u *parley.User) error {
		if p.FindByPhone != "" {
			u.Privacy.FindByPhone = p.FindByPhone
		}
		if p.LastSeen != "" {
			u.Privacy.LastSeen = p.LastSeen
		}
		if p.Photo != "" {
			u.Privacy.Photo = p.Photo
		}
		return nil
	})
}

// SetPIN sets, changes or (with pin "") removes the two-step verification
// PIN that Verify asks for when the number is registered again. Changing or
// removing an existing PIN requires it as oldPIN. The PIN is stored as an
// argon2id hash with a random salt.
//
// Errors: CodeInvalid "pin_invalid" (not 4 to 12 digits); CodeForbidden
// "pin_required" (a PIN is set and oldPIN is empty) or "pin_wrong";
// CodeNotFound for an unknown user; CodeRateLimited ReasonPINLocked when
// the account's PIN guess budget (Config.Limits.PINGuesses, shared with
// Verify) is spent; a wrong oldPIN spends one guess.
func (s *Service) SetPIN(ctx context.Context, user parley.UserID, pin, oldPIN string) error {
	if pin != "" {
		if err := checkPIN(pin); err != nil {
			return err
		}
	}
	now := s.clock.Now()
	if err := s.checkPINBudget(ctx, user, now); err != nil {
		return err
	}
	err := s.updateUser(ctx, user, func(u *parley.User) error {
		if len(u.PINHash) > 0 {
			if oldPIN == "" {
				return parley.Errorf(parley.CodeForbidden, ReasonPINRequired, "enter the current PIN to change it")
			}
			if !pinMatches(u.PINHash, oldPIN) {
				return parley.Errorf(parley.CodeForbidden, ReasonPINWrong, "wrong PIN")
			}
		}
		if pin == "" {
			u.PINHash = nil
		} else {
			u.PINHash = hashPIN(pin)
		}
		return nil
	})
	if parley.ErrorReason(err) == "pin_wrong" {
		left, reset, cerr := s.countWrongPIN(ctx, user, now)
		if cerr != nil {
			return cerr
		}
		if left <= 0 {
			return pinLocked(reset)
		}
	}
	if err == nil {
		s.log.InfoContext(ctx, "PIN changed", "user", user, "set", pin != "")
	}
	return err
}

// Query names the user Resolve looks up: exactly one field is set.
type Query struct {
	Phone    string // any format NormalizePhone accepts
	Username string // case-insensitive
	User     parley.UserID
}

// Profile is what a viewer may know about a user.
type Profile struct {
	// User is the account. Phone is emptied unless PhoneVisible; PhotoTag
	// unless the viewer may see the photo (MaySeePhoto); PINHash and
	// LastSeenAt are always emptied (use CanSeePresence).
	User         parley.User
	Devices      []parley.Device // every device with its identity key (revoked ones have RevokedAt set, so members can still verify credentials in earlier commits); no secret hashes
	PhoneVisible bool
	Contact      bool // the viewer has the user in their contacts
	Blocked      bool // the viewer has blocked the user
}

// Resolve looks a user up on behalf of viewer.
//
//   - By phone: found only when the owner's Privacy.FindByPhone lets the
//     viewer find them (everyone; contacts: the owner has added the viewer;
//     nobody: no one) and the owner has not blocked the viewer. Otherwise
//     the answer is CodeNotFound "user_not_found", exactly as for an
//     unregistered number.
//   - By username: always found.
//   - By user ID: found when the viewer and the user are the same, either
//     has the other as a contact, or they share a conversation; otherwise
//     CodeNotFound (IDs are not a directory).
//
// The phone number is shown (PhoneVisible) to the user themself, and to a
// viewer the FindByPhone setting admits who either looked them up by phone
// or is in their contacts; a username lookup by a stranger never shows it.
//
// Errors: CodeInvalid "phone_invalid", "username_invalid" or
// "query_invalid" (not exactly one field set); CodeNotFound "user_not_found";
// CodeRateLimited ReasonTooManyLookups once the viewer spent
// Config.Limits.LookupsPerUser (every lookup counts, found or not).
func (s *Service) Resolve(ctx context.Context, viewer parley.UserID, q Query) (Profile, error) {
	if err := s.take(ctx, "resolve", limitCheck{fmt.Sprintf("lookup.user:%d", viewer), s.cfg.Limits.LookupsPerUser,
		ReasonTooManyLookups, "too many lookups from this account"}); err != nil {
		return Profile{}, err
	}
	set := 0
	for _, b := range []bool{q.Phone != "", q.Username != "", q.User != 0} {
		if b {
			set++
		}
	}
	if set != 1 {
		return Profile{}, parley.Errorf(parley.CodeInvalid, ReasonQueryInvalid, "look up a user by exactly one of phone, username or id")
	}
	var (
		u   parley.User
		err error
	)
	switch {
	case q.Phone != "":
		phone, perr := NormalizePhone(q.Phone)
		if perr != nil {
			return Profile{}, perr
		}
		u, err = s.store.UserByPhone(ctx, phone)
	case q.Username != "":
		if !ValidUsername(q.Username) {
			return Profile{}, parley.Errorf(parley.CodeInvalid, ReasonUsernameInvalid, "not a valid username")
		}
		u, err = s.store.UserByUsername(ctx, q.Username)
	default:
		u, err = s.store.User(ctx, q.User)
	}
	if parley.IsCode(err, parley.CodeNotFound) {
		if q.Phone != "" {
			// Do the privacy checks' work anyway, so the answer for an
			// unknown number takes as long as for a hidden user.
			_, _ = s.MayFindByPhone(ctx, viewer, parley.User{})
		}
		return Profile{}, errUserNotFound()
	}
	if err != nil {
		return Profile{}, internal("resolve", err)
	}

	self := u.ID == viewer
	// theyAdded: the target has the viewer in their contacts.
	theyAdded, err := s.isContact(ctx, u.ID, viewer, self)
	if err != nil {
		return Profile{}, err
	}
	mayFind, err := s.mayFind(ctx, viewer, u, theyAdded)
	if err != nil {
		return Profile{}, err
	}
	if q.Phone != "" && !mayFind {
		return Profile{}, errUserNotFound()
	}

	p := Profile{User: u}
	p.Contact, err = s.isContact(ctx, viewer, u.ID, self)
	if err != nil {
		return Profile{}, err
	}
	if !self {
		if p.Blocked, err = s.store.IsBlocked(ctx, viewer, u.ID); err != nil {
			return Profile{}, internal("resolve: blocked", err)
		}
	}
	if q.User != 0 && !self && !p.Contact && !theyAdded {
		shared, err := s.shareConversation(ctx, viewer, u.ID)
		if err != nil {
			return Profile{}, err
		}
		if !shared {
			return Profile{}, errUserNotFound()
		}
	}

	p.PhoneVisible = self || mayFind && (q.Phone != "" || theyAdded)
	if !p.PhoneVisible {
		p.User.Phone = ""
	}
	p.User.PINHash = nil
	p.User.LastSeenAt = time.Time{}
	if p.User.PhotoTag != "" {
		see, err := s.MaySeePhoto(ctx, viewer, u)
		if err != nil {
			return Profile{}, err
		}
		if !see {
			p.User.PhotoTag = ""
		}
	}
	devices, err := s.store.Devices(ctx, u.ID)
	if err != nil {
		return Profile{}, internal("resolve: devices", err)
	}
	for _, d := range devices {
		p.Devices = append(p.Devices, publicDevice(d))
	}
	return p, nil
}

// MayFindByPhone is the one rule of "who can find me by my phone number",
// which every route that takes a phone number applies (Resolve by phone,
// the business API's recipients and opt-ins): viewer may find owner when
// owner's Privacy.FindByPhone admits them (everyone; contacts: owner has
// added viewer; nobody: no one) and owner has not blocked viewer. A user
// always finds themself.
//
// When the lookup of the number found no one, call it with the zero User:
// it does the same store work and answers false, so that an unknown number
// and a hidden user cost the caller the same.
func (s *Service) MayFindByPhone(ctx context.Context, viewer parley.UserID, owner parley.User) (bool, error) {
	if owner.ID == 0 {
		_, _ = s.store.IsContact(ctx, 0, viewer)
		_, _ = s.store.IsBlocked(ctx, 0, viewer)
		return false, nil
	}
	self := owner.ID == viewer
	theyAdded, err := s.isContact(ctx, owner.ID, viewer, self)
	if err != nil {
		return false, err
	}
	return s.mayFind(ctx, viewer, owner, theyAdded)
}

// mayFind is MayFindByPhone given whether owner has viewer in contacts.
func (s *Service) mayFind(ctx context.Context, viewer parley.UserID, owner parley.User, theyAdded bool) (bool, error) {
	if owner.ID == viewer {
		return true, nil
	}
	if !audienceAdmits(owner.Privacy.FindByPhone, theyAdded) {
		_, _ = s.store.IsBlocked(ctx, owner.ID, viewer) // same work either way
		return false, nil
	}
	blockedBy, err := s.store.IsBlocked(ctx, owner.ID, viewer)
	if err != nil {
		return false, internal("find by phone: blocked", err)
	}
	return !blockedBy, nil
}

func errUserNotFound() error {
	return parley.Errorf(parley.CodeNotFound, parley.ReasonUserNotFound, "no such user")
}

// audienceAdmits reports whether a viewer is in audience v of an owner;
// inContacts says whether the owner has the viewer as a contact.
func audienceAdmits(v parley.Visibility, inContacts bool) bool {
	switch v {
	case "", parley.VisibleEveryone:
		return true
	case parley.VisibleContacts:
		return inContacts
	}
	return false
}

func (s *Service) isContact(ctx context.Context, owner, other parley.UserID, self bool) (bool, error) {
	if self {
		return false, nil
	}
	ok, err := s.store.IsContact(ctx, owner, other)
	if err != nil {
		return false, internal("is contact", err)
	}
	return ok, nil
}

func (s *Service) shareConversation(ctx context.Context, a, b parley.UserID) (bool, error) {
	ca, err := s.store.ConversationsOfUser(ctx, a)
	if err != nil {
		return false, internal("resolve: conversations", err)
	}
	if len(ca) == 0 {
		return false, nil
	}
	cb, err := s.store.ConversationsOfUser(ctx, b)
	if err != nil {
		return false, internal("resolve: conversations", err)
	}
	ids := make(map[parley.ConversationID]bool, len(ca))
	for _, c := range ca {
		ids[c.ID] = true
	}
	for _, c := range cb {
		if ids[c.ID] {
			return true, nil
		}
	}
	return false, nil
}

// CanSeePresence reports whether viewer may see owner's online status and
// last seen. Strangers never do: the viewer must share a conversation with
// the owner (shareChat says the caller already knows they do; when false it
// is looked up) or be in the owner's contacts. Among those, owner's
// Privacy.LastSeen decides: everyone admits them all; contacts only users
// the owner has added; nobody no one. A user always sees their own; a block
// in either direction hides it. An unknown owner is hidden like any other
// (false, no error), so the answer does not tell whether an ID exists.
func (s *Service) CanSeePresence(ctx context.Context, viewer, owner parley.UserID, shareChat bool) (bool, error) {
	if viewer == owner {
		return true, nil
	}
	u, err := s.store.User(ctx, owner)
	if parley.IsCode(err, parley.CodeNotFound) {
		return false, nil
	}
	if err != nil {
		return false, internal("presence: load user", err)
	}
	if u.Privacy.LastSeen == parley.VisibleNobody {
		return false, nil
	}
	for _, pair := range [][2]parley.UserID{{owner, viewer}, {viewer, owner}} {
		blocked, err := s.store.IsBlocked(ctx, pair[0], pair[1])
		if err != nil {
			return false, internal("presence: blocked", err)
		}
		if blocked {
			return false, nil
		}
	}
	if shareChat && u.Privacy.LastSeen != parley.VisibleContacts {
		return true, nil // everyone, and not a stranger (the presence push's common case: no more queries)
	}
	inContacts, err := s.isContact(ctx, owner, viewer, false)
	if err != nil {
		return false, err
	}
	if !audienceAdmits(u.Privacy.LastSeen, inContacts) {
		return false, nil
	}
	if inContacts || shareChat {
		return true, nil
	}
	return s.shareConversation(ctx, viewer, owner) // everyone, but not a stranger
}

// AddContact adds other to owner's contacts (idempotent). Being in someone's
// contacts is what the "contacts" privacy audience admits.
//
// Errors: CodeInvalid "self" (owner == other); CodeNotFound
// "user_not_found".
func (s *Service) AddContact(ctx context.Context, owner, other parley.UserID) error {
	if err := s.checkOther(ctx, owner, other); err != nil {
		return err
	}
	if err := s.store.AddContact(ctx, owner, other); err != nil {
		return internal("add contact", err)
	}
	return nil
}

// RemoveContact removes other from owner's contacts; removing a non-contact
// succeeds.
func (s *Service) RemoveContact(ctx context.Context, owner, other parley.UserID) error {
	if err := s.store.RemoveContact(ctx, owner, other); err != nil && !parley.IsCode(err, parley.CodeNotFound) {
		return internal("remove contact", err)
	}
	return nil
}

// Block blocks blocked on behalf of blocker (idempotent). A blocked user can
// no longer find the blocker by phone nor see their presence; refusing
// their messages is the delivery service's job (parley.CodeBlocked).
//
// Errors: CodeInvalid "self"; CodeNotFound "user_not_found".
func (s *Service) Block(ctx context.Context, blocker, blocked parley.UserID) error {
	if err := s.checkOther(ctx, blocker, blocked); err != nil {
		return err
	}
	if err := s.store.Block(ctx, blocker, blocked); err != nil {
		return internal("block", err)
	}
	return nil
}

// Unblock lifts a block; unblocking someone not blocked succeeds.
func (s *Service) Unblock(ctx context.Context, blocker, blocked parley.UserID) error {
	if err := s.store.Unblock(ctx, blocker, blocked); err != nil && !parley.IsCode(err, parley.CodeNotFound) {
		return internal("unblock", err)
	}
	return nil
}

func (s *Service) checkOther(ctx context.Context, me, other parley.UserID) error {
	if me == other {
		return parley.Errorf(parley.CodeInvalid, ReasonSelf, "that is your own account")
	}
	_, err := s.store.User(ctx, other)
	if parley.IsCode(err, parley.CodeNotFound) {
		return errUserNotFound()
	}
	if err != nil {
		return internal("load user", err)
	}
	return nil
}
