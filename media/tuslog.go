package media

import (
	"context"
	"log/slog"

	expslog "golang.org/x/exp/slog"
)

// tusLogger bridges tusd's logger (golang.org/x/exp/slog) to ours, keeping
// only warnings and errors: tusd logs every request at Info.
func tusLogger(l *slog.Logger) *expslog.Logger {
	return expslog.New(bridge{l})
}

type bridge struct{ l *slog.Logger }

func (b bridge) Enabled(_ context.Context, lv expslog.Level) bool { return lv >= expslog.LevelWarn }

func (b bridge) Handle(ctx context.Context, r expslog.Record) error {
	attrs := make([]any, 0, 2*r.NumAttrs())
	r.Attrs(func(a expslog.Attr) bool {
		attrs = append(attrs, a.Key, a.Value.String())
		return true
	})
	b.l.Log(ctx, slog.Level(r.Level), "tus: "+r.Message, attrs...)
	return nil
}

func (b bridge) WithAttrs(as []expslog.Attr) expslog.Handler {
	args := make([]any, 0, 2*len(as))
	for _, a := range as {
		args = append(args, a.Key, a.Value.String())
	}
	return bridge{b.l.With(args...)}
}

func (b bridge) WithGroup(name string) expslog.Handler { return bridge{b.l.WithGroup(name)} }
