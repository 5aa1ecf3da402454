// Package nats is the cluster parley.Broker: it routes events between the
// nodes of a cluster through a NATS server (or NATS cluster). A single node
// uses broker/inproc instead.
//
// Routing: every device has its own subject, PREFIX.dev.<device id>. A node
// holds one NATS subscription per device that has at least one subscriber
// (connection) on that node, and fans the device's events out to its local
// subscribers, so a node only receives the events of devices connected to
// it. Publish encodes an event once (see the wire format below) and publishes
// the same bytes on the subject of each named device.
//
// Guarantees:
//   - Events published by one Broker to one device reach each subscriber of
//     that device, on every node, in publication order (NATS keeps the order
//     of one connection's messages on one subject, and this package
//     dispatches every received message from one goroutine).
//   - Subscribe returns once the NATS server it is connected to has the
//     device's interest, so an event published after Subscribe returned
//     through the same NATS server reaches it. (In a NATS cluster, interest
//     spreads to the other NATS servers asynchronously.)
//   - Delivery is best effort, as the parley.Broker contract says; but
//     whenever this node may have missed events, every local subscriber is
//     sent a parley.EventResync, after the loss, so that it catches up from
//     the log. That happens when the connection to NATS was lost and came
//     back (events published meanwhile were not received), when NATS
//     reported a slow consumer (received events were dropped because the
//     dispatch buffer was full), when another node was heard to stop
//     without saying goodbye (it may have committed envelopes it never
//     published), and when another node asks for it because its own
//     publishes failed.
//   - It also implements parley.ChangeAnnouncer (a conversation changed:
//     other nodes drop their caches) and parley.PresenceSharer (which users
//     have sessions on which node), best effort over the control subject:
//     a node's presence state is resent after it reconnects and whenever it
//     is heard again after being taken for dead, and a node taken for dead
//     (three heartbeats missed) or gone (its goodbye) has no users online.
//
// Wire format of one event message (the payload of a NATS message on a device
// subject; the decoder is fuzzed):
//
//	byte    version (1)
//	byte    kind (parley.EventKind)
//	uvarint seq
//	uvarint length of the conversation id, then its bytes (at most 255)
//	...     the frame (the rest)
//
// Control messages on PREFIX.ctl keep the nodes aware of each other: one
// kind byte, the sender's node id (16 hex digits), then the kind's payload.
// 'h' every HeartbeatInterval; 'b' when a node closes; 'r' asks every node
// to resync its subscribers; 'c' announces changed conversations (payload:
// their ids separated by spaces), see parley.ChangeAnnouncer. Presence
// (parley.PresenceSharer): 'o' and 'f' + uvarint user id when a user's first
// session on the sender opens or its last closes; a node's full state is
// 'x', then 's' + uvarint user ids in chunks, then 'e', and replaces what the
// receivers knew of that node's users at 'e' (so there is no moment when a
// user online there looks offline); 'q' asks every node to send its full
// state.
package nats

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	natsgo "github.com/nats-io/nats.go"

	"github.com/parleyhq/parley"
)

// Config tunes a Broker. Zero fields take the defaults.
type Config struct {
	// Prefix starts every subject. Nodes of one cluster use the same
	// prefix; two clusters may share a NATS server with different ones.
	// Default "parley".
	Prefix string
	// Name names this node's NATS connection (seen in the NATS server's
	// monitoring). Default "parley".
	Name string
	// HeartbeatInterval is how often this node tells the others it is
	// alive. A node not heard for three intervals is considered dead and
	// every node resyncs its subscribers. Default 1s; negative disables
	// heartbeats and the detection of dead nodes.
	HeartbeatInterval time.Duration
	// Buffer is how many received events wait for dispatch before NATS
	// drops more (a slow consumer, followed by a resync). Default 65536.
	Buffer int
	// ConnectTimeout bounds the first connection. Default 10s.
	ConnectTimeout time.Duration
	// Log receives connection state changes. Default: discard.
	Log *slog.Logger
	// Options are extra nats.go options (TLS, credentials...), applied
	// after this package's own.
	Options []natsgo.Option
}

