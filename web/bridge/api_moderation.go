package bridge

import (
	"context"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/client/moderation"
)

// ReportOptions is api.ts ReportOptions.
type ReportOptions struct {
	Reason  string `json:"reason"`  // spam, abuse or other
	Text    string `json:"text"`    // the reporter's own words
	Include int    `json:"include"` // the chat's last N messages to include (0–10)
	Block   bool   `json:"block"`   // also block the person (or the message's sender)
}

// ReportFiled is api.ts ReportFiled.
type ReportFiled struct {
	ID       int64 `json:"id"`
	Included int   `json:"included"`
	Blocked  bool  `json:"blocked"`
}

// GroupReport is api.ts GroupReport: a report about a group as its
// moderators see it (no reporter, no included messages).
type GroupReport struct {
	ID        int64  `json:"id"`
	Target    string `json:"target"`
	User      int64  `json:"user"`
	Seq       int64  `json:"seq"`
	Category  string `json:"category"`
	Text      string `json:"text"`
	Status    string `json:"status"`
	CreatedAt int64  `json:"createdAt"` // Unix ms
}

// GroupBan is api.ts GroupBan.
type GroupBan struct {
	User int64 `json:"user"`
	By   int64 `json:"by"`
	At   int64 `json:"at"` // Unix ms
}

// banMethod adapts ban and unban: (group, member).
func banMethod(f func(ctx context.Context, c *client.Client, ref, member string) (client.Group, client.Contact, error)) handler {
	return str2("group", "member", func(ctx context.Context, api *API, ref, member string) (any, error) {
		_, _, err := f(ctx, api.C, ref, member)
		return none(err)
	})
}

// moderationMethods are reporting's and group moderators' calls (package
// client/moderation).
var moderationMethods = map[string]handler{
	"groupReports": str2("group", "status", func(ctx context.Context, api *API, ref, status string) (any, error) {
		_, rs, err := moderation.GroupReports(ctx, api.C, ref, parley.ReportStatus(status))
		if err != nil {
			return nil, err
		}
		out := make([]GroupReport, 0, len(rs))
		for _, r := range rs {
			out = append(out, GroupReport{ID: r.ID, Target: string(r.Target), User: int64(r.User), Seq: int64(r.Seq), Category: string(r.Category),
				Text: r.Text, Status: string(r.Status), CreatedAt: Millis(r.CreatedAt)})
		}
		return out, nil
	}),
	"groupBans": str1("group", func(ctx context.Context, api *API, ref string) (any, error) {
		_, bs, err := moderation.Bans(ctx, api.C, ref)
		if err != nil {
			return nil, err
		}
		out := make([]GroupBan, 0, len(bs))
		for _, b := range bs {
			out = append(out, GroupBan{User: int64(b.User), By: int64(b.By), At: Millis(b.At)})
		}
		return out, nil
	}),
	"banFromGroup":   banMethod(moderation.Ban),
	"unbanFromGroup": banMethod(moderation.Unban),
	"report": func(ctx context.Context, api *API, a Args) (any, error) {
		target, err := a.Str(0, "target")
		if err != nil {
			return nil, err
		}
		var o ReportOptions
		if err := a.Decode(1, "options", &o); err != nil {
			return nil, err
		}
		f, err := moderation.Report(ctx, api.C, target, moderation.Options{Category: parley.ReportCategory(o.Reason), Text: o.Text,
			Include: o.Include, Block: o.Block})
		if err != nil {
			return nil, err
		}
		return ReportFiled{ID: f.ID, Included: f.Included, Blocked: f.Blocked}, nil
	},
}
