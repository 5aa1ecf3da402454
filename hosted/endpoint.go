package hosted

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/attachment"
	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/cloudapi"
	"github.com/parleyhq/parley/outbound"
)

// endpoint is one business's hosted client.
type endpoint struct {
	m        *Manager
	business parley.UserID
	c        *client.Client
	dir      string
	kept     *stateKV // the state in the server's store (nil: in dir's files)

	mu      sync.Mutex
	chats   map[parley.UserID]parley.ConversationID // customer → direct chat
	peers   map[parley.ConversationID]parley.UserID // direct chat → customer (0: not a direct chat)
	handled map[parley.ConversationID]parley.Seq    // the last customer message the API took, per chat (handled.go)

	opened    time.Time   // when this run of the endpoint opened its client
	sends     sendTracker // status.go
	typers    typingState // typing.go
	recovered chan bool   // the loop's sent-status recovery finished (true: it succeeded)
	stop      func()      // ends the endpoint's goroutines (set by Manager.run)
}

func (ep *endpoint) mediaPath(id string) string {
	return filepath.Join(ep.dir, "media", filepath.Base(id))
}

// index loads the endpoint's direct chats (once, at start).
func (ep *endpoint) index(ctx context.Context) error {
	chats, err := ep.c.Chats(ctx)
	if err != nil {
		return err
	}
	ep.mu.Lock()
	defer ep.mu.Unlock()
	for _, ch := range chats {
		if ch.Kind == parley.KindDirect && ch.Peer != ep.business && ch.Peer != 0 {
			ep.chats[ch.Peer] = ch.ID
			ep.peers[ch.ID] = ch.Peer
		}
	}
	return nil
}

// chatWith returns the direct chat with a customer, creating it if needed.
func (ep *endpoint) chatWith(ctx context.Context, customer parley.UserID, phone string) (parley.ConversationID, error) {
	ep.mu.Lock()
	conv, ok := ep.chats[customer]
	ep.mu.Unlock()
	if ok {
		return conv, nil
	}
	conv, err := ep.c.StartDirect(ctx, phone)
	if err != nil {
		return "", err
	}
	ep.mu.Lock()
	ep.chats[customer] = conv
	ep.peers[conv] = customer
	ep.mu.Unlock()
	return conv, nil
}

// peer returns the customer of a direct chat, 0 for other chats.
func (ep *endpoint) peer(ctx context.Context, conv parley.ConversationID) parley.UserID {
	ep.mu.Lock()
	p, ok := ep.peers[conv]
	ep.mu.Unlock()
	if ok {
		return p
	}
	ch, err := ep.c.Chat(ctx, string(conv))
	if err != nil {
		return 0
	}
	if ch.Kind == parley.KindDirect && ch.Peer != ep.business {
		p = ch.Peer
	}
	ep.mu.Lock()
	ep.peers[conv] = p
	if p != 0 {
		ep.chats[p] = conv
	}
	ep.mu.Unlock()
	return p
}

func (ep *endpoint) send(ctx context.Context, out cloudapi.Outgoing) (string, error) {
	conv, err := ep.chatWith(ctx, out.Customer, out.To)
	if err != nil {
		return "", err
	}
	var replyTo parley.Seq
	if out.ReplyTo != "" {
		c, seq, err := ParseMessageID(out.ReplyTo)
		if err != nil {
			return "", err
		}
		if c != conv {
			return "", parley.Errorf(parley.CodeInvalid, ReasonOtherChat, "context.message_id is a message of another chat")
		}
		replyTo = seq
	}
	var rec client.MessageRecord
	switch {
	case out.Text != "":
		rec, err = ep.c.SendTextTo(ctx, conv, out.Text, replyTo)
	case out.Business != nil:
		rec, err = ep.c.SendBusinessTo(ctx, conv, *out.Business, replyTo)
	case out.Location != nil:
		name := out.Location.Name
		if out.Location.Address != "" {
			name = strings.TrimSpace(name + ", " + out.Location.Address)
		}
		var d attachment.Descriptor
		if d, err = attachment.NewLocation(out.Location.Lat, out.Location.Lon, strings.Trim(name, ", ")); err == nil {
			rec, err = ep.c.SendDescriptorTo(ctx, conv, d)
		}
	case out.Contacts != "":
		var d attachment.Descriptor
		if d, err = attachment.NewContact(out.Contacts); err == nil {
			rec, err = ep.c.SendDescriptorTo(ctx, conv, d)
		}
	case out.Media != nil:
		rec, err = ep.sendMedia(ctx, conv, out.Media)
	case out.Reaction != nil:
		c, seq, perr := ParseMessageID(out.Reaction.MessageID)
		if perr != nil {
			return "", perr
		}
		if c != conv {
			return "", parley.Errorf(parley.CodeInvalid, ReasonOtherChat, "reaction.message_id is a message of another chat")
		}
		// The reaction is a message of its own: its own id and sent status.
		rseq, err := ep.c.ReactTo(ctx, conv, seq, out.Reaction.Emoji)
		if err != nil {
			return "", err
		}
		ep.typed(conv)
		return MessageID(conv, rseq), nil
	default:
		return "", parley.Errorf(parley.CodeInvalid, parley.ReasonEmptyMessage, "nothing to send")
	}
	if err != nil {
		return "", err
	}
	ep.typed(conv)
	return MessageID(conv, rec.Seq), nil
}

