// Package callcmd is `parley call …` and `parley calls`: voice and video
// calls from the command line with the Go client's headless participant
// (synthetic Opus-shaped audio and VP8-shaped video, SFrame-encrypted end
// to end), and the device's call log (docs/calls.md).
//
// A call runs for --for (default: until the call ends or the command is
// interrupted); --for, --ring and --wait extend the command's --timeout,
// which then bounds only the set-up.
package callcmd

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/client/calls"
	"github.com/parleyhq/parley/client/localstore"
	"github.com/parleyhq/parley/cmd/internal/clicmd"
	"github.com/parleyhq/parley/cmd/internal/cmdline"
	"github.com/parleyhq/parley/cmd/internal/render"
)

// ringDefault is how long `parley call` lets the callee's devices ring
// (the server stops them after its own ring timeout, 45 s by default).
const ringDefault = 45 * time.Second

// setupGrace bounds what a call command does besides ringing and talking:
// opening the profile, connecting, hanging up.
const setupGrace = 30 * time.Second

// Command is `parley call CHAT | call answer | call decline | call join CHAT`.
func Command[C clicmd.Call]() cmdline.Command[C] {
	return cmdline.Command[C]{Name: "call", Min: 1, Max: 1,
		Usage: "CHAT [--video] [--for DURATION] [--ring DURATION] [--relay|--sfu] [--simulcast]\tcall a chat (rings every device of the others); prints stats at the end\n" +
			"answer [--for DURATION] [--wait DURATION] [--after DURATION] [--relay|--sfu] [--simulcast]\twait for a call to ring here and answer it\n" +
			"decline [--busy] [--wait DURATION]\twait for a call to ring here and decline it\n" +
			"join CHAT [--for DURATION] [--video]\tjoin the call going on in a group",
		Intro: "usage: parley [--json] call CHAT | call answer | call decline | call join CHAT (docs/calls.md)",
		Run:   start[C],
		Subs: []cmdline.Command[C]{
			{Name: "answer", Usage: "[--for DURATION] [--wait DURATION] [--after DURATION] [--relay|--sfu] [--simulcast]\tanswer the next call ringing here (after it rang --after)", Run: answer[C]},
			{Name: "decline", Usage: "[--busy] [--wait DURATION]\tdecline the next call ringing here", Run: decline[C]},
			{Name: "join", Min: 1, Max: 1, Usage: "CHAT [--for DURATION] [--video]\tjoin the call going on in a group", Run: join[C]},
		}}
}

// LogCommand is `parley calls`: the call log.
func LogCommand[C clicmd.Call]() cmdline.Command[C] {
	return cmdline.Command[C]{Name: "calls", Usage: "[--limit N]\tthis device's call log: missed, incoming, outgoing, duration",
		Run: func(x C) error {
			cl := x.Cmd()
			limit := cl.FS.Int("limit", 50, "show the newest N calls (0: all)")
			return x.Client(func(c *client.Client) error {
				rs, err := c.CallLog(cl.Ctx, *limit)
				if err != nil {
					return err
				}
				for _, r := range rs {
					x.Out(recordJSON(r), recordText(cl.Ctx, c, r))
				}
				return nil
			})
		}}
}

// longer runs fn with a context that ends after d plus setupGrace, or
// when the command is interrupted, instead of at the command's --timeout.
func longer(x *cmdline.Call, d time.Duration, fn func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(x.Ctx), d+setupGrace)
	defer cancel()
	stop := context.AfterFunc(x.Ctx, func() {
		if errors.Is(x.Ctx.Err(), context.Canceled) { // interrupted, not timed out
			cancel()
		}
	})
	defer stop()
	return fn(ctx)
}

// forever stands for "no --for": the call lasts until it ends.
const forever = 100 * 365 * 24 * time.Hour

