// Package call is the Go client's call participant: a headless pion peer
// that joins a call through the server's SFU, publishes synthetic Opus
// audio and VP8 video frames carrying a known plaintext pattern, encrypts
// every frame with SFrame under keys derived from the conversation's MLS
// group, and verifies every frame it receives. The CLI (`parley call`),
// bots, the tests and `parley bench call` use it.
//
// It is native only (not js/wasm): the browser client uses the browser's
// WebRTC and encoded transforms.
package call
