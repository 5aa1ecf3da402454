package broadcast

import (
	"context"
	"strings"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/attachment"
	"github.com/parleyhq/parley/client/files"
	"github.com/parleyhq/parley/content"
)

// Sent is the outcome of sending to a list.
type Sent struct {
	List string `json:"list"`
	// Copies are the copies the server accepted, one per recipient it did
	// not refuse. An accepted copy is not necessarily delivered: a
	// recipient who does not have the sender in their contacts gets
	// nothing, and the sender is not told which.
	Copies []Copy `json:"copies"`
	// Failed are the recipients whose copy was refused (for example
	// because one of the two blocks the other), with the reason.
	Failed []Failure `json:"failed,omitempty"`
}

// Copy is one recipient's copy.
type Copy struct {
	Recipient
	Chat     parley.ConversationID  `json:"chat"`
	ClientID parley.ClientMessageID `json:"client_id"`
}

// Failure is a recipient whose copy could not be sent.
type Failure struct {
	Recipient
	Error string `json:"error"`
}

// SendBroadcast sends text to every recipient of the list name, each copy
// in the direct chat with that recipient (created if needed). It goes on
// past a recipient whose copy fails and reports the failures in Sent;
// its own errors are CodeNotFound ReasonBroadcastNotFound, CodeInvalid
// for an empty text, and a failed catch-up (Sync).
func (l *Lists) SendBroadcast(ctx context.Context, name, text string) (Sent, error) {
	if strings.TrimSpace(text) == "" {
		return Sent{}, parley.Errorf(parley.CodeInvalid, parley.ReasonEmptyMessage, "the message is empty")
	}
	return l.send(ctx, name, func(ctx context.Context, conv parley.ConversationID) (content.MessageRecord, error) {
		return l.core.SendCopy(ctx, conv, content.MessageRecord{Kind: content.KindText, Text: text})
	})
}

// SendBroadcastFile sends the file at path to every recipient of the list
// name. The file is encrypted and uploaded once, for the first
// recipient's chat; the blob is then linked to every other chat and the
// same descriptor (capability and key) sent in each, as Forward does.
func (l *Lists) SendBroadcastFile(ctx context.Context, name, path string, opt files.SendFileOptions) (Sent, error) {
	var (
		d         *attachment.Descriptor
		uploadErr error
	)
	sent, err := l.send(ctx, name, func(ctx context.Context, conv parley.ConversationID) (content.MessageRecord, error) {
		if uploadErr != nil {
			return content.MessageRecord{}, uploadErr
		}
		if d == nil {
			up, err := l.core.Upload(ctx, conv, path, opt)
			if err != nil {
				uploadErr = err
				return content.MessageRecord{}, err
			}
			d = &up
		} else if d.HasBlob() {
			if err := l.core.Link(ctx, *d, conv); err != nil {
				return content.MessageRecord{}, err
			}
		}
		m := *d
		return l.core.SendCopy(ctx, conv, content.MessageRecord{Kind: string(m.Kind), Text: m.Caption, Media: &m})
	})
	if err == nil && uploadErr != nil && len(sent.Copies) == 0 {
		return Sent{}, uploadErr // the file could not be sent to anyone
	}
	return sent, err
}

// send runs one copy per recipient.
func (l *Lists) send(ctx context.Context, name string, one func(context.Context, parley.ConversationID) (content.MessageRecord, error)) (Sent, error) {
	bl, err := l.find(ctx, name)
	if err != nil {
		return Sent{}, err
	}
	if err := l.core.Sync(ctx); err != nil {
		return Sent{}, err
	}
	v := l.view(ctx, bl)
	out := Sent{List: bl.Name, Copies: []Copy{}}
	for _, r := range v.Recipients {
		var (
			conv parley.ConversationID
			rec  content.MessageRecord
		)
		ct, err := l.core.Store().Contact(ctx, r.User)
		if err == nil {
			conv, err = l.core.DirectChat(ctx, ct)
		}
		if err == nil {
			rec, err = one(ctx, conv)
		}
		if err != nil {
			if ctx.Err() != nil {
				return out, ctx.Err()
			}
			out.Failed = append(out.Failed, Failure{Recipient: r, Error: err.Error()})
			continue
		}
		out.Copies = append(out.Copies, Copy{Recipient: r, Chat: conv, ClientID: rec.ClientID})
	}
	return out, nil
}
