//go:build !js

package localstore

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/content"
)

// sealedStore is the SQLite store with the device's secrets sealed: the
// account record (bearer secret, MLS signature key), KeyPackage private
// keys and every conversation's MLS group state are encrypted with
// AES-256-GCM under a key the caller holds (for the hosted business
// endpoint, the server operator's key). Each sealed value is bound to what
// it is (the account, a KeyPackage ref, a conversation id) so values cannot
// be swapped between rows.
//
// Message history, chat titles and contacts are not sealed.
type sealedStore struct {
	*sqliteStore
	aead cipher.AEAD

	// The batch writer of the fast send path (sqlite_fast.go).
	wMu     sync.Mutex
	wQueue  []writeReq
	wBusy   int    // writes queued or being committed
	wStmts  *stmts // the batch writer's statements, prepared once (its goroutine only)
	wClosed bool
	wSig    chan struct{}
	wTimer  *time.Timer // flushes queued marks when no other write comes (sqlite_fast.go)
	wStop   chan struct{}
	wDone   chan struct{}
}

// sealedMagic starts every sealed value.
const sealedMagic = "prlys1"

// OpenSealedSQLite opens the SQLite store at path with its secrets and
// MLS state sealed under key (32 bytes). A wrong key makes Open of the
// client fail with an error; nothing is overwritten.
func OpenSealedSQLite(ctx context.Context, path string, key []byte) (Store, error) {
	if len(key) != 32 {
		return nil, errors.New("sealed store: the key must be 32 bytes")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	st, err := OpenSQLite(ctx, path)
	if err != nil {
		return nil, err
	}
	ss := &sealedStore{sqliteStore: st.(*sqliteStore), aead: aead}
	// An endpoint keeps one chat (and its MLS state) per customer: give the
	// store's one connection a page cache that holds them (64 MiB, not the
	// default 2 MiB).
	if _, err := ss.db.ExecContext(ctx, `PRAGMA cache_size = -65536`); err != nil {
		ss.Close()
		return nil, err
	}
	return ss, nil
}

func (s *sealedStore) seal(plain []byte, what string) []byte {
	nonce := make([]byte, s.aead.NonceSize(), len(sealedMagic)+s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	_, _ = rand.Read(nonce)
	out := append([]byte(sealedMagic), nonce...)
	return s.aead.Seal(out, nonce, plain, []byte(what))
}

func (s *sealedStore) open(sealed []byte, what string) ([]byte, error) {
	ns := s.aead.NonceSize()
	if len(sealed) < len(sealedMagic)+ns || string(sealed[:len(sealedMagic)]) != sealedMagic {
		return nil, fmt.Errorf("sealed store: %s is not sealed", what)
	}
	body := sealed[len(sealedMagic):]
	plain, err := s.aead.Open(nil, body[:ns], body[ns:], []byte(what))
	if err != nil {
		return nil, fmt.Errorf("sealed store: %s: wrong key or damaged data", what)
	}
	return plain, nil
}

// sealedAccount is how the account row is kept: the public parts in the
// clear, the secrets sealed.
type sealedAccount struct {
	Account
	Sealed []byte `json:"sealed"`
}

type accountSecrets struct {
	Secret  []byte
	SigPriv []byte
}

func (s *sealedStore) Account(ctx context.Context) (Account, error) {
	a, err := s.sqliteStore.Account(ctx)
	if err != nil {
		return a, err
	}
	// The plain store decoded the public parts; the row also holds the
	// sealed secrets.
	var raw []byte
	if err := s.db.QueryRowContext(ctx, `SELECT data FROM account WHERE id = 1`).Scan(&raw); err != nil {
		return Account{}, fmt.Errorf("read account: %w", err)
	}
	var sa sealedAccount
	if err := json.Unmarshal(raw, &sa); err != nil {
		return Account{}, fmt.Errorf("decode account: %w", err)
	}
	if len(sa.Sealed) == 0 {
		if len(a.Secret) > 0 || len(a.SigPriv) > 0 {
			return Account{}, errors.New("sealed store: the account's secrets are not sealed")
		}
		return a, nil
	}
	plain, err := s.open(sa.Sealed, "account")
	if err != nil {
		return Account{}, err
	}
	var sec accountSecrets
	if err := json.Unmarshal(plain, &sec); err != nil {
		return Account{}, fmt.Errorf("decode account secrets: %w", err)
	}
	a.Secret, a.SigPriv = sec.Secret, sec.SigPriv
	return a, nil
}

func (s *sealedStore) PutAccount(ctx context.Context, a Account) error {
	sec, _ := json.Marshal(accountSecrets{Secret: a.Secret, SigPriv: a.SigPriv})
	sa := sealedAccount{Account: a, Sealed: s.seal(sec, "account")}
	sa.Secret, sa.SigPriv = nil, nil
	data, err := json.Marshal(sa)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO account (id, data) VALUES (1, ?)
		ON CONFLICT (id) DO UPDATE SET data = excluded.data`, data)
	if err != nil {
		return fmt.Errorf("write account: %w", err)
	}
	return nil
}

func (s *sealedStore) PutKeyPackages(ctx context.Context, kps []KeyPackageSecret) error {
	sealed := make([]KeyPackageSecret, len(kps))
	for i, kp := range kps {
		kp.Private = s.seal(kp.Private, "kp:"+string(kp.Ref))
		sealed[i] = kp
	}
	return s.sqliteStore.PutKeyPackages(ctx, sealed)
}

func (s *sealedStore) KeyPackages(ctx context.Context) ([]KeyPackageSecret, error) {
	kps, err := s.sqliteStore.KeyPackages(ctx)
	if err != nil {
		return nil, err
	}
	for i := range kps {
		if kps[i].Private, err = s.open(kps[i].Private, "kp:"+string(kps[i].Ref)); err != nil {
			return nil, err
		}
	}
	return kps, nil
}

func (s *sealedStore) Apply(ctx context.Context, a Applied) error {
	if a.Group != nil {
		if err := s.barrier(ctx); err != nil {
			return err
		}
		a.Group = s.seal(a.Group, "group:"+string(a.Conversation))
	}
	return s.sqliteStore.Apply(ctx, a)
}

func (s *sealedStore) DeleteGroup(ctx context.Context, id parley.ConversationID) error {
	if err := s.barrier(ctx); err != nil {
		return err
	}
	return s.sqliteStore.DeleteGroup(ctx, id)
}

func (s *sealedStore) Group(ctx context.Context, id parley.ConversationID) ([]byte, error) {
	if err := s.barrier(ctx); err != nil {
		return nil, err
	}
	g, err := s.sqliteStore.Group(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.open(g, "group:"+string(id))
}

// Message and Messages see the sealed store's queued writes (an endpoint
// send returns before its "sent" mark is committed).
func (s *sealedStore) Message(ctx context.Context, id parley.ConversationID, seq parley.Seq) (content.MessageRecord, error) {
	if err := s.barrier(ctx); err != nil {
		return content.MessageRecord{}, err
	}
	return s.sqliteStore.Message(ctx, id, seq)
}

func (s *sealedStore) Messages(ctx context.Context, id parley.ConversationID, limit int) ([]content.MessageRecord, error) {
	if err := s.barrier(ctx); err != nil {
		return nil, err
	}
	return s.sqliteStore.Messages(ctx, id, limit)
}

// RaiseStatus sees queued "sent" marks too: a receipt may arrive before
// its message's mark is committed.
func (s *sealedStore) RaiseStatus(ctx context.Context, id parley.ConversationID, upto parley.Seq, status content.Status) ([]content.MessageRecord, error) {
	if err := s.barrier(ctx); err != nil {
		return nil, err
	}
	return s.sqliteStore.RaiseStatus(ctx, id, upto, status)
}
