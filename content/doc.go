// Package content is Parley's end-to-end plaintext format: the JSON body
// that every MLS application message carries (Body, Version, Encode,
// Decode), the message kinds and their body extension (Ext: replies,
// mentions, reactions, edits, deletions, polls), the structured content of
// the business kinds (BusinessContent) with its validation, and the
// decrypted message record (MessageRecord) that clients and the server's
// Cloud API adapter exchange.
//
// The server never decrypts a body; it imports this package for the types
// its hosted endpoints hand to and take from a client. docs/protocol.md
// ("Message content") documents the format like the wire frames.
//
// Decode never fails on content it cannot use: an unknown kind, a media
// kind without a valid descriptor or a business kind without valid content
// is shown as KindUnsupported rather than dropped, so old clients keep
// working as kinds are added. Every Validate and limit returns a
// parley.Error with CodeInvalid and a specific reason.
package content
