package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley"
)

// The Store also implements parley.TreeStore (schema in
// migrations/00250_trees.sql).
var _ parley.TreeStore = (*Store)(nil)

// PutRatchetTree stores t unbound; see parley.TreeStore.
func (s *Store) PutRatchetTree(ctx context.Context, t parley.RatchetTree) error {
	return s.tx(ctx, "put ratchet tree", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO mls_trees (ref, conversation_id, device_id, data, created_at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (ref) DO NOTHING`, t.Ref, t.Conversation, t.Device, nonNil(t.Data), ns(t.CreatedAt))
		if err != nil || tag.RowsAffected() == 1 {
			return err
		}
		var conv parley.ConversationID
		var dev parley.DeviceID
		if err := tx.QueryRow(ctx, `SELECT conversation_id, device_id FROM mls_trees WHERE ref = $1`, t.Ref).Scan(&conv, &dev); err != nil {
			return err
		}
		if conv == t.Conversation && dev == t.Device {
			return nil
		}
		return parley.Errorf(parley.CodeConflict, "tree_exists", "this tree was uploaded by another device")
	})
}

// RatchetTreeAt returns the tree bound to an epoch; see parley.TreeStore.
func (s *Store) RatchetTreeAt(ctx context.Context, conv parley.ConversationID, epoch parley.Epoch) (parley.RatchetTree, error) {
	t := parley.RatchetTree{Conversation: conv}
	var created int64
	err := s.pool.QueryRow(ctx, `SELECT t.ref, t.device_id, t.data, t.created_at FROM mls_tree_epochs e JOIN mls_trees t ON t.ref = e.ref
		WHERE e.conversation_id = $1 AND e.epoch = $2`, conv, int64(epoch)).Scan(&t.Ref, &t.Device, &t.Data, &created)
	if errors.Is(err, pgx.ErrNoRows) {
		return t, parley.Errorf(parley.CodeNotFound, "tree_not_found", "no ratchet tree for epoch %d", epoch)
	}
	if err != nil {
		return t, wrap("ratchet tree", err)
	}
	t.CreatedAt = fromNS(created)
	return t, nil
}

// LargeCommitAt returns the commit bound to an epoch; see parley.TreeStore.
func (s *Store) LargeCommitAt(ctx context.Context, conv parley.ConversationID, epoch parley.Epoch) (parley.RatchetTree, error) {
	t := parley.RatchetTree{Conversation: conv}
	var created int64
	err := s.pool.QueryRow(ctx, `SELECT t.ref, t.device_id, t.data, t.created_at FROM mls_commit_epochs e JOIN mls_trees t ON t.ref = e.ref
		WHERE e.conversation_id = $1 AND e.epoch = $2`, conv, int64(epoch)).Scan(&t.Ref, &t.Device, &t.Data, &created)
	if errors.Is(err, pgx.ErrNoRows) {
		return t, parley.Errorf(parley.CodeNotFound, "commit_not_found", "no uploaded commit for epoch %d", epoch)
	}
	if err != nil {
		return t, wrap("large commit", err)
	}
	t.CreatedAt = fromNS(created)
	return t, nil
}

// PruneRatchetTrees deletes old trees; see parley.TreeStore.
func (s *Store) PruneRatchetTrees(ctx context.Context, unboundBefore, boundBefore time.Time, keepEpochs int) (int, error) {
	var n int64
	err := s.tx(ctx, "prune ratchet trees", func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM mls_tree_epochs e
			WHERE e.epoch <= (SELECT max(e2.epoch) FROM mls_tree_epochs e2 WHERE e2.conversation_id = e.conversation_id) - $1
			AND e.ref IN (SELECT ref FROM mls_trees WHERE created_at < $2)`, keepEpochs, ns(boundBefore)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM mls_commit_epochs e
			WHERE e.epoch < (SELECT max(e2.epoch) FROM mls_commit_epochs e2 WHERE e2.conversation_id = e.conversation_id) - $1
			AND e.ref IN (SELECT ref FROM mls_trees WHERE created_at < $2)`, keepEpochs, ns(boundBefore)); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM mls_trees t WHERE t.created_at < $1
			AND NOT EXISTS (SELECT 1 FROM mls_tree_epochs e WHERE e.ref = t.ref)
			AND NOT EXISTS (SELECT 1 FROM mls_commit_epochs e WHERE e.ref = t.ref)`, ns(unboundBefore))
		n = tag.RowsAffected()
		return err
	})
	return int(n), err
}

// bindTreeTx binds c.TreeRef to epoch c.Epoch+1 and c.CommitRef to
// c.Epoch, in the commit's transaction; see parley.Commit.
func bindTreeTx(ctx context.Context, tx pgx.Tx, c parley.Commit) error {
	var dev parley.DeviceID
	if len(c.Envelopes) > 0 {
		dev = c.Envelopes[0].SenderDevice
	}
	for _, b := range []struct {
		ref    parley.TreeRef
		table  string
		epoch  parley.Epoch
		reason string
	}{{c.TreeRef, "mls_tree_epochs", c.Epoch + 1, "tree_ref"}, {c.CommitRef, "mls_commit_epochs", c.Epoch, "commit_ref"}} {
		if b.ref == "" {
			continue
		}
		tag, err := tx.Exec(ctx, `INSERT INTO `+b.table+` (conversation_id, epoch, ref)
			SELECT $1, $2, ref FROM mls_trees WHERE ref = $3 AND conversation_id = $1 AND device_id = $4
			ON CONFLICT (conversation_id, epoch) DO UPDATE SET ref = excluded.ref`, c.Conversation, int64(b.epoch), b.ref, dev)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return parley.Errorf(parley.CodeInvalid, b.reason, "nothing uploaded as %s by this device for this conversation", b.ref)
		}
	}
	return nil
}

// UploadedTree returns an upload by its ref; see parley.TreeStore.
func (s *Store) UploadedTree(ctx context.Context, ref parley.TreeRef) (parley.RatchetTree, error) {
	t := parley.RatchetTree{Ref: ref}
	var created int64
	err := s.pool.QueryRow(ctx, `SELECT conversation_id, device_id, data, created_at FROM mls_trees WHERE ref = $1`, ref).Scan(&t.Conversation, &t.Device, &t.Data, &created)
	if errors.Is(err, pgx.ErrNoRows) {
		return t, parley.Errorf(parley.CodeNotFound, "tree_not_found", "no upload %s", ref)
	}
	if err != nil {
		return t, wrap("uploaded tree", err)
	}
	t.CreatedAt = fromNS(created)
	return t, nil
}
