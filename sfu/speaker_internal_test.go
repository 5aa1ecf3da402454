package sfu

import (
	"testing"
	"time"

	"github.com/parleyhq/parley"
)

// feed sends 20 ms audio packets with levels[dev] from every device for d,
// starting at *now, and returns the speaker changes.
func feed(sp *speakers, now *time.Time, d time.Duration, levels map[parley.DeviceID]uint8) []parley.DeviceID {
	var changes []parley.DeviceID
	for end := now.Add(d); now.Before(end); *now = now.Add(20 * time.Millisecond) {
		for _, dev := range []parley.DeviceID{1, 2, 3} {
			if l, ok := levels[dev]; ok {
				if s, changed := sp.observe(dev, l, *now); changed {
					changes = append(changes, s)
				}
			}
		}
	}
	return changes
}

// The dominant speaker: the loudest takes over after the hold, a short
// burst or a voice only a little louder does not, everyone falling silent
// keeps the last speaker, and a speaker who leaves is forgotten.
func TestDominantSpeakerHysteresis(t *testing.T) {
	sp := newSpeakers(400 * time.Millisecond)
	now := time.Unix(1_700_000_000, 0)
	silent := map[parley.DeviceID]uint8{1: 127, 2: 127, 3: 127}
	if ch := feed(sp, &now, time.Second, silent); len(ch) != 0 {
		t.Fatalf("silence made speakers %v", ch)
	}
	// 1 speaks: it becomes the speaker after the hold, once.
	if ch := feed(sp, &now, 2*time.Second, map[parley.DeviceID]uint8{1: 30, 2: 127, 3: 127}); len(ch) != 1 || ch[0] != 1 {
		t.Fatalf("1 speaking: changes %v", ch)
	}
	// 2 coughs (100 ms): nothing changes.
	if ch := feed(sp, &now, 100*time.Millisecond, map[parley.DeviceID]uint8{1: 30, 2: 10, 3: 127}); len(ch) != 0 {
		t.Fatalf("a cough: changes %v", ch)
	}
	// 2 talks over 1 only a little louder (5 dB): 1 stays.
	if ch := feed(sp, &now, 2*time.Second, map[parley.DeviceID]uint8{1: 30, 2: 25, 3: 127}); len(ch) != 0 {
		t.Fatalf("talking over at +5 dB: changes %v", ch)
	}
	// 1 stops, 3 speaks: 3 takes over, not sooner than the hold.
	start := now
	var at time.Time
	for end := now.Add(2 * time.Second); now.Before(end) && at.IsZero(); {
		if ch := feed(sp, &now, 20*time.Millisecond, map[parley.DeviceID]uint8{1: 127, 2: 127, 3: 35}); len(ch) == 1 && ch[0] == 3 {
			at = now
		}
	}
	if at.IsZero() || at.Sub(start) < 400*time.Millisecond {
		t.Fatalf("3 took over at %v (want after the 400 ms hold)", at.Sub(start))
	}
	// Everyone silent: 3 stays the speaker.
	if ch := feed(sp, &now, 2*time.Second, silent); len(ch) != 0 {
		t.Fatalf("silence: changes %v", ch)
	}
	// 3 leaves; 1 speaks again and takes over.
	sp.forget(3)
	if ch := feed(sp, &now, 2*time.Second, map[parley.DeviceID]uint8{1: 30, 2: 127}); len(ch) != 1 || ch[0] != 1 {
		t.Fatalf("after 3 left: changes %v", ch)
	}
}
