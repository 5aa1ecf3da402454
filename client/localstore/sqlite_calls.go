//go:build !js

package localstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/parleyhq/parley"
)

func (s *sqliteStore) PutCall(ctx context.Context, r CallRecord) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO call_log (id, conversation, outgoing, video, peer, status, started_at, answered_at, ended_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET conversation = excluded.conversation, outgoing = excluded.outgoing, video = excluded.video,
			peer = excluded.peer, status = excluded.status, started_at = excluded.started_at,
			answered_at = excluded.answered_at, ended_at = excluded.ended_at`,
		string(r.ID), string(r.Conversation), r.Outgoing, r.Video, int64(r.Peer), string(r.Status),
		msTime(r.StartedAt), msTime(r.AnsweredAt), msTime(r.EndedAt))
	if err != nil {
		return fmt.Errorf("put call %s: %w", r.ID, err)
	}
	return nil
}

const callColumns = `id, conversation, outgoing, video, peer, status, started_at, answered_at, ended_at`

func scanCall(sc interface{ Scan(...any) error }) (CallRecord, error) {
	var (
		r                   CallRecord
		id, conv, status    string
		peer                int64
		started, ans, ended int64
	)
	if err := sc.Scan(&id, &conv, &r.Outgoing, &r.Video, &peer, &status, &started, &ans, &ended); err != nil {
		return r, err
	}
	r.ID, r.Conversation, r.Peer, r.Status = parley.CallID(id), parley.ConversationID(conv), parley.UserID(peer), CallStatus(status)
	r.StartedAt, r.AnsweredAt, r.EndedAt = timeMS(started), timeMS(ans), timeMS(ended)
	return r, nil
}

func (s *sqliteStore) Call(ctx context.Context, id parley.CallID) (CallRecord, error) {
	r, err := scanCall(s.db.QueryRowContext(ctx, `SELECT `+callColumns+` FROM call_log WHERE id = ?`, string(id)))
	if errors.Is(err, sql.ErrNoRows) {
		return r, notFound("call " + string(id))
	}
	if err != nil {
		return r, fmt.Errorf("read call %s: %w", id, err)
	}
	return r, nil
}

func (s *sqliteStore) Calls(ctx context.Context, limit int) ([]CallRecord, error) {
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+callColumns+` FROM call_log ORDER BY started_at DESC, id LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("read call log: %w", err)
	}
	defer rows.Close()
	var out []CallRecord
	for rows.Next() {
		r, err := scanCall(rows)
		if err != nil {
			return nil, fmt.Errorf("read call log: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read call log: %w", err)
	}
	return out, nil
}
