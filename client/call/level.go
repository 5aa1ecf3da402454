//go:build !js

package call

// AudioLevelURI is the RTP header extension of RFC 6464 (client-to-mixer
// audio level), which the SFU reads to find the dominant speaker.
const AudioLevelURI = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"

// Synthetic audio levels, in -dBov (0 loudest, 127 silence).
const (
	DefaultAudioLevel = 40  // speech
	SilenceLevel      = 127 // silence: the voice-activity flag is off
)

// SetAudioLevel sets the level every following audio frame declares in
// its RTP header (RFC 6464: -dBov, 0 loudest, 127 silence; larger values
// are clamped), so that a test or a bot can speak up or fall silent.
func (p *Participant) SetAudioLevel(level uint8) {
	p.level.Store(uint32(min(level, SilenceLevel)))
}

// audioLevelID is the negotiated id of the audio-level extension on the
// audio sender, or 0 when the other side did not take it.
func (p *Participant) audioLevelID() uint8 {
	if p.audioSender == nil {
		return 0
	}
	for _, e := range p.audioSender.GetParameters().HeaderExtensions {
		if e.URI == AudioLevelURI && e.ID > 0 && e.ID < 15 {
			return uint8(e.ID)
		}
	}
	return 0
}
