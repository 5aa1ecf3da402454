// Package trees serves MLS ratchet trees out of band, for groups too large
// to carry the tree inside their Welcome and GroupInfo messages (a frame
// holds at most 256 KiB; the tree of a 5,000-member group is ~0.9 MB).
//
// HTTP API (device authentication as for media:
// "Authorization: Parley <device_id>:<base64 secret>"):
//
//	PUT /mls/v1/trees?conversation=<id>   body: the tree (ratchet_tree extension value)
//	  201 {"ref":"<hex sha-256>","size":N}; uploading the same tree again is 200 and the same ref.
//	  The caller uploads the tree of the epoch its commit will start, then
//	  sends the commit with ratchet_tree_ref = ref; the server binds the
//	  tree to that epoch in the commit's transaction.
//	GET /mls/v1/trees/<conversation>/<epoch>
//	  200 the tree bytes (Content-Type application/octet-stream,
//	  Parley-Tree-Ref: <ref>); 404 tree_not_found while none is bound.
//	GET /mls/v1/commits/<conversation>/<epoch>
//	  200 the bytes of a commit made in that epoch too large for a frame,
//	  uploaded with PUT /mls/v1/trees and named by the commit's
//	  commit_ref (its log envelope then carries only the ref);
//	  404 commit_not_found.
//
// Both are open to the devices that may fetch the conversation's GroupInfo:
// its member devices, the other devices of its member users, and users a
// group lets join (delivery.Service.GroupInfo); others get 404
// conversation_not_found. Errors are JSON {"code","reason","message"}.
// Limits: a tree of more than Config.MaxTreeBytes is refused with 413,
// code too_large, reason tree_too_large.
//
// The server cannot forge a tree: the joiner computes the tree hash of what
// it downloads and compares it with the tree_hash inside the GroupInfo the
// committer signed (package mls, RFC 9420 §12.4.3.1), so a tampered tree is
// refused by the joiner.
//
// Retention: an upload no commit bound is deleted after UnboundTTL; a
// bound tree is kept for Retention, and the trees of each conversation's
// KeepEpochs latest epochs are kept whatever their age (a joiner racing a
// commit still finds the epoch it read).
package trees

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/httperr"
)

// Path and CommitsPath are the URL prefixes the service handles.
const (
	Path        = "/mls/v1/trees"
	CommitsPath = "/mls/v1/commits"
)

// Config configures a Service. Store, Access and Authenticate are required.
type Config struct {
	Store parley.TreeStore
	// Access returns nil if dev may read and upload the trees of conv
	// (the GroupInfo rule), else the error to return.
	Access       func(ctx context.Context, dev parley.Device, conv parley.ConversationID) error
	Authenticate func(r *http.Request) (parley.Device, error)
	Clock        parley.Clock
	Logger       *slog.Logger
	// MaxTreeBytes bounds one uploaded tree. Default 4 MiB (a 10,000-leaf
	// tree is ~1.8 MB).
	MaxTreeBytes int
	// UnboundTTL is how long an upload no commit bound is kept. Default 1 h.
	UnboundTTL time.Duration
	// Retention is how long a bound tree is kept (beyond the KeepEpochs
	// latest of its conversation, kept always). Default 7 days: Welcomes
	// of batched adds name older epochs, and an offline device needs its
	// epoch's tree when it comes back.
	Retention time.Duration
	// KeepEpochs is how many latest epochs of each conversation keep their
	// tree whatever its age. Default 3.
	KeepEpochs int
	// PruneInterval is how often Run prunes. Default 10 minutes.
	PruneInterval time.Duration
}

// Service is the tree endpoint.
type Service struct {
	cfg Config
	log *slog.Logger
	mux *http.ServeMux
}

// New returns a Service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Access == nil || cfg.Authenticate == nil {
		return nil, errors.New("trees: Store, Access and Authenticate are required")
	}
	if cfg.Clock == nil {
		cfg.Clock = parley.SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxTreeBytes <= 0 {
		cfg.MaxTreeBytes = 4 << 20
	}
	if cfg.UnboundTTL <= 0 {
		cfg.UnboundTTL = time.Hour
	}
	if cfg.Retention <= 0 {
		cfg.Retention = 7 * 24 * time.Hour
	}
	if cfg.KeepEpochs <= 0 {
		cfg.KeepEpochs = 3
	}
	if cfg.PruneInterval <= 0 {
		cfg.PruneInterval = 10 * time.Minute
	}
	s := &Service{cfg: cfg, log: cfg.Logger, mux: http.NewServeMux()}
	s.mux.HandleFunc("PUT "+Path, s.put)
	s.mux.HandleFunc("GET "+Path+"/{conversation}/{epoch}", s.get)
	s.mux.HandleFunc("GET "+CommitsPath+"/{conversation}/{epoch}", s.get)
	return s, nil
}

