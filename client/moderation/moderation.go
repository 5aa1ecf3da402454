// Package moderation is the client side of reporting and group
// moderation: report a user, a chat or a message to the server's operator
// (optionally including the last few messages, decrypted on this device,
// and blocking at once), and, as a group's moderator, list the reports
// about it and ban or unban users. The server side is package moderation;
// docs/operations.md ("Moderate") describes the whole.
//
// What is disclosed, and to whom:
//   - Without Options.Include a report carries no message text: only what
//     is reported (user, chat or message position), the category and the
//     reporter's own words.
//   - With Include = N, the N latest messages of the chat (up to the
//     reported message) are decrypted here and sent: sender, position,
//     time, kind and text or caption — never an attachment or its key.
//   - The operator sees the whole report and who filed it. A group's
//     moderators (its admins and its community's) see reports about the
//     group without the reporter and without the included messages.
package moderation

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/apiclient"
	"github.com/parleyhq/parley/client"
)

// MaxInclude bounds Options.Include: the server takes at most this many
// messages (moderation.MaxEvidence).
const MaxInclude = 10

// MaxEvidenceText is the longest text of an included message the server
// takes; longer texts are cut at a rune boundary here.
const MaxEvidenceText = 4096

// Disclosure says, for the reporting UI, what a report sends and who sees it.
const Disclosure = "Your report (what you report, the reason and your note) goes to this server's operator; " +
	"a report about a group also reaches its admins, who do not see who reported. " +
	"Messages you choose to include are decrypted on this device and sent to the operator only."

// Options are a report's choices.
type Options struct {
	Category parley.ReportCategory // spam, abuse or other (default other)
	Text     string                // the reporter's own words
	// Include is how many of the chat's latest messages (up to the
	// reported one) to include; 0 includes none.
	Include int
	// Block blocks the reported user (or the reported message's sender)
	// once the report is filed.
	Block bool
}

// Filed is a filed report.
type Filed struct {
	ID           int64
	Target       parley.ReportTarget
	User         parley.UserID
	Conversation parley.ConversationID
	Seq          parley.Seq
	Included     int  // messages included
	Blocked      bool // the user was blocked
}

// Report reports target: a MESSAGE_ID (CHAT:SEQ), a person (+PHONE,
// @username or user id: their direct chat supplies included messages), or
// a chat. Errors: the server's (CodeTooLarge "too_much_evidence",
// "report_text_too_long"; CodeRateLimited "too_many_reports"; CodeNotFound
// "not_reportable"), CodeInvalid ReasonIncludeRange, ReasonBlockGroup,
// CodeNotFound "no_chat".
func Report(ctx context.Context, c *client.Client, target string, o Options) (Filed, error) {
	if o.Include < 0 || o.Include > MaxInclude {
		return Filed{}, parley.Errorf(parley.CodeInvalid, ReasonIncludeRange, "include 0 to %d messages", MaxInclude)
	}
	if o.Category == "" {
		o.Category = parley.ReportOther
	}
	req := apiclient.ReportRequest{Category: o.Category, Text: o.Text}
	upTo := parley.Seq(0) // 0: the latest
	target = strings.TrimSpace(target)
	switch {
	case isMessageID(target):
		m, err := c.Message(ctx, target)
		if err != nil {
			return Filed{}, err
		}
		req.Target, req.Conversation, req.Seq, req.User, upTo = parley.ReportMessage, m.Conversation, m.Seq, m.Sender, m.Seq
	case isPerson(target):
		ct, err := c.Resolve(ctx, target)
		if err != nil {
			return Filed{}, err
		}
		req.Target, req.User = parley.ReportUser, ct.User
		if ch, err := c.Chat(ctx, target); err == nil {
			req.Conversation = ch.ID
		} else if o.Include > 0 {
			return Filed{}, parley.Errorf(parley.CodeNotFound, client.ReasonNoChat, "you have no chat with %s to include messages from", target)
		}
	default:
		ch, err := c.Chat(ctx, target)
		if err != nil {
			return Filed{}, err
		}
		req.Target, req.Conversation = parley.ReportChat, ch.ID
		if ch.Kind == parley.KindDirect && ch.Peer != c.Account().User {
			req.User = ch.Peer
		}
	}
	if o.Block && (req.User == 0 || req.User == c.Account().User) {
		return Filed{}, parley.Errorf(parley.CodeInvalid, ReasonBlockGroup, "a group chat has no one person to block: report a message or a person to block its sender")
	}
	if o.Include > 0 {
		ev, err := evidence(ctx, c, req.Conversation, upTo, o.Include)
		if err != nil {
			return Filed{}, err
		}
		req.Evidence = ev
	}
	acct := c.Account()
	api, err := apiclient.ForDevice(acct.ServerURL, acct.Device, acct.Secret)
	if err != nil {
		return Filed{}, err
	}
	f, err := api.FileReport(ctx, req)
	if err != nil {
		return Filed{}, err
	}
	out := Filed{ID: f.ID, Target: req.Target, User: req.User, Conversation: req.Conversation, Seq: req.Seq, Included: len(req.Evidence)}
	if o.Block {
		if _, err := c.Block(ctx, "u"+strconv.FormatInt(int64(req.User), 10)); err != nil {
			return out, err
		}
		out.Blocked = true
	}
	return out, nil
}

