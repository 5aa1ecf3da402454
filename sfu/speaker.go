package sfu

import (
	"context"
	"sync"
	"time"

	"github.com/pion/rtp"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/calls"
)

// AudioLevelURI is the RTP header extension of RFC 6464 (client-to-mixer
// audio level): each audio packet carries its level in -dBov (0 loudest,
// 127 silence) and a voice-activity flag. The SFU negotiates it on every
// audio track and reads it (the extension is in the clear RTP header; the
// payload stays SFrame ciphertext).
const AudioLevelURI = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"

// SpeakerNotifier is told when a call's dominant speaker changes
// (*calls.Service implements it; the SFU calls it when its Signaller
// does).
type SpeakerNotifier interface {
	ActiveSpeaker(ctx context.Context, id calls.CallID, dev parley.DeviceID)
}

// The dominant-speaker policy: a participant's loudness (127 minus the
// level) is averaged over its recent packets; the loudest participant
// whose average is at least speakerMinLoudness takes over from the current
// speaker once it has been louder than the current speaker by
// speakerMargin for Config.SpeakerHold (hysteresis, so that short noises
// and two people talking at once do not flip the speaker back and forth).
// A participant with no audio packet for speakerStale counts as silent.
// The last speaker stays the speaker while everyone is silent.
const (
	speakerMinLoudness = 50 // an average level of -77 dBov or louder
	speakerMargin      = 10 // dB
	speakerStale       = time.Second
	speakerEvery       = 100 * time.Millisecond // how often the decision is made
	speakerSmoothing   = 0.1                    // weight of each new packet in the average
	defaultSpeakerHold = 400 * time.Millisecond
)

// speakers detects one call's dominant speaker from its audio levels.
type speakers struct {
	hold time.Duration

	mu        sync.Mutex
	levels    map[parley.DeviceID]*loudness
	current   parley.DeviceID
	candidate parley.DeviceID
	since     time.Time // when candidate started leading
	lastEval  time.Time
}

type loudness struct {
	avg float64
	at  time.Time
}

func newSpeakers(hold time.Duration) *speakers {
	return &speakers{hold: hold, levels: make(map[parley.DeviceID]*loudness)}
}

// audioLevel reads the RFC 6464 level of an RTP packet whose header h
// carries the extension under id.
func audioLevel(h *rtp.Header, id uint8) (uint8, bool) {
	b := h.GetExtension(id)
	if b == nil {
		return 0, false
	}
	var al rtp.AudioLevelExtension
	if err := al.Unmarshal(b); err != nil {
		return 0, false
	}
	return al.Level, true
}

// observe records a packet's level from dev at now and returns the new
// dominant speaker when this observation changed it.
func (sp *speakers) observe(dev parley.DeviceID, level uint8, now time.Time) (parley.DeviceID, bool) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	l := sp.levels[dev]
	if l == nil {
		l = &loudness{}
		sp.levels[dev] = l
	}
	loud := float64(127 - min(level, 127))
	if now.Sub(l.at) > speakerStale {
		l.avg = loud
	} else {
		l.avg += speakerSmoothing * (loud - l.avg)
	}
	l.at = now
	if now.Sub(sp.lastEval) < speakerEvery {
		return 0, false
	}
	sp.lastEval = now
	return sp.decide(now)
}

// decide applies the policy. sp.mu is held.
func (sp *speakers) decide(now time.Time) (parley.DeviceID, bool) {
	avg := func(d parley.DeviceID) float64 {
		if l := sp.levels[d]; l != nil && now.Sub(l.at) <= speakerStale {
			return l.avg
		}
		return 0
	}
	var best parley.DeviceID
	bestAvg := 0.0
	for d := range sp.levels {
		if a := avg(d); a > bestAvg || a == bestAvg && best != 0 && d < best {
			best, bestAvg = d, a
		}
	}
	if best == 0 || best == sp.current || bestAvg < speakerMinLoudness || bestAvg < avg(sp.current)+speakerMargin {
		sp.candidate = 0
		return 0, false
	}
	if sp.candidate != best {
		sp.candidate, sp.since = best, now
	}
	if now.Sub(sp.since) < sp.hold {
		return 0, false
	}
	sp.current, sp.candidate = best, 0
	return best, true
}

// forget drops a participant that left.
func (sp *speakers) forget(dev parley.DeviceID) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	delete(sp.levels, dev)
	if sp.current == dev {
		sp.current = 0
	}
	if sp.candidate == dev {
		sp.candidate = 0
	}
}

// speakerChanged tells the call service (when it listens) that dev is the
// call's dominant speaker now.
func (s *SFU) speakerChanged(id calls.CallID, dev parley.DeviceID) {
	s.speakerChanges.Add(1)
	n, ok := s.sig.(SpeakerNotifier)
	if !ok {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		n.ActiveSpeaker(s.ctx, id, dev)
	}()
}
