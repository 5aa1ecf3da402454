// Package media is the server's media service: resumable uploads of
// encrypted attachments (tus v1, through tusd's handler), downloads with
// Range requests, forwarding without re-upload, per-file and per-user
// limits, and the sweeper that deletes blobs nobody needs any more.
//
// The service is crypto-blind: clients (package attachment) upload only
// ciphertext and keep keys inside MLS messages. What the server checks:
//
//   - Uploads are authorised per device (Authorization: Parley
//     <device_id>:<base64 secret>): only a member device of the conversation
//     named in the upload's metadata may create it, and only the creating
//     device may append to it or ask its offset.
//   - A download needs the capability the message carries (its SHA-256 is
//     all the server stores) and a device that is a member of one of the
//     conversations the blob is linked to. A wrong capability answers 404
//     (the blob's existence is not revealed); a non-member device 403.
//   - Limits: MaxBlobSize per file (413, reason "file_too_large") and
//     UserQuota per user over all their blobs, in progress or complete
//     (413, reason "quota_exceeded"), reserved atomically when the upload
//     is created: parallel creations never exceed it together.
//
// HTTP interface (mounted at the server's root):
//
//	POST  /media/v1/uploads/               tus creation; Upload-Length, Upload-Metadata "conversation <base64>"
//	                                        → 201, Location, Parley-Blob, Parley-Capability (base64)
//	HEAD  /media/v1/uploads/{id}           tus offset (Upload-Offset)
//	PATCH /media/v1/uploads/{id}           tus append (application/offset+octet-stream)
//	OPTIONS /media/v1/uploads/             tus discovery (no authentication)
//	GET   /media/v1/blobs/{id}             ciphertext; Parley-Capability header (or ?cap=base64url); Range supported
//	HEAD  /media/v1/blobs/{id}             size only
//	POST  /media/v1/blobs/{id}/links       {"conversation": "c…", "seq": N}: link for forwarding / record a reference → 204
//
// Errors are JSON, {"code": "...", "reason": "...", "message": "..."},
// except those tusd itself produces on the upload routes (text/plain with
// a tus error code).
//
// Memory does not grow with file size: upload bodies are copied to a
// staging file through a fixed buffer, then imported into (disk) or
// streamed to (S3) the BlobStore; downloads stream from the BlobStore.
// Uploads are staged in StagingDir on the node that received them: a
// cluster routes an upload's requests to one node (see
// docs/decisions/0002-media-uploads.md).
package media

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	tusd "github.com/tus/tusd/v2/pkg/handler"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/httperr"
)

// Defaults of Config.
const (
	// DefaultMaxBlobSize admits a 2 GiB file plus its encryption overhead
	// (16 bytes per 64 KiB chunk: 512 KiB for 2 GiB).
	DefaultMaxBlobSize   = 2<<30 + 1<<20
	DefaultUserQuota     = 10 << 30
	DefaultRetention     = 7 * 24 * time.Hour
	DefaultMaxAge        = 30 * 24 * time.Hour
	DefaultAbandonAfter  = 24 * time.Hour
	DefaultSweepInterval = time.Hour
)

// Paths and headers of the HTTP interface.
const (
	UploadsPath   = "/media/v1/uploads/"
	BlobsPath     = "/media/v1/blobs/"
	CapabilityHdr = "Parley-Capability"
	BlobHdr       = "Parley-Blob"
)

// Members answers whether a device is a member of a conversation;
// parley.ConversationStore implements it.
type Members interface {
	Member(ctx context.Context, id parley.ConversationID, device parley.DeviceID) (parley.Member, error)
}

// Config wires the service.
type Config struct {
	Blobs   parley.BlobStore
	Store   parley.MediaStore
	Members Members
	// Authenticate returns the device a request comes from, or an error
	// (CodeUnauthenticated) — DeviceAuth(accounts.Authenticate) in the
	// server.
	Authenticate func(r *http.Request) (parley.Device, error)
	// StagingDir holds uploads in progress; on the same file system as a
	// disk BlobStore, completing an upload is a rename.
	StagingDir string

	MaxBlobSize   int64         // per file; default DefaultMaxBlobSize
	UserQuota     int64         // per user; default DefaultUserQuota
	Retention     time.Duration // minimum life of a complete blob; default 7 days
	MaxAge        time.Duration // maximum life, whatever references it (the log's retention); default 30 days
	AbandonAfter  time.Duration // incomplete uploads older than this are swept; default 24 h
	SweepInterval time.Duration // default 1 h
	Clock         parley.Clock
	Logger        *slog.Logger
}

