// Package parley holds Parley's domain: the typed identifiers, the error type
// with its closed set of codes, the records the server keeps (users, devices,
// conversations, envelopes, cursors, receipts) and the contracts its services
// consume (Store, Broker, CodeSender, Clock).
//
// Technology packages implement these contracts (store/sqlite,
// store/postgres, broker/inproc, …) and never import each other; they meet
// only in cmd/parley. The server is crypto-blind: every Envelope payload is
// MLS ciphertext produced by a client, and nothing in this package looks
// inside it.
package parley
