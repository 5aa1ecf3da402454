// Package biz is the client side of business accounts (package business,
// docs/business.md): the business's profile, catalog, collections, quick
// replies, labels and greeting/away settings; sharing products, orders,
// order statuses and interactive replies; and the greeting and away
// messages a business's device sends (BusinessAutoReply).
//
// A Business runs inside a client.Client, which embeds it: its methods are
// the Client's (c.PutProduct, c.SendOrder, …). It reaches the server and
// the device's chats only through Core.
//
// A business is a user who published a BusinessProfile; its profile and
// catalog are public to signed-in users, its quick replies, labels and
// greeting/away settings are its own. A business reference (ref) is "" for
// this user, a chat id of a direct chat (its peer), +PHONE, @USERNAME or a
// user id.
package biz

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/attachment"
	"github.com/parleyhq/parley/client/localstore"
	"github.com/parleyhq/parley/content"
	"github.com/parleyhq/parley/proto/parleypb"
	"github.com/parleyhq/parley/wire"
)

// Core is what a Business needs of the client it runs in. Every method is
// the client's own (client.Client implements Core through an adapter).
type Core interface {
	// Request sends a request on an authenticated session (retrying once
	// on a lost connection) and returns the reply; an Error reply is a
	// *parley.Error.
	Request(ctx context.Context, f *parleypb.ClientFrame) (*parleypb.ServerFrame, error)
	Account() localstore.Account
	Store() localstore.Store
	Now() time.Time
	Logger() *slog.Logger
	// Sync catches up with the server.
	Sync(ctx context.Context) error
	// Resolve finds a user by "+E164", "@username" or user id.
	Resolve(ctx context.Context, who string) (localstore.Contact, error)
	// ChatID resolves a chat reference of a chat this device has.
	ChatID(ctx context.Context, ref string) (parley.ConversationID, error)
	// SendTarget resolves a chat reference to send to, creating a direct
	// chat when there is none.
	SendTarget(ctx context.Context, ref string) (parley.ConversationID, error)
	// Message returns the message "CHAT:SEQ" as stored on this device;
	// Target the same for a message to act on (react, reply, …).
	Message(ctx context.Context, id string) (content.MessageRecord, error)
	Target(ctx context.Context, id string) (content.MessageRecord, error)
	SendText(ctx context.Context, chat, text string, replyTo parley.Seq) (content.MessageRecord, error)
	SendBusiness(ctx context.Context, chat string, bc content.BusinessContent, replyTo parley.Seq) (content.MessageRecord, error)
	// SendMedia sends a media message with the descriptor d to conv.
	SendMedia(ctx context.Context, conv parley.ConversationID, d attachment.Descriptor) (content.MessageRecord, error)
	// Attachments returns the client of the media service.
	Attachments() (*attachment.Client, error)
}

// Business is the business side of one client. Its zero value is not
// usable: New makes one.
type Business struct {
	core  Core
	cache bizCache
}

// New returns the Business of the client core.
func New(core Core) *Business { return &Business{core: core} }

func errorf(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", op, err)
}

// bizUser resolves a business reference to a user id.
func (s *Business) bizUser(ctx context.Context, ref string) (parley.UserID, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return s.core.Account().User, nil
	}
	if id := parley.ConversationID(ref); id.Valid() {
		if ch, err := s.core.Store().Chat(ctx, id); err == nil && ch.Kind == parley.KindDirect && ch.Peer != 0 {
			return ch.Peer, nil
		}
	}
	ct, err := s.core.Resolve(ctx, ref)
	if err != nil {
		return 0, err
	}
	return ct.User, nil
}

// BusinessProfile returns a business's profile (ref "" for this user's).
// CodeNotFound "not_business" for a personal account.
func (s *Business) BusinessProfile(ctx context.Context, ref string) (parley.BusinessProfile, error) {
	u, err := s.bizUser(ctx, ref)
	if err != nil {
		return parley.BusinessProfile{}, err
	}
	f, err := s.core.Request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_BizProfileGet{BizProfileGet: &parleypb.BizProfileGetRequest{
		UserId: int64(u)}}})
	if err != nil {
		return parley.BusinessProfile{}, errorf("business profile", err)
	}
	return wire.BizProfileFromPB(f.GetBizProfile()), nil
}

