package calls

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/parleyhq/parley"
)

// Router is the call service of a cluster node: a call is pinned to the
// node that started it (its state, its SFU, whose public address the
// participants' media go to), and the requests about it that reach another
// node (accept, decline, hang up, join, media state, signalling) are sent
// to the hosting node over the relay (NATS request/reply, service "calls")
// and answered with that node's answer. A call's id starts with its node's
// tag (Config.IDPrefix), which is how any node finds it; the events and
// signals the hosting node pushes reach devices on every node through the
// broker. Status asks every node (relay RequestAll) when this one hosts no
// call of the conversation, and Start refuses when another node hosts one.
//
// The hosting node trusts the device identity the forwarding node
// authenticated, as it trusts the events other nodes publish.
type Router struct {
	local *Service
	relay parley.Relay
	tag   string

	mu     sync.Mutex
	remote map[parley.DeviceID]map[string]bool // nodes a device's requests went to, for DeviceGone
}

// relayService is the relay service of calls.
const relayService = "calls"

// ReasonCallNodeGone refuses a request about a call whose node does not
// answer (it stopped or died: its calls ended with it).
const ReasonCallNodeGone = "call_node_gone"

// NewRouter returns the router of local, whose Config.IDPrefix is tag.
func NewRouter(local *Service, relay parley.Relay, tag string) *Router {
	return &Router{local: local, relay: relay, tag: tag, remote: map[parley.DeviceID]map[string]bool{}}
}

// Serve answers the requests other nodes send about this node's calls
// until stop is called.
func (r *Router) Serve() (stop func(), err error) {
	return r.relay.ServeRequests(relayService, r.tag, r.serve)
}

// nodeOf returns the tag of the node hosting call id ("" for a bare id).
func nodeOf(id CallID) string {
	tag, _, ok := strings.Cut(string(id), "-")
	if !ok {
		return ""
	}
	return tag
}

// Call operations sent over the relay.
const (
	opAccept  = "accept"
	opDecline = "decline"
	opHangup  = "hangup"
	opJoin    = "join"
	opMedia   = "media"
	opSignal  = "signal"
	opGone    = "gone"
	opStatus  = "status" // sent to every node: which hosts the conversation's call
)

// routedRequest is a call request sent to the hosting node.
type routedRequest struct {
	Op       string                `json:"op"`
	Device   parley.Device         `json:"device"`
	Call     CallID                `json:"call,omitempty"`
	Conv     parley.ConversationID `json:"conv,omitempty"`
	Busy     bool                  `json:"busy,omitempty"`
	Muted    bool                  `json:"muted,omitempty"`
	VideoOff bool                  `json:"video_off,omitempty"`
	To       parley.DeviceID       `json:"to,omitempty"`
	Conn     parley.CallConnection `json:"conn,omitempty"`
	Kind     parley.CallSignalKind `json:"kind,omitempty"`
	Payload  []byte                `json:"payload,omitempty"`
}

// routedReply is the hosting node's answer.
type routedReply struct {
	Info *parley.CallInfo `json:"info,omitempty"`
	Err  *parley.Error    `json:"err,omitempty"`
}

// ReasonBadRouted refuses a routed call request that cannot be decoded.
const ReasonBadRouted = "call_bad_routed"

// decodeRouted decodes a routed request (from another node).
func decodeRouted(data []byte) (routedRequest, error) {
	var q routedRequest
	if err := json.Unmarshal(data, &q); err != nil {
		return q, parley.Errorf(parley.CodeInvalid, ReasonBadRouted, "a routed call request: %v", err)
	}
	switch q.Op {
	case opAccept, opDecline, opHangup, opJoin, opMedia, opSignal, opGone:
	case opStatus:
		if !q.Conv.Valid() {
			return q, parley.Errorf(parley.CodeInvalid, ReasonBadRouted, "a routed call status without a conversation")
		}
	default:
		return q, parley.Errorf(parley.CodeInvalid, ReasonBadRouted, "a routed call request of unknown kind %q", q.Op)
	}
	if q.Device.ID <= 0 || (q.Op != opGone && q.Device.User <= 0) {
		return q, parley.Errorf(parley.CodeInvalid, ReasonBadRouted, "a routed call request without a device")
	}
	return q, nil
}

