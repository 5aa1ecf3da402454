package backup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client/localstore"
	"github.com/parleyhq/parley/content"
)

// A backup's content is a stream of JSON records, one per line, in this
// order: the meta record, then every contact, then every chat followed by
// its messages. A record has exactly one field set.
type record struct {
	Meta    *meta                  `json:"meta,omitempty"`
	Contact *localstore.Contact    `json:"contact,omitempty"`
	Chat    *chat                  `json:"chat,omitempty"`
	Message *content.MessageRecord `json:"message,omitempty"`
	// Extras go with Message: its reply link, mentions, edit and delete
	// marks, reactions and poll.
	Extras *content.Extras `json:"extras,omitempty"`
}

type meta struct {
	User  parley.UserID `json:"user"`
	Phone string        `json:"phone"`
}

type chat struct {
	localstore.Chat
	Timer time.Duration `json:"timer,omitempty"`
}

// Stats counts what a backup holds.
type Stats struct {
	Chats, Messages, Contacts int
	CreatedAt                 time.Time
}

// Export writes an encrypted backup of st to w: its chats (ids, kinds,
// titles, flags, disappearing-message timers), their sent and received
// messages (with the media descriptors, so attachments stay downloadable
// while the server keeps them, and their replies, mentions, edits,
// deletions, reactions and polls) and its contacts. It leaves out the MLS
// group states and every other secret of the device: a restored device
// rejoins its conversations instead (forward secrecy), and messages still
// pending on this device are not in it.
func Export(ctx context.Context, st localstore.Store, w io.Writer, key RecoveryKey, now time.Time) (Stats, error) {
	stats := Stats{CreatedAt: now}
	acct, err := st.Account(ctx)
	if err != nil {
		return stats, fmt.Errorf("backup: %w", err)
	}
	bw, err := NewWriter(w, key, now)
	if err != nil {
		return stats, err
	}
	enc := json.NewEncoder(bw)
	if err := enc.Encode(record{Meta: &meta{User: acct.User, Phone: acct.Phone}}); err != nil {
		return stats, err
	}
	contacts, err := st.Contacts(ctx)
	if err != nil {
		return stats, fmt.Errorf("backup contacts: %w", err)
	}
	for i := range contacts {
		if err := enc.Encode(record{Contact: &contacts[i]}); err != nil {
			return stats, err
		}
		stats.Contacts++
	}
	chats, err := st.Chats(ctx)
	if err != nil {
		return stats, fmt.Errorf("backup chats: %w", err)
	}
	timers, err := st.Timers(ctx)
	if err != nil {
		return stats, fmt.Errorf("backup timers: %w", err)
	}
	for _, c := range chats {
		if err := enc.Encode(record{Chat: &chat{Chat: c, Timer: timers[c.ID]}}); err != nil {
			return stats, err
		}
		stats.Chats++
		msgs, err := st.Messages(ctx, c.ID, 0)
		if err != nil {
			return stats, fmt.Errorf("backup messages of %s: %w", c.ID, err)
		}
		seqs := make([]parley.Seq, 0, len(msgs))
		for _, m := range msgs {
			if m.Seq > 0 {
				seqs = append(seqs, m.Seq)
			}
		}
		extras, err := st.Extras(ctx, c.ID, seqs)
		if err != nil {
			return stats, fmt.Errorf("backup extras of %s: %w", c.ID, err)
		}
		for i := range msgs {
			m := &msgs[i]
			if m.Seq <= 0 || m.Status == content.StatusPending || m.Status == content.StatusFailed {
				continue // never sent: its ciphertext is of a group state the backup leaves out
			}
			m.Payload, m.Epoch = nil, 0
			rec := record{Message: m}
			if ex, ok := extras[m.Seq]; ok {
				rec.Extras = &ex
			}
			if err := enc.Encode(rec); err != nil {
				return stats, err
			}
			stats.Messages++
		}
		if err := ctx.Err(); err != nil {
			return stats, err
		}
	}
	return stats, bw.Close()
}

