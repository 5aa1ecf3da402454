package parley

import (
	"context"
	"io"
	"time"
)

// BlobID identifies a stored media blob: the ciphertext of one attachment.
// The server assigns it when an upload is created ("b" followed by 26 base32
// characters: 128 random bits).
type BlobID string

// NewBlobID returns a fresh random blob ID.
func NewBlobID() BlobID {
	return BlobID(randomID("b"))
}

// Valid reports whether id has the shape NewBlobID produces: "b" followed by
// 8 to 64 characters from [a-z0-9]. Valid IDs are safe as file names and
// object keys.
func (id BlobID) Valid() bool {
	return validID(string(id), 'b', "")
}

// BlobInfo describes a stored blob.
type BlobInfo struct {
	ID   BlobID
	Size int64
}

// BlobStore keeps immutable blobs of opaque bytes (media ciphertext).
// Implementations (blob/disk, blob/s3) pass the contract suite in
// blob/blobtest.
//
// Guarantees every implementation gives:
//   - Put is atomic: a reader sees either no blob or the whole blob, never
//     a partial one; a Put that returned nil is durable.
//   - Memory use does not grow with the blob size: bytes are streamed.
//   - Get, Stat and Delete of a missing blob return CodeNotFound; Delete of
//     a missing blob is not an error for callers that ignore CodeNotFound.
//   - Blobs are immutable: Put of an existing ID replaces it whole, but the
//     media service never does that.
type BlobStore interface {
	// Put stores exactly size bytes read from r under id. If r yields fewer
	// or more bytes, Put fails with CodeInvalid and stores nothing.
	Put(ctx context.Context, id BlobID, r io.Reader, size int64) error
	// Get returns a reader of length bytes starting at offset; length < 0
	// means "to the end". An offset past the end returns CodeInvalid with
	// reason "bad_range". The caller closes the reader.
	Get(ctx context.Context, id BlobID, offset, length int64) (io.ReadCloser, error)
	Stat(ctx context.Context, id BlobID) (BlobInfo, error)
	Delete(ctx context.Context, id BlobID) error
}

// BlobFileImporter is implemented by blob stores that can take over a
// complete local file more cheaply than Put (blob/disk renames it). The media
// service stages resumable uploads in local files and, when an upload
// completes, imports the file if the store supports it and Puts it
// otherwise. ImportFile consumes path: after it returns nil the file is gone.
type BlobFileImporter interface {
	ImportFile(ctx context.Context, id BlobID, path string, size int64) error
}

// Blob is the server's record of a media blob: who uploaded it, how large it
// is, which conversations may fetch it and whether the upload is complete.
// The server never holds the key: only the SHA-256 of the download capability
// the uploader put in its (end-to-end encrypted) message.
type Blob struct {
	ID             BlobID
	Owner          UserID   // the uploading user, charged for the quota
	OwnerDevice    DeviceID // the uploading device: the only one that may append
	Size           int64    // the ciphertext size declared at creation
	CapabilityHash []byte   // SHA-256 of the download capability
	// Conversations whose member devices may fetch the blob (with the
	// capability): the one it was uploaded for and those it was forwarded to.
	Conversations []ConversationID
	CreatedAt     time.Time
	CompletedAt   time.Time // zero while the upload is in progress
}

// Complete reports whether every byte of the blob has been uploaded.
func (b Blob) Complete() bool { return !b.CompletedAt.IsZero() }

// BlobSweep selects the blobs MediaStore.SweepableBlobs returns.
type BlobSweep struct {
	// Before: complete blobs created before this time are sweepable once no
	// undelivered envelope references them (a referencing envelope is
	// undelivered while some member device's cursor is below its Seq).
	Before time.Time
	// Expired: complete blobs created before this time are sweepable even if
	// a referencing envelope is undelivered (the log's retention: such an
	// envelope has been pruned, or its device has been away too long).
	Expired time.Time
	// Abandoned: incomplete uploads created before this time are sweepable.
	Abandoned time.Time
	Limit     int // at most this many (0: 100)
}

// MediaStore keeps the media blob records. store/sqlite and store/postgres
// implement it beside parley.Store, on the same database, so the sweeper can
// see conversation cursors. The guarantees of Store (atomic, durable,
// CodeNotFound for missing records) hold.
type MediaStore interface {
	// CreateBlob stores b and links it to b.Conversations. An existing ID
	// returns CodeConflict.
	CreateBlob(ctx context.Context, b Blob) error
	// Blob returns the record with its linked conversations.
	Blob(ctx context.Context, id BlobID) (Blob, error)
	// CompleteBlob marks the upload complete at the given time (idempotent).
	CompleteBlob(ctx context.Context, id BlobID, at time.Time) error
	// LinkBlob lets the members of conv fetch the blob (forwarding without
	// re-upload). Linking twice is a no-op.
	LinkBlob(ctx context.Context, id BlobID, conv ConversationID) error
	// ReferenceBlob records that the envelope seq of conv references the
	// blob (linking it to conv if needed). The blob is kept while any such
	// envelope is undelivered. Idempotent.
	ReferenceBlob(ctx context.Context, id BlobID, conv ConversationID, seq Seq) error
	// SweepableBlobs lists blobs that may be deleted under the given policy,
	// oldest first.
	SweepableBlobs(ctx context.Context, sw BlobSweep) ([]BlobID, error)
	// DeleteBlob deletes the record, its links and references.
	DeleteBlob(ctx context.Context, id BlobID) error
	// MediaUsage returns the total size of the user's blobs, complete or
	// not, for quotas.
	MediaUsage(ctx context.Context, user UserID) (int64, error)
}
