// Package business is Parley's business-account service: the server's
// authority over business profiles (with the operator's verified mark and
// the hosted-endpoint flag), catalogs, quick replies, chat labels and
// greeting/away settings. Clients reach it through the business frames of
// the WebSocket protocol (docs/protocol.md, "Business").
//
// What the service stores is the business's public shop window (profile,
// catalog: readable by every signed-in user) and its private working tools
// (quick replies, labels, greeting/away settings: only the business's own
// devices read or change them). None of it is message content: products,
// orders, greetings and away messages reach customers as ordinary
// end-to-end encrypted messages sent by a device of the business (see
// client.BusinessAutoReply).
//
// Guarantees:
//   - Every refusal is a *parley.Error with a stable reason: CodeNotFound
//     "not_business" (no profile), "no_product", "no_collection",
//     "no_quick_reply", "no_label", "not_member" (labelling a chat, or
//     claiming an auto reply in one, the device is not in); CodeConflict
//     "auto_reply_claimed"; CodeForbidden "not_business" (catalog, quick
//     replies, labels or settings before a profile is published),
//     "default_label" (changing a predefined label); CodeInvalid and
//     CodeTooLarge for malformed or oversized data with the field's reason.
//   - Only the operator sets the verified mark (SetVerified is not reachable
//     from the protocol) and only the hosted endpoint sets the hosted flag;
//     a business's own profile update never changes either.
//   - Every change is durable when the call returns.
package business

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/parleyhq/parley"
)

// Members is what the service needs to know of conversations: whether a
// device is a member (parley.ConversationStore implements it).
type Members interface {
	Member(ctx context.Context, id parley.ConversationID, device parley.DeviceID) (parley.Member, error)
}

// Service is the business-account service.
type Service struct {
	store   parley.BusinessStore
	members Members
	clock   parley.Clock
	log     *slog.Logger
}