func (c *Config) setDefaults() {
	if c.Prefix == "" {
		c.Prefix = "parley"
	}
	if c.Name == "" {
		c.Name = "parley"
	}
	if c.HeartbeatInterval == 0 {
		c.HeartbeatInterval = time.Second
	}
	if c.Buffer <= 0 {
		c.Buffer = 65536
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = 10 * time.Second
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
}

// Broker is a parley.Broker over NATS. Create it with Dial; stop it with Close.
type Broker struct {
	cfg    Config
	nc     *natsgo.Conn
	node   string // random id of this node, for control messages
	devPfx string // Prefix + ".dev."
	ctl    string // Prefix + ".ctl"

	msgs chan *natsgo.Msg // every device subscription delivers here
	wake chan struct{}    // a resync is pending
	stop chan struct{}
	wg   sync.WaitGroup

	mu   sync.RWMutex // guards devs; held shared while handlers run
	devs map[parley.DeviceID]*devSubs

	peers peers // other nodes heard on the control subject

	changedMu sync.Mutex
	changed   []func([]parley.ConversationID) // OnChanged callbacks

	presence presenceState

	resyncPending atomic.Bool // set after a possible loss, cleared by the dispatcher
	askOthers     atomic.Bool // a publish failed: ask every node to resync once connected
	closeOnce     sync.Once

	stats struct {
		published, received, unrouted, resyncs, publishErrors, deadNodes, slowConsumers atomic.Uint64
	}
}

type devSubs struct {
	sub  *natsgo.Subscription
	subs []*subscriber
}

type subscriber struct{ handler func(parley.Event) }

var _ parley.Broker = (*Broker)(nil)

// Dial connects to the NATS server(s) at url (comma-separated for several)
// and returns a running broker. It reconnects forever after a connection
// loss; Publish fails while the connection is down and its reconnect buffer
// is full.
func Dial(ctx context.Context, url string, cfg Config) (*Broker, error) {
	cfg.setDefaults()
	var id [8]byte
	_, _ = rand.Read(id[:])
	b := &Broker{
		cfg:    cfg,
		node:   hex.EncodeToString(id[:]),
		devPfx: cfg.Prefix + ".dev.",
		ctl:    cfg.Prefix + ".ctl",
		msgs:   make(chan *natsgo.Msg, cfg.Buffer),
		wake:   make(chan struct{}, 1),
		stop:   make(chan struct{}),
		devs:   make(map[parley.DeviceID]*devSubs),
		peers:  peers{seen: make(map[string]time.Time)},
		presence: presenceState{
			local:  make(map[parley.UserID]struct{}),
			remote: make(map[string]map[parley.UserID]struct{}),
			count:  make(map[parley.UserID]int),
		},
	}
	log := cfg.Log
	opts := []natsgo.Option{
		natsgo.Name(cfg.Name),
		natsgo.Timeout(cfg.ConnectTimeout),
		natsgo.MaxReconnects(-1),
		natsgo.ReconnectWait(250 * time.Millisecond),
		natsgo.DisconnectErrHandler(func(_ *natsgo.Conn, err error) {
			log.Warn("nats disconnected", "err", err)
		}),
		natsgo.ReconnectHandler(func(nc *natsgo.Conn) {
			log.Info("nats reconnected", "server", nc.ConnectedUrlRedacted())
			// Events published while we were away never reached us.
			b.requestResync()
			// Presence changes may have been lost both ways.
			b.sendPresenceState()
			b.sendControl('q')
			if b.askOthers.Swap(false) {
				b.sendControl('r')
			}
		}),
		natsgo.ErrorHandler(func(_ *natsgo.Conn, _ *natsgo.Subscription, err error) {
			if errors.Is(err, natsgo.ErrSlowConsumer) {
				b.stats.slowConsumers.Add(1)
				log.Warn("nats slow consumer: events dropped, resyncing subscribers")
				b.requestResync()
				return
			}
			log.Warn("nats", "err", err)
		}),
		natsgo.ClosedHandler(func(*natsgo.Conn) { log.Debug("nats connection closed") }),
	}
	opts = append(opts, cfg.Options...)
	type result struct {
		nc  *natsgo.Conn
		err error
	}
	done := make(chan result, 1)
	go func() {
		nc, err := natsgo.Connect(url, opts...)
		done <- result{nc, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		go func() {
			if r := <-done; r.nc != nil {
				r.nc.Close()
			}
		}()
		return nil, ctx.Err()
	}
	if r.err != nil {
		return nil, fmt.Errorf("nats connect %s: %w", url, r.err)
	}
	b.nc = r.nc
	if _, err := b.nc.Subscribe(b.ctl, b.control); err != nil {
		b.nc.Close()
		return nil, fmt.Errorf("nats subscribe %s: %w", b.ctl, err)
	}
	if err := b.nc.FlushTimeout(cfg.ConnectTimeout); err != nil {
		b.nc.Close()
		return nil, fmt.Errorf("nats flush: %w", err)
	}
	b.sendControl('q') // learn who is online on the other nodes
	b.wg.Add(1)
	go b.dispatch()
	if cfg.HeartbeatInterval > 0 {
		b.wg.Add(1)
		go b.heartbeat()
	}
	return b, nil
}

// Close says goodbye to the other nodes, closes the NATS connection and
// stops delivering events. It is idempotent.
func (b *Broker) Close() error {
	b.closeOnce.Do(func() {
		b.sendControl('b')
		_ = b.nc.FlushTimeout(time.Second)
		close(b.stop)
		b.nc.Close()
		b.wg.Wait()
	})
	return nil
}

func (b *Broker) subject(d parley.DeviceID) string {
	return b.devPfx + strconv.FormatInt(int64(d), 10)
}

// Publish sends ev to every device in devices, encoding it once. It fails
// only when the NATS connection is closed, or down with its reconnect
// buffer full; the events not sent then are lost, and every node is asked
// to resync its subscribers once this node is connected again.
func (b *Broker) Publish(ctx context.Context, devices []parley.DeviceID, ev parley.Event) error {
	if len(devices) == 0 {
		return nil
	}
	data := EncodeEvent(ev)
	var first error
	for _, d := range devices {
		if err := b.nc.Publish(b.subject(d), data); err != nil {
			b.stats.publishErrors.Add(1)
			if first == nil {
				first = fmt.Errorf("nats publish to device %d: %w", d, err)
			}
			continue
		}
		b.stats.published.Add(1)
	}
	if first != nil {
		b.askOthers.Store(true)
		if b.nc.IsConnected() && b.askOthers.Swap(false) {
			b.sendControl('r')
		}
	}
	return first
}

// Subscribe calls handler for every event to device until cancel is called.
// It returns once the NATS server has the device's interest (one round
// trip, for the device's first subscriber on this node).
func (b *Broker) Subscribe(device parley.DeviceID, handler func(parley.Event)) (func(), error) {
	s := &subscriber{handler: handler}
	b.mu.Lock()
	dv := b.devs[device]
	fresh := dv == nil
	if fresh {
		sub, err := b.nc.ChanSubscribe(b.subject(device), b.msgs)
		if err != nil {
			b.mu.Unlock()
			return nil, fmt.Errorf("nats subscribe device %d: %w", device, err)
		}
		dv = &devSubs{sub: sub}
		b.devs[device] = dv
	}
	dv.subs = append(dv.subs, s)
	b.mu.Unlock()
	var once sync.Once
	cancel := func() { once.Do(func() { b.unsubscribe(device, s) }) }
	if fresh {
		// Make sure the server has the interest before the caller reads
		// the log, so nothing committed after that read is missed.
		if err := b.nc.FlushTimeout(b.cfg.ConnectTimeout); err != nil {
			if !b.nc.IsReconnecting() {
				cancel()
				return nil, fmt.Errorf("nats subscribe device %d: %w", device, err)
			}
			// Reconnecting: the subscription is replayed on reconnect,
			// followed by a resync.
		}
	}
	return cancel, nil
}

func (b *Broker) unsubscribe(device parley.DeviceID, s *subscriber) {
	b.mu.Lock()
	defer b.mu.Unlock()
	dv := b.devs[device]
	if dv == nil {
		return
	}
	for i, x := range dv.subs {
		if x == s {
			n := len(dv.subs) - 1
			dv.subs[i] = dv.subs[n]
			dv.subs[n] = nil
			dv.subs = dv.subs[:n]
			break
		}
	}
	if len(dv.subs) == 0 {
		delete(b.devs, device)
		_ = dv.sub.Unsubscribe()
	}
}

// requestResync schedules an EventResync to every local subscriber, after
// every event already received.
func (b *Broker) requestResync() {
	b.resyncPending.Store(true)
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// dispatch is the one goroutine that hands received events to subscribers.
func (b *Broker) dispatch() {
	defer b.wg.Done()
	for {
		select {
		case <-b.stop:
			return
		case m := <-b.msgs:
			b.deliver(m)
		case <-b.wake:
		}
		if b.resyncPending.Swap(false) {
			b.resyncAll()
		}
	}
}

func (b *Broker) deliver(m *natsgo.Msg) {
	if len(m.Subject) <= len(b.devPfx) {
		return
	}
	id, err := strconv.ParseInt(m.Subject[len(b.devPfx):], 10, 64)
	if err != nil {
		return
	}
	ev, err := DecodeEvent(m.Data)
	if err != nil {
		b.cfg.Log.Warn("nats: undecodable event", "subject", m.Subject, "err", err)
		return
	}
	b.stats.received.Add(1)
	b.mu.RLock()
	defer b.mu.RUnlock()
	dv := b.devs[parley.DeviceID(id)]
	if dv == nil {
		b.stats.unrouted.Add(1)
		return
	}
	for _, s := range dv.subs {
		s.handler(ev)
	}
}

func (b *Broker) resyncAll() {
	b.stats.resyncs.Add(1)
	b.mu.RLock()
	defer b.mu.RUnlock()
	for _, dv := range b.devs {
		for _, s := range dv.subs {
			s.handler(parley.Event{Kind: parley.EventResync})
		}
	}
}

func (b *Broker) sendControl(kind byte, payload ...byte) {
	msg := make([]byte, 0, 1+len(b.node)+len(payload))
	msg = append(append(append(msg, kind), b.node...), payload...)
	_ = b.nc.Publish(b.ctl, msg)
}

// nodeIDLen is the length of a node id in control messages (hex of 8 bytes).
const nodeIDLen = 16

var _ parley.ChangeAnnouncer = (*Broker)(nil)

// AnnounceChanged tells the other nodes that the conversations changed.
func (b *Broker) AnnounceChanged(ids []parley.ConversationID) {
	var payload []byte
	for i, id := range ids {
		if i > 0 {
			payload = append(payload, ' ')
		}
		payload = append(payload, id...)
	}
	b.sendControl('c', payload...)
}

// OnChanged registers f for the changes other nodes announce. f runs on the
// control subscription's goroutine.
func (b *Broker) OnChanged(f func(ids []parley.ConversationID)) {
	b.changedMu.Lock()
	b.changed = append(b.changed, f)
	b.changedMu.Unlock()
}

// peers is the heartbeat state: when each other node was last heard.
type peers struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

// control handles a message on the control subject (in nats.go's callback
// goroutine for that subscription).
func (b *Broker) control(m *natsgo.Msg) {
	if len(m.Data) < 1+nodeIDLen {
		return
	}
	kind, from, payload := m.Data[0], string(m.Data[1:1+nodeIDLen]), m.Data[1+nodeIDLen:]
	if from == b.node {
		return
	}
	p := &b.peers
	if kind != 'b' {
		// Any message shows the node is alive, and makes its presence
		// state expire with it.
		p.mu.Lock()
		_, known := p.seen[from]
		p.seen[from] = time.Now()
		p.mu.Unlock()
		if !known && kind != 'x' && kind != 's' && kind != 'e' && kind != 'q' {
			// A node heard for the first time, or again after it was
			// taken for dead (its earlier presence state was dropped):
			// ask for every node's full state.
			b.sendControl('q')
		}
	}
	switch kind {
	case 'b':
		p.mu.Lock()
		delete(p.seen, from)
		p.mu.Unlock()
		b.presence.forget(from)
	case 'o', 'f':
		if u, n := binary.Uvarint(payload); n > 0 && n == len(payload) {
			b.presence.set(from, parley.UserID(u), kind == 'o')
		}
	case 'x':
		b.presence.begin(from)
	case 's':
		var users []parley.UserID
		for len(payload) > 0 {
			u, n := binary.Uvarint(payload)
			if n <= 0 {
				break
			}
			users = append(users, parley.UserID(u))
			payload = payload[n:]
		}
		b.presence.add(from, users)
	case 'e':
		b.presence.end(from)
	case 'q':
		b.sendPresenceState()
	case 'r':
		b.requestResync()
	case 'c':
		var ids []parley.ConversationID
		for _, f := range bytes.Fields(payload) {
			if id := parley.ConversationID(f); id.Valid() {
				ids = append(ids, id)
			}
		}
		b.changedMu.Lock()
		fs := b.changed
		b.changedMu.Unlock()
		for _, f := range fs {
			f(ids)
		}
	}
}

// heartbeat announces this node and notices nodes that went silent.
func (b *Broker) heartbeat() {
	defer b.wg.Done()
	iv := b.cfg.HeartbeatInterval
	t := time.NewTicker(iv)
	defer t.Stop()
	b.sendControl('h')
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
		}
		if !b.nc.IsConnected() {
			continue // everyone looks silent; the reconnect resyncs anyway
		}
		b.sendControl('h')
		p := &b.peers
		now := time.Now()
		dead := 0
		p.mu.Lock()
		var gone []string
		for id, at := range p.seen {
			if now.Sub(at) > 3*iv {
				delete(p.seen, id)
				gone = append(gone, id)
				dead++
			}
		}
		p.mu.Unlock()
		for _, id := range gone {
			b.presence.forget(id)
		}
		if dead > 0 {
			b.stats.deadNodes.Add(uint64(dead))
			b.cfg.Log.Warn("nats: cluster nodes went silent, resyncing subscribers", "nodes", dead)
			b.requestResync()
		}
	}
}

// presenceState is what this node knows of users' sessions in the cluster.
type presenceState struct {
	mu      sync.Mutex
	local   map[parley.UserID]struct{}            // users with sessions here
	remote  map[string]map[parley.UserID]struct{} // other node -> its users with sessions
	count   map[parley.UserID]int                 // user -> other nodes where online
	staging map[string]map[parley.UserID]struct{} // other node -> full state being received
}

func (ps *presenceState) set(node string, u parley.UserID, online bool) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if st := ps.staging[node]; st != nil {
		if online {
			st[u] = struct{}{}
		} else {
			delete(st, u)
		}
	}
	ps.setLocked(node, u, online)
}

