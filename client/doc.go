// Package client is Parley's client core: the one implementation of the wire
// protocol, of the MLS group state handling and of the local store, used by
// the CLI, the tests, bots and (compiled with GOOS=js GOARCH=wasm) the browser.
//
// A Client owns one device's profile: its credentials, its MLS signature key,
// the private halves of its KeyPackages, the MLS state of every conversation
// it is in, and the decrypted messages. It keeps one WebSocket session to the
// server open, reconnecting with exponential backoff and jitter, and resumes
// where it left off: the server sends every envelope past the device's
// cursor.
//
// Guarantees:
//   - Every message is end-to-end encrypted with the conversation's MLS group
//     (package mls); the server only ever sees ciphertext.
//   - An incoming envelope is acknowledged only after its effect (new group
//     state, decrypted message, cursor) is committed to the local store in
//     one transaction, so a crash never loses an acknowledged message.
//   - Exactly once as the user sees it: the server delivers at least once,
//     the client drops envelopes at or below its per-conversation cursor.
//   - Send is idempotent: a retried send reuses the message's client id and
//     the server appends it once.
//   - Group members' credentials are checked against the identity keys the
//     server publishes for their devices.
package client
