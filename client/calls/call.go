package calls

import (
	"context"
	"sync"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client/localstore"
	"github.com/parleyhq/parley/proto/parleypb"
)

// Call is the call this device is in. Its media starts once it is
// answered; it ends when this device hangs up or the call ends.
type Call struct {
	cs       *Calls
	id       parley.CallID
	conv     parley.ConversationID
	outgoing bool
	opt      Options

	ctx    context.Context // lives until the call ends here
	cancel context.CancelFunc

	mu         sync.Mutex
	video      bool
	group      bool
	ice        []*parleypb.IceServer
	peer       parley.DeviceID // 1:1: the other device, once answered
	speaker    parley.DeviceID // the SFU's dominant speaker (CALL_ACTIVE_SPEAKER)
	media      media           // nil until the media starts
	pending    []*parleypb.CallSignal
	answeredAt time.Time
	endedAt    time.Time
	err        error
	mediaErr   error

	answered, ended     chan struct{}
	answerOnce, endOnce sync.Once
	mediaDone           chan struct{} // closed when the media goroutine returned
	mediaOnce           sync.Once
}

// media is the call's media: the headless participant (native builds).
type media interface {
	HandleSignal(s *parleypb.CallSignal)
	Stats() Stats
	Close() error
}

// Stats is what this device's media sent and received in a call.
type Stats struct {
	Call            parley.CallID
	Video           bool
	Direct          bool          // peer to peer (1:1), not through the SFU
	Path            string        // the selected ICE candidate's type: "host", "srflx", "prflx" or "relay" (TURN)
	PacketsSent     uint64        // RTP packets sent (one a frame)
	PacketsReceived uint64        // RTP packets received from the other participants
	FramesDecrypted uint64        // received frames that decrypted and verified
	FramesFailed    uint64        // received frames that did not
	Senders         int           // participants this device received frames from
	Connected       time.Duration // from the media's start to its connection
	Duration        time.Duration // from the answer to the end (or now)
}

// DecryptedShare is the share of received frames that decrypted (0 when
// none arrived).
func (s Stats) DecryptedShare() float64 {
	if s.PacketsReceived == 0 {
		return 0
	}
	return float64(s.FramesDecrypted) / float64(s.PacketsReceived)
}

func (cs *Calls) newCall(conv parley.ConversationID, outgoing bool, opt Options) *Call {
	if loopbackServer(cs.core.Account().ServerURL) {
		opt.Loopback = true
	}
	cl := &Call{cs: cs, conv: conv, outgoing: outgoing, opt: opt, video: opt.Video,
		answered: make(chan struct{}), ended: make(chan struct{}), mediaDone: make(chan struct{})}
	cl.ctx, cl.cancel = context.WithCancel(context.Background())
	return cl
}

func (cl *Call) setInfo(info *parleypb.CallInfo) {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	cl.id = parley.CallID(info.GetCallId())
	cl.conv = parley.ConversationID(info.GetConversationId())
	cl.video, cl.group = info.GetVideo(), info.GetGroup()
	if len(info.GetIceServers()) > 0 {
		cl.ice = info.GetIceServers()
	}
}

// ID is the call's id.
func (cl *Call) ID() parley.CallID {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.id
}

// Conversation is the chat the call is in.
func (cl *Call) Conversation() parley.ConversationID {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.conv
}

// Outgoing reports whether this device started the call.
func (cl *Call) Outgoing() bool { return cl.outgoing }

// Answered is closed once the call is answered (at once for a call this
// device answered).
func (cl *Call) Answered() <-chan struct{} { return cl.answered }

// Ended is closed once the call ended here: hung up, declined, not
// answered, or ended by the others.
func (cl *Call) Ended() <-chan struct{} { return cl.ended }

// Err is why an ended call ended unanswered (ReasonCallDeclined,
// ReasonCallBusy, ReasonCallNoAnswer), or nil.
func (cl *Call) Err() error {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.err
}

// ActiveSpeaker is the device the SFU last announced as the call's
// dominant speaker (from the participants' audio levels), or 0.
func (cl *Call) ActiveSpeaker() parley.DeviceID {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.speaker
}