// begin starts receiving node's full state.
func (ps *presenceState) begin(node string) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.staging == nil {
		ps.staging = make(map[string]map[parley.UserID]struct{})
	}
	ps.staging[node] = make(map[parley.UserID]struct{})
}

// add adds users to node's full state being received (or, without a 'x'
// before, to what is known of node).
func (ps *presenceState) add(node string, users []parley.UserID) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	st := ps.staging[node]
	for _, u := range users {
		if st != nil {
			st[u] = struct{}{}
		} else {
			ps.setLocked(node, u, true)
		}
	}
}

// end replaces what is known of node with its full state just received.
func (ps *presenceState) end(node string) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	st, ok := ps.staging[node]
	if !ok {
		return
	}
	delete(ps.staging, node)
	for u := range ps.remote[node] {
		if _, still := st[u]; !still {
			ps.setLocked(node, u, false)
		}
	}
	for u := range st {
		ps.setLocked(node, u, true)
	}
}

func (ps *presenceState) setLocked(node string, u parley.UserID, online bool) {
	users := ps.remote[node]
	_, had := users[u]
	switch {
	case online && !had:
		if users == nil {
			users = make(map[parley.UserID]struct{})
			ps.remote[node] = users
		}
		users[u] = struct{}{}
		ps.count[u]++
	case !online && had:
		delete(users, u)
		if ps.count[u]--; ps.count[u] <= 0 {
			delete(ps.count, u)
		}
	}
}

