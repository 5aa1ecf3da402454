//go:build !js

package calls

import (
	"context"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client/call"
	"github.com/parleyhq/parley/client/mlsengine"
	"github.com/parleyhq/parley/proto/parleypb"
	"github.com/parleyhq/parley/sframe"
)

// keysWait bounds how long the media waits for this device to join the
// chat's MLS group (a chat made just before the call may not be joined
// yet on the callee's device).
const keysWait = 20 * time.Second

// rekeyInterval is how often the call checks the group's epoch.
const rekeyInterval = time.Second

// participantMedia is the headless participant as the call's media.
type participantMedia struct {
	p      *call.Participant
	direct bool
}

func (m participantMedia) HandleSignal(s *parleypb.CallSignal) { m.p.HandleSignal(s) }
func (m participantMedia) Close() error                        { return m.p.Close() }

func (m participantMedia) Stats() Stats {
	ps := m.p.Stats()
	st := Stats{PacketsSent: ps.AudioSent + ps.VideoSent, Connected: ps.Connected, Direct: m.direct, Path: ps.Path}
	for _, f := range ps.From {
		st.PacketsReceived += f.Frames
		st.FramesDecrypted += f.Decrypted
		st.FramesFailed += f.Failed
		if f.Decrypted > 0 {
			st.Senders++
		}
	}
	return st
}

// startMedia derives the SFrame keys, starts the participant and re-keys
// it whenever the chat's group moves to a new epoch, until the call ends.
func (cl *Call) startMedia() error {
	recv := sframe.NewReceiver()
	sealer, epoch, err := cl.waitKeys(recv)
	if err != nil {
		return err
	}
	me := cl.cs.core.Account()
	cl.mu.Lock()
	cfg := call.Config{Device: me.Device, Video: cl.video, Loopback: cl.opt.Loopback, ICEServers: iceServers(cl.ice),
		Sealer: sealer, Receiver: recv, RelayOnly: cl.opt.RelayOnly, Simulcast: cl.opt.Simulcast}
	if !cl.group && !cl.opt.ViaSFU {
		// 1:1: peer to peer with the other device (through the TURN
		// relay when there is no direct path); the caller offers.
		cfg.Peer, cfg.Offerer = cl.peer, cl.outgoing
	}
	cl.mu.Unlock()
	p, err := call.New(cfg, func(ctx context.Context, conn parleypb.CallConnection, kind parleypb.CallSignalKind, payload []byte) error {
		return cl.sendSignal(ctx, cfg.Peer, conn, kind, payload)
	})
	if err != nil {
		return err
	}
	cl.setMedia(participantMedia{p: p, direct: cfg.Peer != 0})
	if err := p.Start(cl.ctx); err != nil {
		return err
	}
	t := time.NewTicker(rekeyInterval)
	defer t.Stop()
	for {
		select {
		case <-cl.ctx.Done():
			return nil
		case <-t.C:
		}
		var now uint64
		if err := cl.cs.core.WithGroup(cl.ctx, cl.conv, func(g mlsengine.Group) error { now = uint64(g.Epoch()); return nil }); err != nil || now == epoch {
			continue
		}
		if sealer, epoch, err = cl.keys(sealer, recv); err != nil {
			cl.cs.core.Logger().Warn("call re-key", "call", cl.id, "err", err)
		}
	}
}

// waitKeys is keys, retried while this device has not joined the group.
func (cl *Call) waitKeys(recv *sframe.Receiver) (*sframe.Sealer, uint64, error) {
	deadline := time.Now().Add(keysWait)
	for {
		s, epoch, err := cl.keys(nil, recv)
		if err == nil || time.Now().After(deadline) {
			return s, epoch, err
		}
		select {
		case <-cl.ctx.Done():
			return nil, 0, cl.ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// keys derives this device's frame key and the other leaves' from the
// chat's group in its current epoch and installs them (call.Keys).
func (cl *Call) keys(sealer *sframe.Sealer, recv *sframe.Receiver) (*sframe.Sealer, uint64, error) {
	me := cl.cs.core.Account()
	var epoch uint64
	err := cl.cs.core.WithGroup(cl.ctx, cl.conv, func(g mlsengine.Group) error {
		own, found := uint32(0), false
		var leaves []uint32
		for _, m := range g.Members() {
			leaves = append(leaves, m.Leaf)
			if m.Device == me.Device {
				own, found = m.Leaf, true
			}
		}
		if !found {
			return parley.Errorf(parley.CodeNotFound, ReasonCallNoKeys, "this device is not in the chat's group")
		}
		s, err := call.Keys(exporter{g}, own, leaves, sealer, recv)
		if err != nil {
			return err
		}
		sealer, epoch = s, uint64(g.Epoch())
		return nil
	})
	if err != nil && parley.ErrorReason(err) != ReasonCallNoKeys {
		err = parley.Errorf(parley.CodeNotFound, ReasonCallNoKeys, "no call keys for chat %s: %v", cl.conv, err)
	}
	return sealer, epoch, err
}

// exporter is an mlsengine.Group as sframe sees it.
type exporter struct{ g mlsengine.Group }

func (e exporter) Export(label string, ctx []byte, n int) ([]byte, error) {
	return e.g.Export(label, ctx, n)
}
func (e exporter) Epoch() uint64 { return uint64(e.g.Epoch()) }

func (cl *Call) sendSignal(ctx context.Context, to parley.DeviceID, conn parleypb.CallConnection, kind parleypb.CallSignalKind, payload []byte) error {
	_, err := cl.cs.core.Request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_CallSignal{CallSignal: &parleypb.CallSignalRequest{
		CallId: string(cl.id), ToDevice: int64(to), Connection: conn, Kind: kind, Payload: payload}}})
	return err
}

// iceServers converts the CallInfo's servers (the built-in TURN relay
// with short-lived credentials) for pion.
func iceServers(in []*parleypb.IceServer) []webrtc.ICEServer {
	var out []webrtc.ICEServer
	for _, s := range in {
		out = append(out, webrtc.ICEServer{URLs: s.GetUrls(), Username: s.GetUsername(), Credential: s.GetCredential()})
	}
	return out
}
