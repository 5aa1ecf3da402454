package client

import (
	"os"
	"path/filepath"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/attachment"
)

// PendingUploadPath exposes the record SendFile keeps of an unfinished
// upload of path (not a voice note) to conv.
func PendingUploadPath(c *Client, conv parley.ConversationID, path string) string {
	abs, _ := filepath.Abs(path)
	st, err := os.Stat(abs)
	if err != nil {
		return ""
	}
	return c.uploadStatePath(conv, abs, st.Size(), st.ModTime().UnixNano(), false)
}

// SavePendingUpload records d as an unfinished upload.
func SavePendingUpload(path string, d attachment.Descriptor) error { return savePendingUpload(path, d) }
