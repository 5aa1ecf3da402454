package moderation

// Reasons of the errors this package returns, beside their codes; every
// one is listed in docs/protocol.md (the root package's reasons test checks).
const (
	ReasonBadEvidence       = "bad_evidence"         // CodeInvalid: an included message lacks its seq, sender or kind, or its chat
	ReasonBadQuery          = "bad_query"            // CodeInvalid: a query parameter is not a number in range
	ReasonBadUser           = "bad_user"             // CodeInvalid: a user in a path is a user id
	ReasonEvidenceTooLong   = "evidence_too_long"    // CodeTooLarge: an included message is at most 4096 bytes
	ReasonReportCategory    = "report_category"      // CodeInvalid: a report's reason is spam, abuse or other
	ReasonReportTarget      = "report_target"        // CodeInvalid: a report is of a user, a chat or a message, and names it
	ReasonReportTextTooLong = "report_text_too_long" // CodeTooLarge: a report's text is at most 1000 bytes
	ReasonReportTooLarge    = "report_too_large"     // CodeTooLarge: a report's body is at most 256 KiB
	ReasonTooManyReports    = "too_many_reports"     // CodeRateLimited: this account filed too many reports; try again later
	ReasonTooMuchEvidence   = "too_much_evidence"    // CodeTooLarge: a report includes at most 10 messages
	ReasonNotReportable     = "not_reportable"       // CodeNotFound: you can report only chats you are in and users who exist
)