// evidence is the n latest stored messages of conv up to seq upTo (0: the
// latest), people's messages only (not the history lines of group
// changes), each reduced to sender, position, time, kind and text (a
// message deleted for everyone has none left).
func evidence(ctx context.Context, c *client.Client, conv parley.ConversationID, upTo parley.Seq, n int) ([]parley.ReportEvidence, error) {
	_, ms, err := c.History(ctx, string(conv), 500)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(ms, func(a, b client.MessageRecord) int { return int(a.Seq - b.Seq) })
	var out []parley.ReportEvidence
	for i := len(ms) - 1; i >= 0 && len(out) < n; i-- {
		m := ms[i]
		if m.Seq == 0 || (upTo != 0 && m.Seq > upTo) || m.Sender == 0 || m.Kind == client.KindSystem {
			continue // pending, after the reported message, or a history line of a group change
		}
		out = append(out, parley.ReportEvidence{Seq: m.Seq, Sender: m.Sender, SentAt: m.SentAt.UTC(), Kind: m.Kind, Text: cut(m.Text, MaxEvidenceText)})
	}
	slices.Reverse(out)
	return out, nil
}

// cut shortens s to at most n bytes at a rune boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func isMessageID(s string) bool {
	_, _, err := client.ParseMessageID(s)
	return err == nil
}

func isPerson(s string) bool {
	if strings.HasPrefix(s, "+") || strings.HasPrefix(s, "@") || strings.HasPrefix(s, "00") {
		return true
	}
	rest, ok := strings.CutPrefix(s, "u")
	if !ok {
		rest = s
	}
	return rest != "" && strings.Trim(rest, "0123456789") == ""
}

// api is the moderator's HTTP client for c's account.
func api(c *client.Client) (*apiclient.Client, error) {
	acct := c.Account()
	return apiclient.ForDevice(acct.ServerURL, acct.Device, acct.Secret)
}

// Ban bans member from the group ref (its moderators): removed at once if
// a member, refused every way back in ("banned_from_group") until unbanned.
func Ban(ctx context.Context, c *client.Client, ref, member string) (client.Group, client.Contact, error) {
	return banOrUnban(ctx, c, ref, member, true)
}

// Unban lifts member's ban from the group ref.
func Unban(ctx context.Context, c *client.Client, ref, member string) (client.Group, client.Contact, error) {
	return banOrUnban(ctx, c, ref, member, false)
}

func banOrUnban(ctx context.Context, c *client.Client, ref, member string, ban bool) (client.Group, client.Contact, error) {
	g, err := c.Group(ctx, ref)
	if err != nil {
		return g, client.Contact{}, err
	}
	ct, err := c.Resolve(ctx, member)
	if err != nil {
		return g, ct, err
	}
	a, err := api(c)
	if err != nil {
		return g, ct, err
	}
	if ban {
		if err = a.BanFromGroup(ctx, g.ID, ct.User); err == nil {
			// Process the removal the server announced, so this device
			// commits the MLS removal of the banned devices now (any
			// member may; the first commit wins).
			err = c.Sync(ctx)
		}
	} else {
		err = a.UnbanFromGroup(ctx, g.ID, ct.User)
	}
	return g, ct, err
}

// Bans lists the group ref's bans (its moderators).
func Bans(ctx context.Context, c *client.Client, ref string) (client.Group, []apiclient.GroupBan, error) {
	g, err := c.Group(ctx, ref)
	if err != nil {
		return g, nil, err
	}
	a, err := api(c)
	if err != nil {
		return g, nil, err
	}
	bs, err := a.GroupBans(ctx, g.ID)
	return g, bs, err
}

// GroupReports lists the reports about the group ref (its moderators),
// without reporter or included messages; status "" is every status.
func GroupReports(ctx context.Context, c *client.Client, ref string, status parley.ReportStatus) (client.Group, []parley.Report, error) {
	g, err := c.Group(ctx, ref)
	if err != nil {
		return g, nil, err
	}
	a, err := api(c)
	if err != nil {
		return g, nil, err
	}
	rs, err := a.GroupReports(ctx, g.ID, status, 0, 1000)
	return g, rs, err
}
