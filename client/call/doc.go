// Package call is the Go client's call participant: a headless pion peer
// that joins a call through the server's SFU, or connects directly to the
// other device of a 1:1 call (Config.Peer; through the TURN relay when
// there is no direct path), publishes synthetic Opus audio and VP8 video
// frames carrying a known plaintext pattern (video optionally as three
// simulcast layers), encrypts every frame with SFrame under keys derived
// from the conversation's MLS group, and verifies every frame it receives.
// Its audio packets carry RFC 6464 audio levels (SetAudioLevel), from
// which the SFU finds the dominant speaker; a video frame's first byte
// stays in the clear (authenticated by SFrame) so that the SFU can tell
// keyframes. The client (package client/calls, `parley call`), bots, the
// tests and `parley bench call` use it.
//
// It is native only (not js/wasm): the browser client uses the browser's
// WebRTC and encoded transforms.
package call
