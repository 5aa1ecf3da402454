package moderation

import (
	"bytes"
	"encoding/json"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley"
)

// The bounds of a report. A report carries at most MaxEvidence messages of
// at most MaxEvidenceText bytes each, and the reporter's own words of at
// most MaxText bytes; a request body is at most MaxBody bytes, room for the
// largest report even with every character JSON-escaped (\u003c is six
// bytes for one).
const (
	MaxText         = 1000
	MaxEvidence     = 10
	MaxEvidenceText = 4096
	MaxKind         = 32
	MaxBody         = 256 << 10
)

// ReportRequest is the JSON body of POST /v1/reports: what a user reports,
// why, and the messages their device decrypted and they chose to include
// (none unless they did).
type ReportRequest struct {
	Target       parley.ReportTarget     `json:"target"`
	User         parley.UserID           `json:"user,omitempty"`
	Conversation parley.ConversationID   `json:"conversation,omitempty"`
	Seq          parley.Seq              `json:"seq,omitempty"`
	Category     parley.ReportCategory   `json:"category"`
	Text         string                  `json:"text,omitempty"`
	Evidence     []parley.ReportEvidence `json:"evidence,omitempty"`
}

// Filed is the answer to a filed report.
type Filed struct {
	ID     int64               `json:"id"`
	Status parley.ReportStatus `json:"status"`
}

// DecodeReport decodes and checks a report request from untrusted bytes.
// Errors: CodeTooLarge ReasonReportTooLarge (body), ReasonReportTextTooLong,
// ReasonTooMuchEvidence, ReasonEvidenceTooLong; CodeInvalid
// parley.ReasonBadJSON (not one JSON object, unknown fields),
// ReasonReportTarget, ReasonReportCategory, ReasonBadEvidence.
func DecodeReport(b []byte) (ReportRequest, error) {
	var r ReportRequest
	if len(b) > MaxBody {
		return r, parley.Errorf(parley.CodeTooLarge, ReasonReportTooLarge, "a report is at most %d bytes", MaxBody)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return ReportRequest{}, parley.Errorf(parley.CodeInvalid, parley.ReasonBadJSON, "the report is not the expected JSON object: %v", err)
	}
	if dec.More() {
		return ReportRequest{}, parley.Errorf(parley.CodeInvalid, parley.ReasonBadJSON, "the report has data after its JSON object")
	}
	return r, r.Check()
}

// Check applies the rules of a report that need no lookup: the target has
// what it names, the category is known, the bounds hold, and evidence
// comes with the chat it is from.
func (r ReportRequest) Check() error {
	switch r.Target {
	case parley.ReportUser:
		if r.User <= 0 || r.Seq != 0 {
			return parley.Errorf(parley.CodeInvalid, ReasonReportTarget, "a report of a user names the user (and no message)")
		}
	case parley.ReportChat:
		if !r.Conversation.Valid() || r.Seq != 0 {
			return parley.Errorf(parley.CodeInvalid, ReasonReportTarget, "a report of a chat names the chat (and no message)")
		}
	case parley.ReportMessage:
		if !r.Conversation.Valid() || r.Seq <= 0 {
			return parley.Errorf(parley.CodeInvalid, ReasonReportTarget, "a report of a message names its chat and seq")
		}
	default:
		return parley.Errorf(parley.CodeInvalid, ReasonReportTarget, "a report is of a user, a chat or a message")
	}
	if r.User < 0 || (r.Conversation != "" && !r.Conversation.Valid()) {
		return parley.Errorf(parley.CodeInvalid, ReasonReportTarget, "the reported user or chat is not an id")
	}
	switch r.Category {
	case parley.ReportSpam, parley.ReportAbuse, parley.ReportOther:
	default:
		return parley.Errorf(parley.CodeInvalid, ReasonReportCategory, "a report's reason is spam, abuse or other")
	}
	if len(r.Text) > MaxText || !utf8.ValidString(r.Text) {
		return parley.Errorf(parley.CodeTooLarge, ReasonReportTextTooLong, "a report's text is at most %d bytes of UTF-8", MaxText)
	}
	if len(r.Evidence) > MaxEvidence {
		return parley.Errorf(parley.CodeTooLarge, ReasonTooMuchEvidence, "a report includes at most %d messages", MaxEvidence)
	}
	if len(r.Evidence) > 0 && r.Conversation == "" {
		return parley.Errorf(parley.CodeInvalid, ReasonBadEvidence, "included messages come with the chat they are from")
	}
	for _, e := range r.Evidence {
		if len(e.Text) > MaxEvidenceText || !utf8.ValidString(e.Text) {
			return parley.Errorf(parley.CodeTooLarge, ReasonEvidenceTooLong, "an included message is at most %d bytes of UTF-8", MaxEvidenceText)
		}
		if e.Seq <= 0 || e.Sender <= 0 || e.Kind == "" || len(e.Kind) > MaxKind || !utf8.ValidString(e.Kind) {
			return parley.Errorf(parley.CodeInvalid, ReasonBadEvidence, "an included message has its seq, sender and kind")
		}
	}
	return nil
}

// Report is the report r makes for reporter at now.
func (r ReportRequest) Report(reporter parley.UserID, now time.Time) parley.Report {
	ev := r.Evidence
	if len(ev) == 0 {
		ev = nil
	}
	for i := range ev {
		ev[i].SentAt = ev[i].SentAt.UTC()
	}
	return parley.Report{Reporter: reporter, Target: r.Target, User: r.User, Conversation: r.Conversation, Seq: r.Seq,
		Category: r.Category, Text: r.Text, Evidence: ev, Status: parley.ReportOpen, CreatedAt: now}
}
