package hosted

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/cloudapi"
)

// Forwarding in a cluster (Config.Relay): a business API request that
// reaches a node not running the business's endpoint (Send, MarkRead,
// Typing) is sent to the node holding its lease over the relay (NATS
// request/reply, service "hosted") and answered with that node's answer.
// The holder runs it on its endpoint and never forwards again. When the
// holder does not answer (it died and its lease has not expired yet, or it
// does not run the endpoint any more), the request is refused 503
// endpoint_elsewhere as without forwarding, and the client retries.
// Media uploads and downloads are not forwarded (the files are kept on the
// node running the endpoint).

// relayService is the relay service of the hosted endpoints.
const relayService = "hosted"

// forwardWait bounds the wait for the lease holder's answer to a forwarded
// request.
const forwardWait = 5 * time.Second

// Forwarded operations.
const (
	opSend   = "send"
	opRead   = "read"
	opTyping = "typing"
)

// fwdRequest is a forwarded request.
type fwdRequest struct {
	Op        string             `json:"op"`
	Business  parley.UserID      `json:"business"`
	Out       *cloudapi.Outgoing `json:"out,omitempty"`
	MessageID string             `json:"message_id,omitempty"`
}

// fwdReply is the holder's answer: the message id of a send, or an error.
type fwdReply struct {
	ID  string          `json:"id,omitempty"`
	Err *parley.Error   `json:"err,omitempty"`
	API *cloudapi.Error `json:"api,omitempty"`
}

// ReasonBadForward refuses a forwarded request that cannot be decoded.
const ReasonBadForward = "bad_forward"

// decodeForward decodes a forwarded request (from another node).
func decodeForward(data []byte) (fwdRequest, error) {
	var r fwdRequest
	if err := json.Unmarshal(data, &r); err != nil {
		return r, parley.Errorf(parley.CodeInvalid, ReasonBadForward, "a forwarded request: %v", err)
	}
	switch {
	case r.Business <= 0:
		return r, parley.Errorf(parley.CodeInvalid, ReasonBadForward, "a forwarded request without a business")
	case r.Op == opSend && r.Out == nil:
		return r, parley.Errorf(parley.CodeInvalid, ReasonBadForward, "a forwarded send without a message")
	case r.Op != opSend && r.Op != opRead && r.Op != opTyping:
		return r, parley.Errorf(parley.CodeInvalid, ReasonBadForward, "a forwarded request of unknown kind %q", r.Op)
	}
	return r, nil
}

// serveForward runs a forwarded request on this node's endpoint.
func (m *Manager) serveForward(ctx context.Context, data []byte) []byte {
	var rep fwdReply
	id, err := func() (string, error) {
		r, err := decodeForward(data)
		if err != nil {
			return "", err
		}
		switch r.Op {
		case opSend:
			return m.sendHere(ctx, r.Business, *r.Out)
		case opRead:
			return "", m.markReadHere(ctx, r.Business, r.MessageID)
		default:
			return "", m.typingHere(ctx, r.Business, r.MessageID)
		}
	}()
	rep.ID = id
	if err != nil {
		var pe *parley.Error
		var ae *cloudapi.Error
		switch {
		case errors.As(err, &ae):
			rep.API = ae
		case errors.As(err, &pe):
			rep.Err = &parley.Error{Code: pe.Code, Reason: pe.Reason, Message: pe.Message}
		default:
			m.log.Error("forwarded business API request", "err", err)
			rep.Err = &parley.Error{Code: parley.CodeInternal, Message: "the node running the endpoint failed"}
		}
	}
	out, _ := json.Marshal(rep)
	return out
}

// forwarding returns the holder to forward business's request to, when
// this node does not run the endpoint, another holds its lease and a relay
// is configured.
func (m *Manager) forwarding(business parley.UserID, err error) (parley.Lease, bool) {
	if m.cfg.Relay == nil || parley.ErrorReason(err) != ReasonEndpointElsewhere {
		return parley.Lease{}, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	l, ok := m.others[business]
	return l, ok
}

// forward sends r to the holder and returns its answer. When the holder
// does not answer, the lease is tried again (it may have expired: this
// node then runs the endpoint and r with here), else elsewhere is the
// answer.
func (m *Manager) forward(ctx context.Context, holder parley.Lease, r fwdRequest, elsewhere error, here func() (string, error)) (string, error) {
	data, err := json.Marshal(r)
	if err != nil {
		return "", err
	}
	// A holder killed without closing its NATS connection keeps its
	// subscription until the NATS server notices (minutes): the request
	// is then delivered and never answered. Wait no longer than a send
	// takes, then try the lease.
	fctx, cancel := context.WithTimeout(ctx, forwardWait)
	ans, err := m.cfg.Relay.Request(fctx, relayService, holder.Holder, data)
	cancel()
	if err != nil {
		m.log.Warn("forwarding a business API request: no answer from the node holding the lease", "business", r.Business, "holder", holder.Holder, "err", err)
		m.leaseOne(m.ctx, r.Business)
		if m.Running(r.Business) {
			return here()
		}
		return "", elsewhere
	}
	var rep fwdReply
	if err := json.Unmarshal(ans, &rep); err != nil {
		return "", fmt.Errorf("the answer of node %s: %w", holder.Holder, err)
	}
	switch {
	case rep.API != nil:
		return "", rep.API
	case rep.Err != nil:
		return "", rep.Err
	}
	return rep.ID, nil
}
