package parley

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Business accounts. Any user can turn their account into a business
// account by publishing a BusinessProfile; customers then see the profile
// (and the operator's verified mark) when they chat with it. The server
// stores the profile, catalog, quick replies, labels and greeting/away
// settings: they are the business's public shop window and its own
// working tools, not message content (messages stay end-to-end encrypted;
// a shared product, an order or a greeting is an ordinary encrypted
// message sent by a device of the business or of the customer).

// MaxAmount1000 bounds Money amounts (a trillion currency units).
const MaxAmount1000 = 1_000_000_000_000_000

// Money is an amount in thousandths of a currency unit (the Cloud API's
// "amount_1000": 12.50 EUR is {12500, "EUR"}), so every currency's minor
// units fit without floating point.
type Money struct {
	Amount1000 int64  `json:"amount_1000"`
	Currency   string `json:"currency"` // ISO 4217, upper case
}

// Validate checks the amount is 0 to MaxAmount1000 and the currency three
// upper-case letters (CodeInvalid "money").
func (m Money) Validate() error {
	if m.Amount1000 < 0 || m.Amount1000 > MaxAmount1000 {
		return Errorf(CodeInvalid, ReasonMoney, "an amount is between 0 and %d", MaxAmount1000/1000)
	}
	if len(m.Currency) != 3 {
		return Errorf(CodeInvalid, ReasonMoney, "a currency is a three-letter ISO 4217 code")
	}
	for _, c := range m.Currency {
		if c < 'A' || c > 'Z' {
			return Errorf(CodeInvalid, ReasonMoney, "a currency is a three-letter ISO 4217 code")
		}
	}
	return nil
}

// String formats m as "12.50 EUR" (trailing zeros past the cents dropped).
func (m Money) String() string {
	sign := ""
	a := m.Amount1000
	if a < 0 {
		sign, a = "-", -a
	}
	s := fmt.Sprintf("%s%d.%03d", sign, a/1000, a%1000)
	return strings.TrimSuffix(s, "0") + " " + m.Currency
}

// ParseMoney parses "12", "12.5" or "12.500" (up to 3 decimals) with a
// currency code into Money (CodeInvalid "money").
func ParseMoney(amount, currency string) (Money, error) {
	bad := Errorf(CodeInvalid, ReasonMoney, "amount %q: want digits with up to 3 decimals", amount)
	whole, frac, _ := strings.Cut(strings.TrimSpace(amount), ".")
	if whole == "" || len(whole) > 15 || len(frac) > 3 {
		return Money{}, bad
	}
	frac += strings.Repeat("0", 3-len(frac))
	var v int64
	for _, c := range whole + frac {
		if c < '0' || c > '9' {
			return Money{}, bad
		}
		v = v*10 + int64(c-'0')
	}
	m := Money{Amount1000: v, Currency: strings.ToUpper(strings.TrimSpace(currency))}
	return m, m.Validate()
}

// BusinessHours are the opening hours of a business in its time zone: for
// each weekday the intervals it is open. No intervals for a day means
// closed all day; a business without hours (Zone "") is always open.
type BusinessHours struct {
	Zone string                  `json:"zone,omitempty"` // IANA time zone, e.g. "Europe/Paris"
	Days map[time.Weekday][]Span `json:"days,omitempty"`
}

// Span is an opening interval of one day, in minutes since midnight
// (0 ≤ From < To ≤ 1440).
type Span struct {
	From int `json:"from"`
	To   int `json:"to"`
}

// Validate checks the zone loads and the spans are well formed.
func (h BusinessHours) Validate() error {
	if h.Zone == "" {
		if len(h.Days) > 0 {
			return Errorf(CodeInvalid, ReasonBusinessHours, "opening hours need a time zone")
		}
		return nil
	}
	if _, err := time.LoadLocation(h.Zone); err != nil {
		return Errorf(CodeInvalid, ReasonBusinessHours, "unknown time zone %q", h.Zone)
	}
	for d, spans := range h.Days {
		if d < time.Sunday || d > time.Saturday || len(spans) > 8 {
			return Errorf(CodeInvalid, ReasonBusinessHours, "opening hours are up to 8 intervals on each of the 7 weekdays")
		}
		for _, s := range spans {
			if s.From < 0 || s.To > 24*60 || s.From >= s.To {
				return Errorf(CodeInvalid, ReasonBusinessHours, "an opening interval runs forwards within one day")
			}
		}
	}
	return nil
}

