package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/parleyhq/parley"
)

// The Store also implements parley.ModerationStore (schema in
// migrations/01800_moderation.sql).
var _ parley.ModerationStore = (*Store)(nil)

const reportCols = `id, reporter, target, user_id, conversation_id, seq, category, text, evidence, status, handled_by, note, created_at, handled_at`

func scanReport(r Row) (parley.Report, error) {
	var rep parley.Report
	var evidence sql.NullString
	var created, handled int64
	if err := r.Scan(&rep.ID, &rep.Reporter, &rep.Target, &rep.User, &rep.Conversation, &rep.Seq, &rep.Category, &rep.Text,
		&evidence, &rep.Status, &rep.HandledBy, &rep.Note, &created, &handled); err != nil {
		return rep, err
	}
	rep.CreatedAt, rep.HandledAt = fromNS(created), fromNS(handled)
	if evidence.Valid && evidence.String != "" {
		if err := json.Unmarshal([]byte(evidence.String), &rep.Evidence); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// FileReport stores an open report; see parley.ModerationStore.
func (s *Store) FileReport(ctx context.Context, r parley.Report) (parley.Report, error) {
	var evidence any
	if len(r.Evidence) > 0 {
		b, err := json.Marshal(r.Evidence)
		if err != nil {
			return parley.Report{}, err
		}
		evidence = string(b)
	}
	r.Status, r.HandledBy, r.Note, r.HandledAt = parley.ReportOpen, "", "", time.Time{}
	err := s.bizWrite(ctx, "file report", func(tx Querier) error {
		return tx.QueryRow(ctx, `INSERT INTO reports (reporter, target, user_id, conversation_id, seq, category, text, evidence,
			status, handled_by, note, created_at, handled_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '', '', ?, 0) RETURNING id`,
			r.Reporter, r.Target, r.User, r.Conversation, r.Seq, r.Category, r.Text, evidence, r.Status, ns(r.CreatedAt)).Scan(&r.ID)
	})
	if err != nil {
		return parley.Report{}, err
	}
	return r, nil
}

// errBannedFromGroup refuses a banned user's way into a group.
var errBannedFromGroup = parley.Errorf(parley.CodeForbidden, parley.ReasonBannedFromGroup, "you are banned from this group")

var errReportNotFound = parley.Errorf(parley.CodeNotFound, parley.ReasonReportNotFound, "no such report")

// Report returns one report; see parley.ModerationStore.
func (s *Store) Report(ctx context.Context, id int64) (parley.Report, error) {
	r, err := scanReport(s.r.QueryRow(ctx, `SELECT `+reportCols+` FROM reports WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, errReportNotFound
	}
	return r, s.wrap2("report", err)
}

// Reports lists reports oldest first; see parley.ModerationStore.
func (s *Store) Reports(ctx context.Context, q parley.ReportQuery) ([]parley.Report, error) {
	query, args := `SELECT `+reportCols+` FROM reports WHERE id > ?`, []any{q.After}
	if q.Status != "" {
		query, args = query+` AND status = ?`, append(args, q.Status)
	}
	if q.Conversation != "" {
		query, args = query+` AND conversation_id = ?`, append(args, q.Conversation)
	}
	return selectAll(ctx, s, "reports", scanReport, query+` ORDER BY id LIMIT ?`, append(args, adminLimit(q.Limit))...)
}

// HandleReport resolves or dismisses an open report; see
// parley.ModerationStore.
func (s *Store) HandleReport(ctx context.Context, id int64, status parley.ReportStatus, by, note string, at time.Time) (parley.Report, error) {
	err := s.bizWrite(ctx, "handle report", func(tx Querier) error {
		n, err := tx.Exec(ctx, `UPDATE reports SET status = ?, handled_by = ?, note = ?, handled_at = ? WHERE id = ? AND status = ?`,
			status, by, note, ns(at), id, parley.ReportOpen)
		if err != nil || n == 1 {
			return err
		}
		if ok, err := existsTx(ctx, tx, `SELECT 1 FROM reports WHERE id = ?`, id); err != nil {
			return err
		} else if !ok {
			return errReportNotFound
		}
		return parley.Errorf(parley.CodeConflict, parley.ReasonReportHandled, "report %d was already resolved or dismissed", id)
	})
	if err != nil {
		return parley.Report{}, err
	}
	return s.Report(ctx, id)
}

// BanFromGroup bans a user and drops their pending invitation and join
// request; see parley.ModerationStore.
func (s *Store) BanFromGroup(ctx context.Context, b parley.GroupBan) error {
	return s.bizWrite(ctx, "ban from group", func(tx Querier) error {
		for _, q := range []string{
			`DELETE FROM group_invitations WHERE group_id = ? AND user_id = ?`,
			`DELETE FROM group_join_requests WHERE group_id = ? AND user_id = ?`,
		} {
			if _, err := tx.Exec(ctx, q, b.Group, b.User); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO group_bans (group_id, user_id, banned_by, created_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (group_id, user_id) DO NOTHING`, b.Group, b.User, b.By, ns(b.At))
		return err
	})
}

// UnbanFromGroup lifts a ban; see parley.ModerationStore.
func (s *Store) UnbanFromGroup(ctx context.Context, group parley.ConversationID, user parley.UserID) error {
	return s.bizWrite(ctx, "unban from group", func(tx Querier) error {
		_, err := tx.Exec(ctx, `DELETE FROM group_bans WHERE group_id = ? AND user_id = ?`, group, user)
		return err
	})
}

// GroupBans lists a group's bans by user; see parley.ModerationStore.
func (s *Store) GroupBans(ctx context.Context, group parley.ConversationID) ([]parley.GroupBan, error) {
	return selectAll(ctx, s, "group bans", func(r Row) (parley.GroupBan, error) {
		b := parley.GroupBan{Group: group}
		var at int64
		err := r.Scan(&b.User, &b.By, &at)
		b.At = fromNS(at)
		return b, err
	}, `SELECT user_id, banned_by, created_at FROM group_bans WHERE group_id = ? ORDER BY user_id`, group)
}

// BannedFromGroup reports a ban; see parley.ModerationStore.
func (s *Store) BannedFromGroup(ctx context.Context, group parley.ConversationID, user parley.UserID) (bool, error) {
	var one int
	err := s.r.QueryRow(ctx, `SELECT 1 FROM group_bans WHERE group_id = ? AND user_id = ?`, group, user).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, s.wrap2("banned from group", err)
}
