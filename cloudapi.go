package parley

import (
	"context"
	"encoding/json"
	"time"
)

// This file holds the domain types of the business API (package cloudapi)
// and of the hosted business endpoint (package hosted): API tokens, message
// templates, opt-ins, the customer-service window, messaging tiers and the
// quality rating. CloudAPIStore keeps them; store/sqlite and store/postgres
// implement it (migrations 00500_cloudapi.sql) and pass the contract suite
// in store/storetest (RunCloudAPI).

// APIScope is one permission an API token grants.
type APIScope string

// The API scopes.
const (
	ScopeMessages  APIScope = "messages"  // send messages and mark them read
	ScopeMedia     APIScope = "media"     // upload, fetch and delete media
	ScopeTemplates APIScope = "templates" // create, list, edit and delete templates
	ScopeOptIns    APIScope = "optins"    // record and list customers' opt-ins
	ScopeProfile   APIScope = "profile"   // read the business profile and number settings
	// ScopeInsights reads the insights reports, charts and message
	// statuses (/business/v1/insights…) and nothing else: the dashboard's
	// token, so that the page never holds a device credential.
	ScopeInsights APIScope = "insights"
)

// AllAPIScopes lists every scope, the default of a new token.
var AllAPIScopes = []APIScope{ScopeMessages, ScopeMedia, ScopeTemplates, ScopeOptIns, ScopeProfile, ScopeInsights}

// APIToken is a bearer token of one business number. Only the SHA-256 of
// the secret is stored; the secret is shown once, when the token is made.
type APIToken struct {
	ID        string // "tok_…", public, names the token in lists and revocation
	Business  UserID
	Name      string
	Scopes    []APIScope
	Hash      []byte // SHA-256 of the secret
	CreatedAt time.Time
	RevokedAt time.Time // zero while valid
}

// Has reports whether the token grants scope.
func (t APIToken) Has(scope APIScope) bool {
	for _, s := range t.Scopes {
		if s == scope {
			return true
		}
	}
	return false
}

// Messaging tiers: the most unique customers a number may message in a
// rolling day. TierUnlimited has no limit.
const (
	Tier250       = 250
	Tier2K        = 2000
	Tier10K       = 10000
	Tier100K      = 100000
	TierUnlimited = -1
)

// Tiers lists the tiers from the lowest to the highest.
var Tiers = []int{Tier250, Tier2K, Tier10K, Tier100K, TierUnlimited}

// Quality is a number's quality rating, computed from customers' blocks and
// reports.
type Quality string

// The quality ratings.
const (
	QualityGreen  Quality = "GREEN"
	QualityYellow Quality = "YELLOW"
	QualityRed    Quality = "RED"
)

