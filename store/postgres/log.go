package postgres

import (
	"context"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/store/sqlstore"
)

type dupKey struct {
	conv     parley.ConversationID
	device   parley.DeviceID
	clientID parley.ClientMessageID
}

// appendTx appends envs inside tx in four statements, whatever the batch
// size: lock the conversations' rows (in ID order, so concurrent batches
// never deadlock) and read their last Seq; find already-logged client ids;
// insert the new envelopes; store the new last Seqs. The locks are held to
// the end of tx, so the duplicate check and the Seqs cannot race.
func appendTx(ctx context.Context, tx pgx.Tx, envs []parley.Envelope) ([]parley.AppendResult, error) {
	var ids []string
	var kc, kcid []string
	var kd []int64
	for _, e := range envs {
		ids = append(ids, string(e.Conversation))
		if e.ClientID != "" {
			kc = append(kc, string(e.Conversation))
			kd = append(kd, int64(e.SenderDevice))
			kcid = append(kcid, string(e.ClientID))
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)

	var b pgx.Batch
	b.Queue(`SELECT id, last_seq, epoch FROM conversations WHERE id = ANY($1) ORDER BY id FOR UPDATE`, ids)
	if len(kc) > 0 {
		b.Queue(`SELECT e.conversation_id, e.sender_device, e.client_id, e.seq
			FROM unnest($1::text[], $2::bigint[], $3::text[]) AS k(c, d, cid)
			JOIN envelopes e ON e.conversation_id = k.c AND e.sender_device = k.d AND e.client_id = k.cid AND e.client_id <> ''`, kc, kd, kcid)
	}
	br := tx.SendBatch(ctx, &b)
	last := make(map[parley.ConversationID]parley.Seq, len(ids))
	epochs := make(map[parley.ConversationID]parley.Epoch, len(ids))
	rows, err := br.Query()
	if err != nil {
		br.Close()
		return nil, err
	}
	var id parley.ConversationID
	var seq parley.Seq
	var epoch int64
	_, err = pgx.ForEachRow(rows, []any{&id, &seq, &epoch}, func() error { last[id], epochs[id] = seq, parley.Epoch(epoch); return nil })
	if err != nil {
		br.Close()
		return nil, err
	}
	seen := make(map[dupKey]parley.Seq)
	if len(kc) > 0 {
		rows, err := br.Query()
		if err != nil {
			br.Close()
			return nil, err
		}
		var k dupKey
		_, err = pgx.ForEachRow(rows, []any{&k.conv, &k.device, &k.clientID, &seq}, func() error { seen[k] = seq; return nil })
		if err != nil {
			br.Close()
			return nil, err
		}
	}
	if err := br.Close(); err != nil {
		return nil, err
	}

	results := make([]parley.AppendResult, len(envs))
	n := len(envs)
	var (
		cConv, cClient              []string
		cSeq, cSender, cDev, cEpoch = make([]int64, 0, n), make([]int64, 0, n), make([]int64, 0, n), make([]int64, 0, n)
		cCreated                    = make([]int64, 0, n)
		cKind                       = make([]int16, 0, n)
		cRecipients, cPayload       = make([][]byte, 0, n), make([][]byte, 0, n)
	)
	dirty := make(map[parley.ConversationID]bool)
	for i, e := range envs {
		l, ok := last[e.Conversation]
		if !ok {
			results[i].Err = notFound("no such conversation %s", e.Conversation)
			continue
		}
		k := dupKey{e.Conversation, e.SenderDevice, e.ClientID}
		if e.ClientID != "" {
			if orig, ok := seen[k]; ok {
				results[i] = parley.AppendResult{Seq: orig, Duplicate: true}
				continue
			}
		}
		// An MLS message made in another epoch than the current one could not
		// be decrypted by members who joined at the current epoch.
		if (e.Kind == parley.EnvelopeApplication || e.Kind == parley.EnvelopeProposal) && e.Epoch != epochs[e.Conversation] {
			results[i].Err = parley.Errorf(parley.CodeConflict, parley.ReasonWrongEpoch,
				"the conversation is at epoch %d; this message was made in epoch %d", epochs[e.Conversation], e.Epoch)
			continue
		}
		l++
		last[e.Conversation], dirty[e.Conversation] = l, true
		if e.ClientID != "" {
			seen[k] = l
		}
		results[i].Seq = l
		cConv = append(cConv, string(e.Conversation))
		cSeq = append(cSeq, int64(l))
		cSender = append(cSender, int64(e.Sender))
		cDev = append(cDev, int64(e.SenderDevice))
		cClient = append(cClient, string(e.ClientID))
		cKind = append(cKind, int16(e.Kind))
		cEpoch = append(cEpoch, int64(e.Epoch))
		cRecipients = append(cRecipients, sqlstore.EncodeRecipients(e.Recipients))
		cPayload = append(cPayload, nonNil(e.Payload))
		cCreated = append(cCreated, ns(e.CreatedAt))
	}
	if len(cConv) == 0 {
		return results, nil
	}
	var uID []string
	var uLast []int64
	for id := range dirty {
		uID = append(uID, string(id))
		uLast = append(uLast, int64(last[id]))
	}
	b = pgx.Batch{}
	b.Queue(`INSERT INTO envelopes (conversation_id, seq, sender, sender_device, client_id, kind, epoch, recipients, payload, created_at)
		SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::text[], $6::smallint[], $7::bigint[], $8::bytea[], $9::bytea[], $10::bigint[])`,
		cConv, cSeq, cSender, cDev, cClient, cKind, cEpoch, cRecipients, cPayload, cCreated)
	b.Queue(`UPDATE conversations AS c SET last_seq = u.last FROM unnest($1::text[], $2::bigint[]) AS u(id, last) WHERE c.id = u.id`, uID, uLast)
	if err := tx.SendBatch(ctx, &b).Close(); err != nil {
		return nil, err
	}
	return results, nil
}

// Append appends envs in one transaction and returns one result per
// envelope, in order. Within a conversation envelopes get consecutive Seqs
// in argument order; a (conversation, sender device, client id) already in
// the log (or earlier in envs) is not appended again and its result has the
// original Seq and Duplicate set. An envelope with an empty ClientID is never
// a duplicate. An unknown conversation fails only its own envelopes (result
// Err with CodeNotFound). The batch is durable when Append returns nil.
func (s *Store) Append(ctx context.Context, envs []parley.Envelope) ([]parley.AppendResult, error) {
	if len(envs) == 0 {
		return nil, nil
	}
	var results []parley.AppendResult
	err := s.tx(ctx, "append", func(tx pgx.Tx) error {
		var err error
		results, err = appendTx(ctx, tx, envs)
		return err
	})
	if err != nil {
		return nil, err
	}
	return results, nil
}

const envelopeCols = `conversation_id, seq, sender, sender_device, client_id, kind, epoch, recipients, payload, created_at`

// ReadLog returns up to limit envelopes of the conversation with Seq > after,
// in order. CodeNotFound if the conversation does not exist.
func (s *Store) ReadLog(ctx context.Context, id parley.ConversationID, after parley.Seq, limit int) ([]parley.Envelope, error) {
	if limit <= 0 {
		return nil, s.MustExist(ctx, id)
	}
	rows, err := s.pool.Query(ctx, `SELECT `+envelopeCols+` FROM envelopes WHERE conversation_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`, id, after, limit)
	if err != nil {
		return nil, wrap("read log", err)
	}
	envs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (parley.Envelope, error) {
		var e parley.Envelope
		var kind int16
		var epoch, created int64
		var recipients []byte
		if err := r.Scan(&e.Conversation, &e.Seq, &e.Sender, &e.SenderDevice, &e.ClientID, &kind, &epoch, &recipients, &e.Payload, &created); err != nil {
			return e, err
		}
		e.Kind, e.Epoch, e.CreatedAt = parley.EnvelopeKind(kind), parley.Epoch(epoch), fromNS(created)
		var err error
		e.Recipients, err = sqlstore.DecodeRecipients(recipients)
		return e, err
	})
	if err != nil {
		return nil, wrap("read log", err)
	}
	if len(envs) == 0 {
		return nil, s.MustExist(ctx, id)
	}
	return envs, nil
}