// forget drops what this node knows of another node's users (it left, died
// or is about to resend its state).
func (ps *presenceState) forget(node string) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for u := range ps.remote[node] {
		if ps.count[u]--; ps.count[u] <= 0 {
			delete(ps.count, u)
		}
	}
	delete(ps.remote, node)
	delete(ps.staging, node)
}

var _ parley.PresenceSharer = (*Broker)(nil)

// SetLocalOnline announces that user has (or no longer has) sessions here.
func (b *Broker) SetLocalOnline(user parley.UserID, online bool) {
	// Announced under the lock, so announcements and full states go out
	// in the order of the changes.
	b.presence.mu.Lock()
	defer b.presence.mu.Unlock()
	kind := byte('f')
	if online {
		kind = 'o'
		b.presence.local[user] = struct{}{}
	} else {
		delete(b.presence.local, user)
	}
	b.sendControl(kind, binary.AppendUvarint(nil, uint64(user))...)
}

// OnlineElsewhere reports whether another node announced sessions of user.
func (b *Broker) OnlineElsewhere(user parley.UserID) bool {
	b.presence.mu.Lock()
	defer b.presence.mu.Unlock()
	return b.presence.count[user] > 0
}

// presenceChunk is the most user ids in one 's' control message.
const presenceChunk = 4096