// serve runs a routed request on the local service.
func (r *Router) serve(ctx context.Context, data []byte) []byte {
	var rep routedReply
	info, err := func() (*parley.CallInfo, error) {
		q, err := decodeRouted(data)
		if err != nil {
			return nil, err
		}
		s := r.local
		ci := func(i parley.CallInfo, err error) (*parley.CallInfo, error) {
			if err != nil {
				return nil, err
			}
			return &i, nil
		}
		switch q.Op {
		case opAccept:
			return ci(s.Accept(ctx, q.Device, q.Call))
		case opJoin:
			return ci(s.Join(ctx, q.Device, q.Call))
		case opDecline:
			return nil, s.Decline(ctx, q.Device, q.Call, q.Busy)
		case opHangup:
			return nil, s.Hangup(ctx, q.Device, q.Call)
		case opMedia:
			return nil, s.SetMediaState(ctx, q.Device, q.Call, q.Muted, q.VideoOff)
		case opSignal:
			return nil, s.Signal(ctx, q.Device, q.Call, q.To, q.Conn, q.Kind, q.Payload)
		case opStatus:
			// Only the call hosted here: another node's answer is its own.
			return ci(s.Status(ctx, q.Device, q.Conv))
		default: // opGone
			s.DeviceGone(ctx, q.Device.ID)
			return nil, nil
		}
	}()
	rep.Info = info
	if err != nil {
		var pe *parley.Error
		if errors.As(err, &pe) {
			rep.Err = &parley.Error{Code: pe.Code, Reason: pe.Reason, Message: pe.Message}
		} else {
			r.local.log.Error("routed call request", "err", err)
			rep.Err = &parley.Error{Code: parley.CodeInternal, Message: "the node hosting the call failed"}
		}
	}
	out, _ := json.Marshal(rep)
	return out
}

// route sends q to the node hosting q.Call; local is false when that is
// this node (or the id names none).
func (r *Router) route(ctx context.Context, q routedRequest) (info parley.CallInfo, local bool, err error) {
	node := nodeOf(q.Call)
	if node == "" || node == r.tag {
		return parley.CallInfo{}, true, nil
	}
	r.mu.Lock()
	if r.remote[q.Device.ID] == nil {
		r.remote[q.Device.ID] = map[string]bool{}
	}
	r.remote[q.Device.ID][node] = true
	r.mu.Unlock()
	ans, err := r.send(ctx, node, q)
	if err != nil {
		return parley.CallInfo{}, false, err
	}
	if ans.Err != nil {
		return parley.CallInfo{}, false, ans.Err
	}
	if ans.Info != nil {
		info = *ans.Info
	}
	return info, false, nil
}

func (r *Router) send(ctx context.Context, node string, q routedRequest) (routedReply, error) {
	var rep routedReply
	data, err := json.Marshal(q)
	if err != nil {
		return rep, err
	}
	ans, err := r.relay.Request(ctx, relayService, node, data)
	if err != nil {
		return rep, &parley.Error{Code: parley.CodeNotFound, Reason: ReasonCallNodeGone,
			Message: "the node hosting this call does not answer: the call ended", Err: err}
	}
	if err := json.Unmarshal(ans, &rep); err != nil {
		return rep, fmt.Errorf("the answer of call node %s: %w", node, err)
	}
	return rep, nil
}

// Start starts a call on this node (its SFU), unless another node hosts a
// call of the conversation: then, as on one node, CodeConflict
// ReasonInProgress (the client asks Status and joins it); see
// Service.Start. Two starts on two nodes at the same moment can still make
// two calls.
func (r *Router) Start(ctx context.Context, dev parley.Device, id parley.ConversationID, video bool) (parley.CallInfo, error) {
	if _, ok := r.elsewhere(ctx, dev, id); ok {
		return parley.CallInfo{}, r.local.refuse(parley.Errorf(parley.CodeConflict, ReasonInProgress, "a call is already going on in this conversation; join it"))
	}
	return r.local.Start(ctx, dev, id, video)
}

// Status reports the conversation's call, hosted on this node or another;
// see Service.Status.
func (r *Router) Status(ctx context.Context, dev parley.Device, id parley.ConversationID) (parley.CallInfo, error) {
	info, err := r.local.Status(ctx, dev, id)
	if parley.ErrorReason(err) != ReasonNotFound {
		return info, err
	}
	if info, ok := r.elsewhere(ctx, dev, id); ok {
		return info, nil
	}
	return info, err
}

