package client

import (
	"context"
	"strings"

	"github.com/parleyhq/parley"
)

// SetChatFlags mutes, pins or archives a chat (or undoes it) on this device
// only, and returns the chat. The flags survive restarts and are kept when
// the chat's metadata changes.
func (c *Client) SetChatFlags(ctx context.Context, ref string, f ChatFlags) (Chat, error) {
	ch, err := c.Chat(ctx, ref)
	if err != nil {
		return ch, err
	}
	ch, err = c.store.SetChatFlags(ctx, ch.ID, f)
	return ch, storeErr(err)
}

// Limits of Search.
const (
	SearchDefaultLimit = 50
	SearchMaxLimit     = 1000
	maxSearchQuery     = 256
)

// Search finds the messages stored on this device whose text (or caption,
// or attached file name) contains query, ignoring case: of the chat ref, or
// of every chat when ref is "". It runs entirely on the device — the server
// cannot read messages — and returns at most limit hits (0: the default),
// newest first. Deleted and undecryptable messages never match.
//
// Errors: CodeInvalid "empty_query" or "query_too_long"; as Chat for ref.
func (c *Client) Search(ctx context.Context, query, ref string, limit int) ([]MessageRecord, error) {
	q := strings.ToLower(strings.TrimSpace(query))
	if q == "" {
		return nil, parley.Errorf(parley.CodeInvalid, ReasonEmptyQuery, "search for what? the query is empty")
	}
	if len(q) > maxSearchQuery {
		return nil, parley.Errorf(parley.CodeInvalid, ReasonQueryTooLong, "a search query has at most %d bytes", maxSearchQuery)
	}
	if limit <= 0 {
		limit = SearchDefaultLimit
	}
	limit = min(limit, SearchMaxLimit)
	var conv parley.ConversationID
	if strings.TrimSpace(ref) != "" {
		ch, err := c.Chat(ctx, ref)
		if err != nil {
			return nil, err
		}
		conv = ch.ID
	}
	hits, err := c.store.Search(ctx, func(m *MessageRecord) bool { return searchMatch(m, q) }, conv, limit)
	return hits, storeErr(err)
}

// searchMatch reports whether m matches the lower-cased query q.
func searchMatch(m *MessageRecord, q string) bool {
	switch m.Kind {
	case KindDeleted, KindUndecryptable:
		return false
	}
	if strings.Contains(strings.ToLower(m.Text), q) {
		return true
	}
	return m.Media != nil && m.Media.FileName != "" && strings.Contains(strings.ToLower(m.Media.FileName), q)
}
