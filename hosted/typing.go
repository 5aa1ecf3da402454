package hosted

import (
	"context"
	"sync"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/cloudapi"
)

// Typing indicators (the Cloud API's typing_indicator on a mark-as-read):
// the endpoint tells the customer's devices the business is typing, and
// stops at the business's next message in the chat (from the API) or
// after cloudapi.TypingLength, whichever comes first. Indicators are best
// effort and never stored, as for any Parley client: a restart forgets a
// running one, and the customer's client clears it when no "stopped"
// arrives.

// ReasonNotCustomerChat refuses a typing indicator in a chat that is not a
// direct chat with a customer.
const ReasonNotCustomerChat = "not_customer_chat"

// typingState holds the running indicators of an endpoint, by chat.
type typingState struct {
	mu     sync.Mutex
	timers map[parley.ConversationID]*time.Timer
}

// typing starts (or restarts) the indicator in the direct chat conv.
func (ep *endpoint) typing(ctx context.Context, conv parley.ConversationID) error {
	if ep.peer(ctx, conv) == 0 {
		return parley.Errorf(parley.CodeInvalid, ReasonNotCustomerChat, "the message is not in a chat with a customer")
	}
	if err := ep.c.Typing(ctx, string(conv), true); err != nil {
		return err
	}
	t := &ep.typers
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.timers == nil {
		t.timers = map[parley.ConversationID]*time.Timer{}
	}
	if old, ok := t.timers[conv]; ok {
		old.Stop()
	}
	var timer *time.Timer
	timer = time.AfterFunc(cloudapi.TypingLength, func() {
		t.mu.Lock()
		mine := t.timers[conv] == timer
		if mine {
			delete(t.timers, conv)
		}
		t.mu.Unlock()
		if mine {
			ep.stopTyping(conv)
		}
	})
	t.timers[conv] = timer
	return nil
}

// typed ends a running indicator in conv: the business sent there.
func (ep *endpoint) typed(conv parley.ConversationID) {
	t := &ep.typers
	t.mu.Lock()
	timer, ok := t.timers[conv]
	if ok {
		timer.Stop()
		delete(t.timers, conv)
	}
	t.mu.Unlock()
	if ok {
		ep.stopTyping(conv)
	}
}

// stopTyping tells the customer's devices the business stopped typing.
func (ep *endpoint) stopTyping(conv parley.ConversationID) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ep.c.Typing(ctx, string(conv), false); err != nil {
		ep.m.log.Debug("typing indicator", "business", ep.business, "err", err)
	}
}