func start[C clicmd.Call](x C) error {
	cl := x.Cmd()
	video := cl.FS.Bool("video", false, "a video call (also sends video)")
	dur := cl.FS.Duration("for", 0, "hang up after this long once answered (default: when the call ends)")
	ring := cl.FS.Duration("ring", ringDefault, "give up (cancel) when nobody answers within this long")
	opt := mediaFlags(cl)
	return x.Client(func(c *client.Client) error {
		talk := *dur
		if talk <= 0 {
			talk = forever
		}
		return longer(cl, *ring+talk, func(ctx context.Context) error {
			ch, err := c.OpenChat(ctx, cl.Pos[0])
			if err != nil {
				return err
			}
			o := opt()
			o.Video = *video
			call, err := c.StartCall(ctx, ch.ID, o)
			if err != nil {
				return err
			}
			x.Out(map[string]any{"event": "call_ringing", "call": string(call.ID()), "chat": string(ch.ID), "video": *video},
				fmt.Sprintf("calling %s…", ch.Title))
			select {
			case <-call.Answered():
			case <-call.Ended():
				return endedUnanswered(call)
			case <-time.After(*ring):
				hangup(c, call)
				return parley.Errorf(parley.CodeExpired, calls.ReasonCallNoAnswer, "nobody answered within %v", *ring)
			case <-ctx.Done():
				hangup(c, call)
				return ctx.Err()
			}
			x.Out(map[string]any{"event": "call_answered", "call": string(call.ID())}, "answered")
			return talkFor(ctx, x, c, call, *dur)
		})
	})
}

func answer[C clicmd.Call](x C) error {
	cl := x.Cmd()
	dur := cl.FS.Duration("for", 0, "hang up after this long (default: when the call ends)")
	wait := cl.FS.Duration("wait", 5*time.Minute, "give up when no call rings within this long")
	after := cl.FS.Duration("after", 0, "let it ring this long before answering")
	opt := mediaFlags(cl)
	return x.Client(func(c *client.Client) error {
		talk := *dur
		if talk <= 0 {
			talk = forever
		}
		return longer(cl, *wait+*after+talk, func(ctx context.Context) error {
			in, err := waitRinging(ctx, x, c, *wait)
			if err != nil {
				return err
			}
			select {
			case <-time.After(*after):
			case <-in.Stopped:
				return parley.Errorf(parley.CodeNotFound, calls.ReasonCallCancelled, "the call stopped ringing before it was answered here")
			case <-ctx.Done():
				return ctx.Err()
			}
			o := opt()
			o.Video = in.Video
			call, err := c.AnswerCall(ctx, in.ID, o)
			if err != nil {
				return err
			}
			x.Out(map[string]any{"event": "call_answered", "call": string(call.ID())}, "answered")
			return talkFor(ctx, x, c, call, *dur)
		})
	})
}

func join[C clicmd.Call](x C) error {
	cl := x.Cmd()
	dur := cl.FS.Duration("for", 0, "hang up after this long (default: when the call ends)")
	video := cl.FS.Bool("video", false, "also send video")
	opt := mediaFlags(cl)
	return x.Client(func(c *client.Client) error {
		talk := *dur
		if talk <= 0 {
			talk = forever
		}
		return longer(cl, talk, func(ctx context.Context) error {
			ch, err := c.Chat(ctx, cl.Pos[0])
			if err != nil { // a group by its name
				g, gerr := c.Group(ctx, cl.Pos[0])
				if gerr != nil {
					return err
				}
				ch.ID, ch.Title = g.ID, g.Name
			}
			o := opt()
			o.Video = *video
			call, err := c.JoinCall(ctx, ch.ID, o)
			if err != nil {
				return err
			}
			x.Out(map[string]any{"event": "call_joined", "call": string(call.ID()), "chat": string(ch.ID)}, "joined the call in "+ch.Title)
			return talkFor(ctx, x, c, call, *dur)
		})
	})
}

func decline[C clicmd.Call](x C) error {
	cl := x.Cmd()
	busy := cl.FS.Bool("busy", false, "decline as busy")
	wait := cl.FS.Duration("wait", 5*time.Minute, "give up when no call rings within this long")
	return x.Client(func(c *client.Client) error {
		return longer(cl, *wait, func(ctx context.Context) error {
			in, err := waitRinging(ctx, x, c, *wait)
			if err != nil {
				return err
			}
			if err := c.DeclineCall(ctx, in.ID, *busy); err != nil {
				return err
			}
			x.Out(map[string]any{"event": "call_declined", "call": string(in.ID), "busy": *busy}, "declined")
			return nil
		})
	})
}

// mediaFlags declares --relay and --sfu.
func mediaFlags(cl *cmdline.Call) func() calls.Options {
	relay := cl.FS.Bool("relay", false, "1:1: media only through the server's TURN relay (the other party never learns your addresses)")
	viaSFU := cl.FS.Bool("sfu", false, "1:1: media through the server's SFU instead of peer to peer (both sides must say so)")
	simulcast := cl.FS.Bool("simulcast", false, "send video as three layers through the SFU (group calls, or with --sfu)")
	return func() calls.Options { return calls.Options{RelayOnly: *relay, ViaSFU: *viaSFU, Simulcast: *simulcast} }
}