// Service is the media service: an http.Handler plus the sweeper.
type Service struct {
	cfg Config
	tus http.Handler
	mux *http.ServeMux
	log *slog.Logger

	// quota serialises each user's quota reservations (usage check and
	// blob creation), so parallel uploads cannot together pass the quota.
	// It is per process: a cluster needs the check inside the store's
	// insert.
	quota userLocks
}

// userLocks is a mutex per user, held only while in use.
type userLocks struct {
	mu sync.Mutex
	m  map[parley.UserID]*userLock
}

type userLock struct {
	mu   sync.Mutex
	refs int
}

func (l *userLocks) lock(u parley.UserID) (unlock func()) {
	l.mu.Lock()
	if l.m == nil {
		l.m = make(map[parley.UserID]*userLock)
	}
	e := l.m[u]
	if e == nil {
		e = &userLock{}
		l.m[u] = e
	}
	e.refs++
	l.mu.Unlock()
	e.mu.Lock()
	return func() {
		e.mu.Unlock()
		l.mu.Lock()
		if e.refs--; e.refs == 0 {
			delete(l.m, u)
		}
		l.mu.Unlock()
	}
}

// New returns a Service. It creates StagingDir if needed.
func New(cfg Config) (*Service, error) {
	if cfg.Blobs == nil || cfg.Store == nil || cfg.Members == nil || cfg.Authenticate == nil || cfg.StagingDir == "" {
		return nil, errors.New("media: Blobs, Store, Members, Authenticate and StagingDir are required")
	}
	if cfg.MaxBlobSize <= 0 {
		cfg.MaxBlobSize = DefaultMaxBlobSize
	}
	if cfg.UserQuota <= 0 {
		cfg.UserQuota = DefaultUserQuota
	}
	if cfg.Retention <= 0 {
		cfg.Retention = DefaultRetention
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = DefaultMaxAge
	}
	if cfg.AbandonAfter <= 0 {
		cfg.AbandonAfter = DefaultAbandonAfter
	}
	if cfg.SweepInterval <= 0 {
		cfg.SweepInterval = DefaultSweepInterval
	}
	if cfg.Clock == nil {
		cfg.Clock = parley.SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if err := os.MkdirAll(cfg.StagingDir, 0o700); err != nil {
		return nil, fmt.Errorf("media: staging dir: %w", err)
	}
	s := &Service{cfg: cfg, log: cfg.Logger.With("component", "media")}

	composer := tusd.NewStoreComposer()
	composer.UseCore(&staging{s: s})
	newWaitLocker().UseIn(composer)
	h, err := tusd.NewHandler(tusd.Config{
		StoreComposer:           composer,
		BasePath:                UploadsPath,
		DisableDownload:         true, // downloads go through /blobs with a capability
		DisableTermination:      true,
		DisableConcatenation:    true,
		Cors:                    &tusd.CorsConfig{Disable: true},
		Logger:                  tusLogger(s.log),
		PreUploadCreateCallback: s.preCreate,
		NetworkTimeout:          2 * time.Minute,
	})
	if err != nil {
		return nil, fmt.Errorf("media: tus handler: %w", err)
	}
	s.tus = http.StripPrefix(strings.TrimSuffix(UploadsPath, "/"), h)

	s.mux = http.NewServeMux()
	s.mux.HandleFunc(UploadsPath, s.serveUpload)
	s.mux.HandleFunc("GET "+BlobsPath+"{id}", s.serveBlob)
	s.mux.HandleFunc("POST "+BlobsPath+"{id}/links", s.serveLink)
	return s, nil
}

// ServeHTTP serves the routes under /media/v1/.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

type deviceKey struct{}

func deviceFrom(ctx context.Context) (parley.Device, bool) {
	d, ok := ctx.Value(deviceKey{}).(parley.Device)
	return d, ok
}

// serveUpload authenticates tus requests and checks that only the creating
// device touches an upload, then hands them to tusd.
func (s *Service) serveUpload(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodOptions {
		s.tus.ServeHTTP(w, r)
		return
	}
	dev, err := s.cfg.Authenticate(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if id := strings.Trim(strings.TrimPrefix(r.URL.Path, UploadsPath), "/"); id != "" {
		b, err := s.cfg.Store.Blob(r.Context(), parley.BlobID(id))
		if err == nil && b.OwnerDevice != dev.ID {
			err = parley.ErrNotFound // someone else's upload: do not reveal it
		}
		if err != nil {
			writeError(w, r, s.log, err)
			return
		}
	} else if r.Method == http.MethodPost {
		// Fail fast on the size before tusd reads anything.
		if n, err := strconv.ParseInt(r.Header.Get("Upload-Length"), 10, 64); err == nil && n > s.cfg.MaxBlobSize {
			writeError(w, r, s.log, errTooLarge(n, s.cfg.MaxBlobSize))
			return
		}
	}
	s.tus.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), deviceKey{}, dev)))
}

