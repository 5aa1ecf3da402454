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

// Search finds the messages stored on this device by full text: every word
// of query begins a word of their text, caption or file name, ignoring
// case and diacritics (localstore.SearchWords): of the chat ref, or
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
	hits, err := c.store.Search(ctx, q, conv, limit)
	return hits, storeErr(err)
}