// SetBusinessProfile publishes or updates this user's business profile,
// making the account a business account. The verified mark and the hosted
// flag are the server's and are not changed.
func (s *Business) SetBusinessProfile(ctx context.Context, p parley.BusinessProfile) (parley.BusinessProfile, error) {
	if err := p.Validate(); err != nil {
		return p, err
	}
	f, err := s.core.Request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_BizProfileSet{BizProfileSet: &parleypb.BizProfileSetRequest{
		Profile: wire.BizProfileToPB(p)}}})
	if err != nil {
		return p, errorf("set business profile", err)
	}
	s.cache.forget()
	return wire.BizProfileFromPB(f.GetBizProfile()), nil
}

// DeleteBusinessProfile turns this account back into a personal one; its
// catalog, quick replies, labels and settings are deleted.
func (s *Business) DeleteBusinessProfile(ctx context.Context) error {
	_, err := s.core.Request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_BizProfileSet{BizProfileSet: &parleypb.BizProfileSetRequest{
		Delete: true}}})
	s.cache.forget()
	return errorf("delete business profile", err)
}

// PutProduct creates or replaces a product of this business's catalog.
func (s *Business) PutProduct(ctx context.Context, p parley.Product) (parley.Product, error) {
	if err := p.Validate(); err != nil {
		return p, err
	}
	f, err := s.core.Request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_BizProductPut{BizProductPut: &parleypb.BizProductPutRequest{
		Product: wire.BizProductToPB(p)}}})
	if err != nil {
		return p, errorf("put product", err)
	}
	return wire.BizProductFromPB(f.GetBizProduct()), nil
}

// DeleteProduct deletes a product of this business's catalog.
func (s *Business) DeleteProduct(ctx context.Context, id parley.ProductID) error {
	_, err := s.core.Request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_BizProductDelete{BizProductDelete: &parleypb.BizProductDeleteRequest{
		Id: string(id)}}})
	return errorf("delete product", err)
}

// Catalog returns a business's catalog (ref "" for this user's), only
// one collection's products if collection is not empty.
func (s *Business) Catalog(ctx context.Context, ref string, collection parley.CollectionID) (parley.Catalog, error) {
	return s.catalog(ctx, ref, &parleypb.BizCatalogRequest{Collection: string(collection)})
}

// Product returns one product of a business's catalog.
func (s *Business) Product(ctx context.Context, ref string, id parley.ProductID) (parley.Product, error) {
	cat, err := s.catalog(ctx, ref, &parleypb.BizCatalogRequest{ProductId: string(id)})
	if err != nil {
		return parley.Product{}, err
	}
	if len(cat.Products) != 1 {
		return parley.Product{}, parley.Errorf(parley.CodeNotFound, parley.ReasonNoProduct, "no product %s in the catalog", id)
	}
	return cat.Products[0], nil
}

func (s *Business) catalog(ctx context.Context, ref string, req *parleypb.BizCatalogRequest) (parley.Catalog, error) {
	u, err := s.bizUser(ctx, ref)
	if err != nil {
		return parley.Catalog{}, err
	}
	return s.catalogOf(ctx, u, req)
}

// catalogOf reads the catalog of business u (known by id: a customer who
// never chatted with it cannot resolve "u12" as a contact).
func (s *Business) catalogOf(ctx context.Context, u parley.UserID, req *parleypb.BizCatalogRequest) (parley.Catalog, error) {
	req.Business = int64(u)
	f, err := s.core.Request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_BizCatalog{BizCatalog: req}})
	if err != nil {
		return parley.Catalog{}, errorf("catalog", err)
	}
	var cat parley.Catalog
	for _, p := range f.GetBizCatalog().GetProducts() {
		cat.Products = append(cat.Products, wire.BizProductFromPB(p))
	}
	for _, col := range f.GetBizCatalog().GetCollections() {
		cat.Collections = append(cat.Collections, parley.Collection{Business: u, ID: parley.CollectionID(col.GetId()), Name: col.GetName()})
	}
	return cat, nil
}

// PutCollection creates or renames a collection of this business's catalog.
func (s *Business) PutCollection(ctx context.Context, id parley.CollectionID, name string) error {
	_, err := s.core.Request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_BizCollection{BizCollection: &parleypb.BizCollectionRequest{
		Id: string(id), Name: name}}})
	return errorf("put collection", err)
}

// DeleteCollection deletes a collection (its products stay).
func (s *Business) DeleteCollection(ctx context.Context, id parley.CollectionID) error {
	_, err := s.core.Request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_BizCollection{BizCollection: &parleypb.BizCollectionRequest{
		Id: string(id), Delete: true}}})
	return errorf("delete collection", err)
}

