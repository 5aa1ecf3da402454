// Package bench measures a Parley server with the scenarios of `parley bench`
// and prints one JSON line per scenario.
//
// The bench seeds accounts, devices and direct conversations straight into
// the server's store (no verification codes), starts the server as a child
// process so its memory and CPU can be read from /proc, and drives it over
// loopback with a lean protocol client. Payloads are opaque random bytes of
// a realistic MLS ciphertext size: the server is crypto-blind, so it cannot
// tell them from real MLS messages, and the bench says so in its output
// ("payload":"opaque").
package bench
