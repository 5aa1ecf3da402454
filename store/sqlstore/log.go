package sqlstore

import (
	"context"

	"github.com/parleyhq/parley"
)

// The reads of the message log's cursors and read marks; appends, acks,
// reads of envelopes and pruning are the dialects' own (see docs/storage.md).

// Pending lists, by conversation ID, the device's conversations whose last
// Seq is past the device's cursor.
func (s *Store) Pending(ctx context.Context, device parley.DeviceID) ([]parley.Cursor, error) {
	return selectAll(ctx, s, "pending", scanCursor(device), `SELECT m.conversation_id, m.cursor, c.last_seq
		FROM members m JOIN conversations c ON c.id = m.conversation_id
		WHERE m.device_id = ? AND c.last_seq > m.cursor ORDER BY m.conversation_id`, device)
}

// Cursors lists every conversation of the device with its cursor and the
// conversation's last Seq.
func (s *Store) Cursors(ctx context.Context, device parley.DeviceID) ([]parley.Cursor, error) {
	return selectAll(ctx, s, "cursors", scanCursor(device), `SELECT m.conversation_id, m.cursor, c.last_seq
		FROM members m JOIN conversations c ON c.id = m.conversation_id
		WHERE m.device_id = ? ORDER BY m.conversation_id`, device)
}

func scanCursor(device parley.DeviceID) func(Row) (parley.Cursor, error) {
	return func(r Row) (parley.Cursor, error) {
		c := parley.Cursor{Device: device}
		err := r.Scan(&c.Conversation, &c.Acked, &c.LastSeq)
		return c, err
	}
}

// ReadMarks returns the read position of each user with a member device (0
// if the user has read nothing). CodeNotFound for an unknown conversation.
func (s *Store) ReadMarks(ctx context.Context, id parley.ConversationID) (map[parley.UserID]parley.Seq, error) {
	type mark struct {
		user parley.UserID
		seq  parley.Seq
	}
	ms, err := selectAll(ctx, s, "read marks", func(r Row) (mark, error) {
		var m mark
		err := r.Scan(&m.user, &m.seq)
		return m, err
	}, `SELECT DISTINCT m.user_id, COALESCE(r.seq, 0)
		FROM members m LEFT JOIN read_marks r ON r.conversation_id = m.conversation_id AND r.user_id = m.user_id
		WHERE m.conversation_id = ?`, id)
	if err != nil {
		return nil, err
	}
	if len(ms) == 0 {
		if err := s.MustExist(ctx, id); err != nil {
			return nil, err
		}
	}
	marks := make(map[parley.UserID]parley.Seq, len(ms))
	for _, m := range ms {
		marks[m.user] = m.seq
	}
	return marks, nil
}
