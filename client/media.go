package client

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/apiclient"
	"github.com/parleyhq/parley/attachment"
)

// A message ID names one message on every device of every member:
// "<conversation id>:<seq>", the server-assigned sequence number in the
// conversation's log (known once the message is sent). MessageRecord.ID
// formats it; ParseMessageID parses it.

// ID returns the message's ID, "<conversation>:<seq>" ("" while pending).
func (m MessageRecord) ID() string {
	if m.Seq <= 0 {
		return ""
	}
	return FormatMessageID(m.Conversation, m.Seq)
}

// FormatMessageID formats a message ID.
func FormatMessageID(conv parley.ConversationID, seq parley.Seq) string {
	return string(conv) + ":" + strconv.FormatInt(int64(seq), 10)
}

// ParseMessageID parses "<conversation>:<seq>".
func ParseMessageID(id string) (parley.ConversationID, parley.Seq, error) {
	c, s, ok := strings.Cut(id, ":")
	seq, err := strconv.ParseInt(s, 10, 64)
	if !ok || err != nil || seq <= 0 || !parley.ConversationID(c).Valid() {
		return "", 0, parley.Errorf(parley.CodeInvalid, "bad_message_id", "message ID %q: want CHAT:SEQ", id)
	}
	return parley.ConversationID(c), parley.Seq(seq), nil
}

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

// SendFileOptions are the options of SendFile.
type SendFileOptions struct {
	// Voice sends the file as a voice note (duration and waveform for WAV,
	// duration for Ogg) instead of by its detected type.
	Voice bool
	// Caption is shown with the file.
	Caption string
}

// SendFile sends the file at path to a person or chat (as Send): it
// describes the file (kind by content: image with dimensions and
// thumbnail, video with duration, document with file name and page count;
// or a voice note), encrypts it under a fresh key while uploading only the
// ciphertext to the server's media service (resumable), then sends the
// descriptor — blob, capability, key, digests, size, type, thumbnail —
// inside the MLS-encrypted message, and finally records at the server that
// the message references the blob so it is kept until delivered.
//
// The upload resumes by itself after network failures. If it still does
// not finish (the network stays down, ctx ends, the process is
// interrupted), the upload is recorded in the profile and calling SendFile
// again with the same unchanged file and chat resumes it from the server's
// offset instead of starting over.
//
// Errors: as Send; CodeTooLarge with reason "file_too_large" (over 2 GiB or
// the server's limit) or "quota_exceeded"; CodeInvalid "not_a_file" or
// "no_file".
func (c *Client) SendFile(ctx context.Context, to, path string, opt SendFileOptions) (MessageRecord, error) {
	if err := c.Sync(ctx); err != nil {
		return MessageRecord{}, err
	}
	conv, err := c.resolveChat(ctx, to, true)
	if err != nil {
		return MessageRecord{}, err
	}
	ac, err := c.attachments()
	if err != nil {
		return MessageRecord{}, err
	}
	d, err := c.uploadFile(ctx, ac, conv, path, opt)
	if err != nil {
		return MessageRecord{}, err
	}
	return c.sendMedia(ctx, conv, d, false)
}

// uploadFile describes and uploads the file at path for conv, resuming an
// upload of the same file that an earlier SendFile left unfinished, and
// recording this one if it does not finish.
func (c *Client) uploadFile(ctx context.Context, ac *attachment.Client, conv parley.ConversationID, path string, opt SendFileOptions) (attachment.Descriptor, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return attachment.Descriptor{}, err
	}
	f, err := os.Open(abs)
	if err != nil {
		return attachment.Descriptor{}, parley.Errorf(parley.CodeInvalid, "no_file", "%s: %v", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return attachment.Descriptor{}, err
	}
	if st.IsDir() {
		return attachment.Descriptor{}, parley.Errorf(parley.CodeInvalid, "not_a_file", "%s is a directory", path)
	}
	mo := SendMediaOptions{Caption: opt.Caption}
	if opt.Voice {
		mo.Kind = KindVoice
	}
	d, err := describeMedia(f, st.Size(), filepath.Base(abs), mo)
	if err != nil {
		return d, err
	}
	state := c.uploadStatePath(conv, abs, st.Size(), st.ModTime().UnixNano(), opt.Voice)
	p, resumed := loadPendingUpload(state)
	if resumed {
		d.Blob, d.Capability, d.Key = p.Blob, p.Capability, p.Key
	}
	err = ac.Upload(ctx, conv, f, &d)
	if err != nil && resumed && parley.IsCode(err, parley.CodeNotFound) {
		// The server no longer has that upload (swept, or staged on
		// another node): start over.
		c.log.Info("cannot resume upload; starting over", "blob", d.Blob, "err", err)
		d.Blob, d.Capability, d.Key = "", nil, nil
		err = ac.Upload(ctx, conv, f, &d)
	}
	if err != nil {
		if serr := savePendingUpload(state, d); serr != nil {
			c.log.Warn("record unfinished upload", "err", serr)
		}
		return d, err
	}
	if state != "" {
		_ = os.Remove(state)
	}
	return d, nil
}