// Ack moves the device's cursor forward to seq, capped at the conversation's
// last Seq; a lower seq is a no-op. CodeNotFound if the device is not a
// member.
func (s *Store) Ack(ctx context.Context, id parley.ConversationID, device parley.DeviceID, seq parley.Seq) error {
	tag, err := s.pool.Exec(ctx, `UPDATE members AS m SET cursor = GREATEST(m.cursor, LEAST($3, c.last_seq))
		FROM conversations AS c WHERE c.id = m.conversation_id AND m.conversation_id = $1 AND m.device_id = $2`, id, device, seq)
	if err != nil {
		return wrap("ack", err)
	}
	if tag.RowsAffected() == 0 {
		return notFound("the device is not a member of the conversation")
	}
	return nil
}

// MarkRead records that user read the conversation up to seq (capped at the
// last Seq; never backwards). CodeNotFound for an unknown conversation.
func (s *Store) MarkRead(ctx context.Context, id parley.ConversationID, user parley.UserID, seq parley.Seq) error {
	tag, err := s.pool.Exec(ctx, `INSERT INTO read_marks (conversation_id, user_id, seq)
		SELECT id, $2, LEAST($3, last_seq) FROM conversations WHERE id = $1
		ON CONFLICT (conversation_id, user_id) DO UPDATE SET seq = GREATEST(read_marks.seq, excluded.seq)`, id, user, seq)
	if err != nil {
		return wrap("mark read", err)
	}
	if tag.RowsAffected() == 0 {
		return notFound("no such conversation")
	}
	return nil
}