// PutQuickReply saves a quick reply: /shortcut then expands to its text
// (or media descriptor, JSON) in SendQuickReply and ExpandQuickReply.
func (s *Business) PutQuickReply(ctx context.Context, q parley.QuickReply) (parley.QuickReply, error) {
	q.Shortcut = strings.TrimPrefix(q.Shortcut, "/")
	if err := q.Validate(); err != nil {
		return q, err
	}
	f, err := s.core.Request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_BizQuickReply{BizQuickReply: &parleypb.BizQuickReplyRequest{
		QuickReply: wire.QuickReplyToPB(q)}}})
	if err != nil {
		return q, errorf("put quick reply", err)
	}
	if l := f.GetBizQuickReplies().GetQuickReplies(); len(l) == 1 {
		q.UpdatedAt = wire.FromMS(l[0].GetUpdatedAtMs())
	}
	q.Business = s.core.Account().User
	return q, nil
}

// DeleteQuickReply deletes a quick reply.
func (s *Business) DeleteQuickReply(ctx context.Context, shortcut string) error {
	_, err := s.core.Request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_BizQuickReply{BizQuickReply: &parleypb.BizQuickReplyRequest{
		QuickReply: &parleypb.BizQuickReply{Shortcut: strings.TrimPrefix(shortcut, "/")}, Delete: true}}})
	return errorf("delete quick reply", err)
}

// QuickReplies lists this business's quick replies by shortcut.
func (s *Business) QuickReplies(ctx context.Context) ([]parley.QuickReply, error) {
	f, err := s.core.Request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_BizQuickReplies{BizQuickReplies: &parleypb.BizQuickRepliesRequest{}}})
	if err != nil {
		return nil, errorf("quick replies", err)
	}
	var out []parley.QuickReply
	for _, q := range f.GetBizQuickReplies().GetQuickReplies() {
		out = append(out, parley.QuickReply{Business: s.core.Account().User, Shortcut: q.GetShortcut(), Text: q.GetText(), Media: q.GetMedia(),
			UpdatedAt: wire.FromMS(q.GetUpdatedAtMs())})
	}
	return out, nil
}

// ExpandQuickReply returns the quick reply a text names when it is exactly
// "/shortcut" (ok false for any other text). CodeNotFound
// "no_quick_reply" for an unknown shortcut.
func (s *Business) ExpandQuickReply(ctx context.Context, text string) (q parley.QuickReply, ok bool, err error) {
	t := strings.TrimSpace(text)
	if !strings.HasPrefix(t, "/") || !parley.ValidKey(t[1:]) {
		return q, false, nil
	}
	list, err := s.QuickReplies(ctx)
	if err != nil {
		return q, true, err
	}
	for _, q := range list {
		if q.Shortcut == t[1:] {
			return q, true, nil
		}
	}
	return q, true, parley.Errorf(parley.CodeNotFound, parley.ReasonNoQuickReply, "no quick reply %s", t)
}

// PutLabel creates or replaces a custom chat label.
func (s *Business) PutLabel(ctx context.Context, l parley.Label) error {
	if err := l.Validate(); err != nil {
		return err
	}
	_, err := s.core.Request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_BizLabel{BizLabel: &parleypb.BizLabelRequest{
		Label: &parleypb.BizLabel{Id: string(l.ID), Name: l.Name, Color: l.Color}}}})
	return errorf("put label", err)
}

// DeleteLabel deletes a custom label (and takes it off every chat).
func (s *Business) DeleteLabel(ctx context.Context, id parley.LabelID) error {
	_, err := s.core.Request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_BizLabel{BizLabel: &parleypb.BizLabelRequest{
		Label: &parleypb.BizLabel{Id: string(id)}, Delete: true}}})
	return errorf("delete label", err)
}

// Labels lists this business's labels, predefined ones first.
func (s *Business) Labels(ctx context.Context) ([]parley.Label, error) {
	f, err := s.core.Request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_BizLabels{BizLabels: &parleypb.BizLabelsRequest{}}})
	if err != nil {
		return nil, errorf("labels", err)
	}
	var out []parley.Label
	for _, l := range f.GetBizLabels().GetLabels() {
		out = append(out, parley.Label{Business: s.core.Account().User, ID: parley.LabelID(l.GetId()), Name: l.GetName(), Color: l.GetColor()})
	}
	return out, nil
}

