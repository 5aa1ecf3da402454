package parley

import (
	"context"
	"encoding/json"
	"time"
)

// AdminStore is what the operator's admin API (package admin) reads and
// changes beyond the other stores: listings across every account, account
// suspension, the server's counts and the append-only audit log.
type AdminStore interface {
	// AdminUsers lists users by ID, those with an ID greater than q.After,
	// at most q.Limit (1 to 1,000). With q.Find set it keeps users whose
	// phone number starts with it (a leading "+" optional), whose username
	// starts with it (a leading "@" optional, case-insensitively) or whose
	// display name contains it (case-insensitively).
	AdminUsers(ctx context.Context, q AdminUserQuery) ([]User, error)
	// SetSuspended suspends the user at `at`, or lifts a suspension when at
	// is zero (User.SuspendedAt). CodeNotFound for an unknown user.
	SetSuspended(ctx context.Context, user UserID, at time.Time) error
	// AdminGroups lists groups and communities (their announcement groups)
	// with at least minMembers member users, largest first (then by ID), at
	// most limit (1 to 1,000).
	AdminGroups(ctx context.Context, minMembers, limit int) ([]AdminGroup, error)
	// CloseGroupEntry deletes every way into a group: its invitations,
	// invite links and join requests. Idempotent.
	CloseGroupEntry(ctx context.Context, id ConversationID) error
	// AdminStats counts what the store holds.
	AdminStats(ctx context.Context) (AdminStats, error)
	// AppendAudit appends e to the audit log with a fresh, increasing ID and
	// returns it. The log is append-only: nothing changes or deletes an
	// entry.
	AppendAudit(ctx context.Context, e AuditEntry) (AuditEntry, error)
	// AuditLog lists entries newest first, those with an ID below before
	// (0: from the newest), at most limit (1 to 1,000).
	AuditLog(ctx context.Context, before int64, limit int) ([]AuditEntry, error)
}

// AdminUserQuery selects users for AdminStore.AdminUsers.
type AdminUserQuery struct {
	Find  string // "": every user
	After UserID // page after this ID
	Limit int
}

// AdminGroup is a group with its size, for the operator.
type AdminGroup struct {
	Group
	Members int // member users
}

// AdminStats are the store's counts for the operator.
type AdminStats struct {
	Users         int
	Suspended     int
	Devices       int // active devices
	Conversations map[ConversationKind]int
	Envelopes     int   // stored in the logs (not yet pruned)
	Blobs         int   // completed media blobs
	BlobBytes     int64 // their total size
}

// AuditEntry is one admin action: who did what to whom, when.
type AuditEntry struct {
	ID     int64
	At     time.Time
	Actor  string          // who: "operator" for the operator token
	Action string          // what: "suspend", "revoke_device", …
	Target string          // whom: "user:ID", "device:ID", "group:ID"
	Detail json.RawMessage // a JSON object with the action's parameters, or nil
}