// OpenAt reports whether the business is open at t. Hours with no zone
// mean always open.
func (h BusinessHours) OpenAt(t time.Time) bool {
	if h.Zone == "" {
		return true
	}
	loc, err := time.LoadLocation(h.Zone)
	if err != nil {
		return true
	}
	lt := t.In(loc)
	min := lt.Hour()*60 + lt.Minute()
	for _, s := range h.Days[lt.Weekday()] {
		if min >= s.From && min < s.To {
			return true
		}
	}
	return false
}

// BusinessProfile is what customers see of a business.
type BusinessProfile struct {
	User        UserID        `json:"user"`
	Name        string        `json:"name"`
	Category    string        `json:"category,omitempty"`
	Description string        `json:"description,omitempty"`
	Address     string        `json:"address,omitempty"`
	Hours       BusinessHours `json:"hours"`
	Website     string        `json:"website,omitempty"`
	Email       string        `json:"email,omitempty"`
	// Verified is the operator's mark that the business is who it says; only
	// the operator sets it (SetBusinessVerified), never the business.
	Verified   bool      `json:"verified"`
	VerifiedAt time.Time `json:"verified_at,omitzero"`
	// Hosted says a device run by the server (the hosted endpoint of the
	// business API) is one of the business's devices, so the server
	// operator can read that business's chats. Set by the hosted endpoint,
	// shown to customers.
	Hosted    bool      `json:"hosted"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Limits of business data.
const (
	MaxBusinessText     = 512 // name, category, address, website, email
	MaxBusinessDescr    = 2048
	MaxProducts         = 1000
	MaxProductImages    = 10
	MaxCollections      = 100
	MaxQuickReplies     = 100
	MaxQuickReplyText   = 4096
	MaxLabels           = 20
	MaxLabelsPerChat    = 20
	MaxAutoReplyText    = 1024
	maxBusinessShortKey = 64
)

func checkText(reason, what, s string, max int, required bool) error {
	if required && strings.TrimSpace(s) == "" {
		return Errorf(CodeInvalid, reason, "%s is required", what)
	}
	if len(s) > max {
		return Errorf(CodeTooLarge, reason, "%s is at most %d bytes", what, max)
	}
	return nil
}

// Validate checks the fields a business sets.
func (p BusinessProfile) Validate() error {
	if err := checkText(ReasonBusinessName, "a business name", p.Name, MaxBusinessText, true); err != nil {
		return err
	}
	if err := CheckName(p.Name); err != nil {
		return err
	}
	for _, f := range []struct{ what, s string }{{"the category", p.Category}, {"the address", p.Address}, {"the website", p.Website}, {"the email", p.Email}} {
		if err := checkText(ReasonBusinessProfile, f.what, f.s, MaxBusinessText, false); err != nil {
			return err
		}
	}
	if p.Email != "" && !strings.Contains(p.Email, "@") {
		return Errorf(CodeInvalid, ReasonBusinessEmail, "email %q is not an address", p.Email)
	}
	if p.Website != "" && !strings.HasPrefix(p.Website, "https://") && !strings.HasPrefix(p.Website, "http://") {
		return Errorf(CodeInvalid, ReasonBusinessWebsite, "a website starts with https:// or http://")
	}
	if err := checkText(ReasonBusinessDescription, "the description", p.Description, MaxBusinessDescr, false); err != nil {
		return err
	}
	return p.Hours.Validate()
}

// ProductID identifies a product within its business's catalog (chosen by
// the business, like a SKU: 1 to 64 of [A-Za-z0-9_.-]).
type ProductID string

// CollectionID identifies a collection within a business's catalog.
type CollectionID string

// ValidKey reports whether s is a valid product, collection, label or
// quick-reply key: 1 to 64 characters of [A-Za-z0-9_.-].
func ValidKey(s string) bool {
	if s == "" || len(s) > maxBusinessShortKey {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// ProductImage is a public product photo stored in the media service: the
// blob and the capability to fetch it, plus the key its ciphertext was
// encrypted under (catalog images are public, so the key is published with
// the catalog; this is not end-to-end encryption), and a small preview.
type ProductImage struct {
	Blob       BlobID `json:"blob"`
	Capability string `json:"capability"`
	Key        []byte `json:"key"`
	Digest     []byte `json:"digest,omitempty"`
	Size       int64  `json:"size"`
	Type       string `json:"type"`
	// Thumbnail is a small JPEG preview kept with the catalog itself, so
	// customers see it while browsing, whatever the media retention.
	Thumbnail []byte `json:"thumbnail,omitempty"`
}

// MaxThumbnailBytes bounds a catalog image's inline preview.
const MaxThumbnailBytes = 32 << 10

// Product is an item of a business's catalog.
type Product struct {
	Business    UserID         `json:"business"`
	ID          ProductID      `json:"id"`
	Name        string         `json:"name"`
	Price       Money          `json:"price"`
	Description string         `json:"description,omitempty"`
	Available   bool           `json:"available"`
	URL         string         `json:"url,omitempty"`
	Images      []ProductImage `json:"images,omitempty"`
	Collections []CollectionID `json:"collections,omitempty"`
	UpdatedAt   time.Time      `json:"updated_at"`
}

// Validate checks the fields a business sets.
func (p Product) Validate() error {
	if !ValidKey(string(p.ID)) {
		return Errorf(CodeInvalid, ReasonProductID, "a product id is 1 to 64 of A-Z a-z 0-9 _ . -")
	}
	if err := checkText(ReasonProductName, "a product name", p.Name, MaxBusinessText, true); err != nil {
		return err
	}
	if err := p.Price.Validate(); err != nil {
		return err
	}
	if err := checkText(ReasonProductDescription, "a product description", p.Description, MaxBusinessDescr, false); err != nil {
		return err
	}
	if err := checkText(ReasonProductURL, "a product URL", p.URL, MaxBusinessText, false); err != nil {
		return err
	}
	if len(p.Images) > MaxProductImages {
		return Errorf(CodeTooLarge, ReasonProductImages, "a product has at most %d images", MaxProductImages)
	}
	for _, im := range p.Images {
		if im.Blob == "" || im.Capability == "" || len(im.Key) == 0 || im.Size < 0 || len(im.Type) > 128 {
			return Errorf(CodeInvalid, ReasonProductImage, "a product image names its blob, capability, key, size and type")
		}
		if len(im.Thumbnail) > MaxThumbnailBytes {
			return Errorf(CodeTooLarge, ReasonProductThumbnail, "a product image's preview is at most %d bytes", MaxThumbnailBytes)
		}
	}
	if len(p.Collections) > MaxCollections {
		return Errorf(CodeTooLarge, ReasonProductCollections, "a product is in at most %d collections", MaxCollections)
	}
	for _, c := range p.Collections {
		if !ValidKey(string(c)) {
			return Errorf(CodeInvalid, ReasonCollectionID, "a collection id is 1 to 64 of A-Z a-z 0-9 _ . -")
		}
	}
	return nil
}

// Catalog is a business's catalog as customers see it: its products (of
// one collection, when asked for one) and its collections.
type Catalog struct {
	Products    []Product
	Collections []Collection
}

// Collection is a named group of products of a catalog (membership is on
// the product).
type Collection struct {
	Business UserID       `json:"business"`
	ID       CollectionID `json:"id"`
	Name     string       `json:"name"`
}

// QuickReply is a saved answer a business inserts by typing /Shortcut:
// text, or a media message (its encrypted descriptor, as JSON, kept by the
// business's own devices; the server stores it opaquely).
type QuickReply struct {
	Business UserID `json:"business"`
	Shortcut string `json:"shortcut"` // without the slash
	Text     string `json:"text,omitempty"`
	// Media is an attachment descriptor (JSON) of a media quick reply.
	Media     []byte    `json:"media,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Validate checks the shortcut and that there is text or media.
func (q QuickReply) Validate() error {
	if !ValidKey(q.Shortcut) {
		return Errorf(CodeInvalid, ReasonQuickReplyShortcut, "a shortcut is 1 to 64 of A-Z a-z 0-9 _ . -")
	}
	if strings.TrimSpace(q.Text) == "" && len(q.Media) == 0 {
		return Errorf(CodeInvalid, ReasonQuickReplyEmpty, "a quick reply has text or media")
	}
	if len(q.Text) > MaxQuickReplyText || len(q.Media) > 16<<10 {
		return Errorf(CodeTooLarge, ReasonQuickReplySize, "a quick reply's text is at most %d bytes", MaxQuickReplyText)
	}
	return nil
}

// LabelID identifies a chat label of a business.
type LabelID string

// The predefined labels every business starts with.
const (
	LabelNewCustomer    LabelID = "new_customer"
	LabelPendingPayment LabelID = "pending_payment"
	LabelPaid           LabelID = "paid"
	LabelOrderComplete  LabelID = "order_complete"
)

// Label is a business's tag for its chats. The predefined ones exist for
// every business; custom ones are created by the business.
type Label struct {
	Business UserID  `json:"business"`
	ID       LabelID `json:"id"`
	Name     string  `json:"name"`
	Color    string  `json:"color,omitempty"` // "#rrggbb"
}

// DefaultLabels are the predefined labels.
var DefaultLabels = []Label{
	{ID: LabelNewCustomer, Name: "New customer", Color: "#2196f3"},
	{ID: LabelPendingPayment, Name: "Pending payment", Color: "#ff9800"},
	{ID: LabelPaid, Name: "Paid", Color: "#4caf50"},
	{ID: LabelOrderComplete, Name: "Order complete", Color: "#9c27b0"},
}

// Validate checks the label's id, name and color.
func (l Label) Validate() error {
	if !ValidKey(string(l.ID)) {
		return Errorf(CodeInvalid, ReasonLabelID, "a label id is 1 to 64 of A-Z a-z 0-9 _ . -")
	}
	if err := checkText(ReasonLabelName, "a label name", l.Name, 64, true); err != nil {
		return err
	}
	if l.Color != "" {
		ok := len(l.Color) == 7 && l.Color[0] == '#'
		for _, c := range l.Color[1:] {
			ok = ok && (c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F')
		}
		if !ok {
			return Errorf(CodeInvalid, ReasonLabelColor, "a label color is #rrggbb")
		}
	}
	return nil
}

// ChatLabel is a label put on one of the business's chats.
type ChatLabel struct {
	Business     UserID         `json:"business"`
	Conversation ConversationID `json:"conversation"`
	Label        LabelID        `json:"label"`
	At           time.Time      `json:"at"`
}

// AutoReplySettings are a business's greeting and away messages. They are
// sent by the business's own device (never by the server): the greeting
// when a customer writes for the first time (or again after
// GreetingAfter of silence), the away message when a customer writes
// outside the profile's hours (at most once per AwayEvery per chat).
type AutoReplySettings struct {
	Business        UserID        `json:"business"`
	GreetingEnabled bool          `json:"greeting_enabled"`
	Greeting        string        `json:"greeting,omitempty"`
	GreetingAfter   time.Duration `json:"greeting_after,omitempty"` // 0: first contact only
	AwayEnabled     bool          `json:"away_enabled"`
	Away            string        `json:"away,omitempty"`
	AwayEvery       time.Duration `json:"away_every,omitempty"` // 0: DefaultAwayEvery
	UpdatedAt       time.Time     `json:"updated_at"`
}

// DefaultAwayEvery is how often at most a chat gets the away message.
const DefaultAwayEvery = 12 * time.Hour

// Validate checks an enabled message has text.
func (a AutoReplySettings) Validate() error {
	if a.GreetingEnabled && strings.TrimSpace(a.Greeting) == "" {
		return Errorf(CodeInvalid, ReasonGreetingEmpty, "an enabled greeting has text")
	}
	if a.AwayEnabled && strings.TrimSpace(a.Away) == "" {
		return Errorf(CodeInvalid, ReasonAwayEmpty, "an enabled away message has text")
	}
	if len(a.Greeting) > MaxAutoReplyText || len(a.Away) > MaxAutoReplyText {
		return Errorf(CodeTooLarge, ReasonAutoReplySize, "greeting and away messages are at most %d bytes", MaxAutoReplyText)
	}
	if a.GreetingAfter < 0 || a.AwayEvery < 0 {
		return Errorf(CodeInvalid, ReasonAutoReplyInterval, "intervals are not negative")
	}
	return nil
}

// BusinessStore keeps business accounts' data. Implementations pass
// storetest's business contract. Lookups of missing records return
// CodeNotFound; every method is atomic and durable on return.
type BusinessStore interface {
	// PutBusinessProfile creates or replaces a profile's business-set
	// fields; Verified, VerifiedAt and Hosted are kept as stored.
	PutBusinessProfile(ctx context.Context, p BusinessProfile) error
	BusinessProfile(ctx context.Context, user UserID) (BusinessProfile, error)
	// DeleteBusinessProfile turns the account back into a personal one
	// with its catalog, quick replies, labels and settings.
	DeleteBusinessProfile(ctx context.Context, user UserID) error
	// SetBusinessVerified sets the operator's verified mark (at: when).
	SetBusinessVerified(ctx context.Context, user UserID, verified bool, at time.Time) error
	// SetBusinessHosted records whether a server-hosted endpoint is one of
	// the business's devices.
	SetBusinessHosted(ctx context.Context, user UserID, hosted bool) error
	// BusinessProfiles lists profiles by user id after `after`, up to limit.
	BusinessProfiles(ctx context.Context, after UserID, limit int) ([]BusinessProfile, error)

	// PutProduct creates or replaces a product (CodeTooLarge
	// "too_many_products" beyond MaxProducts).
	PutProduct(ctx context.Context, p Product) error
	Product(ctx context.Context, business UserID, id ProductID) (Product, error)
	DeleteProduct(ctx context.Context, business UserID, id ProductID) error
	// Products lists the catalog by id; with a collection, only its products.
	Products(ctx context.Context, business UserID, collection CollectionID) ([]Product, error)
	PutCollection(ctx context.Context, c Collection) error
	DeleteCollection(ctx context.Context, business UserID, id CollectionID) error
	Collections(ctx context.Context, business UserID) ([]Collection, error)

	PutQuickReply(ctx context.Context, q QuickReply) error
	QuickReply(ctx context.Context, business UserID, shortcut string) (QuickReply, error)
	DeleteQuickReply(ctx context.Context, business UserID, shortcut string) error
	QuickReplies(ctx context.Context, business UserID) ([]QuickReply, error)

	// PutLabel creates or replaces a custom label; Labels lists custom ones.
	PutLabel(ctx context.Context, l Label) error
	DeleteLabel(ctx context.Context, business UserID, id LabelID) error
	Labels(ctx context.Context, business UserID) ([]Label, error)
	// LabelChat and UnlabelChat are idempotent.
	LabelChat(ctx context.Context, l ChatLabel) error
	UnlabelChat(ctx context.Context, business UserID, conv ConversationID, label LabelID) error
	// ChatLabels lists the labels on the business's chats: of one chat if
	// conv is not empty, else of all; with a label, only that label's chats.
	ChatLabels(ctx context.Context, business UserID, conv ConversationID, label LabelID) ([]ChatLabel, error)

	// ClaimAutoReply records that device is sending the greeting or away
	// message keyed by key (what and the customer's message that triggered
	// it) in conv: true for the first claim and for the same device's
	// repeated one, false if another device claimed it. Deleting the
	// profile deletes the claims.
	ClaimAutoReply(ctx context.Context, business UserID, conv ConversationID, key string, device DeviceID, at time.Time) (bool, error)

	PutAutoReply(ctx context.Context, a AutoReplySettings) error
	// AutoReply returns the settings (zero settings, not an error, when
	// none were stored for an existing business profile).
	AutoReply(ctx context.Context, business UserID) (AutoReplySettings, error)
}