// LabelChat puts a label on a chat (on) or takes it off (!on).
func (s *Business) LabelChat(ctx context.Context, chat string, label parley.LabelID, on bool) error {
	id, err := s.core.ChatID(ctx, chat)
	if err != nil {
		return err
	}
	_, err = s.core.Request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_BizChatLabel{BizChatLabel: &parleypb.BizChatLabelRequest{
		ConversationId: string(id), LabelId: string(label), Remove: !on}}})
	return errorf("label chat", err)
}

// ChatLabels lists the labels on this business's chats: of one chat if
// chat is not empty, of one label if label is not empty.
func (s *Business) ChatLabels(ctx context.Context, chat string, label parley.LabelID) ([]parley.ChatLabel, error) {
	var id parley.ConversationID
	if chat != "" {
		var err error
		if id, err = s.core.ChatID(ctx, chat); err != nil {
			return nil, err
		}
	}
	f, err := s.core.Request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_BizChatLabels{BizChatLabels: &parleypb.BizChatLabelsRequest{
		ConversationId: string(id), LabelId: string(label)}}})
	if err != nil {
		return nil, errorf("chat labels", err)
	}
	var out []parley.ChatLabel
	for _, l := range f.GetBizChatLabels().GetLabels() {
		out = append(out, parley.ChatLabel{Business: s.core.Account().User, Conversation: parley.ConversationID(l.GetConversationId()),
			Label: parley.LabelID(l.GetLabelId()), At: wire.FromMS(l.GetAtMs())})
	}
	return out, nil
}

// SetAutoReply replaces this business's greeting and away settings.
func (s *Business) SetAutoReply(ctx context.Context, a parley.AutoReplySettings) (parley.AutoReplySettings, error) {
	if err := a.Validate(); err != nil {
		return a, err
	}
	f, err := s.core.Request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_BizAutoReply{BizAutoReply: &parleypb.BizAutoReplyRequest{
		Settings: wire.AutoReplyToPB(a), Set: true}}})
	if err != nil {
		return a, errorf("set greeting and away messages", err)
	}
	s.cache.forget()
	out := wire.AutoReplyFromPB(f.GetBizAutoReply())
	out.Business = s.core.Account().User
	return out, nil
}

// AutoReply returns this business's greeting and away settings.
func (s *Business) AutoReply(ctx context.Context) (parley.AutoReplySettings, error) {
	f, err := s.core.Request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_BizAutoReply{BizAutoReply: &parleypb.BizAutoReplyRequest{}}})
	if err != nil {
		return parley.AutoReplySettings{}, errorf("greeting and away messages", err)
	}
	out := wire.AutoReplyFromPB(f.GetBizAutoReply())
	out.Business = s.core.Account().User
	return out, nil
}

// ShareProduct sends a product of a business's catalog (ref "" for this
// user's) to a chat as a product message: a snapshot of the product with
// its first image.
func (s *Business) ShareProduct(ctx context.Context, chat, ref string, id parley.ProductID) (content.MessageRecord, error) {
	p, err := s.Product(ctx, ref, id)
	if err != nil {
		return content.MessageRecord{}, err
	}
	pm := &content.ProductMessage{Business: p.Business, ProductID: string(p.ID), Name: p.Name, Price: p.Price,
		Description: p.Description, Available: p.Available}
	if len(p.Images) > 0 {
		pm.Image = productImageDescriptor(p.Images[0])
	}
	if pm.Image != nil {
		// Catalog images are linked to each chat they are shared in, so
		// its members may fetch them.
		if err := s.core.Sync(ctx); err != nil {
			return content.MessageRecord{}, err
		}
		conv, err := s.core.SendTarget(ctx, chat)
		if err != nil {
			return content.MessageRecord{}, err
		}
		if err := s.linkBlob(ctx, *pm.Image, conv); err != nil {
			return content.MessageRecord{}, err
		}
	}
	return s.core.SendBusiness(ctx, chat, content.BusinessContent{Product: pm}, 0)
}

// CartItem is a product and a quantity, for SendOrder.
type CartItem struct {
	Product  parley.ProductID
	Quantity int
}

