// Package wire is the one place Parley's domain types (package parley) are
// converted to and from the wire protocol's generated messages (package
// proto/parleypb, docs/protocol.md): the services speak domain types, the
// gateway and the client speak frames, and wire converts between them.
//
// Conversions from frames accept any message a peer may send (they are
// fuzzed): out-of-range numbers are clamped so that the domain's Validate
// methods refuse them, never panic. EnvelopeFrame, the hot path of every
// delivered message, is hand-encoded byte for byte as proto.Marshal
// would encode it (a test checks).
package wire