// pruneChunk bounds how many rows one Prune transaction deletes.
const pruneChunk = 5000

// Prune deletes the envelopes every member device has acknowledged (Seq <=
// the lowest member cursor; all of them in a conversation without members)
// and those created before olderThan. It works in bounded transactions, each
// atomic and durable; if it fails midway, the count covers what was deleted
// and calling it again finishes the job.
func (s *Store) Prune(ctx context.Context, olderThan time.Time) (int, error) {
	total := 0
	if !olderThan.IsZero() {
		for {
			tag, err := s.pool.Exec(ctx, `DELETE FROM envelopes WHERE ctid = ANY(ARRAY(
				SELECT ctid FROM envelopes WHERE created_at < $1 LIMIT $2))`, ns(olderThan), pruneChunk)
			if err != nil {
				return total, wrap("prune", err)
			}
			total += int(tag.RowsAffected())
			if tag.RowsAffected() < pruneChunk {
				break
			}
		}
	}

	// Conversations whose lowest cursor moved past what was pruned. Cursors
	// only grow and new members join at the last Seq, so the lowest cursor
	// read here stays a safe bound when the deletion runs.
	type cut struct {
		id       parley.ConversationID
		from, to parley.Seq
	}
	rows, err := s.pool.Query(ctx, `SELECT c.id, c.pruned_seq, COALESCE(MIN(m.cursor), c.last_seq)
		FROM conversations c LEFT JOIN members m ON m.conversation_id = c.id
		GROUP BY c.id HAVING COALESCE(MIN(m.cursor), c.last_seq) > c.pruned_seq`)
	if err != nil {
		return total, wrap("prune", err)
	}
	var cuts []cut
	var c cut
	if _, err := pgx.ForEachRow(rows, []any{&c.id, &c.from, &c.to}, func() error { cuts = append(cuts, c); return nil }); err != nil {
		return total, wrap("prune", err)
	}
	for len(cuts) > 0 {
		chunk := cuts[:min(len(cuts), 256)]
		var n int64
		err := s.tx(ctx, "prune", func(tx pgx.Tx) error {
			n = 0
			var b pgx.Batch
			for _, c := range chunk {
				b.Queue(`DELETE FROM envelopes WHERE conversation_id = $1 AND seq > $2 AND seq <= $3`, c.id, c.from, c.to)
				b.Queue(`UPDATE conversations SET pruned_seq = $2 WHERE id = $1 AND pruned_seq < $2`, c.id, c.to)
			}
			br := tx.SendBatch(ctx, &b)
			for range chunk {
				tag, err := br.Exec()
				if err != nil {
					br.Close()
					return err
				}
				n += tag.RowsAffected()
				if _, err := br.Exec(); err != nil {
					br.Close()
					return err
				}
			}
			return br.Close()
		})
		if err != nil {
			return total, err
		}
		total += int(n)
		cuts = cuts[len(chunk):]
	}
	return total, nil
}

// PruneDisappearing deletes expired application envelopes of conversations
// with a timer, 4096 at a time.
func (s *Store) PruneDisappearing(ctx context.Context, now time.Time) (int, error) {
	rows, err := s.pool.Query(ctx, `SELECT conversation_id, ttl FROM chat_timers WHERE ttl > 0`)
	if err != nil {
		return 0, wrap("prune disappearing", err)
	}
	type timer struct {
		id  string
		ttl int64
	}
	timers, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (timer, error) {
		var t timer
		err := r.Scan(&t.id, &t.ttl)
		return t, err
	})
	if err != nil {
		return 0, wrap("prune disappearing", err)
	}
	total := 0
	for _, t := range timers {
		for {
			tag, err := s.pool.Exec(ctx, `DELETE FROM envelopes WHERE (conversation_id, seq) IN (SELECT conversation_id, seq FROM envelopes
				WHERE conversation_id = $1 AND kind = $2 AND created_at < $3 LIMIT 4096)`, t.id, int(parley.EnvelopeApplication), now.UnixNano()-t.ttl)
			if err != nil {
				return total, wrap("prune disappearing", err)
			}
			total += int(tag.RowsAffected())
			if tag.RowsAffected() < 4096 {
				break
			}
		}
	}
	return total, nil
}
