package apiclient

import (
	"context"
	"net/url"
	"strconv"
	"time"

	"github.com/parleyhq/parley"
)

// Reports and group moderation (package moderation on the server), called
// as a device (ForDevice), and the operator's report queue (admin API,
// New with Bearer).

// ReportsPath is the route users file reports at.
const ReportsPath = "/v1/reports"

// ReportRequest is a report as a user files it; Evidence holds only the
// messages the user chose to include (decrypted on their device).
type ReportRequest struct {
	Target       parley.ReportTarget     `json:"target"`
	User         parley.UserID           `json:"user,omitempty"`
	Conversation parley.ConversationID   `json:"conversation,omitempty"`
	Seq          parley.Seq              `json:"seq,omitempty"`
	Category     parley.ReportCategory   `json:"category"`
	Text         string                  `json:"text,omitempty"`
	Evidence     []parley.ReportEvidence `json:"evidence,omitempty"`
}

// FiledReport is the server's answer to a filed report.
type FiledReport struct {
	ID     int64               `json:"id"`
	Status parley.ReportStatus `json:"status"`
}

// GroupBan is a group's ban as its moderators see it.
type GroupBan struct {
	User parley.UserID `json:"user"`
	By   parley.UserID `json:"by"`
	At   time.Time     `json:"at"`
}

// FileReport files a report as this device's user.
func (c *Client) FileReport(ctx context.Context, r ReportRequest) (FiledReport, error) {
	var f FiledReport
	return f, c.Call(ctx, "POST", ReportsPath, r, &f)
}

func groupPath(id parley.ConversationID) string { return "/v1/groups/" + url.PathEscape(string(id)) }

// GroupReports lists the reports about a group to one of its moderators
// (without reporter or evidence); status "" is every status.
func (c *Client) GroupReports(ctx context.Context, id parley.ConversationID, status parley.ReportStatus, after int64, limit int) ([]parley.Report, error) {
	var l list[parley.Report]
	q := adminQuery("status", string(status), "after", strconv.FormatInt(after, 10), "limit", strconv.Itoa(limit))
	return l.Data, c.Call(ctx, "GET", groupPath(id)+"/reports"+q, nil, &l)
}

// BanFromGroup bans user from the group (and removes them if a member).
func (c *Client) BanFromGroup(ctx context.Context, id parley.ConversationID, user parley.UserID) error {
	return c.Call(ctx, "PUT", groupPath(id)+"/bans/"+strconv.FormatInt(int64(user), 10), nil, nil)
}

// UnbanFromGroup lifts a ban.
func (c *Client) UnbanFromGroup(ctx context.Context, id parley.ConversationID, user parley.UserID) error {
	return c.Call(ctx, "DELETE", groupPath(id)+"/bans/"+strconv.FormatInt(int64(user), 10), nil, nil)
}

// GroupBans lists a group's bans.
func (c *Client) GroupBans(ctx context.Context, id parley.ConversationID) ([]GroupBan, error) {
	var l list[GroupBan]
	return l.Data, c.Call(ctx, "GET", groupPath(id)+"/bans", nil, &l)
}

// AdminReports lists users' reports oldest first, after the ID after;
// status "" is every status.
func (c *Client) AdminReports(ctx context.Context, status parley.ReportStatus, after int64, limit int) ([]parley.Report, error) {
	var l list[parley.Report]
	q := adminQuery("status", string(status), "after", strconv.FormatInt(after, 10), "limit", strconv.Itoa(limit))
	return l.Data, c.Call(ctx, "GET", AdminPath+"/reports"+q, nil, &l)
}

// AdminReport shows one report whole: its reporter and its evidence.
func (c *Client) AdminReport(ctx context.Context, id int64) (parley.Report, error) {
	var r parley.Report
	return r, c.Call(ctx, "GET", AdminPath+"/reports/"+strconv.FormatInt(id, 10), nil, &r)
}

// AdminHandleReport resolves (or, with resolve false, dismisses) an open
// report with an optional note.
func (c *Client) AdminHandleReport(ctx context.Context, id int64, resolve bool, note string) (parley.Report, error) {
	verb := "/dismiss"
	if resolve {
		verb = "/resolve"
	}
	var r parley.Report
	return r, c.Call(ctx, "POST", AdminPath+"/reports/"+strconv.FormatInt(id, 10)+verb, map[string]string{"note": note}, &r)
}