// SendOrder sends a cart to a business as an order message, priced from
// the business's current catalog. The chat is the direct chat with the
// business (chat: its chat id, +PHONE or @USERNAME). Errors: CodeInvalid
// "business_items" for an empty cart or a bad quantity, "unavailable" for
// a product marked unavailable, "mixed_currencies"; CodeNotFound
// "no_product".
func (s *Business) SendOrder(ctx context.Context, chat string, items []CartItem, note string) (content.MessageRecord, error) {
	if len(items) == 0 || len(items) > content.MaxOrderItems {
		return content.MessageRecord{}, parley.Errorf(parley.CodeInvalid, content.ReasonBusinessItems, "an order has 1 to %d items", content.MaxOrderItems)
	}
	if err := s.core.Sync(ctx); err != nil {
		return content.MessageRecord{}, err
	}
	biz, err := s.bizUser(ctx, chat)
	if err != nil {
		return content.MessageRecord{}, err
	}
	cat, err := s.catalogOf(ctx, biz, &parleypb.BizCatalogRequest{})
	if err != nil {
		return content.MessageRecord{}, err
	}
	byID := map[parley.ProductID]parley.Product{}
	for _, p := range cat.Products {
		byID[p.ID] = p
	}
	o := &content.OrderMessage{OrderID: newOrderID(), Business: biz, Note: note}
	for _, it := range items {
		p, ok := byID[it.Product]
		if !ok {
			return content.MessageRecord{}, parley.Errorf(parley.CodeNotFound, parley.ReasonNoProduct, "no product %s in the catalog", it.Product)
		}
		if !p.Available {
			return content.MessageRecord{}, parley.Errorf(parley.CodeInvalid, ReasonUnavailable, "%s is not available", p.Name)
		}
		if o.Total.Currency == "" {
			o.Total.Currency = p.Price.Currency
		} else if o.Total.Currency != p.Price.Currency {
			return content.MessageRecord{}, parley.Errorf(parley.CodeInvalid, ReasonMixedCurrencies, "an order is in one currency")
		}
		o.Items = append(o.Items, content.OrderItem{ProductID: string(p.ID), Name: p.Name, Quantity: it.Quantity, Price: p.Price.Amount1000})
		o.Total.Amount1000 += int64(it.Quantity) * p.Price.Amount1000
	}
	return s.core.SendBusiness(ctx, chat, content.BusinessContent{Order: o}, 0)
}

func newOrderID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "o" + hex.EncodeToString(b[:])
}

// SetOrderStatus sends an order status update (paid, shipped, completed,
// cancelled) in chat, as a reply to the order message orderMsg ("CHAT:SEQ",
// or "" to name the order by orderID only), and labels the chat: "paid"
// when paid, "order_complete" when completed (taking "pending_payment"
// off). Labelling needs a business profile; its failure is logged, not
// returned.
func (s *Business) SetOrderStatus(ctx context.Context, chat, orderID, status, note string) (content.MessageRecord, error) {
	m, err := s.core.SendBusiness(ctx, chat, content.BusinessContent{OrderStatus: &content.OrderStatusMessage{OrderID: orderID, Status: status, Note: note}}, 0)
	if err != nil {
		return m, err
	}
	var on parley.LabelID
	switch status {
	case content.OrderPaid:
		on = parley.LabelPaid
	case content.OrderCompleted:
		on = parley.LabelOrderComplete
	}
	if on != "" {
		if err := s.LabelChat(ctx, string(m.Conversation), on, true); err != nil {
			s.core.Logger().Warn("label chat", "chat", m.Conversation, "label", on, "err", err)
		} else if err := s.LabelChat(ctx, string(m.Conversation), parley.LabelPendingPayment, false); err != nil {
			s.core.Logger().Warn("unlabel chat", "chat", m.Conversation, "err", err)
		}
	}
	return m, nil
}

// ReplyInteractive answers an interactive message ("CHAT:SEQ") by choosing
// one of its buttons or list rows by id. CodeInvalid "not_interactive",
// CodeNotFound "no_choice".
func (s *Business) ReplyInteractive(ctx context.Context, messageID, choice string) (content.MessageRecord, error) {
	m, err := s.core.Target(ctx, messageID)
	if err != nil {
		return content.MessageRecord{}, err
	}
	if m.Kind != content.KindInteractive || m.Business == nil || m.Business.Interactive == nil {
		return content.MessageRecord{}, parley.Errorf(parley.CodeInvalid, ReasonNotInteractive, "message %s has no buttons or list", messageID)
	}
	r, ok := m.Business.Interactive.Choice(choice)
	if !ok {
		return content.MessageRecord{}, parley.Errorf(parley.CodeNotFound, ReasonNoChoice, "message %s has no button or row %q", messageID, choice)
	}
	return s.core.SendBusiness(ctx, string(m.Conversation), content.BusinessContent{Reply: &r}, m.Seq)
}

