package cloudapi

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/parleyhq/parley"
)

// Cloud API error codes this package returns. Where the Cloud API has a
// counterpart the number is the Cloud API's; the few Parley-only cases are
// listed in docs/business-api.md.
const (
	CodeUnknown            = 1      // an internal error
	CodePermission         = 10     // the token lacks the scope, or the number is not the token's
	CodeInvalidParameter   = 100    // a malformed or missing parameter
	CodeAccessToken        = 190    // missing, unknown or revoked access token
	CodeRateLimit          = 130429 // throughput limit per number reached
	CodeGeneric            = 131000 // something went wrong
	CodeParamMissing       = 131008 // a required parameter is missing
	CodeParamInvalid       = 131009 // a parameter value is not valid
	CodeUndeliverable      = 131026 // no such customer, hidden, or blocked the business
	CodeReengagement       = 131047 // more than 24 hours since the customer's last message
	CodeSpamRateLimit      = 131048 // the tier (unique template recipients in a rolling 24 hours) is used up
	CodeNoOptIn            = 131049 // a MARKETING template to a customer with no opt-in recorded
	CodeOptedOut           = 131050 // the customer opted out of marketing (STOP)
	CodeUnsupportedType    = 131051 // unsupported message type
	CodeMediaDownload      = 131052 // a media link could not be fetched
	CodeMediaUpload        = 131053 // a media upload failed
	CodeTemplateParams     = 132000 // template parameter count mismatch
	CodeTemplateNotFound   = 132001 // no such template (name, language), or not approved
	CodeTemplatePaused     = 132015 // template paused for low quality
	CodeTemplateDisabled   = 132016 // template rejected
	CodeServiceUnavailable = 131016 // the hosted endpoint is not running
)

// Error is a Cloud API error object. Status is the HTTP status it goes out with.
type Error struct {
	Status  int
	Code    int
	Message string // the Cloud API's title for the code
	Details string // what exactly went wrong (error_data.details)
	// Type and Subcode, when Type is set, make a Graph API error object:
	// that type and error_subcode, Message as is, no error_data.
	Type    string
	Subcode int
}

// SubcodeUnknownObject is the Graph API's error_subcode for an object id
// that does not exist or that the token may not see.
const SubcodeUnknownObject = 33

// errUnknownObject is the Graph API's answer to a request on an object id
// (a phone number id) that does not exist or that the token cannot see:
// HTTP 400, GraphMethodException, code 100, subcode 33. method is the
// request's HTTP method.
func errUnknownObject(method, id string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: CodeInvalidParameter, Type: "GraphMethodException", Subcode: SubcodeUnknownObject,
		Message: "Unsupported " + strings.ToLower(method) + " request. Object with ID '" + id + "' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api"}
}

func (e *Error) Error() string {
	if e.Details == "" {
		return e.Message
	}
	return e.Message + ": " + e.Details
}

var titles = map[int]string{
	CodeUnknown:            "An unknown error occurred",
	CodePermission:         "Application does not have permission for this action",
	CodeInvalidParameter:   "Invalid parameter",
	CodeAccessToken:        "Invalid OAuth access token",
	CodeRateLimit:          "Rate limit hit",
	CodeGeneric:            "Something went wrong",
	CodeParamMissing:       "Required parameter is missing",
	CodeParamInvalid:       "Parameter value is not valid",
	CodeUndeliverable:      "Message Undeliverable",
	CodeReengagement:       "Re-engagement message",
	CodeSpamRateLimit:      "Spam rate limit hit",
	CodeNoOptIn:            "Message not delivered: no opt-in",
	CodeOptedOut:           "User has stopped marketing messages",
	CodeUnsupportedType:    "Unsupported message type",
	CodeMediaDownload:      "Media download error",
	CodeMediaUpload:        "Media upload error",
	CodeTemplateParams:     "Number of parameters does not match the expected number of params",
	CodeTemplateNotFound:   "Template name does not exist in the translation",
	CodeTemplatePaused:     "Template is paused",
	CodeTemplateDisabled:   "Template is disabled",
	CodeServiceUnavailable: "Service unavailable",
}

var statuses = map[int]int{
	CodeUnknown:            http.StatusInternalServerError,
	CodePermission:         http.StatusForbidden,
	CodeAccessToken:        http.StatusUnauthorized,
	CodeRateLimit:          http.StatusTooManyRequests,
	CodeServiceUnavailable: http.StatusServiceUnavailable,
}

// apiError returns the error object for code with details.
func apiError(code int, details string) *Error {
	st, ok := statuses[code]
	if !ok {
		st = http.StatusBadRequest
	}
	return &Error{Status: st, Code: code, Message: titles[code], Details: details}
}

// asAPIError maps any error to an error object: *Error as is, a
// *parley.Error by its code, anything else to an internal error whose
// details say nothing of the cause.
func asAPIError(err error) *Error {
	var ae *Error
	if errors.As(err, &ae) {
		return ae
	}
	var pe *parley.Error
	if !errors.As(err, &pe) {
		return apiError(CodeUnknown, "internal error")
	}
	msg := parley.ErrorMessage(err)
	switch pe.Code {
	case parley.CodeInvalid, parley.CodeTooLarge:
		return apiError(CodeParamInvalid, msg)
	case parley.CodeUnauthenticated:
		return apiError(CodeAccessToken, msg)
	case parley.CodeForbidden:
		return apiError(CodePermission, msg)
	case parley.CodeNotFound, parley.CodeBlocked:
		return apiError(CodeUndeliverable, msg)
	case parley.CodeRateLimited:
		return apiError(CodeRateLimit, msg)
	case parley.CodeUnavailable:
		return apiError(CodeServiceUnavailable, msg)
	case parley.CodeConflict:
		return apiError(CodeInvalidParameter, msg)
	}
	return apiError(CodeUnknown, "internal error")
}

// errorBody is the JSON of an error object.
type errorBody struct {
	Error errorObject `json:"error"`
}

type errorObject struct {
	Message   string    `json:"message"`
	Type      string    `json:"type"`
	Code      int       `json:"code"`
	ErrorData errorData `json:"error_data"`
	TraceID   string    `json:"fbtrace_id"`
}

// graphError is a Graph API error object (Error.Type set).
type graphError struct {
	Message string `json:"message"`
	Type    string `json:"type"`
	Code    int    `json:"code"`
	Subcode int    `json:"error_subcode"`
	TraceID string `json:"fbtrace_id"`
}

type errorData struct {
	MessagingProduct string `json:"messaging_product"`
	Details          string `json:"details"`
}

func traceID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// writeError writes err as a Cloud API error object.
func writeError(w http.ResponseWriter, err error) {
	ae := asAPIError(err)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(ae.Status)
	if ae.Type != "" {
		_ = json.NewEncoder(w).Encode(map[string]any{"error": graphError{Message: ae.Message, Type: ae.Type, Code: ae.Code,
			Subcode: ae.Subcode, TraceID: traceID()}})
		return
	}
	typ := "OAuthException" // the Cloud API's type for every other error object
	_ = json.NewEncoder(w).Encode(errorBody{Error: errorObject{
		Message: "(#" + itoa(ae.Code) + ") " + ae.Message, Type: typ, Code: ae.Code,
		ErrorData: errorData{MessagingProduct: "whatsapp", Details: ae.Details}, TraceID: traceID(),
	}})
}
