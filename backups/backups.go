// Package backups keeps accounts' end-to-end encrypted client backups on
// the server: PUT and GET /v1/backup, authenticated as a device.
//
// The server stores ciphertext only. A backup is made and encrypted by a
// client (package client/backup) under a key derived from a recovery key
// the user keeps; the server never receives that key, so it can neither
// read a backup nor tell what it holds beyond its size. (Package backup,
// singular, is something else: the operator's archive of a server's data.)
//
// Guarantees:
//   - One backup per account. PUT replaces it atomically: a GET sees the
//     old backup or the new one, never a mix; a refused or interrupted PUT
//     leaves the old one.
//   - Any active device of the account may PUT and GET it, including a
//     device registered after the one that made it (the lost-phone case).
//   - A body larger than Config.Quota is refused with CodeTooLarge,
//     ReasonBackupQuota, before anything is stored.
//   - DELETE /v1/backup removes it.
package backups

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/httperr"
)

// Path is the route of an account's backup.
const Path = "/v1/backup"

// DefaultQuota bounds one account's backup unless Config.Quota says
// otherwise. A backup holds text and media keys, not the media itself, so
// years of chats fit well within it.
const DefaultQuota = 256 << 20

// Reasons this package returns.
const (
	ReasonBackupQuota = "backup_quota" // CodeTooLarge: the backup is larger than the server's quota for one account
)

// Config configures a Service. Store and Authenticate are required.
type Config struct {
	Store parley.BackupStore
	// Authenticate returns the device a request is made by.
	Authenticate func(r *http.Request) (parley.Device, error)
	Clock        parley.Clock
	Logger       *slog.Logger
	// Quota bounds one backup in bytes; default DefaultQuota.
	Quota int64
}

// Service serves Path.
type Service struct {
	cfg Config
	log *slog.Logger
}

// New returns a Service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Authenticate == nil {
		return nil, errors.New("backups: Store and Authenticate are required")
	}
	if cfg.Clock == nil {
		cfg.Clock = parley.SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Quota <= 0 {
		cfg.Quota = DefaultQuota
	}
	return &Service{cfg: cfg, log: cfg.Logger}, nil
}

// Register mounts the service on mux at Path.
func (s *Service) Register(mux *http.ServeMux) {
	for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
		mux.Handle(m+" "+Path, s)
	}
}

// ServeHTTP serves PUT, GET (and HEAD: whether there is one, its size
// and time, without the bytes) and DELETE on Path.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	dev, err := s.cfg.Authenticate(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ctx := r.Context()
	switch r.Method {
	case http.MethodPut:
		err = s.put(ctx, w, r, dev)
		if err == nil {
			w.WriteHeader(http.StatusNoContent)
		}
	case http.MethodGet, http.MethodHead: // the ServeMux routes HEAD to GET; net/http sends no body for it
		var b parley.ClientBackup
		b, err = s.cfg.Store.ClientBackup(ctx, dev.User)
		if err == nil {
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Header().Set("Content-Length", strconv.Itoa(len(b.Data)))
			w.Header().Set("Last-Modified", b.CreatedAt.UTC().Format(http.TimeFormat))
			_, _ = w.Write(b.Data)
		}
	case http.MethodDelete:
		err = s.cfg.Store.DeleteClientBackup(ctx, dev.User)
		if err == nil {
			w.WriteHeader(http.StatusNoContent)
		}
	default:
		w.Header().Set("Allow", "GET, PUT, DELETE")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if err != nil {
		s.fail(w, r, err)
	}
}

func (s *Service) put(ctx context.Context, w http.ResponseWriter, r *http.Request, dev parley.Device) error {
	tooLarge := parley.Errorf(parley.CodeTooLarge, ReasonBackupQuota, "a backup may be at most %d bytes", s.cfg.Quota)
	if r.ContentLength > s.cfg.Quota {
		return tooLarge
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.Quota))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return tooLarge
	}
	if err != nil {
		return parley.Errorf(parley.CodeInvalid, parley.ReasonBadBody, "read backup: %v", err)
	}
	if len(data) == 0 {
		return parley.Errorf(parley.CodeInvalid, parley.ReasonBadBody, "empty backup")
	}
	if err := s.cfg.Store.PutClientBackup(ctx, parley.ClientBackup{User: dev.User, Device: dev.ID, Data: data, CreatedAt: s.cfg.Clock.Now()}); err != nil {
		return err
	}
	s.log.InfoContext(ctx, "client backup stored", "user", dev.User, "device", dev.ID, "bytes", len(data))
	return nil
}

func (s *Service) fail(w http.ResponseWriter, r *http.Request, err error) {
	if httperr.StatusOf(err) >= 500 {
		s.log.Error("backup request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	httperr.Write(w, r, 0, err)
}
