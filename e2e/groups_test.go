package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestGroupsCLI drives a group's life through the CLI: create with members,
// send, only-admins-send refused with its exit code, privacy and
// invitation, promote, remove, leave.
func TestGroupsCLI(t *testing.T) {
	s := mustServe(t)
	alice := newDevice(t, "alice", "+14155550601")
	bob := newDevice(t, "bob", "+14155550602")
	carol := newDevice(t, "carol", "+14155550603")
	for _, d := range []*device{alice, bob, carol} {
		d.mustRegister(s, d.name)
	}
	carol.must("group", "privacy", "nobody")

	created := alice.must("group", "create", "Climbers", "--member", bob.phone, "--member", carol.phone, "--description", "crag days").lines()
	if len(created) != 1 || created[0]["event"] != "created" {
		t.Fatalf("group create printed %v", created)
	}
	id, _ := created[0]["group"].(string)
	if invited, _ := created[0]["invited"].([]any); len(invited) != 1 || len(created[0]["members"].([]any)) != 2 {
		t.Fatalf("create: want bob added and carol invited, got %v", created[0])
	}

	// Carol accepts by name; the group is addressed by name where unambiguous.
	if inv := carol.must("group", "invitations").lines(); len(inv) != 1 || inv[0]["group"] != id {
		t.Fatalf("invitations: %v", inv)
	}
	carol.must("group", "accept", "Climbers")

	alice.must("send", "--to", id, "rope check")
	for _, d := range []*device{bob, carol} {
		h := d.must("history", id).lines()
		if !slices.Contains(texts(h), "rope check") {
			t.Fatalf("%s history: %v", d.name, texts(h))
		}
	}

	// Settings: only admins send; a member is refused (exit 5, forbidden).
	alice.must("group", "settings", "Climbers", "--only-admins-send", "true")
	r := bob.mustFail(exitForbidden, "send", "--to", id, "can I talk?")
	if !strings.Contains(r.stderr, "admins_only_send") {
		t.Fatalf("refusal does not name the reason: %s", r.stderr)
	}
	bob.mustFail(exitForbidden, "group", "remove", id, carol.phone)
	bob.mustFail(exitForbidden, "group", "settings", id, "--only-admins-send", "false")

	alice.must("group", "promote", id, bob.phone)
	bob.must("send", "--to", id, "admin now")
	bob.must("group", "remove", id, carol.phone)
	info := alice.must("group", "info", id).lines()
	if len(info) != 1 || len(info[0]["members"].([]any)) != 2 {
		t.Fatalf("info after remove: %v", info)
	}
	carol.mustFail(exitNotFound, "group", "info", id)

	alice.must("group", "leave", id)
	alice.mustFail(exitNotFound, "group", "info", id)
	if g := bob.must("group", "list").lines(); len(g) != 1 || g[0]["name"] != "Climbers" {
		t.Fatalf("bob's groups: %v", g)
	}
}

// TestGroupInviteLinksCLI: links with a use limit, approval and revocation,
// joined by external commit from the CLI.
func TestGroupInviteLinksCLI(t *testing.T) {
	const exitExpired = 11
	s := mustServe(t)
	alice := newDevice(t, "alice", "+14155550701")
	bob := newDevice(t, "bob", "+14155550702")
	carol := newDevice(t, "carol", "+14155550703")
	for _, d := range []*device{alice, bob, carol} {
		d.mustRegister(s, d.name)
	}
	id, _ := alice.must("group", "create", "Linked").lines()[0]["group"].(string)
	link, _ := alice.must("group", "invite", id, "--uses", "1", "--expires", "1h").lines()[0]["link"].(string)
	if !strings.HasPrefix(link, "parley://join/") {
		t.Fatalf("invite printed link %q", link)
	}
	if j := bob.must("group", "join", link).lines(); len(j) != 1 || j[0]["event"] != "joined" {
		t.Fatalf("bob join: %v", j)
	}
	r := carol.mustFail(exitExpired, "group", "join", link)
	if !strings.Contains(r.stderr, "invite_used_up") {
		t.Fatalf("used-up link: %s", r.stderr)
	}
	bob.must("send", "--to", id, "in via link")
	if h := alice.must("history", id).lines(); !slices.Contains(texts(h), "in via link") {
		t.Fatalf("alice history: %v", texts(h))
	}

	ap, _ := alice.must("group", "invite", id, "--approve").lines()[0]["link"].(string)
	bob.mustFail(exitForbidden, "group", "requests", id)
	if j := carol.must("group", "join", ap).lines(); j[0]["event"] != "join_requested" {
		t.Fatalf("carol asks: %v", j)
	}
	reqs := alice.must("group", "requests", id).lines()
	if len(reqs) != 1 {
		t.Fatalf("requests: %v", reqs)
	}
	alice.must("group", "approve", id, fmt.Sprintf("%.0f", reqs[0]["user"])) // a random id: %v would print it in e-notation
	if j := carol.must("group", "join", ap).lines(); j[0]["event"] != "joined" {
		t.Fatalf("carol joins after approval: %v", j)
	}
	alice.must("group", "revoke", id, ap)
	links := alice.must("group", "links", id).lines()
	if len(links) != 2 || links[1]["revoked"] != true {
		t.Fatalf("links: %v", links)
	}
}