func errTooLarge(n, limit int64) error {
	return parley.Errorf(parley.CodeTooLarge, parley.ReasonFileTooLarge, "file of %d bytes exceeds the limit of %d bytes", n, limit)
}

// preCreate runs before tusd creates an upload: it checks the length,
// membership and quota, creates the blob record and the capability.
func (s *Service) preCreate(ev tusd.HookEvent) (tusd.HTTPResponse, tusd.FileInfoChanges, error) {
	ctx := ev.Context
	dev, ok := deviceFrom(ctx)
	if !ok {
		return tusd.HTTPResponse{}, tusd.FileInfoChanges{}, tusError(parley.Errorf(parley.CodeUnauthenticated, parley.ReasonUnauthenticated, "not authenticated"))
	}
	b, capability, err := s.createBlob(ctx, dev, ev.Upload.Size, ev.Upload.SizeIsDeferred, parley.ConversationID(ev.Upload.MetaData["conversation"]))
	if err != nil {
		return tusd.HTTPResponse{}, tusd.FileInfoChanges{}, tusError(err)
	}
	resp := tusd.HTTPResponse{Header: tusd.HTTPHeader{
		BlobHdr:       string(b.ID),
		CapabilityHdr: base64.StdEncoding.EncodeToString(capability),
	}}
	return resp, tusd.FileInfoChanges{ID: string(b.ID), MetaData: tusd.MetaData{}}, nil
}

func (s *Service) createBlob(ctx context.Context, dev parley.Device, size int64, deferred bool, conv parley.ConversationID) (parley.Blob, []byte, error) {
	switch {
	case deferred || size < 0:
		return parley.Blob{}, nil, parley.Errorf(parley.CodeInvalid, ReasonLengthRequired, "Upload-Length is required")
	case size > s.cfg.MaxBlobSize:
		return parley.Blob{}, nil, errTooLarge(size, s.cfg.MaxBlobSize)
	case !conv.Valid():
		return parley.Blob{}, nil, parley.Errorf(parley.CodeInvalid, ReasonBadConversation, "Upload-Metadata must name the conversation")
	}
	if _, err := s.cfg.Members.Member(ctx, conv, dev.ID); err != nil {
		if parley.IsCode(err, parley.CodeNotFound) {
			return parley.Blob{}, nil, parley.Errorf(parley.CodeForbidden, parley.ReasonNotMember, "this device is not a member of the conversation")
		}
		return parley.Blob{}, nil, err
	}
	// Check and reserve atomically: the usage read and the blob record
	// that charges it happen under one lock.
	defer s.quota.lock(dev.User)()
	used, err := s.cfg.Store.MediaUsage(ctx, dev.User)
	if err != nil {
		return parley.Blob{}, nil, err
	}
	if used+size > s.cfg.UserQuota {
		return parley.Blob{}, nil, parley.Errorf(parley.CodeTooLarge, ReasonQuotaExceeded,
			"media quota exceeded: %d of %d bytes used, %d more requested", used, s.cfg.UserQuota, size)
	}
	capability := make([]byte, 32)
	if _, err := rand.Read(capability); err != nil {
		return parley.Blob{}, nil, err
	}
	h := sha256.Sum256(capability)
	b := parley.Blob{
		ID: parley.NewBlobID(), Owner: dev.User, OwnerDevice: dev.ID, Size: size,
		CapabilityHash: h[:], Conversations: []parley.ConversationID{conv},
		CreatedAt: s.cfg.Clock.Now(),
	}
	if err := s.cfg.Store.CreateBlob(ctx, b); err != nil {
		return parley.Blob{}, nil, err
	}
	return b, capability, nil
}

// authorize checks the request's capability against the blob's.
func capabilityOK(r *http.Request, b parley.Blob) bool {
	raw := r.Header.Get(CapabilityHdr)
	var capability []byte
	var err error
	if raw != "" {
		capability, err = base64.StdEncoding.DecodeString(raw)
	} else if q := r.URL.Query().Get("cap"); q != "" {
		capability, err = base64.RawURLEncoding.DecodeString(strings.TrimRight(q, "="))
	}
	if err != nil || len(capability) == 0 {
		return false
	}
	h := sha256.Sum256(capability)
	return subtle.ConstantTimeCompare(h[:], b.CapabilityHash) == 1
}

