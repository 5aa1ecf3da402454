package files

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/attachment"
)

// pendingUpload records a file upload that did not finish (network gone
// for good, timeout, interrupted command), so sending the same unchanged
// file to the same chat again resumes it from the server's offset — even
// from another process — instead of uploading it from the start. It holds
// the file key and the capability, so it lives in the profile directory
// with the same protection as the local store, and is deleted once the
// upload completes.
type pendingUpload struct {
	Blob       parley.BlobID `json:"blob"`
	Capability []byte        `json:"cap"`
	Key        []byte        `json:"key"`
}

// UploadStatePath names, under the profile directory dir, the
// pending-upload record of a file (by absolute path, size and modification
// time) sent to conv; "" when there is no profile directory.
func UploadStatePath(dir string, conv parley.ConversationID, abs string, size, mtime int64, voice bool) string {
	if dir == "" {
		return ""
	}
	h := sha256.Sum256(fmt.Appendf(nil, "%s\x00%s\x00%d\x00%d\x00%t", conv, abs, size, mtime, voice))
	return filepath.Join(dir, "uploads", hex.EncodeToString(h[:16])+".json")
}

func loadPendingUpload(path string) (pendingUpload, bool) {
	var p pendingUpload
	if path == "" {
		return p, false
	}
	data, err := os.ReadFile(path)
	if err != nil || json.Unmarshal(data, &p) != nil || !p.Blob.Valid() || len(p.Key) != attachment.KeySize || len(p.Capability) == 0 {
		return pendingUpload{}, false
	}
	return p, true
}

// SavePendingUpload records d, an unfinished upload, at path (a name
// from UploadStatePath); an empty path records nothing.
func SavePendingUpload(path string, d attachment.Descriptor) error {
	if path == "" || !d.Blob.Valid() {
		return nil
	}
	data, _ := json.Marshal(pendingUpload{Blob: d.Blob, Capability: d.Capability, Key: d.Key})
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
