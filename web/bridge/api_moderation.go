package bridge

import (
	"context"

	"github.com/parleyhq/parley"
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

// moderationMethods are reporting's calls (package client/moderation).
var moderationMethods = map[string]handler{
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
