package parley

import (
	"errors"
	"fmt"
)

// Code is the closed set of error classes Parley reports. Edges map them to
// HTTP statuses (package httperr), wire-protocol error codes and CLI exit
// codes; nothing else should branch on error text.
type Code string

// The error codes. Their wire numbers are in docs/protocol.md.
const (
	CodeInvalid         Code = "invalid"         // the request is malformed or breaks a rule
	CodeUnauthenticated Code = "unauthenticated" // no or bad credentials, or a revoked device
	CodeForbidden       Code = "forbidden"       // authenticated but not allowed
	CodeNotFound        Code = "not_found"       // the thing does not exist (or is hidden)
	CodeConflict        Code = "conflict"        // state changed underneath (wrong epoch, taken username)
	CodeRateLimited     Code = "rate_limited"    // too many attempts; retry later
	CodeTooLarge        Code = "too_large"       // a size or count limit was exceeded
	CodeBlocked         Code = "blocked"         // the recipient has blocked the sender
	CodeExpired         Code = "expired"         // a code, link or credential is past its lifetime
	CodeUnavailable     Code = "unavailable"     // the server is shutting down or overloaded
	CodeInternal        Code = "internal"        // a bug or an infrastructure failure
)

// Error is Parley's one error type. Code is the class; Reason is a stable,
// machine-readable detail within the class (for example "code_expired" or
// "frame_too_large") that clients may branch on; Message is for people.
type Error struct {
	Code    Code
	Reason  string
	Message string
	Err     error // the underlying cause, for logs; never shown to users
}

func (e *Error) Error() string {
	s := string(e.Code)
	if e.Reason != "" {
		s += "/" + e.Reason
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code, reason and message.
func Errorf(code Code, reason, format string, args ...any) *Error {
	return &Error{Code: code, Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the Code of the first *Error in err's chain, CodeInternal
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// ErrorReason returns the Reason of the first *Error in err's chain, or "".
func ErrorReason(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

// ErrorMessage returns the human message of the first *Error in err's chain;
// for other errors it returns "internal error" so internals never leak.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		if e.Message != "" {
			return e.Message
		}
		return string(e.Code)
	}
	return "internal error"
}

// IsCode reports whether err carries the given code.
func IsCode(err error, code Code) bool { return ErrorCode(err) == code }

// ErrNotFound is returned by stores when a looked-up record does not exist.
var ErrNotFound = &Error{Code: CodeNotFound, Reason: ReasonNotFound, Message: "not found"}