// sendMedia sends an uploaded file (decrypted to a temporary file named as
// the caller asked) or a file fetched from a link.
func (ep *endpoint) sendMedia(ctx context.Context, conv parley.ConversationID, om *cloudapi.OutMedia) (client.MessageRecord, error) {
	tmp, err := os.MkdirTemp(ep.dir, "send-")
	if err != nil {
		return client.MessageRecord{}, err
	}
	defer os.RemoveAll(tmp)
	name := filepath.Base(om.Filename)
	if name == "." || name == "/" || name == "" {
		name = om.Kind
	}
	path := filepath.Join(tmp, name)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o600)
	if err != nil {
		return client.MessageRecord{}, err
	}
	var src io.ReadCloser
	if om.ID != "" {
		src, err = openSealedFile(ep.m.cfg.Key, ep.mediaPath(om.ID), om.ID)
		if errors.Is(err, os.ErrNotExist) {
			err = parley.Errorf(parley.CodeInvalid, parley.ReasonNoMedia, "no media %s", om.ID)
		}
	} else {
		src, err = ep.fetch(ctx, om.Link)
	}
	if err == nil {
		_, err = io.Copy(f, io.LimitReader(src, ep.m.cfg.MaxLinkBytes+1))
		src.Close()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return client.MessageRecord{}, err
	}
	if fi, err := os.Stat(path); err == nil && fi.Size() > ep.m.cfg.MaxLinkBytes {
		return client.MessageRecord{}, parley.Errorf(parley.CodeTooLarge, ReasonMediaTooLarge, "the file is larger than %d bytes", ep.m.cfg.MaxLinkBytes)
	}
	return ep.c.SendFileTo(ctx, conv, path, client.SendFileOptions{Caption: om.Caption})
}

// ReasonMediaTooLarge refuses a file over Config.MaxLinkBytes.
const ReasonMediaTooLarge = "media_too_large"

// errLinkFailed is the one error of a media link that could not be
// fetched, whatever the cause (an address the outbound policy refuses, no
// answer, a status other than 200, a timeout): the API caller learns
// nothing about what lies behind the link. The cause is in the server log.
var errLinkFailed = &cloudapi.Error{Status: 400, Code: cloudapi.CodeMediaDownload, Message: "Media download error", Details: "the link could not be fetched"}

// fetch downloads a media link through the outbound client.
func (ep *endpoint) fetch(ctx context.Context, link string) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, link, nil)
	if err != nil {
		ep.m.log.Warn("media link", "business", ep.business, "err", err)
		return nil, errLinkFailed
	}
	resp, err := ep.m.links.Fetch(req)
	if err != nil {
		return nil, errLinkFailed
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		ep.m.log.Warn("media link", "business", ep.business, "status", resp.StatusCode)
		return nil, errLinkFailed
	}
	return linkBody{resp.Body}, nil
}

// linkBody turns the outbound client's read errors into the API's: a body
// over the limit is media_too_large, any other failure errLinkFailed.
type linkBody struct{ io.ReadCloser }

func (b linkBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	switch {
	case errors.Is(err, outbound.ErrBodyTooLarge):
		return n, parley.Errorf(parley.CodeTooLarge, ReasonMediaTooLarge, "the file is larger than the limit")
	case errors.Is(err, outbound.ErrFailed):
		return n, errLinkFailed
	}
	return n, err
}

// loop turns the client's events into API inbound messages and statuses.
func (ep *endpoint) loop(ctx context.Context) {
	events := ep.c.Events()
	ep.catchUp(ctx) // what a crash kept from the API (handled.go)
	// Sent statuses a crash kept from the webhook (status.go), before any
	// receipt is handled so that they come before delivered and read.
	err := ep.recoverSent(ctx)
	if err != nil && ctx.Err() == nil {
		ep.m.log.Error("queueing sent statuses again", "business", ep.business, "err", err)
	}
	ep.recovered <- err == nil
	if ep.kept != nil {
		ep.kept.forget() // what the start needed of the state read at open
	}
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				return
			}
			switch ev.Kind {
			case client.EventMessage:
				if ev.Message != nil && !ev.Message.Outgoing {
					ep.inbound(ctx, *ev.Message)
				} else if ev.Message != nil {
					ep.outgoing(ctx, *ev.Message)
				}
			case client.EventReceipt:
				if ev.Receipt != nil {
					ep.receipt(ctx, ev.Conversation, *ev.Receipt)
				}
			}
		}
	}
}