// TestMessageKindsCLI: reply, react, edit, delete and a poll in a group,
// rendered by parley view and poll show.
func TestMessageKindsCLI(t *testing.T) {
	s := mustServe(t)
	alice := newDevice(t, "alice", "+14155550801")
	bob := newDevice(t, "bob", "+14155550802")
	for _, d := range []*device{alice, bob} {
		d.mustRegister(s, d.name)
	}
	id, _ := alice.must("group", "create", "Kinds", "--member", bob.phone).lines()[0]["group"].(string)
	hello, _ := alice.must("send", "--to", id, "hello #news").lines()[0]["id"].(string)
	reply, _ := bob.must("reply", hello, "hi back").lines()[0]["id"].(string)
	quote, _ := bob.must("send", "--to", id, "--reply-to", hello, "quoting").lines()[0]["id"].(string)
	bob.must("react", hello, "👍")
	alice.must("edit", hello, "hello, everyone #news")
	bob.mustFail(exitForbidden, "edit", hello, "not mine")
	pollID, _ := alice.must("poll", "create", "--to", id, "Lunch?", "--option", "pizza", "--option", "sushi").lines()[0]["id"].(string)
	bob.must("poll", "vote", pollID, "1")
	bob.must("delete", reply)

	show := alice.must("poll", "show", pollID).lines()
	poll, _ := show[0]["poll"].(map[string]any)
	if tallies, _ := poll["tallies"].([]any); len(tallies) != 2 || tallies[1] != float64(1) {
		t.Fatalf("poll show: %v", show)
	}
	view := bob.must("view", id).lines()
	byID := map[string]map[string]any{}
	for _, m := range view {
		byID[m["id"].(string)] = m
	}
	h := byID[hello]
	if h["text"] != "hello, everyone #news" || h["edited"] != true || h["reactions"] == nil {
		t.Fatalf("view of the edited message: %v", h)
	}
	if tags, _ := h["hashtags"].([]any); len(tags) != 1 || tags[0] != "news" {
		t.Fatalf("hashtags: %v", h["hashtags"])
	}
	if r := byID[reply]; r["deleted"] != true || r["reply_to"] != hello {
		t.Fatalf("view of the deleted reply: %v", r)
	}
	if q := byID[quote]; q["text"] != "quoting" || q["reply_to"] != hello {
		t.Fatalf("view of the send --reply-to message: %v", q)
	}
}

// TestDisappearCLI sets and reads a chat's disappearing-messages timer.
func TestDisappearCLI(t *testing.T) {
	s := mustServe(t)
	alice := newDevice(t, "alice", "+14155550901")
	bob := newDevice(t, "bob", "+14155550902")
	for _, d := range []*device{alice, bob} {
		d.mustRegister(s, d.name)
	}
	id, _ := alice.must("group", "create", "Timer", "--member", bob.phone).lines()[0]["group"].(string)
	alice.must("chat", "disappear", id, "7d")
	if out := bob.must("chat", "disappear", id).lines(); out[0]["seconds"] != float64(7*24*3600) {
		t.Fatalf("bob reads %v", out)
	}
	alice.mustFail(2, "chat", "disappear", id, "5m")
}

// TestCommunityCLI: a community with an announcement, a sub-group members
// join, and removal from the community cascading to the sub-group.
func TestCommunityCLI(t *testing.T) {
	s := mustServe(t)
	admin := newDevice(t, "admin", "+14155551001")
	ann := newDevice(t, "ann", "+14155551002")
	ben := newDevice(t, "ben", "+14155551003")
	for _, d := range []*device{admin, ann, ben} {
		d.mustRegister(s, d.name)
	}
	created := admin.must("community", "create", "Street", "--member", ann.phone, "--member", ben.phone).lines()
	comm, _ := created[0]["group"].(string)
	if created[0]["is_community"] != true {
		t.Fatalf("community create: %v", created)
	}
	admin.must("announce", "Street", "bins on tuesday")
	if h := ben.must("history", comm).lines(); !slices.Contains(texts(h), "bins on tuesday") {
		t.Fatalf("ben's announcements: %v", texts(h))
	}
	ann.mustFail(exitForbidden, "announce", comm, "hello")
	sub, _ := admin.must("community", "new-group", comm, "Parking", "--member", ann.phone).lines()[0]["group"].(string)
	if g := ben.must("community", "groups", comm).lines(); len(g) != 1 || g[0]["member"] != false {
		t.Fatalf("ben sees groups %v", g)
	}
	ben.must("community", "join-group", comm, "Parking")
	ben.must("send", "--to", sub, "my car is blue")
	// A sub-group that needs approval: ben's join becomes a request the
	// admin approves, then ben joins; the setting is a line in the history.
	vip, _ := admin.must("community", "new-group", comm, "Garden", "--member", ann.phone).lines()[0]["group"].(string)
	admin.must("group", "settings", vip, "--join-approval", "true")
	asked := ben.must("community", "join-group", comm, "Garden").lines()
	if asked[0]["event"] != "join_requested" {
		t.Fatalf("join-group of an approval sub-group: %v", asked)
	}
	if reqs := admin.must("group", "requests", vip).lines(); len(reqs) != 1 {
		t.Fatalf("requests: %v", reqs)
	}
	admin.must("group", "approve", vip, ben.phone)
	if joined := ben.must("community", "join-group", comm, "Garden").lines(); joined[0]["event"] != "joined" {
		t.Fatalf("join-group after approval: %v", joined)
	}
	if h := ann.must("history", vip).lines(); !slices.ContainsFunc(h, func(m map[string]any) bool {
		return m["kind"] == "system" && strings.Contains(fmt.Sprint(m["text"]), "request to join")
	}) {
		t.Fatalf("ann's history has no line for the setting: %v", h)
	}
	admin.must("community", "remove", comm, ben.phone)
	info := admin.must("group", "info", sub).lines()
	if len(info[0]["members"].([]any)) != 2 {
		t.Fatalf("sub-group after removing ben from the community: %v", info)
	}
	ben.mustFail(exitNotFound, "community", "groups", comm)
}
