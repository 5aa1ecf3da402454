package gateway

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"log/slog"
	"strconv"
)

// requestIDHeader is the header the server's request-id middleware sets on
// every response before the handler runs (server.RequestIDHeader), so the
// upgrade's response carries it: "session opened" logs it beside the
// session's own id, which links the HTTP request to the session.
const requestIDHeader = "X-Request-Id"

// newSessionID returns a random session id: unique across the nodes of a
// cluster without coordination, so an operator can grep one connection in
// the merged logs.
func newSessionID() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.BigEndian.Uint64(b[:]) | 1 // never 0
}

// sessionIDString formats a session id as 16 hexadecimal digits.
func sessionIDString(id uint64) string {
	s := strconv.FormatUint(id, 16)
	for len(s) < 16 {
		s = "0" + s
	}
	return s
}

// log writes a record about this session: every record carries the
// attribute session (its id) and, once it is authenticated, user and
// device. Nothing is kept per session for logging beyond the id (an idle
// session's memory stays small); the attributes are built only for
// records the logger will write.
func (s *session) log(level slog.Level, msg string, args ...any) {
	ctx := context.Background()
	if !s.g.log.Enabled(ctx, level) {
		return
	}
	attrs := make([]any, 0, 6+len(args))
	attrs = append(attrs, "session", sessionIDString(s.id))
	if dev := s.deviceID(); dev != 0 {
		attrs = append(attrs, "user", s.dev.User, "device", dev)
	}
	s.g.log.Log(ctx, level, msg, append(attrs, args...)...)
}
