package e2e

import (
	"fmt"
	"strings"
	"testing"
)

// TestReportEvidenceCLI is issue #18's test of reporting: a report with
// chosen evidence reaches the operator's queue with exactly the chosen
// messages and nothing else is disclosed; a report without evidence
// carries no message text; the reporter blocks at the same time; the
// operator resolves it once, audited.
func TestReportEvidenceCLI(t *testing.T) {
	const token = "e2e-operator-token"
	t.Setenv("PARLEY_OPERATOR_TOKEN", token)
	s := mustServe(t)
	t.Setenv("PARLEY_SERVER", s.URL)
	alice := newDevice(t, "alice", "+14155550801")
	bob := newDevice(t, "bob", "+14155550802")
	op := newDevice(t, "operator", "")
	alice.mustRegister(s, "Alice")
	bob.mustRegister(s, "Bob")

	// Bob writes four messages; alice will include only the last two.
	const secret = "MARKER-not-chosen-7f3a"
	for _, text := range []string{"hello alice", secret, "cheap watches here", "click parley.example/win"} {
		bob.must("send", "--to", alice.phone, text)
	}
	alice.must("history", bob.phone) // receive them
	if r := op.must("admin", "reports"); len(r.lines()) != 0 {
		t.Fatalf("queue before any report: %s", r.stdout)
	}

	rep := alice.must("report", bob.phone, "--reason", "spam", "--text", "sells watches", "--include", "2", "--block").lines()
	if len(rep) != 1 || rep[0]["event"] != "reported" || rep[0]["included"] != float64(2) || rep[0]["blocked"] != true {
		t.Fatalf("report printed %v", rep)
	}
	// Blocked at the same time: bob's messages to alice are refused.
	if r := bob.mustFail(exitBlocked, "send", "--to", alice.phone, "are you there?"); !strings.Contains(r.stderr, "blocked") {
		t.Fatalf("send after the block: %s", r.stderr)
	}

	queue := op.must("admin", "reports", "--status", "open")
	got := queue.lines()
	if len(got) != 1 {
		t.Fatalf("open reports: %s", queue.stdout)
	}
	r := got[0]
	aliceID, bobID := userID(t, alice), userID(t, bob)
	if r["target"] != "user" || r["user"] != float64(bobID) || r["reporter"] != float64(aliceID) || r["category"] != "spam" ||
		r["text"] != "sells watches" || r["status"] != "open" {
		t.Fatalf("the report in the queue: %v", r)
	}
	ev, _ := r["evidence"].([]any)
	var evTexts []string
	for _, e := range ev {
		m := e.(map[string]any)
		if m["sender"] != float64(bobID) || m["kind"] != "text" {
			t.Fatalf("evidence entry %v", m)
		}
		evTexts = append(evTexts, m["text"].(string))
	}
	if strings.Join(evTexts, "|") != "cheap watches here|click parley.example/win" {
		t.Fatalf("evidence %q, want exactly the two chosen messages", evTexts)
	}
	// Nothing else: the messages not chosen appear nowhere in what the
	// operator can read — the queue, the report's page, the audit log.
	show := op.must("admin", "report", "show", fmt.Sprint(r["id"]))
	audit := op.must("admin", "audit")
	for what, out := range map[string]string{"queue": queue.stdout, "show": show.stdout, "audit": audit.stdout} {
		if strings.Contains(out, secret) || strings.Contains(out, "hello alice") {
			t.Fatalf("the operator's %s discloses a message that was not chosen:\n%s", what, out)
		}
	}

	// A report without evidence carries no message text at all.
	msgs := alice.must("history", bob.phone).lines()
	lastID := msgs[len(msgs)-1]["id"].(string)
	plain := alice.must("report", lastID, "--reason", "abuse").lines()
	if plain[0]["included"] != float64(0) || plain[0]["target"] != "message" {
		t.Fatalf("report without evidence printed %v", plain)
	}
	one := op.must("admin", "report", "show", fmt.Sprint(plain[0]["id"]))
	if o := one.lines()[0]; o["evidence"] != nil || o["seq"] == nil || o["user"] != float64(bobID) {
		t.Fatalf("report without evidence: %v", o)
	}
	for _, text := range []string{"hello alice", secret, "cheap watches", "click parley"} {
		if strings.Contains(one.stdout, text) {
			t.Fatalf("a report without evidence discloses %q: %s", text, one.stdout)
		}
	}

	// The operator resolves the first report once; the queue moves on.
	res := op.must("admin", "report", "resolve", fmt.Sprint(r["id"]), "--note", "suspended the sender").lines()
	if res[0]["status"] != "resolved" || res[0]["handled_by"] != "operator" || res[0]["note"] != "suspended the sender" {
		t.Fatalf("resolve: %v", res)
	}
	if f := op.mustFail(exitConflict, "admin", "report", "dismiss", fmt.Sprint(r["id"])); !strings.Contains(f.stderr, "report_handled") {
		t.Fatalf("dismissing a resolved report: %s", f.stderr)
	}
	if open := op.must("admin", "reports", "--status", "open").lines(); len(open) != 1 || open[0]["id"] != plain[0]["id"] {
		t.Fatalf("open reports after resolving: %v", open)
	}
	actions := []string{}
	for _, e := range op.must("admin", "audit", "--limit", "3").lines() {
		actions = append(actions, e["action"].(string))
	}
	if strings.Join(actions, ",") != "list_reports,resolve_report,view_report" {
		t.Fatalf("audit: %v", actions)
	}

	// Limits have their reasons.
	if f := alice.mustFail(exitInvalid, "report", bob.phone, "--include", "11"); !strings.Contains(f.stderr, "include_range") {
		t.Fatalf("--include 11: %s", f.stderr)
	}
	if f := alice.mustFail(exitTooLarge, "report", bob.phone, "--text", strings.Repeat("x", 1001)); !strings.Contains(f.stderr, "report_text_too_long") {
		t.Fatalf("a long text: %s", f.stderr)
	}
	if f := alice.mustFail(exitInvalid, "report", bob.phone, "--reason", "boring"); !strings.Contains(f.stderr, "report_category") {
		t.Fatalf("an unknown reason: %s", f.stderr)
	}
}

