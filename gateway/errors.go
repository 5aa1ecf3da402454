package gateway

import (
	"errors"
	"log/slog"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/proto/parleypb"
)

// wireCode maps a domain error code to its wire ErrorCode.
func wireCode(c parley.Code) parleypb.ErrorCode {
	switch c {
	case parley.CodeInvalid:
		return parleypb.ErrorCode_INVALID
	case parley.CodeUnauthenticated:
		return parleypb.ErrorCode_UNAUTHENTICATED
	case parley.CodeForbidden:
		return parleypb.ErrorCode_FORBIDDEN
	case parley.CodeNotFound:
		return parleypb.ErrorCode_NOT_FOUND
	case parley.CodeConflict:
		return parleypb.ErrorCode_CONFLICT
	case parley.CodeRateLimited:
		return parleypb.ErrorCode_RATE_LIMITED
	case parley.CodeTooLarge:
		return parleypb.ErrorCode_TOO_LARGE
	case parley.CodeBlocked:
		return parleypb.ErrorCode_BLOCKED
	case parley.CodeExpired:
		return parleypb.ErrorCode_EXPIRED
	case parley.CodeUnavailable:
		return parleypb.ErrorCode_UNAVAILABLE
	default:
		return parleypb.ErrorCode_INTERNAL
	}
}

// replyErr answers request id with err. Internal errors are logged and
// shown as "internal error".
func (s *session) replyErr(id uint64, err error) {
	code := parley.ErrorCode(err)
	var pe *parley.Error
	if code == parley.CodeInternal || !errors.As(err, &pe) {
		s.log(slog.LevelError, "request failed", "err", err)
	}
	if code == parley.CodeRateLimited {
		s.g.stats.rateLimited.Add(1)
	}
	if id == 0 {
		return
	}
	s.sendError(id, wireCode(code), parley.ErrorReason(err), parley.ErrorMessage(err), parley.RetryAfter(err))
}