// ServeHTTP serves the API described in the package comment.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// upload is PUT's answer.
type upload struct {
	Ref  parley.TreeRef `json:"ref"`
	Size int            `json:"size"`
}

func (s *Service) put(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	dev, err := s.cfg.Authenticate(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	conv := parley.ConversationID(r.URL.Query().Get("conversation"))
	if !conv.Valid() {
		s.fail(w, r, parley.Errorf(parley.CodeInvalid, parley.ReasonConversationID, "want ?conversation=<conversation id>"))
		return
	}
	if r.ContentLength > int64(s.cfg.MaxTreeBytes) {
		s.fail(w, r, tooLarge(s.cfg.MaxTreeBytes))
		return
	}
	if err := s.cfg.Access(ctx, dev, conv); err != nil {
		s.fail(w, r, err)
		return
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, int64(s.cfg.MaxTreeBytes)+1))
	if err != nil {
		s.fail(w, r, parley.Errorf(parley.CodeInvalid, ReasonBody, "reading the tree: %v", err))
		return
	}
	if len(data) > s.cfg.MaxTreeBytes {
		s.fail(w, r, tooLarge(s.cfg.MaxTreeBytes))
		return
	}
	if len(data) == 0 {
		s.fail(w, r, parley.Errorf(parley.CodeInvalid, ReasonEmptyTree, "the tree is empty"))
		return
	}
	t := parley.RatchetTree{Ref: parley.TreeRefOf(data), Conversation: conv, Device: dev.ID, Data: data, CreatedAt: s.cfg.Clock.Now()}
	if err := s.cfg.Store.PutRatchetTree(ctx, t); err != nil {
		s.fail(w, r, err)
		return
	}
	body, _ := json.Marshal(upload{Ref: t.Ref, Size: len(data)})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write(append(body, '\n'))
}

func (s *Service) get(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	dev, err := s.cfg.Authenticate(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	conv := parley.ConversationID(r.PathValue("conversation"))
	epoch, perr := strconv.ParseUint(r.PathValue("epoch"), 10, 63)
	if !conv.Valid() || perr != nil {
		s.fail(w, r, parley.Errorf(parley.CodeInvalid, ReasonTreePath, "want %s/<conversation id>/<epoch>", Path))
		return
	}
	if err := s.cfg.Access(ctx, dev, conv); err != nil {
		s.fail(w, r, err)
		return
	}
	get := s.cfg.Store.RatchetTreeAt
	if strings.HasPrefix(r.URL.Path, CommitsPath+"/") {
		get = s.cfg.Store.LargeCommitAt
	}
	t, err := get(ctx, conv, parley.Epoch(epoch))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(t.Data)))
	w.Header().Set("Parley-Tree-Ref", string(t.Ref))
	// A bound tree never changes: caches may keep it.
	w.Header().Set("Cache-Control", "private, max-age=86400, immutable")
	_, _ = w.Write(t.Data)
}

func tooLarge(limit int) error {
	return parley.Errorf(parley.CodeTooLarge, ReasonTreeTooLarge, "a ratchet tree may have at most %d bytes", limit)
}

// Prune deletes expired trees once (see Config) and returns how many.
func (s *Service) Prune(ctx context.Context) (int, error) {
	now := s.cfg.Clock.Now()
	return s.cfg.Store.PruneRatchetTrees(ctx, now.Add(-s.cfg.UnboundTTL), now.Add(-s.cfg.Retention), s.cfg.KeepEpochs)
}

// Run prunes every PruneInterval until ctx is done.
func (s *Service) Run(ctx context.Context) error {
	return parley.SweepEvery(ctx, s.cfg.PruneInterval, s.log, "ratchet tree prune", s.Prune)
}

func (s *Service) fail(w http.ResponseWriter, r *http.Request, err error) {
	if httperr.StatusOf(err) >= 500 {
		s.log.Error("tree request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	httperr.Write(w, r, 0, err)
}