// outgoing tells the API (when it is a ContactNoter) that the business
// messaged the customer of a direct chat, from any of its devices.
func (ep *endpoint) outgoing(ctx context.Context, rec client.MessageRecord) {
	n, ok := ep.m.cfg.API.(ContactNoter)
	if !ok {
		return
	}
	switch rec.Kind {
	case client.KindReaction, client.KindDeleted, client.KindUndecryptable:
		return
	}
	if cust := ep.peer(ctx, rec.Conversation); cust != 0 {
		// The time the endpoint saw it: a sending device's clock is not trusted.
		n.NoteContact(ctx, ep.business, cust, ep.m.cfg.Clock.Now())
	}
}

// inbound reports a customer's message to the API. It returns false when
// the API did not take it (it is then handed over again at the next start).
func (ep *endpoint) inbound(ctx context.Context, rec client.MessageRecord) bool {
	cust := ep.peer(ctx, rec.Conversation)
	if cust == 0 || rec.Sender != cust || ep.isHandled(rec) {
		return true
	}
	switch rec.Kind {
	case client.KindDeleted, client.KindUndecryptable:
		return true
	}
	in := cloudapi.Inbound{Business: ep.business, Customer: cust, MessageID: MessageID(rec.Conversation, rec.Seq),
		At: rec.StoredAt, Record: rec}
	if rec.Kind == client.KindReaction {
		if rec.Target <= 0 {
			return true
		}
		in.Reaction = &cloudapi.InReaction{MessageID: MessageID(rec.Conversation, rec.Target), Emoji: rec.Emoji}
	}
	if in.At.IsZero() {
		in.At = ep.m.cfg.Clock.Now()
	}
	if x, err := ep.c.Extras(ctx, rec.Conversation, rec.Seq); err == nil && x.ReplyTo > 0 {
		in.Context = MessageID(rec.Conversation, x.ReplyTo)
	}
	if rec.Media != nil && rec.Media.HasBlob() {
		in.MediaID, in.MediaSHA256 = ep.keepInbound(ctx, rec)
	}
	if in.Reaction == nil {
		ep.autoReply(ctx, cust, rec)
	}
	if err := ep.m.cfg.API.HandleInbound(ctx, in); err != nil {
		// Not marked handled: the next start hands it over again.
		ep.m.log.Error("inbound message", "business", ep.business, "message", in.MessageID, "err", err)
		return false
	}
	if err := ep.markHandled(rec); err != nil {
		ep.m.log.Error("recording a handled message", "business", ep.business, "message", in.MessageID, "err", err)
	}
	return true
}

// keepInbound downloads and decrypts a customer's file, keeps it sealed
// under a new media id and returns the id and the file's hex SHA-256 (""
// when it failed).
func (ep *endpoint) keepInbound(ctx context.Context, rec client.MessageRecord) (string, string) {
	id := "med_in" + strings.ToLower(strings.NewReplacer("-", "", "_", "").Replace(string(rec.Conversation)))[:12] + fmt.Sprint(rec.Seq)
	pr, pw := io.Pipe()
	go func() {
		_, err := ep.c.DownloadMedia(ctx, client.FormatMessageID(rec.Conversation, rec.Seq), pw)
		pw.CloseWithError(err)
	}()
	size, sum, err := sealFile(ep.m.cfg.Key, ep.mediaPath(id), id, pr, 2<<30)
	pr.Close()
	if err != nil {
		ep.m.log.Warn("keeping inbound media", "business", ep.business, "err", err)
		_ = os.Remove(ep.mediaPath(id))
		return "", ""
	}
	if ep.m.cfg.Media != nil {
		m := parley.APIMedia{ID: id, Business: ep.business, MimeType: rec.Media.MIME, FileName: rec.Media.FileName, SHA256: sum, Size: size, CreatedAt: time.Now().UTC()}
		if err := ep.m.cfg.Media.PutAPIMedia(ctx, m); err != nil && !parley.IsCode(err, parley.CodeConflict) {
			ep.m.log.Warn("registering inbound media", "business", ep.business, "err", err)
			return "", ""
		}
	}
	return id, sum
}

// receipt reports the statuses of this endpoint's messages a receipt raised.
func (ep *endpoint) receipt(ctx context.Context, conv parley.ConversationID, r client.Receipt) {
	cust := ep.peer(ctx, conv)
	if cust == 0 {
		return
	}
	acct := ep.c.Account()
	status := parley.StatusDelivered
	if r.Kind == parley.ReceiptRead {
		status = parley.StatusRead
	}
	for _, m := range r.Updated {
		if m.SenderDevice != acct.Device {
			continue
		}
		st := cloudapi.Status{Business: ep.business, Customer: cust, MessageID: MessageID(m.Conversation, m.Seq), Status: status, At: r.At}
		if st.At.IsZero() {
			st.At = ep.m.cfg.Clock.Now()
		}
		ep.report(ctx, st)
	}
}