// APINumber is a business number enabled for the API: its limits, quality
// and the hosted endpoint's device.
type APINumber struct {
	Business      UserID
	Phone         string
	Tier          int     // one of Tiers
	Quality       Quality // GREEN when new
	Throughput    int     // messages per second; 0 means the default (80)
	AutoApprove   bool    // templates are approved when created (else the operator approves)
	HostedDevice  DeviceID
	TierChangedAt time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// TemplateCategory is a template's category.
type TemplateCategory string

// The template categories.
const (
	CategoryMarketing      TemplateCategory = "MARKETING"
	CategoryUtility        TemplateCategory = "UTILITY"
	CategoryAuthentication TemplateCategory = "AUTHENTICATION"
)

// TemplateStatus is a template's review status.
type TemplateStatus string

// The template statuses.
const (
	TemplatePending  TemplateStatus = "PENDING"
	TemplateApproved TemplateStatus = "APPROVED"
	TemplateRejected TemplateStatus = "REJECTED"
	TemplatePaused   TemplateStatus = "PAUSED"
)

// Template is a message template of a business. Components is the Cloud
// API components array (HEADER, BODY, FOOTER, BUTTONS) as given.
type Template struct {
	ID         string // "tpl_…"
	Business   UserID
	Name       string
	Language   string
	Category   TemplateCategory
	Status     TemplateStatus
	Reason     string // why it was rejected or paused
	Components json.RawMessage
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// OptIn is a customer's consent to marketing from a business, and its
// withdrawal.
type OptIn struct {
	Business   UserID
	Customer   UserID
	Source     string // where the customer opted in ("website form", "in chat", …)
	Text       string // the text the customer was shown
	At         time.Time
	OptedOutAt time.Time // zero while opted in
	OptOutText string    // the customer's message that opted out ("STOP")
}

// Active reports whether the opt-in stands.
func (o OptIn) Active() bool { return !o.At.IsZero() && o.OptedOutAt.IsZero() }

// QualitySignal is a customer's block or report of a business.
type QualitySignal struct {
	Business UserID
	Customer UserID
	Kind     string // "block" or "report"
	Reason   string
	At       time.Time
}

// APIMedia is a file uploaded through the API. The bytes are kept by the
// hosted endpoint, encrypted under the operator key.
type APIMedia struct {
	ID        string // "med_…"
	Business  UserID
	MimeType  string
	FileName  string
	SHA256    string // hex of the plaintext
	Size      int64
	CreatedAt time.Time
}

// CloudAPIStore keeps the business API's state. Same guarantees as Store:
// atomic methods, durable on return, CodeNotFound for missing records.
type CloudAPIStore interface {
	// PutAPINumber creates or replaces a number's settings.
	PutAPINumber(ctx context.Context, n APINumber) error
	APINumber(ctx context.Context, business UserID) (APINumber, error)
	APINumbers(ctx context.Context) ([]APINumber, error)

	// CreateAPIToken stores t; an existing ID or hash returns CodeConflict.
	CreateAPIToken(ctx context.Context, t APIToken) error
	APITokenByHash(ctx context.Context, hash []byte) (APIToken, error)
	// APITokens lists a business's tokens, revoked ones included, oldest first.
	APITokens(ctx context.Context, business UserID) ([]APIToken, error)
	// RevokeAPIToken marks the token revoked; revoking twice keeps the first time.
	RevokeAPIToken(ctx context.Context, business UserID, id string, at time.Time) error

	// CreateTemplate stores t; the same (business, name, language) returns
	// CodeConflict "template_exists".
	CreateTemplate(ctx context.Context, t Template) error
	// UpdateTemplate replaces category, status, reason, components and
	// updated time of the template with t.ID.
	UpdateTemplate(ctx context.Context, t Template) error
	Template(ctx context.Context, id string) (Template, error)
	// Templates lists a business's templates by name, then language.
	Templates(ctx context.Context, business UserID) ([]Template, error)
	// DeleteTemplates deletes every language of a template name (or just
	// one language when language is not ""), returning how many went.
	DeleteTemplates(ctx context.Context, business UserID, name, language string) (int, error)

	// PutOptIn creates or replaces the customer's opt-in record.
	PutOptIn(ctx context.Context, o OptIn) error
	OptIn(ctx context.Context, business, customer UserID) (OptIn, error)
	OptIns(ctx context.Context, business UserID) ([]OptIn, error)

	// TouchInbound records that customer wrote to business at at (the
	// customer-service window opens); an earlier time never replaces a later one.
	TouchInbound(ctx context.Context, business, customer UserID, at time.Time) error
	// LastInbound returns the time of the customer's last message (zero if none).
	LastInbound(ctx context.Context, business, customer UserID) (time.Time, error)

	// AddRecipient records that business sent customer a template in the
	// period day: a UTC hour "2006-01-02T15" (or, in records from before
	// the rolling tiers, a UTC date "2006-01-02"); it reports whether the
	// pair is new for that period. Periods compare as strings.
	AddRecipient(ctx context.Context, business, customer UserID, day string) (bool, error)
	// CountRecipients counts the distinct customers messaged in periods >= from.
	CountRecipients(ctx context.Context, business UserID, fromDay string) (int, error)
	// RecentRecipients returns each customer messaged in a period >= from
	// with the latest such period.
	RecentRecipients(ctx context.Context, business UserID, from string) (map[UserID]string, error)

	// NoteContact records that business sent customer a message at at
	// (keeping the latest time per pair; an older at changes nothing).
	NoteContact(ctx context.Context, business, customer UserID, at time.Time) error
	// LastContact returns when business last sent customer a message (the
	// zero time if never).
	LastContact(ctx context.Context, business, customer UserID) (time.Time, error)

	// AddQualitySignal stores a block or report.
	AddQualitySignal(ctx context.Context, s QualitySignal) error
	// CountQualitySignals counts the distinct customers who blocked or
	// reported business since the given time, or block it now (the
	// accounts' blocks, which have no time), among those business sent a
	// message at or after contactSince (NoteContact): a stranger's
	// signals never count.
	CountQualitySignals(ctx context.Context, business UserID, since, contactSince time.Time) (int, error)

	PutAPIMedia(ctx context.Context, m APIMedia) error
	APIMedia(ctx context.Context, id string) (APIMedia, error)
	DeleteAPIMedia(ctx context.Context, id string) error
}
