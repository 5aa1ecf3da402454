package client

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/parleyhq/parley"
)

// ChatFlags changes a chat's device-local flags; nil fields stay as they are.
type ChatFlags struct {
	Muted, Pinned, Archived *bool
}

func (f ChatFlags) apply(ch *Chat) {
	if f.Muted != nil {
		ch.Muted = *f.Muted
	}
	if f.Pinned != nil {
		ch.Pinned = *f.Pinned
	}
	if f.Archived != nil {
		ch.Archived = *f.Archived
	}
}

// chatStore is the local store's support for chat flags and search (both
// the SQLite and the KV store implement it).
type chatStore interface {
	// setChatFlags changes a chat's flags and returns the chat.
	setChatFlags(ctx context.Context, id parley.ConversationID, f ChatFlags) (Chat, error)
	// search returns up to limit (0: all) sent or received messages, of
	// conv or of every chat when conv is "", for which match is true,
	// ordered as sortHits does.
	search(ctx context.Context, match func(*MessageRecord) bool, conv parley.ConversationID, limit int) ([]MessageRecord, error)
}

func (c *Client) chatStore() (chatStore, error) {
	cs, ok := c.store.(chatStore)
	if !ok {
		return nil, parley.Errorf(parley.CodeInvalid, "chats_unsupported", "this device's store does not support chat flags and search")
	}
	return cs, nil
}

// SetChatFlags mutes, pins or archives a chat (or undoes it) on this device
// only, and returns the chat. The flags survive restarts and are kept when
// the chat's metadata changes.
func (c *Client) SetChatFlags(ctx context.Context, ref string, f ChatFlags) (Chat, error) {
	ch, err := c.Chat(ctx, ref)
	if err != nil {
		return ch, err
	}
	cs, err := c.chatStore()
	if err != nil {
		return ch, err
	}
	ch, err = cs.setChatFlags(ctx, ch.ID, f)
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
		return nil, parley.Errorf(parley.CodeInvalid, "empty_query", "search for what? the query is empty")
	}
	if len(q) > maxSearchQuery {
		return nil, parley.Errorf(parley.CodeInvalid, "query_too_long", "a search query has at most %d bytes", maxSearchQuery)
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
	cs, err := c.chatStore()
	if err != nil {
		return nil, err
	}
	hits, err := cs.search(ctx, func(m *MessageRecord) bool { return searchMatch(m, q) }, conv, limit)
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

// sortHits orders search hits newest first (by when this device stored
// them, then by chat and seq).
func sortHits(ms []MessageRecord) {
	slices.SortFunc(ms, func(a, b MessageRecord) int {
		if c := b.StoredAt.Compare(a.StoredAt); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Conversation, b.Conversation); c != 0 {
			return c
		}
		return cmp.Compare(b.Seq, a.Seq)
	})
}