// productImageDescriptor is the attachment descriptor of a catalog image
// (nil if the image record is not a valid encrypted image).
func productImageDescriptor(im parley.ProductImage) *attachment.Descriptor {
	capability, err := base64.StdEncoding.DecodeString(im.Capability)
	if err != nil {
		return nil
	}
	d := &attachment.Descriptor{Kind: attachment.KindImage, MIME: im.Type, Blob: im.Blob, Capability: capability, Key: im.Key,
		Scheme: attachment.Scheme, Size: im.Size, EncryptedSize: attachment.EncryptedSize(im.Size), PlainSHA256: im.Digest,
		Thumbnail: im.Thumbnail}
	if d.Validate() != nil {
		return nil
	}
	return d
}

// ProductImageOf is the catalog record of an uploaded image's descriptor.
func ProductImageOf(d attachment.Descriptor) parley.ProductImage {
	im := parley.ProductImage{Blob: d.Blob, Capability: base64.StdEncoding.EncodeToString(d.Capability), Key: d.Key,
		Digest: d.PlainSHA256, Size: d.Size, Type: d.MIME}
	if len(d.Thumbnail) <= parley.MaxThumbnailBytes {
		im.Thumbnail = d.Thumbnail
	}
	return im
}

// MediaOf returns the attachment descriptor of the media message
// messageID ("CHAT:SEQ") on this device, for a catalog image (an image)
// or a media quick reply. CodeInvalid "not_media" for other messages.
func (s *Business) MediaOf(ctx context.Context, messageID string, kind attachment.Kind) (attachment.Descriptor, error) {
	m, err := s.core.Message(ctx, messageID)
	if err != nil {
		return attachment.Descriptor{}, err
	}
	if m.Media == nil || kind != "" && m.Media.Kind != kind {
		return attachment.Descriptor{}, parley.Errorf(parley.CodeInvalid, ReasonNotMedia, "message %s is not a %s message", messageID, cmpOr(string(kind), "media"))
	}
	return *m.Media, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// SendDescriptor sends a media message with an already uploaded file (a
// media quick reply): the blob is linked to the chat first so its members
// may fetch it, as Forward does.
func (s *Business) SendDescriptor(ctx context.Context, to string, d attachment.Descriptor) (content.MessageRecord, error) {
	if err := d.Validate(); err != nil {
		return content.MessageRecord{}, err
	}
	if err := s.core.Sync(ctx); err != nil {
		return content.MessageRecord{}, err
	}
	conv, err := s.core.SendTarget(ctx, to)
	if err != nil {
		return content.MessageRecord{}, err
	}
	if err := s.linkBlob(ctx, d, conv); err != nil {
		return content.MessageRecord{}, err
	}
	return s.core.SendMedia(ctx, conv, d)
}

// linkBlob lets the members of conv fetch the blob of d.
func (s *Business) linkBlob(ctx context.Context, d attachment.Descriptor, conv parley.ConversationID) error {
	if !d.HasBlob() {
		return nil
	}
	ac, err := s.core.Attachments()
	if err != nil {
		return err
	}
	return ac.Link(ctx, d, conv, 0)
}

// DownloadBusinessMedia fetches, decrypts and verifies the image of a
// product message or the header media of an interactive or template
// message ("CHAT:SEQ"), writing the plaintext to w.
func (s *Business) DownloadBusinessMedia(ctx context.Context, messageID string, w io.Writer) (attachment.Descriptor, error) {
	m, err := s.core.Message(ctx, messageID)
	if err != nil {
		return attachment.Descriptor{}, err
	}
	var d *attachment.Descriptor
	if bc := m.Business; bc != nil {
		switch {
		case bc.Product != nil:
			d = bc.Product.Image
		case bc.Interactive != nil:
			d = bc.Interactive.HeaderMedia
		case bc.Template != nil:
			d = bc.Template.HeaderMedia
		}
	}
	if d == nil {
		return attachment.Descriptor{}, parley.Errorf(parley.CodeInvalid, parley.ReasonNoMedia, "message %s has no image", messageID)
	}
	ac, err := s.core.Attachments()
	if err != nil {
		return *d, err
	}
	return *d, ac.Download(ctx, *d, w)
}
