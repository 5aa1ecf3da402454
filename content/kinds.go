package content

import (
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/parleyhq/parley"
)

// Message kinds beyond text and media, all end-to-end encrypted like every
// message. Replies, mentions and polls are messages (stored, listed by
// History); reactions, edits, deletions and votes are control messages that
// change an earlier message (its extras, see Extras) and are not listed.
// Every device applies them in log order, so all members converge.
//
// The body extension (Body.Ext, JSON "ext") carries:
//
//	reply_to  the seq of the quoted message (any kind)
//	mentions  user ids mentioned with @username; everyone for @everyone
//	target    the seq of the message a reaction, edit, deletion or vote is about
//	emoji     a reaction ("" removes this user's reaction)
//	poll      a poll's question, options and whether several may be chosen
//	choices   a vote's option indexes (none retracts the vote)
const (
	KindReaction = "reaction"
	KindEdit     = "edit"
	KindDelete   = "delete"
	KindPoll     = "poll"
	KindVote     = "vote"
	// KindDeleted replaces the kind of a message deleted for everyone.
	KindDeleted = "deleted"
	// KindStatusKey carries the sender's status key (ext.status_key, see
	// status.go): a control message, never listed.
	KindStatusKey = "status_key"
)

// IsControl reports whether kind is a control message kind (reaction,
// edit, delete, vote): one that changes an earlier message and is not
// listed itself.
func IsControl(kind string) bool {
	switch kind {
	case KindReaction, KindEdit, KindDelete, KindVote, KindStatusKey:
		return true
	}
	return false
}

// Windows within which a sender may change a message (receivers enforce
// them with the sender's own clock, the same clock that dated the message).
const (
	EditWindow   = 15 * time.Minute
	DeleteWindow = 48 * time.Hour
)

// Limits of the message kinds.
const (
	MaxPollOptions = 12
	MaxEmojiBytes  = 64
	MaxOptionBytes = 200
)

// Ext is the body extension of the message kinds.
type Ext struct {
	ReplyTo  parley.Seq       `json:"reply_to,omitempty"`
	Mentions []parley.UserID  `json:"mentions,omitempty"`
	Everyone bool             `json:"everyone,omitempty"`
	Target   parley.Seq       `json:"target,omitempty"`
	Emoji    string           `json:"emoji,omitempty"`
	Poll     *PollSpec        `json:"poll,omitempty"`
	Choices  []int            `json:"choices,omitempty"`
	Biz      *BusinessContent `json:"biz,omitempty"` // the business kinds (business.go)
	// StatusKey is a status key (KindStatusKey, status.go).
	StatusKey *StatusKey `json:"status_key,omitempty"`
	// Status is the status post a message replies to (status.go).
	Status *StatusQuote `json:"status,omitempty"`
}

// PollSpec is a poll's question and options.
type PollSpec struct {
	Question string   `json:"question"`
	Options  []string `json:"options"`
	Multi    bool     `json:"multi,omitempty"` // several options may be chosen
}

// Extras are what the message kinds add to a message as this device knows it.
type Extras struct {
	ReplyTo  parley.Seq
	Mentions []parley.UserID
	Everyone bool // @everyone by an admin
	Edited   bool
	EditedAt time.Time // the sender's clock
	Deleted  bool
	// DeletedByAdmin is set when a group admin other than the sender deleted it.
	DeletedByAdmin bool
	// Reactions maps each reacting user to their one reaction.
	Reactions map[parley.UserID]string
	Poll      *PollResult
	// Status is the status post the message replies to privately.
	Status *StatusQuote
}

// PollResult is a poll with its live tallies. Voters are visible to members.
type PollResult struct {
	PollSpec
	Votes   map[parley.UserID][]int
	Tallies []int // per option
}

var (
	mentionRe = regexp.MustCompile(`(?:^|\s)@([A-Za-z0-9_.]{1,32})`)
	hashtagRe = regexp.MustCompile(`(?:^|\s)#([\p{L}\p{N}_]{1,64})`)
)

// MentionNames returns the @names of a text in order ("everyone" for
// @everyone), as written: resolving them to members is the sender's job.
func MentionNames(text string) []string {
	var out []string
	for _, m := range mentionRe.FindAllStringSubmatch(text, -1) {
		out = append(out, m[1])
	}
	return out
}

// Hashtags returns the #hashtags of a text, in order, without duplicates.
func Hashtags(text string) []string {
	var out []string
	for _, m := range hashtagRe.FindAllStringSubmatch(text, -1) {
		if !slices.Contains(out, m[1]) {
			out = append(out, m[1])
		}
	}
	return out
}

// ValidChoices checks a vote's choices against the poll p: distinct option
// indexes, at most one unless the poll is Multi.
func ValidChoices(p *PollSpec, choices []int) error {
	if !p.Multi && len(choices) > 1 {
		return parley.Errorf(parley.CodeInvalid, ReasonPollSingleChoice, "this poll takes one choice")
	}
	for i, ch := range choices {
		if ch < 0 || ch >= len(p.Options) || slices.Contains(choices[:i], ch) {
			return parley.Errorf(parley.CodeInvalid, ReasonPollChoice, "choices are distinct option numbers from 0 to %d", len(p.Options)-1)
		}
	}
	return nil
}

// ControlText describes the control message b about the message id
// ("CHAT:SEQ") for people, e.g. "👍 to CHAT:SEQ" (for event listeners).
func ControlText(b Body, id string) string {
	ext := b.Ext
	if ext == nil {
		ext = &Ext{}
	}
	switch b.Kind {
	case KindReaction:
		if ext.Emoji == "" {
			return "removed a reaction to " + id
		}
		return ext.Emoji + " to " + id
	case KindEdit:
		return "edited " + id + ": " + b.Text
	case KindDelete:
		return "deleted " + id
	case KindVote:
		return fmt.Sprintf("voted %v in %s", ext.Choices, id)
	}
	return ""
}
