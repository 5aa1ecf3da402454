package client

import (
	"context"
	"errors"
	"slices"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/mls"
)

// Commit rules: every device refuses a commit whose proposals its sender
// was not allowed to make, whatever the server accepted (defence in depth;
// the server refuses them first, delivery/handshake.go). The rules are the
// group service's (docs/groups.md "Rules"), checked against the group's
// roles as this device knows them (the group's details from the server,
// cached until the conversation's next system envelope):
//   - a member commit that adds a device of a user who has no leaf in the
//     group is an admin's (in a direct conversation nobody may add a third
//     user);
//   - a member commit that removes a device of another user is an admin's,
//     unless that device has already left (its user is no longer a member,
//     or it is no longer one of the user's devices: revoked);
//   - proposals other than add, remove and update are never allowed;
//   - an external commit adds only its sender and removes only the
//     sender's own older leaf (package mls checks both).
//
// A refused commit leaves the group in its epoch (package mls applies
// nothing); the envelope is dropped with a warning in the log and an
// EventCommitRefused, and the device then rejoins by a resync external
// commit from the server's GroupInfo (resync.go), which puts it back in
// the group as the server's checked record has it.

// ReasonCommitNotAllowed is the reason of the error a refused commit
// yields (CodeForbidden).
const ReasonCommitNotAllowed = "commit_not_allowed"

// reasonRulesUnavailable marks a commit that could not be checked (the
// group's details could not be fetched): it is left unacknowledged and
// processed again later, neither applied nor refused.
const reasonRulesUnavailable = "rules_unavailable"

func rulesUnavailable(err error) error {
	return &parley.Error{Code: parley.CodeUnavailable, Reason: reasonRulesUnavailable, Message: "the group's rules could not be read", Err: err}
}

func commitNotAllowed(format string, args ...any) error {
	return parley.Errorf(parley.CodeForbidden, ReasonCommitNotAllowed, format, args...)
}

// commitRules returns the policy checking commits to conv against the
// rules above. g is the group in its current epoch. The caller holds
// cryptoMu.
func (c *Client) commitRules(ctx context.Context, conv parley.ConversationID, g group) func(commitEffect) error {
	return func(e commitEffect) error {
		if e.Other > 0 {
			return commitNotAllowed("a commit by %d:%d applies proposals Parley never makes", e.Committer.User, e.Committer.Device)
		}
		if e.External {
			return nil
		}
		before := g.Members()
		hasUser := func(u parley.UserID) bool {
			return slices.ContainsFunc(before, func(m member) bool { return m.User == u })
		}
		var newUsers []parley.UserID
		for _, a := range e.Added {
			if !hasUser(a.User) {
				newUsers = append(newUsers, a.User)
			}
		}
		var others []member
		for _, r := range e.Removed {
			if r.User != e.Committer.User {
				others = append(others, r)
			}
		}
		if len(newUsers) == 0 && len(others) == 0 {
			return nil // key updates, own devices, devices of members
		}
		chat, err := c.store.Chat(ctx, conv)
		if err != nil {
			return storeErr(err)
		}
		if chat.Kind != parley.KindGroup {
			if len(newUsers) > 0 {
				return commitNotAllowed("%d:%d added user %d to a direct conversation", e.Committer.User, e.Committer.Device, newUsers[0])
			}
			return c.checkDeparted(ctx, conv, e, others)
		}
		grp, err := c.rulesGroup(ctx, conv, false)
		if parley.IsCode(err, parley.CodeNotFound) {
			return nil // this user is out of the group: nothing left to protect
		}
		if err != nil {
			return rulesUnavailable(err)
		}
		if !grp.IsAdmin(e.Committer.User) {
			// Roles may have changed since they were cached: ask again
			// before refusing.
			if grp, err = c.rulesGroup(ctx, conv, true); err != nil {
				return rulesUnavailable(err)
			}
		}
		if grp.IsAdmin(e.Committer.User) {
			return nil
		}
		if len(newUsers) > 0 {
			return commitNotAllowed("user %d, not an admin, added user %d", e.Committer.User, newUsers[0])
		}
		for _, r := range others {
			i := slices.IndexFunc(grp.Members, func(m GroupMember) bool { return m.User == r.User })
			if i >= 0 && slices.ContainsFunc(grp.Members[i].Devices, func(k DeviceKey) bool { return k.Device == r.Device }) {
				return commitNotAllowed("user %d, not an admin, removed device %d of user %d", e.Committer.User, r.Device, r.User)
			}
		}
		return nil
	}
}

// checkDeparted allows the removal of other users' devices from a direct
// conversation only when the server no longer lists them as members
// (revoked devices).
func (c *Client) checkDeparted(ctx context.Context, conv parley.ConversationID, e commitEffect, others []member) error {
	list, err := c.listConversations(ctx)
	if err != nil {
		return rulesUnavailable(err)
	}
	for _, info := range list {
		if parley.ConversationID(info.GetId()) != conv {
			continue
		}
		for _, r := range others {
			if slices.Contains(info.GetMemberDevices(), int64(r.Device)) {
				return commitNotAllowed("%d:%d removed device %d of user %d", e.Committer.User, e.Committer.Device, r.Device, r.User)
			}
		}
	}
	return nil
}

// rulesGroup returns conv's details, cached until the conversation's next
// system envelope (role changes and departures are announced by one) or
// fetched again with refresh. The caller holds cryptoMu.
func (c *Client) rulesGroup(ctx context.Context, conv parley.ConversationID, refresh bool) (*Group, error) {
	if g := c.rules[conv]; g != nil && !refresh {
		return g, nil
	}
	g, err := c.Group(ctx, string(conv))
	if err != nil {
		return nil, err
	}
	c.rules[conv] = &g
	return &g, nil
}

// forgetRules drops the cached details of conv. The caller holds cryptoMu.
func (c *Client) forgetRules(conv parley.ConversationID) { delete(c.rules, conv) }

// commitRefusal returns the rule a commit broke when err is a refusal by
// the commit rules, else nil.
func commitRefusal(err error) error {
	var pe *parley.Error
	if errors.Is(err, mls.ErrCommitRefused) && errors.As(err, &pe) && pe.Reason == ReasonCommitNotAllowed {
		return pe
	}
	return nil
}
