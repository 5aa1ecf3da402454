package biz

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client/localstore"
	"github.com/parleyhq/parley/content"
	"github.com/parleyhq/parley/proto/parleypb"
)

// bizSettingsTTL is how long BusinessAutoReply reuses the business's
// profile and greeting/away settings before asking the server again
// (changes made through this client apply at once).
const bizSettingsTTL = 30 * time.Second

// bizCache holds this business's profile and auto-reply settings.
type bizCache struct {
	mu       sync.Mutex
	at       time.Time
	profile  parley.BusinessProfile
	settings parley.AutoReplySettings
	business bool // a profile exists
}

func (b *bizCache) forget() {
	b.mu.Lock()
	b.at = time.Time{}
	b.mu.Unlock()
}

// bizSettings returns this user's profile and settings, cached.
func (s *Business) bizSettings(ctx context.Context) (parley.BusinessProfile, parley.AutoReplySettings, bool, error) {
	b := &s.cache
	now := s.core.Now()
	b.mu.Lock()
	if !b.at.IsZero() && now.Sub(b.at) < bizSettingsTTL {
		defer b.mu.Unlock()
		return b.profile, b.settings, b.business, nil
	}
	b.mu.Unlock()
	p, err := s.BusinessProfile(ctx, "")
	if parley.IsCode(err, parley.CodeNotFound) {
		b.mu.Lock()
		b.at, b.business = now, false
		b.mu.Unlock()
		return p, parley.AutoReplySettings{}, false, nil
	}
	if err != nil {
		return p, parley.AutoReplySettings{}, false, err
	}
	a, err := s.AutoReply(ctx)
	if err != nil {
		return p, a, false, err
	}
	b.mu.Lock()
	b.at, b.profile, b.settings, b.business = now, p, a, p.Name != ""
	b.mu.Unlock()
	return p, a, p.Name != "", nil
}

// AutoReplies are what BusinessAutoReply did for one incoming message.
type AutoReplies struct {
	FirstContact bool                   // the customer had not written before (or not for GreetingAfter)
	Greeting     *content.MessageRecord // the greeting sent, if any
	Away         *content.MessageRecord // the away message sent, if any
}

// BusinessAutoReply runs a business's greeting and away messages for one
// incoming message msg; the business's own device calls it for every
// message it receives (the CLI's `business listen`, the bot SDK and the
// hosted endpoint do). The replies are ordinary end-to-end encrypted
// messages sent by this device: the server never sends them.
//
// Only messages from another user in a direct chat count. The greeting
// goes out on first contact — no earlier message from the customer in the
// chat — or, with GreetingAfter set, when the customer's previous message
// is older than that; a first contact also gets the "new_customer" label.
// The away message goes out when the profile's hours say the business is
// closed at this device's clock, at most once per AwayEvery per chat.
// Several devices of the business may run auto replies at once (the
// hosted endpoint and the owner's CLI): each reply is claimed at the
// server first, keyed by the customer's message, so exactly one device
// sends it.
//
// Without a business profile it does nothing. Errors are those of sending.
// AutoReplyTo does the same and says what was sent.
func (s *Business) BusinessAutoReply(ctx context.Context, msg content.MessageRecord) error {
	_, err := s.AutoReplyTo(ctx, msg)
	return err
}

