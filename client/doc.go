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
//
// Client is the facade; its parts live in sub-packages it composes:
//   - content (top level): the end-to-end plaintext format — body, kinds,
//     business content — that the server's Cloud API adapter shares;
//   - localstore: the device's durable state, one Store interface with its
//     SQLite (native) and KV (browser) implementations;
//   - mlsengine: the MLS layer (Engine, Group) over package mls;
//   - conn: the WebSocket session;
//   - biz, files, groups: business accounts, files and media messages,
//     invite links and communities. Client embeds their types (Business,
//     Files, Access), so their methods are the Client's.
//
// Types such as MessageRecord, Chat, Group or LocalStore are aliases of
// those packages' types, so callers need only this package.
package client