// SendLocation sends a location (WGS 84 coordinates and an optional place
// name) to a person or chat.
func (c *Client) SendLocation(ctx context.Context, to string, lat, lon float64, name string) (MessageRecord, error) {
	d, err := attachment.NewLocation(lat, lon, name)
	if err != nil {
		return MessageRecord{}, err
	}
	return c.sendTo(ctx, to, d)
}

// SendContact sends a contact card (a vCard, e.g. from attachment.VCard)
// to a person or chat.
func (c *Client) SendContact(ctx context.Context, to, vcard string) (MessageRecord, error) {
	d, err := attachment.NewContact(vcard)
	if err != nil {
		return MessageRecord{}, err
	}
	return c.sendTo(ctx, to, d)
}

func (c *Client) sendTo(ctx context.Context, to string, d attachment.Descriptor) (MessageRecord, error) {
	if err := c.Sync(ctx); err != nil {
		return MessageRecord{}, err
	}
	conv, err := c.resolveChat(ctx, to, true)
	if err != nil {
		return MessageRecord{}, err
	}
	return c.sendMedia(ctx, conv, d, false)
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

// Forward sends the message with ID messageID (text or media) to a person
// or chat, marked as forwarded. A file is not uploaded again: the stored
// ciphertext is linked to the target chat (so its members may fetch it)
// and the same descriptor — key, capability, digests — is sent.
func (c *Client) Forward(ctx context.Context, messageID, to string) (MessageRecord, error) {
	m, err := c.Message(ctx, messageID)
	if err != nil {
		return MessageRecord{}, err
	}
	if m.Kind != KindText && m.Media == nil {
		return MessageRecord{}, parley.Errorf(parley.CodeInvalid, "not_forwardable", "message %s (%s) cannot be forwarded", messageID, m.Kind)
	}
	if err := c.Sync(ctx); err != nil {
		return MessageRecord{}, err
	}
	conv, err := c.resolveChat(ctx, to, true)
	if err != nil {
		return MessageRecord{}, err
	}
	if m.Media == nil {
		return c.sendContent(ctx, conv, MessageRecord{Kind: m.Kind, Text: m.Text, Forwarded: true})
	}
	d := *m.Media
	if d.HasBlob() {
		ac, err := c.attachments()
		if err != nil {
			return MessageRecord{}, err
		}
		if err := ac.Link(ctx, d, conv, 0); err != nil {
			return MessageRecord{}, err
		}
	}
	return c.sendMedia(ctx, conv, d, true)
}

// DownloadMedia fetches the file of the media message messageID, decrypts
// it and writes the plaintext to w. Every chunk is authenticated before it
// is written and the whole file's digests are checked at the end: on an
// error, discard what was written (DownloadMediaFile does).
func (c *Client) DownloadMedia(ctx context.Context, messageID string, w io.Writer) (MessageRecord, error) {
	m, ac, err := c.mediaMessage(ctx, messageID)
	if err != nil {
		return m, err
	}
	return m, ac.Download(ctx, *m.Media, w)
}

// DownloadMediaFile is DownloadMedia into the file at path, which appears
// only once the download verified. An empty path means the sender's file
// name in the current directory.
func (c *Client) DownloadMediaFile(ctx context.Context, messageID, path string) (MessageRecord, string, error) {
	m, ac, err := c.mediaMessage(ctx, messageID)
	if err != nil {
		return m, "", err
	}
	if path == "" {
		path = SafeFileName(m.Media.FileName, m)
	}
	return m, path, ac.DownloadFile(ctx, *m.Media, path)
}

func (c *Client) mediaMessage(ctx context.Context, messageID string) (MessageRecord, *attachment.Client, error) {
	m, err := c.Message(ctx, messageID)
	if err != nil {
		return m, nil, err
	}
	if m.Media == nil || !m.Media.HasBlob() {
		return m, nil, parley.Errorf(parley.CodeInvalid, "no_file", "message %s (%s) has no file", messageID, m.Kind)
	}
	ac, err := c.attachments()
	return m, ac, err
}

// SafeFileName is a local file name for a received file: the sender's
// base name without directory parts, or one made from the message ID.
func SafeFileName(name string, m MessageRecord) string {
	name = strings.TrimSpace(name)
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	if name == "" || name == "." || name == ".." || strings.HasPrefix(name, ".") {
		name = fmt.Sprintf("%s-%s-%d", m.Kind, m.Conversation, m.Seq)
	}
	return name
}

// attachments returns the media client for this device: the server's HTTP
// base URL (from the profile's server URL) and the device's credentials.
func (c *Client) attachments() (*attachment.Client, error) {
	acct := c.Account()
	if !acct.Registered() {
		return nil, parley.Errorf(parley.CodeUnauthenticated, "not_registered", "this profile is not registered")
	}
	base, err := apiclient.BaseURL(acct.ServerURL)
	if err != nil {
		return nil, err
	}
	return &attachment.Client{BaseURL: base, Device: acct.Device, Secret: acct.Secret, ChunkSize: c.cfg.UploadChunk, HTTP: attachmentHTTP}, nil
}
