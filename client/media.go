package client

import (
	"context"
	"log/slog"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/apiclient"
	"github.com/parleyhq/parley/attachment"
	"github.com/parleyhq/parley/client/broadcast"
	"github.com/parleyhq/parley/client/files"
)

// Message returns a message stored on this device by its ID. CodeNotFound
// if this device has no such message.
func (c *Client) Message(ctx context.Context, id string) (MessageRecord, error) {
	conv, seq, err := ParseMessageID(id)
	if err != nil {
		return MessageRecord{}, err
	}
	m, err := c.store.Message(ctx, conv, seq)
	if parley.IsCode(err, parley.CodeNotFound) {
		return m, err
	}
	if err == nil {
		ms := []MessageRecord{m}
		err = c.businessOf(ctx, ms) // business.go
		m = ms[0]
	}
	return m, storeErr(err)
}

// sendMedia sends a media message with descriptor d to conv and references
// its blob with the message's seq.
func (c *Client) sendMedia(ctx context.Context, conv parley.ConversationID, d attachment.Descriptor, forwarded bool) (MessageRecord, error) {
	rec, err := c.sendContent(ctx, conv, MessageRecord{Kind: string(d.Kind), Text: d.Caption, Media: &d, Forwarded: forwarded})
	if err != nil {
		return rec, err
	}
	c.referenceBlob(ctx, rec)
	return rec, nil
}

// referenceBlob tells the media service that envelope rec.Seq references
// the message's blob, so the sweeper keeps the blob until it is delivered.
// Best effort: the message is sent; without the reference the blob is only
// kept for the retention period.
func (c *Client) referenceBlob(ctx context.Context, rec MessageRecord) {
	if rec.Media == nil || !rec.Media.HasBlob() || rec.Seq <= 0 {
		return
	}
	ac, err := c.attachments()
	if err == nil {
		err = ac.Link(ctx, *rec.Media, rec.Conversation, rec.Seq)
	}
	if err != nil {
		c.log.Warn("reference attachment", "message", rec.ID(), "blob", rec.Media.Blob, "err", err)
	}
}

// attachments returns the media client for this device: the server's HTTP
// base URL (from the profile's server URL) and the device's credentials.
func (c *Client) attachments() (*attachment.Client, error) {
	acct := c.Account()
	if !acct.Registered() {
		return nil, parley.Errorf(parley.CodeUnauthenticated, apiclient.ReasonNotRegistered, "this profile is not registered")
	}
	base, err := apiclient.BaseURL(acct.ServerURL)
	if err != nil {
		return nil, err
	}
	return &attachment.Client{BaseURL: base, Device: acct.Device, Secret: acct.Secret, ChunkSize: c.cfg.UploadChunk, HTTP: attachmentHTTP}, nil
}

// Types and functions of files and media messages: see package files.
type (
	SendFileOptions  = files.SendFileOptions
	SendMediaOptions = files.SendMediaOptions
)

// MaxSenderThumbnail is the largest thumbnail SendMediaOptions accepts.
const MaxSenderThumbnail = files.MaxSenderThumbnail

// ReasonBadWaveform (CodeInvalid): SendMediaOptions.Waveform is longer
// than attachment.WaveformBars.
const ReasonBadWaveform = files.ReasonBadWaveform

// SafeFileName is a local file name for a received file (files.SafeFileName).
func SafeFileName(name string, m MessageRecord) string { return files.SafeFileName(name, m) }

// filesCore is the Client as package files sees it (files.Core).
type filesCore struct{ *Client }

func (f filesCore) ResolveChat(ctx context.Context, ref string) (parley.ConversationID, error) {
	return f.resolveChat(ctx, ref, true)
}
func (f filesCore) SendTarget(ctx context.Context, ref string) (parley.ConversationID, error) {
	return f.sendTarget(ctx, ref)
}
func (f filesCore) SendContent(ctx context.Context, conv parley.ConversationID, m MessageRecord) (MessageRecord, error) {
	return f.sendContent(ctx, conv, m)
}
func (f filesCore) SendMedia(ctx context.Context, conv parley.ConversationID, d attachment.Descriptor, forwarded bool) (MessageRecord, error) {
	return f.sendMedia(ctx, conv, d, forwarded)
}
func (f filesCore) Attachments() (*attachment.Client, error) { return f.attachments() }
func (f filesCore) Logger() *slog.Logger                     { return f.log }
func (f filesCore) Dir() string                              { return f.cfg.Dir }

// broadcastCore is the Client as package broadcast sees it (broadcast.Core).
type broadcastCore struct{ bizCore }

func (b broadcastCore) DirectChat(ctx context.Context, ct Contact) (parley.ConversationID, error) {
	return b.directWith(ctx, ct, true)
}
func (b broadcastCore) SendCopy(ctx context.Context, conv parley.ConversationID, m MessageRecord) (MessageRecord, error) {
	rec, err := b.sendAs(ctx, conv, m, broadcast.CopyID())
	if err == nil {
		b.referenceBlob(ctx, rec) // seq 0 (withheld): nothing to reference
	}
	return rec, err
}
func (b broadcastCore) Me() parley.UserID { return b.Account().User }