// sendPresenceState sends this node's full presence state: 'x', 's'
// chunks, 'e'.
func (b *Broker) sendPresenceState() {
	b.presence.mu.Lock()
	defer b.presence.mu.Unlock()
	b.sendControl('x')
	var payload []byte
	n := 0
	for u := range b.presence.local {
		payload = binary.AppendUvarint(payload, uint64(u))
		if n++; n == presenceChunk {
			b.sendControl('s', payload...)
			payload, n = payload[:0], 0
		}
	}
	if n > 0 {
		b.sendControl('s', payload...)
	}
	b.sendControl('e')
}

// Stats are the broker's counters since Dial.
type Stats struct {
	Published     uint64 // per-device events handed to NATS
	Received      uint64 // events received for devices subscribed here
	Unrouted      uint64 // received events whose device had no subscriber left
	Resyncs       uint64 // times every local subscriber was told to resync
	PublishErrors uint64 // per-device events NATS refused (connection down)
	DeadNodes     uint64 // other nodes that went silent without a goodbye
	SlowConsumers uint64 // times NATS dropped received events (dispatch buffer full)
}

// Stats returns the broker's counters.
func (b *Broker) Stats() Stats {
	return Stats{
		Published:     b.stats.published.Load(),
		Received:      b.stats.received.Load(),
		Unrouted:      b.stats.unrouted.Load(),
		Resyncs:       b.stats.resyncs.Load(),
		PublishErrors: b.stats.publishErrors.Load(),
		DeadNodes:     b.stats.deadNodes.Load(),
		SlowConsumers: b.stats.slowConsumers.Load(),
	}
}