// waitRinging waits, once connected, for a call to ring on this device.
func waitRinging[C clicmd.Call](ctx context.Context, x C, c *client.Client, wait time.Duration) (calls.Incoming, error) {
	if err := c.Sync(ctx); err != nil { // connected: pushes reach this device from now on
		return calls.Incoming{}, err
	}
	x.Out(map[string]any{"event": "call_waiting"}, "waiting for a call…")
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	in, err := c.WaitForCall(wctx)
	if err != nil {
		if ctx.Err() == nil {
			return in, parley.Errorf(parley.CodeExpired, calls.ReasonCallNoAnswer, "no call rang within %v", wait)
		}
		return in, err
	}
	kind := "voice"
	if in.Video {
		kind = "video"
	}
	x.Out(map[string]any{"event": "call_incoming", "call": string(in.ID), "chat": string(in.Conversation), "caller": int64(in.Caller),
		"caller_device": int64(in.CallerDevice), "video": in.Video, "group": in.Group},
		fmt.Sprintf("%s call from %s", kind, c.Who(ctx, in.Caller)))
	return in, nil
}

// talkFor keeps the call up for d (0: until it ends), hangs up and prints
// the media's stats.
func talkFor[C clicmd.Call](ctx context.Context, x C, c *client.Client, call *calls.Call, d time.Duration) error {
	var timer <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timer = t.C
	}
	ended := false
	select {
	case <-timer:
	case <-call.Ended():
		ended = true
	case <-ctx.Done():
	}
	if !ended {
		hangup(c, call)
	} else {
		call.Close()
	}
	st := call.Stats()
	x.Out(statsJSON(st), statsText(st))
	if err := call.MediaErr(); err != nil {
		return err
	}
	return nil
}

// hangup leaves the call, with a little time of its own when ctx is over.
func hangup(c *client.Client, call *calls.Call) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = call.Hangup(ctx)
}

func endedUnanswered(call *calls.Call) error {
	if err := call.Err(); err != nil {
		return err
	}
	return parley.Errorf(parley.CodeNotFound, calls.ReasonCallCancelled, "the call ended before it was answered")
}

func statsJSON(st calls.Stats) map[string]any {
	return map[string]any{"event": "call_stats", "call": string(st.Call), "video": st.Video, "direct": st.Direct, "path": st.Path,
		"packets_sent": st.PacketsSent, "packets_received": st.PacketsReceived,
		"frames_decrypted": st.FramesDecrypted, "frames_failed": st.FramesFailed, "decrypted_share": st.DecryptedShare(),
		"senders": st.Senders, "connect_ms": st.Connected.Milliseconds(), "duration_ms": st.Duration.Milliseconds()}
}

func statsText(st calls.Stats) string {
	path := "through the server's SFU"
	if st.Direct {
		path = "peer to peer, " + st.Path
	}
	return fmt.Sprintf("call ended after %v (%s): sent %d packets, received %d, %.1f%% of frames decrypted",
		st.Duration.Round(100*time.Millisecond), path, st.PacketsSent, st.PacketsReceived, 100*st.DecryptedShare())
}

func recordJSON(r localstore.CallRecord) map[string]any {
	dir := "incoming"
	if r.Outgoing {
		dir = "outgoing"
	}
	return map[string]any{"event": "call", "call": string(r.ID), "chat": string(r.Conversation), "direction": dir,
		"status": string(r.Status), "video": r.Video, "peer": int64(r.Peer), "started_at": render.TS(r.StartedAt),
		"answered_at": render.TS(r.AnsweredAt), "ended_at": render.TS(r.EndedAt), "duration_ms": r.Duration().Milliseconds()}
}

func recordText(ctx context.Context, c *client.Client, r localstore.CallRecord) string {
	kind, dir, who := "voice", "from", "a group"
	if r.Video {
		kind = "video"
	}
	if r.Outgoing {
		dir = "to"
	}
	if r.Peer != 0 {
		who = c.Who(ctx, r.Peer)
	}
	s := fmt.Sprintf("%s  %s %s call %s %s", r.StartedAt.Local().Format("2006-01-02 15:04"), r.Status, kind, dir, who)
	if d := r.Duration(); d > 0 {
		s += fmt.Sprintf(", %v", d.Round(time.Second))
	}
	return s
}