// Import reads an encrypted backup from r into st, which must be a
// registered profile of the same account (CodeForbidden,
// ReasonOtherAccount otherwise). It is idempotent: a message already in st
// is not duplicated, so a restore may be run again after a failure. The
// chats come back without MLS state; the caller rejoins them. Records are
// applied as they are read, so on an error st keeps those before it.
func Import(ctx context.Context, st localstore.Store, r io.Reader, key RecoveryKey) (Stats, error) {
	var stats Stats
	acct, err := st.Account(ctx)
	if err != nil {
		return stats, fmt.Errorf("restore: %w", err)
	}
	br, err := NewReader(r, key)
	if err != nil {
		return stats, err
	}
	stats.CreatedAt = br.Header().CreatedAt
	dec := json.NewDecoder(br)
	var current *chat
	for n := 0; ; n++ {
		var rec record
		if err := dec.Decode(&rec); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			if pe := (*parley.Error)(nil); errors.As(err, &pe) {
				return stats, err
			}
			return stats, parley.Errorf(parley.CodeInvalid, ReasonBadRecord, "record %d: %v", n, err)
		}
		switch {
		case n == 0 && rec.Meta == nil, n > 0 && rec.Meta != nil:
			return stats, parley.Errorf(parley.CodeInvalid, ReasonBadRecord, "record %d: the meta record comes first and once", n)
		case rec.Meta != nil:
			if rec.Meta.User != acct.User {
				return stats, parley.Errorf(parley.CodeForbidden, ReasonOtherAccount, "this backup belongs to another account (%s)", rec.Meta.Phone)
			}
		case rec.Contact != nil:
			if err := st.PutContact(ctx, *rec.Contact); err != nil {
				return stats, fmt.Errorf("restore contact: %w", err)
			}
			stats.Contacts++
		case rec.Chat != nil:
			current = rec.Chat
			if err := importChat(ctx, st, current); err != nil {
				return stats, err
			}
			stats.Chats++
		case rec.Extras != nil && rec.Message == nil:
			return stats, parley.Errorf(parley.CodeInvalid, ReasonBadRecord, "record %d: extras without a message", n)
		case rec.Message != nil:
			m := rec.Message
			if current == nil || m.Conversation != current.ID || m.Seq <= 0 {
				return stats, parley.Errorf(parley.CodeInvalid, ReasonBadRecord, "record %d: a message outside its chat", n)
			}
			if err := st.Apply(ctx, localstore.Applied{Conversation: m.Conversation, Message: m}); err != nil {
				return stats, fmt.Errorf("restore message %s: %w", m.ID(), err)
			}
			if rec.Extras != nil {
				if err := importExtras(ctx, st, m, rec.Extras); err != nil {
					return stats, fmt.Errorf("restore message %s: %w", m.ID(), err)
				}
			}
			stats.Messages++
		default:
			return stats, parley.Errorf(parley.CodeInvalid, ReasonBadRecord, "record %d is empty", n)
		}
	}
	return stats, nil
}

func importChat(ctx context.Context, st localstore.Store, c *chat) error {
	if c.ID == "" {
		return parley.Errorf(parley.CodeInvalid, ReasonBadRecord, "a chat without an id")
	}
	// Seq restores the cursor: envelopes the old device had processed are
	// not fetched again; the rejoin moves it on to the join.
	if err := st.Apply(ctx, localstore.Applied{Conversation: c.ID, Chat: &c.Chat, Seq: c.Cursor}); err != nil {
		return fmt.Errorf("restore chat %s: %w", c.ID, err)
	}
	if _, err := st.SetChatFlags(ctx, c.ID, localstore.ChatFlags{Muted: &c.Muted, Pinned: &c.Pinned, Archived: &c.Archived}); err != nil {
		return fmt.Errorf("restore chat %s: %w", c.ID, err)
	}
	if c.Timer > 0 {
		if err := st.SetTimer(ctx, c.ID, c.Timer); err != nil {
			return fmt.Errorf("restore chat %s: %w", c.ID, err)
		}
	}
	return nil
}

// importExtras applies a message's extras with the store's kind methods.
// Their "as of" sequence number is the message's own, so every later
// reaction, vote or edit (which has a higher one) wins over the restored
// state.
func importExtras(ctx context.Context, st localstore.Store, m *content.MessageRecord, ex *content.Extras) error {
	ext := content.Ext{ReplyTo: ex.ReplyTo, Mentions: ex.Mentions, Everyone: ex.Everyone}
	if ex.Poll != nil {
		ext.Poll = &ex.Poll.PollSpec
	}
	if ext.ReplyTo != 0 || len(ext.Mentions) > 0 || ext.Everyone || ext.Poll != nil {
		if err := st.PutExtras(ctx, m.Conversation, m.SenderDevice, m.ClientID, ext); err != nil {
			return err
		}
	}
	if ex.Deleted {
		return st.DeleteMessage(ctx, m.Conversation, m.Seq, m.Sender, ex.DeletedByAdmin)
	}
	if ex.Edited {
		if err := st.Edit(ctx, m.Conversation, m.Seq, m.Text, ex.EditedAt, m.Seq); err != nil {
			return err
		}
	}
	for user, emoji := range ex.Reactions {
		if err := st.React(ctx, m.Conversation, m.Seq, user, emoji, m.Seq); err != nil {
			return err
		}
	}
	if ex.Poll != nil {
		for user, choices := range ex.Poll.Votes {
			if err := st.Vote(ctx, m.Conversation, m.Seq, user, choices, m.Seq); err != nil {
				return err
			}
		}
	}
	return nil
}
