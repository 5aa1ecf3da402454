package client

import (
	"os"
	"path/filepath"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/attachment"
	"github.com/parleyhq/parley/client/files"
	"github.com/parleyhq/parley/proto/parleypb"
)

// PendingUploadPath exposes the record SendFile keeps of an unfinished
// upload of path (not a voice note) to conv.
func PendingUploadPath(c *Client, conv parley.ConversationID, path string) string {
	abs, _ := filepath.Abs(path)
	st, err := os.Stat(abs)
	if err != nil {
		return ""
	}
	return files.UploadStatePath(c.cfg.Dir, conv, abs, st.Size(), st.ModTime().UnixNano(), false)
}

// SavePendingUpload records d as an unfinished upload.
func SavePendingUpload(path string, d attachment.Descriptor) error {
	return files.SavePendingUpload(path, d)
}

// GroupState returns the stored MLS state of conv.
func GroupState(c *Client, conv parley.ConversationID) ([]byte, error) {
	c.cryptoMu.Lock()
	defer c.cryptoMu.Unlock()
	return c.store.Group(c.ctx, conv)
}

// BreakGroup replaces the stored MLS state of conv by state (an older one),
// as a device whose state broke would have.
func BreakGroup(c *Client, conv parley.ConversationID, state []byte, epoch parley.Epoch) error {
	c.cryptoMu.Lock()
	defer c.cryptoMu.Unlock()
	c.forgetGroup(conv)
	return c.store.Apply(c.ctx, Applied{Conversation: conv, Group: state, Epoch: epoch})
}

// RawCommit sends a resync commit request with a dummy commit (the server
// checks the request before anything else): internal reports whether to
// leave External unset.
func RawCommit(c *Client, conv parley.ConversationID, internal bool) (*parleypb.ServerFrame, error) {
	return c.request(c.ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_Commit{Commit: &parleypb.CommitRequest{
		ConversationId: string(conv), Epoch: 1, Commit: []byte("c"), GroupInfo: []byte("g"), External: !internal, Resync: true,
		ClientId: string(parley.NewClientMessageID())}}}, false)
}

// JoinAsIfMissing runs the join pass of a linked device with a stale list
// that says it is not yet in conv (as a racing second pass would have).
func JoinAsIfMissing(c *Client, conv parley.ConversationID, kind parley.ConversationKind) error {
	skipped, err := c.joinListed(c.ctx, []*parleypb.ConversationInfo{{Id: string(conv), Kind: string(kind), Joined: false}})
	if err == nil && len(skipped) > 0 {
		err = skipped[0].Err
	}
	return err
}

// SendCommit sends a commit request as it is, as a modified client would.
func SendCommit(c *Client, req *parleypb.CommitRequest) (*parleypb.ServerFrame, error) {
	return c.request(c.ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_Commit{Commit: req}}, false)
}

// ClaimFor claims KeyPackages of every device of user (as a commit adding
// them would): their bytes and the devices they belong to.
func ClaimFor(c *Client, user parley.UserID) ([][]byte, []*parleypb.AddedDevice, error) {
	cl, err := c.claim(c.ctx, []parley.UserID{user})
	return cl.adds, cl.members, err
}

// ApplyEnvelope processes env in c as if the server had delivered it,
// returning what processing it returned.
func ApplyEnvelope(c *Client, env *parleypb.Envelope) error {
	c.cryptoMu.Lock()
	defer c.cryptoMu.Unlock()
	return c.applyEnvelope(c.ctx, env)
}

// SendRaw sends an envelope of any kind with payload as it is.
func SendRaw(c *Client, conv parley.ConversationID, kind parley.EnvelopeKind, epoch parley.Epoch, payload []byte) error {
	_, err := c.request(c.ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_Send{Send: &parleypb.SendRequest{
		ConversationId: string(conv), ClientId: string(parley.NewClientMessageID()), Kind: uint32(kind),
		Epoch: uint64(epoch), Payload: payload}}}, false)
	return err
}
