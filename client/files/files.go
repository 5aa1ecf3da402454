// Package files is the client side of files and other media messages:
// describing a file (kind, dimensions, duration, thumbnail, waveform),
// uploading it encrypted and resumably, sending locations and contacts,
// forwarding, and downloading with verification (package attachment does
// the encryption and the transfers; docs/protocol.md §14 the descriptor in
// the message body).
//
// Files runs inside a client.Client, which embeds it: its methods are the
// Client's (c.SendFile, c.DownloadMedia, …). It reaches the client only
// through Core.
package files

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/attachment"
	"github.com/parleyhq/parley/content"
)

// Core is what Files needs of the client it runs in.
type Core interface {
	// Sync catches up with the server.
	Sync(ctx context.Context) error
	// ResolveChat resolves a person or chat reference to send to, creating
	// a direct chat when there is none; SendTarget also accepts a group
	// by name.
	ResolveChat(ctx context.Context, ref string) (parley.ConversationID, error)
	SendTarget(ctx context.Context, ref string) (parley.ConversationID, error)
	// Message returns the message "CHAT:SEQ" as stored on this device.
	Message(ctx context.Context, id string) (content.MessageRecord, error)
	// SendContent sends a message (text or media, no extension) to conv.
	SendContent(ctx context.Context, conv parley.ConversationID, m content.MessageRecord) (content.MessageRecord, error)
	// SendMedia sends a media message with d to conv (forwarded marks a
	// forward) and references its blob with the message's seq.
	SendMedia(ctx context.Context, conv parley.ConversationID, d attachment.Descriptor, forwarded bool) (content.MessageRecord, error)
	// Attachments returns the client of the media service.
	Attachments() (*attachment.Client, error)
	Logger() *slog.Logger
	// Dir is the profile directory ("" for none): unfinished uploads are
	// recorded under it.
	Dir() string
}

// Files is the file and media side of one client. Its zero value is not
// usable: New makes one.
type Files struct {
	core Core
}

// New returns the Files of the client core.
func New(core Core) *Files { return &Files{core: core} }

// SendFileOptions are the options of SendFile.
type SendFileOptions struct {
	// Voice sends the file as a voice note (duration and waveform for WAV,
	// duration for Ogg) instead of by its detected type.
	Voice bool
	// Caption is shown with the file.
	Caption string
	// Video, when set, is asked for the thumbnail, dimensions and
	// duration of a file that is a video (the Go core cannot decode video;
	// the CLI runs ffmpeg). What it cannot tell (an error) is left out:
	// the video is sent without it.
	Video func(ctx context.Context, path string) (VideoInfo, error)
}

