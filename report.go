package parley

import (
	"context"
	"time"
)

// ReportTarget is what a user's report is about.
type ReportTarget string

// The report targets.
const (
	ReportUser    ReportTarget = "user"    // an account (Report.User)
	ReportChat    ReportTarget = "chat"    // a conversation (Report.Conversation)
	ReportMessage ReportTarget = "message" // a message (Report.Conversation, Report.Seq)
)

// ReportCategory is why a user reports.
type ReportCategory string

// The report categories.
const (
	ReportSpam  ReportCategory = "spam"
	ReportAbuse ReportCategory = "abuse"
	ReportOther ReportCategory = "other"
)

// ReportStatus is where a report is in the operator's queue.
type ReportStatus string

// The report statuses: a report is filed open and handled once.
const (
	ReportOpen      ReportStatus = "open"
	ReportResolved  ReportStatus = "resolved"  // acted on
	ReportDismissed ReportStatus = "dismissed" // no action needed
)

// ReportEvidence is one message a reporter's device decrypted and chose to
// include in a report. The server cannot check it (it never holds the
// plaintext): it is what the reporter's client says the message was.
// Attachments are reduced to their kind and caption: no media key is ever
// included.
type ReportEvidence struct {
	Seq    Seq       `json:"seq"`
	Sender UserID    `json:"sender"`
	SentAt time.Time `json:"sent_at"`
	Kind   string    `json:"kind"`
	Text   string    `json:"text,omitempty"`
}

// Report is a user's report of an account, a chat or a message. Its JSON
// form is the admin API's and the group moderators' (docs/admin-api.md);
// moderators get it without Reporter and Evidence.
type Report struct {
	ID           int64            `json:"id"`
	Reporter     UserID           `json:"reporter,omitempty"`
	Target       ReportTarget     `json:"target"`
	User         UserID           `json:"user,omitempty"`         // the reported account (0 when unknown, as for a group chat)
	Conversation ConversationID   `json:"conversation,omitempty"` // the reported chat or the message's ("" for an account alone)
	Seq          Seq              `json:"seq,omitempty"`          // the reported message (0 unless Target is ReportMessage)
	Category     ReportCategory   `json:"category"`
	Text         string           `json:"text,omitempty"`     // the reporter's own words
	Evidence     []ReportEvidence `json:"evidence,omitempty"` // only what the reporter chose to include; nil for none
	Status       ReportStatus     `json:"status"`
	HandledBy    string           `json:"handled_by,omitempty"` // who resolved or dismissed it ("operator")
	Note         string           `json:"note,omitempty"`       // the handler's note
	CreatedAt    time.Time        `json:"created_at"`
	HandledAt    time.Time        `json:"handled_at,omitzero"` // zero while open
}

// ReportQuery selects reports for ModerationStore.Reports.
type ReportQuery struct {
	Status       ReportStatus   // "": every status
	Conversation ConversationID // "": reports about any conversation (and accounts)
	After        int64          // page after this ID
	Limit        int            // 1 to 1,000
}

// GroupBan keeps a user out of a group: a banned user cannot join it by
// invite link, join request, invitation or being added.
type GroupBan struct {
	Group ConversationID
	User  UserID
	By    UserID // the admin who banned
	At    time.Time
}

// ModerationStore keeps users' reports and the groups' ban lists.
type ModerationStore interface {
	// FileReport stores r (Status open) with a fresh, increasing ID and
	// returns it.
	FileReport(ctx context.Context, r Report) (Report, error)
	// Report returns one report; CodeNotFound ReasonReportNotFound.
	Report(ctx context.Context, id int64) (Report, error)
	// Reports lists reports by ID, oldest first (a queue).
	Reports(ctx context.Context, q ReportQuery) ([]Report, error)
	// HandleReport sets an open report's status (ReportResolved or
	// ReportDismissed), handler, note and time; a report already handled
	// is CodeConflict ReasonReportHandled, a missing one CodeNotFound
	// ReasonReportNotFound.
	HandleReport(ctx context.Context, id int64, status ReportStatus, by, note string, at time.Time) (Report, error)
	// BanFromGroup bans b.User from b.Group and, in the same transaction,
	// deletes the user's pending invitation and join request there.
	// Banning twice keeps the first ban.
	BanFromGroup(ctx context.Context, b GroupBan) error
	// UnbanFromGroup lifts a ban (no error if there is none).
	UnbanFromGroup(ctx context.Context, group ConversationID, user UserID) error
	// GroupBans lists a group's bans by user ID.
	GroupBans(ctx context.Context, group ConversationID) ([]GroupBan, error)
	// BannedFromGroup reports whether user is banned from group.
	BannedFromGroup(ctx context.Context, group ConversationID, user UserID) (bool, error)
}