// AutoReplyTo is BusinessAutoReply, returning what it did.
func (s *Business) AutoReplyTo(ctx context.Context, msg content.MessageRecord) (AutoReplies, error) {
	var out AutoReplies
	acct := s.core.Account()
	if msg.Outgoing || msg.Sender == acct.User || msg.Seq <= 0 || content.IsControl(msg.Kind) || msg.Kind == content.KindUndecryptable {
		return out, nil
	}
	ch, err := s.core.Store().Chat(ctx, msg.Conversation)
	if err != nil || ch.Kind != parley.KindDirect {
		return out, nil
	}
	profile, settings, isBusiness, err := s.bizSettings(ctx)
	if err != nil || !isBusiness {
		return out, err
	}
	conv := msg.Conversation

	// The customer's previous message, as this device has seen them.
	prevMS, err := s.core.Store().AutoReplied(ctx, conv, "last_in")
	if err != nil {
		return out, localstore.Failed(err)
	}
	if prevMS == 0 {
		ms, err := s.core.Store().Messages(ctx, conv, 50)
		if err != nil {
			return out, localstore.Failed(err)
		}
		for _, m := range ms {
			if !m.Outgoing && m.Seq > 0 && m.Seq < msg.Seq {
				prevMS = max(prevMS, m.SentAt.UnixMilli())
			}
		}
	}
	sentMS := msg.SentAt.UnixMilli()
	if prevMS > sentMS {
		return out, nil // an older message processed late: the decision was made already
	}
	if err := s.core.Store().NoteAutoReply(ctx, conv, "last_in", sentMS); err != nil {
		return out, localstore.Failed(err)
	}
	out.FirstContact = prevMS == 0
	greet := out.FirstContact || settings.GreetingAfter > 0 && time.Duration(sentMS-prevMS)*time.Millisecond >= settings.GreetingAfter
	if greet && settings.GreetingEnabled {
		if greet, err = s.claimAutoReply(ctx, conv, "greeting", msg.Seq); err != nil {
			return out, err
		}
	}
	if greet && settings.GreetingEnabled {
		m, err := s.core.SendText(ctx, string(conv), settings.Greeting, 0)
		if err != nil {
			return out, err
		}
		out.Greeting = &m
		if err := s.core.Store().NoteAutoReply(ctx, conv, "greeting", s.core.Now().UnixMilli()); err != nil {
			return out, localstore.Failed(err)
		}
	}
	if out.FirstContact {
		if err := s.LabelChat(ctx, string(conv), parley.LabelNewCustomer, true); err != nil {
			s.core.Logger().Warn("label new customer", "chat", conv, "err", err)
		}
	}
	if msg.Kind == content.KindOrder {
		if err := s.LabelChat(ctx, string(conv), parley.LabelPendingPayment, true); err != nil {
			s.core.Logger().Warn("label pending payment", "chat", conv, "err", err)
		}
	}
	now := s.core.Now()
	if settings.AwayEnabled && !profile.Hours.OpenAt(now) {
		last, err := s.core.Store().AutoReplied(ctx, conv, "away")
		if err != nil {
			return out, localstore.Failed(err)
		}
		every := settings.AwayEvery
		if every <= 0 {
			every = parley.DefaultAwayEvery
		}
		send := last == 0 || now.Sub(time.UnixMilli(last)) >= every
		if send {
			if send, err = s.claimAutoReply(ctx, conv, "away", msg.Seq); err != nil {
				return out, err
			}
		}
		if send {
			m, err := s.core.SendText(ctx, string(conv), settings.Away, 0)
			if err != nil {
				return out, err
			}
			out.Away = &m
			if err := s.core.Store().NoteAutoReply(ctx, conv, "away", now.UnixMilli()); err != nil {
				return out, localstore.Failed(err)
			}
		}
	}
	return out, nil
}

// claimAutoReply claims the auto reply what to the customer's message seq
// in conv: false if another device of the business claimed it first.
func (s *Business) claimAutoReply(ctx context.Context, conv parley.ConversationID, what string, seq parley.Seq) (bool, error) {
	_, err := s.core.Request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_BizAutoReplyClaim{BizAutoReplyClaim: &parleypb.BizAutoReplyClaimRequest{
		ConversationId: string(conv), Key: what + ":" + strconv.FormatInt(int64(seq), 10)}}})
	if parley.ErrorReason(err) == ReasonAutoReplyClaimed {
		return false, nil
	}
	return err == nil, errorf("claim "+what+" message", err)
}