// access loads the blob and checks capability and membership.
func (s *Service) access(r *http.Request, id parley.BlobID) (parley.Blob, parley.Device, error) {
	dev, err := s.cfg.Authenticate(r)
	if err != nil {
		return parley.Blob{}, dev, err
	}
	if !id.Valid() {
		return parley.Blob{}, dev, parley.ErrNotFound
	}
	b, err := s.cfg.Store.Blob(r.Context(), id)
	if err != nil {
		return b, dev, err
	}
	if !capabilityOK(r, b) {
		return b, dev, parley.ErrNotFound
	}
	return b, dev, nil
}

func (s *Service) memberOfAny(ctx context.Context, dev parley.Device, convs []parley.ConversationID) (bool, error) {
	for _, c := range convs {
		_, err := s.cfg.Members.Member(ctx, c, dev.ID)
		if err == nil {
			return true, nil
		}
		if !parley.IsCode(err, parley.CodeNotFound) {
			return false, err
		}
	}
	return false, nil
}

var errNotMember = parley.Errorf(parley.CodeForbidden, parley.ReasonNotMember, "this device is not a member of a conversation the file was shared in")

// serveLink links a blob to a conversation (forwarding) and records the
// envelope that references it.
func (s *Service) serveLink(w http.ResponseWriter, r *http.Request) {
	b, dev, err := s.access(r, parley.BlobID(r.PathValue("id")))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	var req struct {
		Conversation parley.ConversationID `json:"conversation"`
		Seq          parley.Seq            `json:"seq"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10)).Decode(&req); err != nil || !req.Conversation.Valid() || req.Seq < 0 {
		writeError(w, r, s.log, parley.Errorf(parley.CodeInvalid, ReasonBadRequest, "want {\"conversation\": ID, \"seq\": N}"))
		return
	}
	if _, err := s.cfg.Members.Member(r.Context(), req.Conversation, dev.ID); err != nil {
		if parley.IsCode(err, parley.CodeNotFound) {
			err = errNotMember
		}
		writeError(w, r, s.log, err)
		return
	}
	if req.Seq > 0 {
		err = s.cfg.Store.ReferenceBlob(r.Context(), b.ID, req.Conversation, req.Seq)
	} else {
		err = s.cfg.Store.LinkBlob(r.Context(), b.ID, req.Conversation)
	}
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// DeviceAuth adapts a device authenticator (accounts.Service.Authenticate)
// to the header "Authorization: Parley <device_id>:<base64 secret>".
func DeviceAuth(authenticate func(ctx context.Context, id parley.DeviceID, secret []byte) (parley.Device, error)) func(*http.Request) (parley.Device, error) {
	return func(r *http.Request) (parley.Device, error) {
		id, secret, err := ParseAuthorization(r.Header.Get("Authorization"))
		if err != nil {
			return parley.Device{}, err
		}
		return authenticate(r.Context(), id, secret)
	}
}

// ParseAuthorization parses "Parley <device_id>:<base64 secret>".
func ParseAuthorization(h string) (parley.DeviceID, []byte, error) {
	bad := parley.Errorf(parley.CodeUnauthenticated, parley.ReasonBadCredentials, "want Authorization: Parley <device_id>:<base64 secret>")
	rest, ok := strings.CutPrefix(h, "Parley ")
	if !ok {
		return 0, nil, bad
	}
	idText, secretText, ok := strings.Cut(strings.TrimSpace(rest), ":")
	id, err := strconv.ParseInt(strings.TrimPrefix(idText, "d"), 10, 64)
	if !ok || err != nil || id <= 0 {
		return 0, nil, bad
	}
	secret, err := base64.StdEncoding.DecodeString(secretText)
	if err != nil || len(secret) == 0 {
		return 0, nil, bad
	}
	return parley.DeviceID(id), secret, nil
}

func errorJSON(err error) (int, []byte) {
	b, _ := json.Marshal(httperr.Body{Code: parley.ErrorCode(err), Reason: parley.ErrorReason(err), Message: parley.ErrorMessage(err)})
	return httperr.StatusOf(err), append(b, '\n')
}

func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	if httperr.StatusOf(err) >= 500 {
		log.Error("media request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	httperr.Write(w, r, 0, err)
}

// tusError wraps err as a tusd error whose response is our JSON.
func tusError(err error) error {
	status, body := errorJSON(err)
	return tusd.Error{
		ErrorCode: strings.ToUpper(parley.ErrorReason(err)),
		Message:   parley.ErrorMessage(err),
		HTTPResponse: tusd.HTTPResponse{
			StatusCode: status,
			Body:       string(body),
			Header:     tusd.HTTPHeader{"Content-Type": "application/json"},
		},
	}
}
