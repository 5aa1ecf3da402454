package node

import (
	"fmt"
	"io"
	"log/slog"

	"github.com/parleyhq/parley/server"
)

// NewLogger returns the node's logger writing to w: format "text" (slog's
// key=value lines, the default) or "json" (one JSON object a line, the
// message in "msg"), records below level dropped, and records made with a
// request's context carrying its request_id (server.ContextLogHandler).
// The messages are the same in both formats.
func NewLogger(w io.Writer, format string, level slog.Level) (*slog.Logger, error) {
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	switch format {
	case "", "text":
		h = slog.NewTextHandler(w, opts)
	case "json":
		h = slog.NewJSONHandler(w, opts)
	default:
		return nil, fmt.Errorf("log format %q: want text or json", format)
	}
	return slog.New(server.ContextLogHandler(h)), nil
}