// MediaErr is why the media could not start (no keys, no connection), or
// nil.
func (cl *Call) MediaErr() error {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.mediaErr
}

func (cl *Call) isAnswered() bool {
	select {
	case <-cl.answered:
		return true
	default:
		return false
	}
}

// markAnswered records the answer (peer: the other device of a 1:1 call)
// and starts the media.
func (cl *Call) markAnswered(peer parley.DeviceID) {
	cl.answerOnce.Do(func() {
		cl.mu.Lock()
		cl.peer, cl.answeredAt = peer, time.Now()
		cl.mu.Unlock()
		close(cl.answered)
		go cl.runMedia()
	})
}

// runMedia starts the media (media_native.go) and keeps its keys current.
func (cl *Call) runMedia() {
	cl.mediaOnce.Do(func() {
		defer close(cl.mediaDone)
		if err := cl.startMedia(); err != nil && cl.ctx.Err() == nil {
			cl.mu.Lock()
			cl.mediaErr = err
			cl.mu.Unlock()
			cl.cs.core.Logger().Warn("call media", "call", cl.id, "err", err)
		}
	})
}

// signal hands a signalling payload to the media, or keeps it until the
// media starts (an offer may arrive before this device has its keys).
func (cl *Call) signal(s *parleypb.CallSignal) {
	cl.mu.Lock()
	m := cl.media
	if m == nil {
		if len(cl.pending) < 256 {
			cl.pending = append(cl.pending, s)
		}
		cl.mu.Unlock()
		return
	}
	cl.mu.Unlock()
	m.HandleSignal(s)
}

// setMedia installs m and hands it the signals that came first.
func (cl *Call) setMedia(m media) {
	cl.mu.Lock()
	cl.media = m
	pending := cl.pending
	cl.pending = nil
	cl.mu.Unlock()
	for _, s := range pending {
		m.HandleSignal(s)
	}
}

// end ends the call here: the media stops, Ended closes. Stats measure
// the duration on this device's clock.
func (cl *Call) end(err error) {
	cl.endOnce.Do(func() {
		cl.mu.Lock()
		cl.err = err
		cl.endedAt = time.Now()
		cl.mu.Unlock()
		cl.cancel()
		close(cl.ended)
		cl.cs.clearActive(cl)
	})
}

// Hangup leaves the call (before an answer, the caller cancels it) and
// stops the media. The log records the end.
func (cl *Call) Hangup(ctx context.Context) error {
	answered := cl.isAnswered()
	if !answered && cl.outgoing {
		defer cl.cs.decide(cl.id, localstore.CallCancelled)()
	}
	_, err := cl.cs.core.Request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_CallHangup{CallHangup: &parleypb.CallHangupRequest{CallId: string(cl.id)}}})
	if parley.IsCode(err, parley.CodeNotFound) || parley.IsCode(err, parley.CodeForbidden) {
		err = nil // the call had ended already
	}
	now := time.Now()
	cl.cs.updateLog(cl.id, func(rec *localstore.CallRecord, found bool) {
		if !found {
			return
		}
		if !answered && cl.outgoing {
			terminal(rec, localstore.CallCancelled)
		}
		if rec.EndedAt.IsZero() {
			rec.EndedAt = now
		}
	})
	cl.end(nil)
	cl.Close()
	return err
}

// Close stops the media (without telling the server: Hangup does) and
// waits for it.
func (cl *Call) Close() error {
	cl.end(nil)
	if cl.isAnswered() {
		<-cl.mediaDone
	}
	cl.mu.Lock()
	m := cl.media
	cl.mu.Unlock()
	if m != nil {
		return m.Close()
	}
	return nil
}

// Stats is what the media sent and received so far.
func (cl *Call) Stats() Stats {
	cl.mu.Lock()
	m, answeredAt, endedAt := cl.media, cl.answeredAt, cl.endedAt
	cl.mu.Unlock()
	var st Stats
	if m != nil {
		st = m.Stats()
	}
	st.Call, st.Video = cl.id, cl.video
	if !answeredAt.IsZero() {
		if endedAt.IsZero() {
			endedAt = time.Now()
		}
		st.Duration = endedAt.Sub(answeredAt)
	}
	return st
}
