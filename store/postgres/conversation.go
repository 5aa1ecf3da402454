package postgres

import (
	"context"
	"errors"
	"slices"

	"github.com/jackc/pgx/v5"

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
	return 0, 0, parley.Errorf(parley.CodeInvalid, "too_many_users", "a direct conversation has at most two users")
}

// CreateConversation stores c, its members (at FromSeq 0) and its first
// envelopes atomically and returns the envelopes with their Seq. An existing
// ID returns CodeConflict "conversation_exists"; a second direct conversation
// between the same two users returns CodeConflict "direct_exists". The users
// of a direct conversation are its creator and its members' users.
func (s *Store) CreateConversation(ctx context.Context, c parley.Conversation, members []parley.Member, first []parley.Envelope) ([]parley.Envelope, error) {
	var lo, hi *parley.UserID
	if c.Kind == parley.KindDirect {
		l, h, err := directPair(c, members)
		if err != nil {
			return nil, err
		}
		lo, hi = &l, &h
	}
	devs, users := memberArrays(members)
	var out []parley.Envelope
	err := s.tx(ctx, "create conversation", func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO conversations (id, kind, epoch, last_seq, group_info, created_by, created_at, direct_lo, direct_hi)
			VALUES ($1, $2, $3, 0, $4, $5, $6, $7, $8)`,
			c.ID, string(c.Kind), int64(c.Epoch), c.GroupInfo, c.CreatedBy, ns(c.CreatedAt), lo, hi)
		if constraint, unique, _ := violation(err); unique {
			if constraint == "conversations_direct_key" {
				return &parley.Error{Code: parley.CodeConflict, Reason: "direct_exists", Message: "a direct conversation between these users exists", Err: err}
			}
			return &parley.Error{Code: parley.CodeConflict, Reason: "conversation_exists", Message: "conversation exists", Err: err}
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO members (conversation_id, device_id, user_id, from_seq, cursor)
			SELECT $1, d, u, 0, 0 FROM unnest($2::bigint[], $3::bigint[]) AS a(d, u) ON CONFLICT DO NOTHING`, c.ID, devs, users); err != nil {
			return err
		}
		out, err = appendAll(ctx, tx, c.ID, first)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func memberArrays(ms []parley.Member) (devs, users []int64) {
	for _, m := range ms {
		devs = append(devs, int64(m.Device))
		users = append(users, int64(m.User))
	}
	return devs, users
}

// errDuplicateInCommit refuses an envelope of CreateConversation or
// ApplyCommit whose client id is already in the log: applying the membership
// change without logging its commit would fork the group.
func errDuplicateInCommit(e parley.Envelope) error {
	return parley.Errorf(parley.CodeConflict, "duplicate_client_id", "client id %q of device %d is already in the log", e.ClientID, e.SenderDevice)
}

// appendAll appends envs to conversation id (overriding their Conversation)
// and returns them with their Seq.
func appendAll(ctx context.Context, tx pgx.Tx, id parley.ConversationID, envs []parley.Envelope) ([]parley.Envelope, error) {
	if len(envs) == 0 {
		return []parley.Envelope{}, nil
	}
	out := slices.Clone(envs)
	for i := range out {
		out[i].Conversation = id
	}
	rs, err := appendTx(ctx, tx, out)
	if err != nil {
		return nil, err
	}
	for i, r := range rs {
		if r.Err != nil {
			return nil, r.Err
		}
		if r.Duplicate {
			return nil, errDuplicateInCommit(out[i])
		}
		out[i].Seq = r.Seq
	}
	return out, nil
}

const conversationCols = `id, kind, epoch, last_seq, group_info, created_by, created_at`

func scanConversation(row pgx.Row) (parley.Conversation, error) {
	var c parley.Conversation
	var kind string
	var epoch, created int64
	if err := row.Scan(&c.ID, &kind, &epoch, &c.LastSeq, &c.GroupInfo, &c.CreatedBy, &created); err != nil {
		return parley.Conversation{}, err
	}
	c.Kind, c.Epoch, c.CreatedAt = parley.ConversationKind(kind), parley.Epoch(epoch), fromNS(created)
	return c, nil
}

// Conversation returns the conversation with this ID.
func (s *Store) Conversation(ctx context.Context, id parley.ConversationID) (parley.Conversation, error) {
	c, err := scanConversation(s.pool.QueryRow(ctx, `SELECT `+conversationCols+` FROM conversations WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return parley.Conversation{}, notFound("no such conversation")
	}
	if err != nil {
		return parley.Conversation{}, wrap("conversation", err)
	}
	return c, nil
}

// DirectConversation finds the direct conversation between users a and b.
func (s *Store) DirectConversation(ctx context.Context, a, b parley.UserID) (parley.ConversationID, error) {
	var id parley.ConversationID
	err := s.pool.QueryRow(ctx, `SELECT id FROM conversations WHERE direct_lo = $1 AND direct_hi = $2`, min(a, b), max(a, b)).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", notFound("no direct conversation between these users")
	}
	if err != nil {
		return "", wrap("direct conversation", err)
	}
	return id, nil
}

// ConversationsOfUser lists the conversations any device of the user is a
// member of, oldest first.
func (s *Store) ConversationsOfUser(ctx context.Context, user parley.UserID) ([]parley.Conversation, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+conversationCols+` FROM conversations
		WHERE id IN (SELECT conversation_id FROM members WHERE user_id = $1) ORDER BY created_at, id`, user)
	if err != nil {
		return nil, wrap("conversations of user", err)
	}
	cs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (parley.Conversation, error) { return scanConversation(r) })
	if err != nil {
		return nil, wrap("conversations of user", err)
	}
	return cs, nil
}

// Members lists the member devices of a conversation by device ID.
// CodeNotFound if the conversation does not exist.
func (s *Store) Members(ctx context.Context, id parley.ConversationID) ([]parley.Member, error) {
	rows, err := s.pool.Query(ctx, `SELECT device_id, user_id, from_seq, cursor FROM members WHERE conversation_id = $1 ORDER BY device_id`, id)
	if err != nil {
		return nil, wrap("members", err)
	}
	ms, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (parley.Member, error) {
		m := parley.Member{Conversation: id}
		err := r.Scan(&m.Device, &m.User, &m.FromSeq, &m.Cursor)
		return m, err
	})
	if err != nil {
		return nil, wrap("members", err)
	}
	if len(ms) == 0 {
		if err := s.mustExist(ctx, id); err != nil {
			return nil, err
		}
	}
	return ms, nil
}

func (s *Store) mustExist(ctx context.Context, id parley.ConversationID) error {
	ok, err := s.exists(ctx, "conversation", `SELECT 1 FROM conversations WHERE id = $1`, id)
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
	err := s.pool.QueryRow(ctx, `SELECT user_id, from_seq, cursor FROM members WHERE conversation_id = $1 AND device_id = $2`, id, device).
		Scan(&m.User, &m.FromSeq, &m.Cursor)
	if errors.Is(err, pgx.ErrNoRows) {
		return parley.Member{}, notFound("the device is not a member of the conversation")
	}
	if err != nil {
		return parley.Member{}, wrap("member", err)
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
// is already a member leaves its membership unchanged. The epoch moves by
// compare-and-set: of concurrent commits for one epoch exactly one succeeds.
func (s *Store) ApplyCommit(ctx context.Context, c parley.Commit) ([]parley.Envelope, error) {
	devs, users := memberArrays(c.Add)
	removed := make([]int64, len(c.Remove))
	for i, d := range c.Remove {
		removed[i] = int64(d)
	}
	var out []parley.Envelope
	err := s.tx(ctx, "apply commit", func(tx pgx.Tx) error {
		var last parley.Seq
		err := tx.QueryRow(ctx, `UPDATE conversations SET epoch = epoch + 1, group_info = $3 WHERE id = $1 AND epoch = $2 RETURNING last_seq`,
			c.Conversation, int64(c.Epoch), c.GroupInfo).Scan(&last)
		if errors.Is(err, pgx.ErrNoRows) {
			var epoch int64
			err := tx.QueryRow(ctx, `SELECT epoch FROM conversations WHERE id = $1`, c.Conversation).Scan(&epoch)
			if errors.Is(err, pgx.ErrNoRows) {
				return notFound("no such conversation")
			}
			if err != nil {
				return err
			}
			return parley.Errorf(parley.CodeConflict, "wrong_epoch", "the conversation is at epoch %d, not %d", epoch, c.Epoch)
		}
		if err != nil {
			return err
		}
		if err := bindTreeTx(ctx, tx, c); err != nil {
			return err
		}
		from := last
		if len(c.Envelopes) > 0 && c.Envelopes[0].Kind == parley.EnvelopeCommit {
			from = last + 1
		}
		var b pgx.Batch
		if len(removed) > 0 {
			b.Queue(`DELETE FROM members WHERE conversation_id = $1 AND device_id = ANY($2)`, c.Conversation, removed)
		}
		if len(devs) > 0 {
			b.Queue(`INSERT INTO members (conversation_id, device_id, user_id, from_seq, cursor)
				SELECT $1, d, u, $4, $4 FROM unnest($2::bigint[], $3::bigint[]) AS a(d, u) ON CONFLICT DO NOTHING`, c.Conversation, devs, users, from)
		}
		if b.Len() > 0 {
			if err := tx.SendBatch(ctx, &b).Close(); err != nil {
				return err
			}
		}
		out, err = appendAll(ctx, tx, c.Conversation, c.Envelopes)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