// New returns a service on store; members checks chat membership for labels.
func New(store parley.BusinessStore, members Members, clock parley.Clock, log *slog.Logger) *Service {
	if clock == nil {
		clock = parley.SystemClock{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{store: store, members: members, clock: clock, log: log}
}

func (s *Service) now() time.Time { return s.clock.Now().UTC() }

// Profile returns a business's profile, visible to everyone.
// CodeNotFound "not_business" for a personal account. A profile the
// business has not published yet (only verified by the operator or hosted)
// has an empty Name.
func (s *Service) Profile(ctx context.Context, user parley.UserID) (parley.BusinessProfile, error) {
	return s.store.BusinessProfile(ctx, user)
}

// SetProfile publishes or updates the caller's business profile (the
// business-set fields; the verified mark and hosted flag are kept).
func (s *Service) SetProfile(ctx context.Context, user parley.UserID, p parley.BusinessProfile) (parley.BusinessProfile, error) {
	p.User = user
	p.Name = strings.TrimSpace(p.Name)
	if err := p.Validate(); err != nil {
		return p, err
	}
	p.UpdatedAt = s.now()
	if err := s.store.PutBusinessProfile(ctx, p); err != nil {
		return p, err
	}
	s.log.Info("business profile set", "user", user)
	return s.store.BusinessProfile(ctx, user)
}

// DeleteProfile turns the caller back into a personal account, deleting
// its catalog, quick replies, labels and settings.
func (s *Service) DeleteProfile(ctx context.Context, user parley.UserID) error {
	return s.store.DeleteBusinessProfile(ctx, user)
}

// SetVerified sets or clears the operator's verified mark. Operators only:
// the protocol does not reach it (cmd/parley's `business verify` does).
func (s *Service) SetVerified(ctx context.Context, user parley.UserID, verified bool) error {
	if err := s.store.SetBusinessVerified(ctx, user, verified, s.now()); err != nil {
		return err
	}
	s.log.Info("business verified mark set", "user", user, "verified", verified)
	return nil
}

// SetHosted records whether a server-hosted endpoint (the business API)
// is one of the business's devices; customers see it in the profile.
func (s *Service) SetHosted(ctx context.Context, user parley.UserID, hosted bool) error {
	return s.store.SetBusinessHosted(ctx, user, hosted)
}

// requireBusiness refuses callers without a published profile.
func (s *Service) requireBusiness(ctx context.Context, user parley.UserID) error {
	p, err := s.store.BusinessProfile(ctx, user)
	if parley.IsCode(err, parley.CodeNotFound) || err == nil && p.Name == "" {
		return parley.Errorf(parley.CodeForbidden, parley.ReasonNotBusiness, "publish a business profile first (parley business profile set)")
	}
	return err
}

// PutProduct creates or replaces a product of the caller's catalog.
func (s *Service) PutProduct(ctx context.Context, user parley.UserID, p parley.Product) (parley.Product, error) {
	if err := s.requireBusiness(ctx, user); err != nil {
		return p, err
	}
	p.Business = user
	p.Name = strings.TrimSpace(p.Name)
	if err := p.Validate(); err != nil {
		return p, err
	}
	p.UpdatedAt = s.now()
	return p, s.store.PutProduct(ctx, p)
}

// DeleteProduct deletes a product of the caller's catalog.
func (s *Service) DeleteProduct(ctx context.Context, user parley.UserID, id parley.ProductID) error {
	return s.store.DeleteProduct(ctx, user, id)
}

// Product returns one product of a business's catalog (public).
func (s *Service) Product(ctx context.Context, business parley.UserID, id parley.ProductID) (parley.Product, error) {
	return s.store.Product(ctx, business, id)
}

// Catalog is a business's catalog as customers see it (parley.Catalog).
type Catalog = parley.Catalog

// Catalog returns a business's products (of one collection, if given)
// and its collections. Public; CodeNotFound "not_business" for a personal
// account.
func (s *Service) Catalog(ctx context.Context, business parley.UserID, collection parley.CollectionID) (Catalog, error) {
	if _, err := s.store.BusinessProfile(ctx, business); err != nil {
		return Catalog{}, err
	}
	ps, err := s.store.Products(ctx, business, collection)
	if err != nil {
		return Catalog{}, err
	}
	cs, err := s.store.Collections(ctx, business)
	return Catalog{Products: ps, Collections: cs}, err
}

// PutCollection creates or renames a collection of the caller's catalog.
func (s *Service) PutCollection(ctx context.Context, user parley.UserID, c parley.Collection) error {
	if err := s.requireBusiness(ctx, user); err != nil {
		return err
	}
	c.Business = user
	c.Name = strings.TrimSpace(c.Name)
	if !parley.ValidKey(string(c.ID)) {
		return parley.Errorf(parley.CodeInvalid, parley.ReasonCollectionID, "a collection id is 1 to 64 of A-Z a-z 0-9 _ . -")
	}
	if c.Name == "" || len(c.Name) > parley.MaxBusinessText {
		return parley.Errorf(parley.CodeInvalid, ReasonCollectionName, "a collection has a name of at most %d bytes", parley.MaxBusinessText)
	}
	return s.store.PutCollection(ctx, c)
}

// DeleteCollection deletes a collection (its products stay in the catalog).
func (s *Service) DeleteCollection(ctx context.Context, user parley.UserID, id parley.CollectionID) error {
	return s.store.DeleteCollection(ctx, user, id)
}

// PutQuickReply creates or replaces one of the caller's quick replies.
func (s *Service) PutQuickReply(ctx context.Context, user parley.UserID, q parley.QuickReply) (parley.QuickReply, error) {
	if err := s.requireBusiness(ctx, user); err != nil {
		return q, err
	}
	q.Business = user
	q.Shortcut = strings.TrimPrefix(q.Shortcut, "/")
	if err := q.Validate(); err != nil {
		return q, err
	}
	q.UpdatedAt = s.now()
	return q, s.store.PutQuickReply(ctx, q)
}

// DeleteQuickReply deletes one of the caller's quick replies.
func (s *Service) DeleteQuickReply(ctx context.Context, user parley.UserID, shortcut string) error {
	return s.store.DeleteQuickReply(ctx, user, strings.TrimPrefix(shortcut, "/"))
}

// QuickReplies lists the caller's quick replies by shortcut.
func (s *Service) QuickReplies(ctx context.Context, user parley.UserID) ([]parley.QuickReply, error) {
	return s.store.QuickReplies(ctx, user)
}

func isDefaultLabel(id parley.LabelID) bool {
	return slices.ContainsFunc(parley.DefaultLabels, func(l parley.Label) bool { return l.ID == id })
}

// PutLabel creates or replaces a custom label (the predefined ones cannot
// be changed: CodeForbidden "default_label").
func (s *Service) PutLabel(ctx context.Context, user parley.UserID, l parley.Label) (parley.Label, error) {
	if err := s.requireBusiness(ctx, user); err != nil {
		return l, err
	}
	l.Business = user
	l.Name = strings.TrimSpace(l.Name)
	if err := l.Validate(); err != nil {
		return l, err
	}
	if isDefaultLabel(l.ID) {
		return l, parley.Errorf(parley.CodeForbidden, ReasonDefaultLabel, "label %s is predefined", l.ID)
	}
	return l, s.store.PutLabel(ctx, l)
}

// DeleteLabel deletes a custom label and takes it off every chat.
func (s *Service) DeleteLabel(ctx context.Context, user parley.UserID, id parley.LabelID) error {
	if isDefaultLabel(id) {
		return parley.Errorf(parley.CodeForbidden, ReasonDefaultLabel, "label %s is predefined", id)
	}
	return s.store.DeleteLabel(ctx, user, id)
}

// Labels lists the caller's labels: the predefined ones, then custom ones.
func (s *Service) Labels(ctx context.Context, user parley.UserID) ([]parley.Label, error) {
	if err := s.requireBusiness(ctx, user); err != nil {
		return nil, err
	}
	custom, err := s.store.Labels(ctx, user)
	if err != nil {
		return nil, err
	}
	out := make([]parley.Label, 0, len(parley.DefaultLabels)+len(custom))
	for _, l := range parley.DefaultLabels {
		l.Business = user
		out = append(out, l)
	}
	return append(out, custom...), nil
}

// LabelChat puts (on) or takes off (!on) a label on a chat of the caller's
// device. The label must exist (CodeNotFound "no_label") and the device
// be in the chat (CodeNotFound "not_member").
func (s *Service) LabelChat(ctx context.Context, dev parley.Device, conv parley.ConversationID, label parley.LabelID, on bool) error {
	if err := s.requireBusiness(ctx, dev.User); err != nil {
		return err
	}
	if !on {
		return s.store.UnlabelChat(ctx, dev.User, conv, label)
	}
	if !isDefaultLabel(label) {
		custom, err := s.store.Labels(ctx, dev.User)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(custom, func(l parley.Label) bool { return l.ID == label }) {
			return parley.Errorf(parley.CodeNotFound, parley.ReasonNoLabel, "no label %s", label)
		}
	}
	if _, err := s.members.Member(ctx, conv, dev.ID); err != nil {
		if parley.IsCode(err, parley.CodeNotFound) {
			return parley.Errorf(parley.CodeNotFound, parley.ReasonNotMember, "this device is not in chat %s", conv)
		}
		return err
	}
	return s.store.LabelChat(ctx, parley.ChatLabel{Business: dev.User, Conversation: conv, Label: label, At: s.now()})
}

// ChatLabels lists labels on the caller's chats (of one chat, of one
// label, or all).
func (s *Service) ChatLabels(ctx context.Context, user parley.UserID, conv parley.ConversationID, label parley.LabelID) ([]parley.ChatLabel, error) {
	return s.store.ChatLabels(ctx, user, conv, label)
}

// SetAutoReply replaces the caller's greeting and away settings.
func (s *Service) SetAutoReply(ctx context.Context, user parley.UserID, a parley.AutoReplySettings) (parley.AutoReplySettings, error) {
	if err := s.requireBusiness(ctx, user); err != nil {
		return a, err
	}
	a.Business = user
	if err := a.Validate(); err != nil {
		return a, err
	}
	a.UpdatedAt = s.now()
	return a, s.store.PutAutoReply(ctx, a)
}

// AutoReply returns the caller's greeting and away settings.
func (s *Service) AutoReply(ctx context.Context, user parley.UserID) (parley.AutoReplySettings, error) {
	return s.store.AutoReply(ctx, user)
}

// ClaimAutoReply claims the sending of one greeting or away message in a
// chat of the caller's device (key: what and the triggering message, e.g.
// "greeting:12"): nil for the first claim, CodeConflict
// "auto_reply_claimed" for every later one, so that of several devices of
// a business running auto replies exactly one sends each.
func (s *Service) ClaimAutoReply(ctx context.Context, dev parley.Device, conv parley.ConversationID, key string) error {
	if err := s.requireBusiness(ctx, dev.User); err != nil {
		return err
	}
	if key == "" || len(key) > 128 {
		return parley.Errorf(parley.CodeInvalid, ReasonClaimKey, "a claim key is 1 to 128 bytes")
	}
	if _, err := s.members.Member(ctx, conv, dev.ID); err != nil {
		if parley.IsCode(err, parley.CodeNotFound) {
			return parley.Errorf(parley.CodeNotFound, parley.ReasonNotMember, "this device is not in chat %s", conv)
		}
		return err
	}
	ok, err := s.store.ClaimAutoReply(ctx, dev.User, conv, key, dev.ID, s.now())
	if err != nil {
		return err
	}
	if !ok {
		return parley.Errorf(parley.CodeConflict, ReasonAutoReplyClaimed, "another device of this business sent it")
	}
	return nil
}
