package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"

	"github.com/parleyhq/parley"
)

// directPair returns the two users of a direct conversation (lo <= hi; equal
// for a note to self): its creator and the users of its member devices.
func directPair(c parley.Conversation, members []parley.Member) (lo, hi parley.UserID, err error) {
	users := []parley.UserID{c.CreatedBy}
	for _, m := range members {
		if !slices.Contains(users, m.User) {
			users = append(users, m.User)
		}
	}
	switch len(users) {
	case 1:
		return users[0], users[0], nil
	case 2:
		return min(users[0], users[1]), max(users[0], users[1]), nil
	}
	return 0, 0, parley.Errorf(parley.CodeInvalid, parley.ReasonTooManyUsers, "a direct conversation has at most two users")
}

// CreateConversation stores c, its members (at FromSeq 0) and its first
// envelopes atomically and returns the envelopes with their Seq. An existing
// ID returns CodeConflict "conversation_exists"; a second direct conversation
// between the same two users returns CodeConflict "direct_exists". The users
// of a direct conversation are its creator and its members' users.
func (s *Store) CreateConversation(ctx context.Context, c parley.Conversation, members []parley.Member, first []parley.Envelope) ([]parley.Envelope, error) {
	var lo, hi any
	if c.Kind == parley.KindDirect {
		l, h, err := directPair(c, members)
		if err != nil {
			return nil, err
		}
		lo, hi = l, h
	}
	out := make([]parley.Envelope, len(first))
	err := s.write(ctx, "create conversation", func(tx Querier) error {
		_, err := tx.Exec(ctx, `INSERT INTO conversations (id, kind, epoch, last_seq, group_info, created_by, created_at, direct_lo, direct_hi)
			VALUES (?, ?, ?, 0, ?, ?, ?, ?, ?)`,
			c.ID, string(c.Kind), int64(c.Epoch), c.GroupInfo, c.CreatedBy, ns(c.CreatedAt), lo, hi)
		if v := s.b.Violation(err); v.Unique {
			if strings.HasPrefix(v.Column, "conversations.direct") {
				return &parley.Error{Code: parley.CodeConflict, Reason: parley.ReasonDirectExists, Message: "a direct conversation between these users exists", Err: err}
			}
			return &parley.Error{Code: parley.CodeConflict, Reason: parley.ReasonConversationExists, Message: "conversation exists", Err: err}
		}
		if err != nil {
			return err
		}
		if err := s.addMembers(ctx, tx, c.ID, members, 0); err != nil {
			return err
		}
		return s.b.AppendAll(ctx, tx, c.ID, first, out)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ErrDuplicateInCommit refuses an envelope of CreateConversation or
// ApplyCommit whose client id is already in the log: applying the membership
// change without logging its commit would fork the group.
func ErrDuplicateInCommit(e parley.Envelope) error {
	return parley.Errorf(parley.CodeConflict, parley.ReasonDuplicateClientID, "client id %q of device %d is already in the log", e.ClientID, e.SenderDevice)
}

const conversationCols = `id, kind, epoch, last_seq, group_info, created_by, created_at, COALESCE(direct_lo, 0), COALESCE(direct_hi, 0)`

func scanConversation(row Row) (parley.Conversation, error) {
	var c parley.Conversation
	var kind string
	var epoch, created int64
	if err := row.Scan(&c.ID, &kind, &epoch, &c.LastSeq, &c.GroupInfo, &c.CreatedBy, &created, &c.DirectUsers[0], &c.DirectUsers[1]); err != nil {
		return parley.Conversation{}, err
	}
	c.Kind, c.Epoch, c.CreatedAt = parley.ConversationKind(kind), parley.Epoch(epoch), fromNS(created)
	return c, nil
}

// Conversation returns the conversation with this ID.
func (s *Store) Conversation(ctx context.Context, id parley.ConversationID) (parley.Conversation, error) {
	c, err := scanConversation(s.r.QueryRow(ctx, `SELECT `+conversationCols+` FROM conversations WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return parley.Conversation{}, notFound("no such conversation")
	}
	if err != nil {
		return parley.Conversation{}, s.wrap("conversation", err)
	}
	return c, nil
}

// DirectConversation finds the direct conversation between users a and b.
func (s *Store) DirectConversation(ctx context.Context, a, b parley.UserID) (parley.ConversationID, error) {
	var id parley.ConversationID
	err := s.r.QueryRow(ctx, `SELECT id FROM conversations WHERE direct_lo = ? AND direct_hi = ?`, min(a, b), max(a, b)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", notFound("no direct conversation between these users")
	}
	if err != nil {
		return "", s.wrap("direct conversation", err)
	}
	return id, nil
}

// ConversationsOfUser lists the conversations any device of the user is a
// member of, and the user's direct conversations and groups (by the
// user-level records) even while none of its devices is in them, oldest
// first.
func (s *Store) ConversationsOfUser(ctx context.Context, user parley.UserID) ([]parley.Conversation, error) {
	rows, err := s.r.Query(ctx, `SELECT `+conversationCols+` FROM conversations
		WHERE id IN (SELECT conversation_id FROM members WHERE user_id = ?) OR direct_lo = ? OR direct_hi = ?
			OR id IN (SELECT group_id FROM group_members WHERE user_id = ?) ORDER BY created_at, id`, user, user, user, user)
	if err != nil {
		return nil, s.wrap("conversations of user", err)
	}
	defer rows.Close()
	var cs []parley.Conversation
	for rows.Next() {
		c, err := scanConversation(rows)
		if err != nil {
			return nil, s.wrap("conversations of user", err)
		}
		cs = append(cs, c)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("conversations of user", err)
	}
	return cs, nil
}

// Members lists the member devices of a conversation by device ID.
// CodeNotFound if the conversation does not exist.
func (s *Store) Members(ctx context.Context, id parley.ConversationID) ([]parley.Member, error) {
	rows, err := s.r.Query(ctx, `SELECT device_id, user_id, from_seq, cursor FROM members WHERE conversation_id = ? ORDER BY device_id`, id)
	if err != nil {
		return nil, s.wrap("members", err)
	}
	defer rows.Close()
	var ms []parley.Member
	for rows.Next() {
		m := parley.Member{Conversation: id}
		if err := rows.Scan(&m.Device, &m.User, &m.FromSeq, &m.Cursor); err != nil {
			return nil, s.wrap("members", err)
		}
		ms = append(ms, m)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("members", err)
	}
	if len(ms) == 0 {
		if err := s.MustExist(ctx, id); err != nil {
			return nil, err
		}
	}
	return ms, nil
}

// MustExist returns CodeNotFound unless conversation id exists: the
// dialects' message log tells an empty log from a missing conversation
// with it.
func (s *Store) MustExist(ctx context.Context, id parley.ConversationID) error {
	ok, err := s.exists(ctx, "conversation", `SELECT 1 FROM conversations WHERE id = ?`, id)
	if err != nil {
		return err
	}
	if !ok {
		return notFound("no such conversation")
	}
	return nil
}

// Member returns one device's membership; CodeNotFound if it is not a member.
func (s *Store) Member(ctx context.Context, id parley.ConversationID, device parley.DeviceID) (parley.Member, error) {
	m := parley.Member{Conversation: id, Device: device}
	err := s.r.QueryRow(ctx, `SELECT user_id, from_seq, cursor FROM members WHERE conversation_id = ? AND device_id = ?`, id, device).
		Scan(&m.User, &m.FromSeq, &m.Cursor)
	if errors.Is(err, sql.ErrNoRows) {
		return parley.Member{}, notFound("the device is not a member of the conversation")
	}
	if err != nil {
		return parley.Member{}, s.wrap("member", err)
	}
	return m, nil
}

// ApplyCommit applies c if c.Epoch is the conversation's current epoch
// (CodeConflict "wrong_epoch" otherwise; CodeNotFound for an unknown
// conversation): it removes c.Remove, adds c.Add, moves to c.Epoch+1,
// replaces the GroupInfo with c.GroupInfo and appends c.Envelopes, in one
// transaction. Added devices get FromSeq = the Seq of the commit envelope
// when c.Envelopes starts with one (so they receive the Welcome after it but
// not the commit), else the conversation's last Seq. Adding a device that
// is already a member leaves its membership unchanged. Commits are
// serialised: of concurrent commits for one epoch exactly one succeeds.
func (s *Store) ApplyCommit(ctx context.Context, c parley.Commit) ([]parley.Envelope, error) {
	out := make([]parley.Envelope, len(c.Envelopes))
	err := s.write(ctx, "apply commit", func(tx Querier) error {
		return s.applyCommitTx(ctx, tx, c, out)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// applyCommitTx is ApplyCommit's body, run in tx.
func (s *Store) applyCommitTx(ctx context.Context, tx Querier, c parley.Commit, out []parley.Envelope) error {
	var epoch int64
	var last parley.Seq
	err := tx.QueryRow(ctx, `SELECT epoch, last_seq FROM conversations WHERE id = ? /*pg: FOR UPDATE*/`, c.Conversation).Scan(&epoch, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return notFound("no such conversation")
	}
	if err != nil {
		return err
	}
	if parley.Epoch(epoch) != c.Epoch {
		return parley.Errorf(parley.CodeConflict, parley.ReasonWrongEpoch, "the conversation is at epoch %d, not %d", epoch, c.Epoch)
	}
	if err := bindTreeTx(ctx, tx, c); err != nil {
		return err
	}
	for _, d := range c.Remove {
		if _, err := tx.Exec(ctx, `DELETE FROM members WHERE conversation_id = ? AND device_id = ?`, c.Conversation, d); err != nil {
			return err
		}
	}
	from := last
	if len(c.Envelopes) > 0 && c.Envelopes[0].Kind == parley.EnvelopeCommit {
		from = last + 1
	}
	if err := s.addMembers(ctx, tx, c.Conversation, c.Add, from); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE conversations SET epoch = epoch + 1, group_info = ? WHERE id = ?`, c.GroupInfo, c.Conversation); err != nil {
		return err
	}
	return s.b.AppendAll(ctx, tx, c.Conversation, c.Envelopes, out)
}

// MembersAdder is an optional Backend capability: adding many members in
// one statement (PostgreSQL: one round trip instead of one per member).
type MembersAdder interface {
	// AddMembers adds members to conversation id with FromSeq and cursor
	// from, leaving those already members unchanged.
	AddMembers(ctx context.Context, tx Querier, id parley.ConversationID, members []parley.Member, from parley.Seq) error
}

// addMembers adds members to conversation id with FromSeq and cursor from,
// leaving those already members unchanged.
func (s *Store) addMembers(ctx context.Context, tx Querier, id parley.ConversationID, members []parley.Member, from parley.Seq) error {
	if a, ok := s.b.(MembersAdder); ok {
		return a.AddMembers(ctx, tx, id, members, from)
	}
	for _, m := range members {
		if _, err := tx.Exec(ctx, sqlMemberInsert, id, m.Device, m.User, from, from); err != nil {
			return err
		}
	}
	return nil
}

// sqlMemberInsert adds a member unless it is one already.
const sqlMemberInsert = `INSERT INTO members (conversation_id, device_id, user_id, from_seq, cursor) VALUES (?, ?, ?, ?, ?)
	ON CONFLICT DO NOTHING`
