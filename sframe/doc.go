// Package sframe implements Secure Frame (SFrame, RFC 9605): authenticated
// encryption of whole media frames, end to end, so that a forwarding server
// sees the SFrame header (key id and counter) and nothing of the media.
//
// # Frame format (RFC 9605 §4.3)
//
// An SFrame ciphertext is a header, the encrypted frame and the tag:
//
//	+-+-+-+-+-+-+-+-+-----------+-----------+----------------+-----+
//	|X|  K  |Y|  C  | KID (0-8) | CTR (0-8) | ciphertext ... | tag |
//	+-+-+-+-+-+-+-+-+-----------+-----------+----------------+-----+
//
// X=0: K is the key id (0..7) and no KID bytes follow; X=1: K+1 big-endian
// KID bytes follow. Y and C say the same of the counter. Encoders here
// always write the shortest form; the decoder accepts any well-formed one.
//
// # Keys
//
// Every key id names one sender key, derived from a base key (§4.4.2):
//
//	sframe_secret = HKDF-Extract("", base_key)
//	sframe_key    = HKDF-Expand(sframe_secret, "SFrame 1.0 Secret key "  || KID(8) || suite(2), Nk)
//	sframe_salt   = HKDF-Expand(sframe_secret, "SFrame 1.0 Secret salt " || KID(8) || suite(2), Nn)
//
// and the nonce of a frame is sframe_salt XOR the counter. The associated
// data is the header followed by the caller's metadata. [EpochKeys] derives
// the base keys from an MLS group through its exporter (§5.2).
//
// # Guarantees
//
// Open returns a plaintext only when the tag verifies under the key the
// header names; a frame whose header is malformed, whose key id is unknown
// or whose tag fails returns a *parley.Error with CodeInvalid and one of
// the Reason constants below, and nothing else is changed. A Sealer never
// reuses a counter; once it has used 2^64-1 counters it refuses to seal.
// Replay protection is the caller's (media transports tolerate duplicates);
// [Receiver] rejects counters more than a window behind the newest seen.
package sframe
