package media

// Reasons of the errors this package returns, beside their codes; every
// one is listed in docs/protocol.md (the root package's reasons test checks).
const (
	ReasonBadConversation  = "bad_conversation"  // CodeInvalid: Upload-Metadata must name the conversation
	ReasonBadRequest       = "bad_request"       // CodeInvalid: want {"conversation": ID, "seq": N}
	ReasonLengthRequired   = "length_required"   // CodeInvalid: Upload-Length is required
	ReasonQuotaExceeded    = "quota_exceeded"    // CodeTooLarge: media quota exceeded: … of … bytes used, … more requested
	ReasonUploadIncomplete = "upload_incomplete" // CodeNotFound: the file is still being uploaded
)