// VideoInfo is what SendFileOptions.Video tells of a video.
type VideoInfo struct {
	Thumbnail     []byte // a JPEG of at most MaxSenderThumbnail bytes
	Width, Height int    // of the thumbnail, in pixels
	Duration      time.Duration
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
func (fl *Files) SendFile(ctx context.Context, to, path string, opt SendFileOptions) (content.MessageRecord, error) {
	if err := fl.core.Sync(ctx); err != nil {
		return content.MessageRecord{}, err
	}
	conv, err := fl.core.ResolveChat(ctx, to)
	if err != nil {
		return content.MessageRecord{}, err
	}
	ac, err := fl.core.Attachments()
	if err != nil {
		return content.MessageRecord{}, err
	}
	d, err := fl.uploadFile(ctx, ac, conv, path, opt)
	if err != nil {
		return content.MessageRecord{}, err
	}
	return fl.core.SendMedia(ctx, conv, d, false)
}

// Upload describes, encrypts and uploads the file at path for conv
// without sending it, and returns its descriptor (package broadcast
// uploads once and sends the descriptor in many chats).
func (fl *Files) Upload(ctx context.Context, conv parley.ConversationID, path string, opt SendFileOptions) (attachment.Descriptor, error) {
	ac, err := fl.core.Attachments()
	if err != nil {
		return attachment.Descriptor{}, err
	}
	return fl.uploadFile(ctx, ac, conv, path, opt)
}

// Link lets the members of conv fetch the blob of d, an upload of this
// user's or a received file (package broadcast sends one upload in many
// chats, as Forward does).
func (fl *Files) Link(ctx context.Context, d attachment.Descriptor, conv parley.ConversationID) error {
	ac, err := fl.core.Attachments()
	if err != nil {
		return err
	}
	return ac.Link(ctx, d, conv, 0)
}

// uploadFile describes and uploads the file at path for conv, resuming an
// upload of the same file that an earlier SendFile left unfinished, and
// recording this one if it does not finish.
func (fl *Files) uploadFile(ctx context.Context, ac *attachment.Client, conv parley.ConversationID, path string, opt SendFileOptions) (attachment.Descriptor, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return attachment.Descriptor{}, err
	}
	f, err := os.Open(abs)
	if err != nil {
		return attachment.Descriptor{}, parley.Errorf(parley.CodeInvalid, ReasonNoFile, "%s: %v", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return attachment.Descriptor{}, err
	}
	if st.IsDir() {
		return attachment.Descriptor{}, parley.Errorf(parley.CodeInvalid, attachment.ReasonNotAFile, "%s is a directory", path)
	}
	mo := SendMediaOptions{Caption: opt.Caption}
	if opt.Voice {
		mo.Kind = content.KindVoice
	}
	d, err := describeMedia(f, st.Size(), filepath.Base(abs), mo)
	if err != nil {
		return d, err
	}
	if d.Kind == attachment.KindVideo && opt.Video != nil {
		if v, verr := opt.Video(ctx, abs); verr != nil {
			fl.core.Logger().Info("video sent without a thumbnail", "file", abs, "err", verr)
		} else {
			mo.Thumbnail, mo.Width, mo.Height, mo.Duration = v.Thumbnail, v.Width, v.Height, v.Duration
			if d, err = describeMedia(f, st.Size(), filepath.Base(abs), mo); err != nil {
				return d, err
			}
		}
	}
	state := UploadStatePath(fl.core.Dir(), conv, abs, st.Size(), st.ModTime().UnixNano(), opt.Voice)
	p, resumed := loadPendingUpload(state)
	if resumed {
		d.Blob, d.Capability, d.Key = p.Blob, p.Capability, p.Key
	}
	err = ac.Upload(ctx, conv, f, &d)
	if err != nil && resumed && parley.IsCode(err, parley.CodeNotFound) {
		// The server no longer has that upload (swept, or staged on
		// another node): start over.
		fl.core.Logger().Info("cannot resume upload; starting over", "blob", d.Blob, "err", err)
		d.Blob, d.Capability, d.Key = "", nil, nil
		err = ac.Upload(ctx, conv, f, &d)
	}
	if err != nil {
		if serr := SavePendingUpload(state, d); serr != nil {
			fl.core.Logger().Warn("record unfinished upload", "err", serr)
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
func (fl *Files) SendLocation(ctx context.Context, to string, lat, lon float64, name string) (content.MessageRecord, error) {
	d, err := attachment.NewLocation(lat, lon, name)
	if err != nil {
		return content.MessageRecord{}, err
	}
	return fl.sendTo(ctx, to, d)
}

// SendContact sends a contact card (a vCard, e.g. from attachment.VCard)
// to a person or chat.
func (fl *Files) SendContact(ctx context.Context, to, vcard string) (content.MessageRecord, error) {
	d, err := attachment.NewContact(vcard)
	if err != nil {
		return content.MessageRecord{}, err
	}
	return fl.sendTo(ctx, to, d)
}

func (fl *Files) sendTo(ctx context.Context, to string, d attachment.Descriptor) (content.MessageRecord, error) {
	if err := fl.core.Sync(ctx); err != nil {
		return content.MessageRecord{}, err
	}
	conv, err := fl.core.ResolveChat(ctx, to)
	if err != nil {
		return content.MessageRecord{}, err
	}
	return fl.core.SendMedia(ctx, conv, d, false)
}

// Forward sends the message with ID messageID (text or media) to a person
// or chat, marked as forwarded. A file is not uploaded again: the stored
// ciphertext is linked to the target chat (so its members may fetch it)
// and the same descriptor — key, capability, digests — is sent.
func (fl *Files) Forward(ctx context.Context, messageID, to string) (content.MessageRecord, error) {
	m, err := fl.core.Message(ctx, messageID)
	if err != nil {
		return content.MessageRecord{}, err
	}
	if m.Kind != content.KindText && m.Media == nil {
		return content.MessageRecord{}, parley.Errorf(parley.CodeInvalid, ReasonNotForwardable, "message %s (%s) cannot be forwarded", messageID, m.Kind)
	}
	if err := fl.core.Sync(ctx); err != nil {
		return content.MessageRecord{}, err
	}
	conv, err := fl.core.ResolveChat(ctx, to)
	if err != nil {
		return content.MessageRecord{}, err
	}
	if m.Media == nil {
		return fl.core.SendContent(ctx, conv, content.MessageRecord{Kind: m.Kind, Text: m.Text, Forwarded: true})
	}
	d := *m.Media
	if d.HasBlob() {
		ac, err := fl.core.Attachments()
		if err != nil {
			return content.MessageRecord{}, err
		}
		if err := ac.Link(ctx, d, conv, 0); err != nil {
			return content.MessageRecord{}, err
		}
	}
	return fl.core.SendMedia(ctx, conv, d, true)
}

// DownloadMedia fetches the file of the media message messageID, decrypts
// it and writes the plaintext to w. Every chunk is authenticated before it
// is written and the whole file's digests are checked at the end: on an
// error, discard what was written (DownloadMediaFile does).
func (fl *Files) DownloadMedia(ctx context.Context, messageID string, w io.Writer) (content.MessageRecord, error) {
	m, ac, err := fl.mediaMessage(ctx, messageID)
	if err != nil {
		return m, err
	}
	return m, ac.Download(ctx, *m.Media, w)
}

// DownloadMediaFile is DownloadMedia into the file at path, which appears
// only once the download verified. An empty path means the sender's file
// name in the current directory.
func (fl *Files) DownloadMediaFile(ctx context.Context, messageID, path string) (content.MessageRecord, string, error) {
	m, ac, err := fl.mediaMessage(ctx, messageID)
	if err != nil {
		return m, "", err
	}
	if path == "" {
		path = SafeFileName(m.Media.FileName, m)
	}
	return m, path, ac.DownloadFile(ctx, *m.Media, path)
}

func (fl *Files) mediaMessage(ctx context.Context, messageID string) (content.MessageRecord, *attachment.Client, error) {
	m, err := fl.core.Message(ctx, messageID)
	if err != nil {
		return m, nil, err
	}
	if m.Media == nil || !m.Media.HasBlob() {
		return m, nil, parley.Errorf(parley.CodeInvalid, ReasonNoFile, "message %s (%s) has no file", messageID, m.Kind)
	}
	ac, err := fl.core.Attachments()
	return m, ac, err
}

// SafeFileName is a local file name for a received file: the sender's
// base name without directory parts, or one made from the message ID.
func SafeFileName(name string, m content.MessageRecord) string {
	name = strings.TrimSpace(name)
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	if name == "" || name == "." || name == ".." || strings.HasPrefix(name, ".") {
		name = fmt.Sprintf("%s-%s-%d", m.Kind, m.Conversation, m.Seq)
	}
	return name
}

// SendFileTo encrypts and uploads the file at path and sends it to the chat
// conv without catching up first. Errors as SendFile.
func (fl *Files) SendFileTo(ctx context.Context, conv parley.ConversationID, path string, opt SendFileOptions) (content.MessageRecord, error) {
	ac, err := fl.core.Attachments()
	if err != nil {
		return content.MessageRecord{}, err
	}
	d, err := fl.uploadFile(ctx, ac, conv, path, opt)
	if err != nil {
		return content.MessageRecord{}, err
	}
	return fl.core.SendMedia(ctx, conv, d, false)
}
