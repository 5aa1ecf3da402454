package sfu_test

import (
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client/call"
	"github.com/parleyhq/parley/proto/parleypb"
)

// speakerLog collects the CALL_ACTIVE_SPEAKER events one device receives.
type speakerLog struct {
	mu   sync.Mutex
	devs []parley.DeviceID
}

func (l *speakerLog) last() (parley.DeviceID, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.devs) == 0 {
		return 0, 0
	}
	return l.devs[len(l.devs)-1], len(l.devs)
}

// Active speaker: three real participants send RFC 6464 audio levels; the
// SFU reads them and every participant is told the dominant speaker, who
// switches when another participant speaks up and the first falls silent.
func TestActiveSpeakerSwitches(t *testing.T) {
	h := newHarness(t, 3)
	logs := make([]*speakerLog, 3)
	for i, m := range h.ms {
		l := &speakerLog{}
		logs[i] = l
		unsub, err := h.br.Subscribe(m.dev.ID, func(ev parley.Event) {
			var f parleypb.ServerFrame
			if proto.Unmarshal(ev.Frame, &f) == nil && f.GetCallEvent().GetKind() == parleypb.CallEventKind_CALL_ACTIVE_SPEAKER {
				l.mu.Lock()
				l.devs = append(l.devs, parley.DeviceID(f.GetCallEvent().GetDeviceId()))
				l.mu.Unlock()
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(unsub)
	}
	for i := range 3 {
		h.join(i, false)
		h.ms[i].p.SetAudioLevel(call.SilenceLevel)
	}
	h.waitDecrypted([]int{0, 1, 2}, nil, 5, 60*time.Second)

	waitSpeaker := func(want int) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			ok := true
			for _, l := range logs {
				if d, _ := l.last(); d != h.ms[want].dev.ID {
					ok = false
				}
			}
			if ok {
				return
			}
			if time.Now().After(deadline) {
				var got []parley.DeviceID
				for _, l := range logs {
					d, _ := l.last()
					got = append(got, d)
				}
				t.Fatalf("speaker %d (device %d) never announced to all; last announced %v; sfu %+v", want, h.ms[want].dev.ID, got, h.sfu.Stats())
			}
			time.Sleep(20 * time.Millisecond) // polling interval, not synchronisation
		}
	}
	h.ms[0].p.SetAudioLevel(25)
	waitSpeaker(0)
	h.ms[0].p.SetAudioLevel(call.SilenceLevel)
	h.ms[2].p.SetAudioLevel(25)
	waitSpeaker(2)
	if _, n := logs[1].last(); n != 2 {
		t.Fatalf("member 1 was told of %d speaker changes, want 2 (no flapping)", n)
	}
	if st := h.sfu.Stats(); st.SpeakerChanges != 2 {
		t.Fatalf("sfu %+v", st)
	}
}
