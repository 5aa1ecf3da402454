package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/parleyhq/parley"
)

// The Store also implements parley.TreeStore (schema in
// migrations/00250_trees.sql).
var _ parley.TreeStore = (*Store)(nil)

// PutRatchetTree stores t unbound; see parley.TreeStore.
func (s *Store) PutRatchetTree(ctx context.Context, t parley.RatchetTree) error {
	return s.bizWrite(ctx, "put ratchet tree", func(tx Querier) error {
		n, err := tx.Exec(ctx, `INSERT INTO mls_trees (ref, conversation_id, device_id, data, created_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (ref) DO NOTHING`, t.Ref, t.Conversation, t.Device, nonNil(t.Data), ns(t.CreatedAt))
		if err != nil || n == 1 {
			return err
		}
		var conv parley.ConversationID
		var dev parley.DeviceID
		if err := tx.QueryRow(ctx, `SELECT conversation_id, device_id FROM mls_trees WHERE ref = ?`, t.Ref).Scan(&conv, &dev); err != nil {
			return err
		}
		if conv == t.Conversation && dev == t.Device {
			return nil
		}
		return parley.Errorf(parley.CodeConflict, parley.ReasonTreeExists, "this tree was uploaded by another device")
	})
}

// RatchetTreeAt returns the tree bound to an epoch; see parley.TreeStore.
func (s *Store) RatchetTreeAt(ctx context.Context, conv parley.ConversationID, epoch parley.Epoch) (parley.RatchetTree, error) {
	return s.boundAt(ctx, "ratchet tree", "mls_tree_epochs", conv, epoch,
		parley.Errorf(parley.CodeNotFound, parley.ReasonTreeNotFound, "no ratchet tree for epoch %d", epoch))
}

// LargeCommitAt returns the commit bound to an epoch; see parley.TreeStore.
func (s *Store) LargeCommitAt(ctx context.Context, conv parley.ConversationID, epoch parley.Epoch) (parley.RatchetTree, error) {
	return s.boundAt(ctx, "large commit", "mls_commit_epochs", conv, epoch,
		parley.Errorf(parley.CodeNotFound, parley.ReasonCommitNotFound, "no uploaded commit for epoch %d", epoch))
}

// boundAt returns the upload bound to conv's epoch in table (mls_tree_epochs
// or mls_commit_epochs), or notFound.
func (s *Store) boundAt(ctx context.Context, op, table string, conv parley.ConversationID, epoch parley.Epoch, notFound error) (parley.RatchetTree, error) {
	t := parley.RatchetTree{Conversation: conv}
	var created int64
	err := s.r.QueryRow(ctx, `SELECT t.ref, t.device_id, t.data, t.created_at FROM `+table+` e JOIN mls_trees t ON t.ref = e.ref
		WHERE e.conversation_id = ? AND e.epoch = ?`, conv, int64(epoch)).Scan(&t.Ref, &t.Device, &t.Data, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return t, notFound
	}
	if err != nil {
		return t, s.wrap(op, err)
	}
	t.CreatedAt = fromNS(created)
	return t, nil
}

// PruneRatchetTrees deletes old trees; see parley.TreeStore.
func (s *Store) PruneRatchetTrees(ctx context.Context, unboundBefore, boundBefore time.Time, keepEpochs int) (int, error) {
	var n int64
	err := s.bizWrite(ctx, "prune ratchet trees", func(tx Querier) error {
		if _, err := tx.Exec(ctx, `DELETE FROM mls_tree_epochs
			WHERE epoch <= (SELECT max(e2.epoch) FROM mls_tree_epochs e2 WHERE e2.conversation_id = mls_tree_epochs.conversation_id) - ?
			AND ref IN (SELECT ref FROM mls_trees WHERE created_at < ?)`, keepEpochs, ns(boundBefore)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM mls_commit_epochs
			WHERE epoch < (SELECT max(e2.epoch) FROM mls_commit_epochs e2 WHERE e2.conversation_id = mls_commit_epochs.conversation_id) - ?
			AND ref IN (SELECT ref FROM mls_trees WHERE created_at < ?)`, keepEpochs, ns(boundBefore)); err != nil {
			return err
		}
		var err error
		n, err = tx.Exec(ctx, `DELETE FROM mls_trees WHERE created_at < ?
			AND NOT EXISTS (SELECT 1 FROM mls_tree_epochs e WHERE e.ref = mls_trees.ref)
			AND NOT EXISTS (SELECT 1 FROM mls_commit_epochs e WHERE e.ref = mls_trees.ref)`, ns(unboundBefore))
		return err
	})
	return int(n), err
}

// bindTreeTx binds c.TreeRef to epoch c.Epoch+1 and c.CommitRef to
// c.Epoch, in the commit's transaction; see parley.Commit.
func bindTreeTx(ctx context.Context, tx Querier, c parley.Commit) error {
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
		var ok int
		err := tx.QueryRow(ctx, `SELECT 1 FROM mls_trees WHERE ref = ? AND conversation_id = ? AND device_id = ?`,
			b.ref, c.Conversation, dev).Scan(&ok)
		if errors.Is(err, sql.ErrNoRows) {
			return parley.Errorf(parley.CodeInvalid, b.reason, "nothing uploaded as %s by this device for this conversation", b.ref)
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO `+b.table+` (conversation_id, epoch, ref) VALUES (?, ?, ?)
			ON CONFLICT (conversation_id, epoch) DO UPDATE SET ref = excluded.ref`, c.Conversation, int64(b.epoch), b.ref); err != nil {
			return err
		}
	}
	return nil
}

// UploadedTree returns an upload by its ref; see parley.TreeStore.
func (s *Store) UploadedTree(ctx context.Context, ref parley.TreeRef) (parley.RatchetTree, error) {
	t := parley.RatchetTree{Ref: ref}
	var created int64
	err := s.r.QueryRow(ctx, `SELECT conversation_id, device_id, data, created_at FROM mls_trees WHERE ref = ?`, ref).Scan(&t.Conversation, &t.Device, &t.Data, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return t, parley.Errorf(parley.CodeNotFound, parley.ReasonTreeNotFound, "no upload %s", ref)
	}
	if err != nil {
		return t, s.wrap("uploaded tree", err)
	}
	t.CreatedAt = fromNS(created)
	return t, nil
}