// TestGroupModerationCLI: a group's admin sees the reports about the group
// (without the reporter or the evidence) and no other group's; deletes a
// member's message for everyone; bans the member, who is removed and
// cannot rejoin through an invite link until unbanned.
func TestGroupModerationCLI(t *testing.T) {
	const token = "e2e-operator-token"
	t.Setenv("PARLEY_OPERATOR_TOKEN", token)
	s := mustServe(t)
	t.Setenv("PARLEY_SERVER", s.URL)
	alice := newDevice(t, "alice", "+14155550811")
	bob := newDevice(t, "bob", "+14155550812")
	carol := newDevice(t, "carol", "+14155550813")
	dave := newDevice(t, "dave", "+14155550814")
	op := newDevice(t, "operator", "")
	for _, d := range []*device{alice, bob, carol, dave} {
		d.mustRegister(s, d.name)
	}
	market, _ := alice.must("group", "create", "Market", "--member", bob.phone, "--member", carol.phone).lines()[0]["group"].(string)
	other, _ := dave.must("group", "create", "Other", "--member", carol.phone).lines()[0]["group"].(string)

	const spam = "GROUP-SPAM buy followers"
	sent := bob.must("send", "--to", market, spam).lines()
	spamID := sent[0]["id"].(string)
	carol.must("history", market)
	// Up to 3 messages: only bob's one, not the history lines of the group's creation.
	if r := carol.must("report", spamID, "--reason", "spam", "--text", "bot account", "--include", "3").lines(); r[0]["included"] != float64(1) {
		t.Fatalf("report in the group: %v", r)
	}
	carol.must("send", "--to", other, "hi dave")
	carol.must("report", other, "--reason", "other")

	// Alice moderates Market: she sees its report, not who filed it nor
	// the message carol included; Other's report is not hers to see.
	seen := alice.must("group", "reports", market)
	rs := seen.lines()
	if len(rs) != 1 || rs[0]["target"] != "message" || rs[0]["text"] != "bot account" || rs[0]["conversation"] != market {
		t.Fatalf("alice's reports about Market: %s", seen.stdout)
	}
	if _, ok := rs[0]["reporter"]; ok || rs[0]["evidence"] != nil || strings.Contains(seen.stdout, spam) {
		t.Fatalf("a group admin sees the reporter or the evidence: %s", seen.stdout)
	}
	if f := alice.mustFail(exitNotFound, "group", "reports", other); f.code == 0 {
		t.Fatal("alice reads Other's reports")
	}
	if f := bob.mustFail(exitForbidden, "group", "reports", market); !strings.Contains(f.stderr, "not_admin") {
		t.Fatalf("a member reads the group's reports: %s", f.stderr)
	}
	// The operator has it whole.
	full := op.must("admin", "reports").lines()
	if len(full) != 2 || full[0]["reporter"] != float64(userID(t, carol)) || len(full[0]["evidence"].([]any)) != 1 {
		t.Fatalf("the operator's queue: %v", full)
	}

	// The admin deletes bob's message for everyone.
	alice.must("delete", spamID)
	deleted := false
	for _, m := range carol.must("history", market).lines() {
		if m["id"] == spamID && m["deleted_by_admin"] == true {
			deleted = true
		}
	}
	if !deleted {
		t.Fatalf("carol still has bob's message undeleted")
	}

	// Ban: bob is removed at once and cannot come back through a link.
	alice.must("group", "ban", market, bob.phone)
	if info := alice.must("group", "info", market).lines(); len(info[0]["members"].([]any)) != 2 {
		t.Fatalf("members after the ban: %v", info[0]["members"])
	}
	if bans := alice.must("group", "bans", market).lines(); len(bans) != 1 || bans[0]["user"] != float64(userID(t, bob)) {
		t.Fatalf("bans: %v", bans)
	}
	link, _ := alice.must("group", "invite", market).lines()[0]["link"].(string)
	if f := bob.mustFail(exitForbidden, "group", "join", link); !strings.Contains(f.stderr, "banned_from_group") {
		t.Fatalf("a banned user joins by link: %s", f.stderr)
	}
	if f := alice.mustFail(exitForbidden, "group", "add", market, bob.phone); !strings.Contains(f.stderr, "banned_from_group") {
		t.Fatalf("adding a banned user: %s", f.stderr)
	}
	alice.must("group", "unban", market, bob.phone)
	if j := bob.must("group", "join", link).lines(); j[0]["event"] != "joined" {
		t.Fatalf("bob joins after the unban: %v", j)
	}
}

func userID(t *testing.T, d *device) int64 {
	t.Helper()
	return int64(d.must("whoami").lines()[0]["user_id"].(float64))
}