// elsewhere asks every node for the conversation's call (as dev sees it)
// and returns one another node hosts.
func (r *Router) elsewhere(ctx context.Context, dev parley.Device, id parley.ConversationID) (parley.CallInfo, bool) {
	data, err := json.Marshal(routedRequest{Op: opStatus, Device: dev, Conv: id})
	if err != nil {
		return parley.CallInfo{}, false
	}
	answers, err := r.relay.RequestAll(ctx, relayService, data)
	if err != nil {
		r.local.log.Warn("calls: asking the other nodes for a conversation's call", "err", err)
		return parley.CallInfo{}, false
	}
	for _, a := range answers {
		var rep routedReply
		if json.Unmarshal(a, &rep) == nil && rep.Info != nil && nodeOf(rep.Info.ID) != r.tag {
			return *rep.Info, true
		}
	}
	return parley.CallInfo{}, false
}

// Accept accepts on the node hosting the call; see Service.Accept.
func (r *Router) Accept(ctx context.Context, dev parley.Device, id CallID) (parley.CallInfo, error) {
	if info, local, err := r.route(ctx, routedRequest{Op: opAccept, Device: dev, Call: id}); !local {
		return info, err
	}
	return r.local.Accept(ctx, dev, id)
}

// Join joins on the node hosting the call; see Service.Join.
func (r *Router) Join(ctx context.Context, dev parley.Device, id CallID) (parley.CallInfo, error) {
	if info, local, err := r.route(ctx, routedRequest{Op: opJoin, Device: dev, Call: id}); !local {
		return info, err
	}
	return r.local.Join(ctx, dev, id)
}

// Decline declines on the node hosting the call; see Service.Decline.
func (r *Router) Decline(ctx context.Context, dev parley.Device, id CallID, busy bool) error {
	if _, local, err := r.route(ctx, routedRequest{Op: opDecline, Device: dev, Call: id, Busy: busy}); !local {
		return err
	}
	return r.local.Decline(ctx, dev, id, busy)
}

// Hangup hangs up on the node hosting the call; see Service.Hangup.
func (r *Router) Hangup(ctx context.Context, dev parley.Device, id CallID) error {
	if _, local, err := r.route(ctx, routedRequest{Op: opHangup, Device: dev, Call: id}); !local {
		return err
	}
	return r.local.Hangup(ctx, dev, id)
}

// SetMediaState sets the media state on the node hosting the call; see
// Service.SetMediaState.
func (r *Router) SetMediaState(ctx context.Context, dev parley.Device, id CallID, muted, videoOff bool) error {
	if _, local, err := r.route(ctx, routedRequest{Op: opMedia, Device: dev, Call: id, Muted: muted, VideoOff: videoOff}); !local {
		return err
	}
	return r.local.SetMediaState(ctx, dev, id, muted, videoOff)
}

// Signal relays a signalling payload through the node hosting the call
// (to a device, or to that node's SFU); see Service.Signal.
func (r *Router) Signal(ctx context.Context, dev parley.Device, id CallID, to parley.DeviceID, conn parley.CallConnection, kind parley.CallSignalKind, payload []byte) error {
	if len(payload) > r.local.cfg.MaxSignalBytes {
		// Refused here, before it crosses the relay.
		return r.local.Signal(ctx, dev, id, to, conn, kind, payload)
	}
	if _, local, err := r.route(ctx, routedRequest{Op: opSignal, Device: dev, Call: id, To: to, Conn: conn, Kind: kind, Payload: payload}); !local {
		return err
	}
	return r.local.Signal(ctx, dev, id, to, conn, kind, payload)
}

// DeviceGone drops the device from its calls here and on the nodes its
// requests went to.
func (r *Router) DeviceGone(ctx context.Context, d parley.DeviceID) {
	r.local.DeviceGone(ctx, d)
	r.mu.Lock()
	nodes := r.remote[d]
	delete(r.remote, d)
	r.mu.Unlock()
	for node := range nodes {
		if _, err := r.send(ctx, node, routedRequest{Op: opGone, Device: parley.Device{ID: d}}); err != nil {
			r.local.log.Warn("calls: telling a call's node that a device left", "node", node, "device", d, "err", err)
		}
	}
}