// Peers returns how many other nodes this node currently hears.
func (b *Broker) Peers() int {
	b.peers.mu.Lock()
	defer b.peers.mu.Unlock()
	return len(b.peers.seen)
}

// The wire format's limits.
const (
	eventVersion   = 1
	maxConvIDBytes = 255
)

// Reasons DecodeEvent gives.
const (
	ReasonEventShort   = "event_short"
	ReasonEventVersion = "event_version"
	ReasonEventSeq     = "event_seq"
	ReasonEventConv    = "event_conversation"
)

// EncodeEvent encodes ev in the wire format of the package documentation.
func EncodeEvent(ev parley.Event) []byte {
	out := make([]byte, 0, 2+binary.MaxVarintLen64*2+len(ev.Conversation)+len(ev.Frame))
	out = append(out, eventVersion, byte(ev.Kind))
	out = binary.AppendUvarint(out, uint64(ev.Seq))
	out = binary.AppendUvarint(out, uint64(len(ev.Conversation)))
	out = append(out, ev.Conversation...)
	return append(out, ev.Frame...)
}

// DecodeEvent decodes an event message. The returned Frame aliases data.
// Errors are parley errors with CodeInvalid and one of the Reason constants.
func DecodeEvent(data []byte) (parley.Event, error) {
	if len(data) < 2 {
		return parley.Event{}, parley.Errorf(parley.CodeInvalid, ReasonEventShort, "event message of %d bytes", len(data))
	}
	if data[0] != eventVersion {
		return parley.Event{}, parley.Errorf(parley.CodeInvalid, ReasonEventVersion, "event message version %d", data[0])
	}
	ev := parley.Event{Kind: parley.EventKind(data[1])}
	rest := data[2:]
	seq, n := binary.Uvarint(rest)
	if n <= 0 || seq > 1<<62 {
		return parley.Event{}, parley.Errorf(parley.CodeInvalid, ReasonEventSeq, "bad event seq")
	}
	ev.Seq = parley.Seq(seq)
	rest = rest[n:]
	cl, n := binary.Uvarint(rest)
	if n <= 0 || cl > maxConvIDBytes || cl > uint64(len(rest)-n) {
		return parley.Event{}, parley.Errorf(parley.CodeInvalid, ReasonEventConv, "bad event conversation id")
	}
	rest = rest[n:]
	ev.Conversation = parley.ConversationID(rest[:cl])
	if len(rest[cl:]) > 0 {
		ev.Frame = rest[cl:]
	}
	return ev, nil
}
