package cloudapi

import (
	"context"
	"sync"

	"github.com/parleyhq/parley"
)

// biz_opaque_callback_data: a send may tag its message with a string the
// caller gets back in every status of that message (sent, delivered,
// read, failed), as the Cloud API does.
//
// The sent status is raised by the endpoint during the send, before Send
// learns the message id: the endpoint carries the tag from
// Outgoing.CallbackData into Status.CallbackData, and HandleStatus keeps
// it in a bounded memory cache for the later statuses. The tag is also
// recorded durably with the message's insights (parley.MessageEvent
// Campaign, which Send records), so after a restart, or once the cache
// forgot the message, HandleStatus looks it up there.

// callbackCacheSize bounds the messages whose tag (or lack of one) is
// kept in memory.
const callbackCacheSize = 1 << 16

// callbackCache maps message ids to their tag, forgetting the oldest
// entries beyond callbackCacheSize.
type callbackCache struct {
	mu    sync.Mutex
	tags  map[string]string
	order []string // insertion order, a ring of callbackCacheSize
	next  int
}

func (c *callbackCache) get(id string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	tag, ok := c.tags[id]
	return tag, ok
}

func (c *callbackCache) put(id, tag string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tags == nil {
		c.tags = map[string]string{}
		c.order = make([]string, callbackCacheSize)
	}
	if _, ok := c.tags[id]; ok {
		c.tags[id] = tag
		return
	}
	if old := c.order[c.next]; old != "" {
		delete(c.tags, old)
	}
	c.order[c.next] = id
	c.next = (c.next + 1) % callbackCacheSize
	c.tags[id] = tag
}

// campaignLookup is the insights service's (or store's) view of one
// message: *insights.Service implements it.
type campaignLookup interface {
	Message(ctx context.Context, business parley.UserID, id string) (parley.MessageStatuses, error)
}

// callbackData returns the biz_opaque_callback_data of st's message.
func (s *Service) callbackData(ctx context.Context, st Status) string {
	if st.CallbackData != "" {
		s.callbacks.put(st.MessageID, st.CallbackData)
		return st.CallbackData
	}
	if tag, ok := s.callbacks.get(st.MessageID); ok {
		return tag
	}
	var tag string
	switch src := s.cfg.Insights.(type) {
	case campaignLookup:
		if m, err := src.Message(ctx, st.Business, st.MessageID); err == nil {
			tag = m.Campaign
		} else if !parley.IsCode(err, parley.CodeNotFound) {
			s.log.Warn("looking up biz_opaque_callback_data", "business", st.Business, "message", st.MessageID, "err", err)
			return "" // not cached: the next status tries again
		}
	case parley.InsightsStore:
		if m, err := src.MessageStatuses(ctx, st.Business, st.MessageID); err == nil {
			tag = m.Campaign
		} else if !parley.IsCode(err, parley.CodeNotFound) {
			s.log.Warn("looking up biz_opaque_callback_data", "business", st.Business, "message", st.MessageID, "err", err)
			return ""
		}
	}
	if st.Status != parley.StatusSent {
		// A sent status without a tag may come before Send recorded the
		// message's insights; later statuses are decided for good.
		s.callbacks.put(st.MessageID, tag)
	}
	return tag
}
