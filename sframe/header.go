package sframe

import (
	"encoding/binary"
	"math/bits"

	"github.com/parleyhq/parley"
)

// Reasons carried by the *parley.Error values of this package (all CodeInvalid).
const (
	ReasonShortHeader  = "sframe_short_header"  // the frame ends inside its header
	ReasonShortFrame   = "sframe_short_frame"   // no room for the tag after the header
	ReasonUnknownKey   = "sframe_unknown_key"   // no key for the header's KID
	ReasonAuthFailed   = "sframe_auth_failed"   // the tag does not verify
	ReasonReplayed     = "sframe_replayed"      // the counter is too old or already seen
	ReasonUnknownSuite = "sframe_unknown_suite" // not a registered cipher suite
	ReasonBadKey       = "sframe_bad_key"       // a key or base key of the wrong size
	ReasonCounterSpent = "sframe_counter_spent" // a sender used every counter value
	ReasonKIDTooLarge  = "sframe_kid_too_large" // a leaf index or context does not fit the KID layout
)

const maxHeaderSize = 1 + 8 + 8

var errAuth = parley.Errorf(parley.CodeInvalid, ReasonAuthFailed, "sframe: open: authentication failed")

// Header is the clear part of an SFrame ciphertext.
type Header struct {
	KID uint64 // names the key (and so the sender)
	CTR uint64 // per-key frame counter; with the key it makes the nonce
}

// AppendHeader appends the shortest encoding of h to b.
func AppendHeader(b []byte, h Header) []byte {
	var config byte
	var kid, ctr []byte
	var buf [16]byte
	if h.KID < 8 {
		config = byte(h.KID) << 4
	} else {
		n := byteLen(h.KID)
		config = 0x80 | byte(n-1)<<4
		binary.BigEndian.PutUint64(buf[0:8], h.KID)
		kid = buf[8-n : 8]
	}
	if h.CTR < 8 {
		config |= byte(h.CTR)
	} else {
		n := byteLen(h.CTR)
		config |= 0x08 | byte(n-1)
		binary.BigEndian.PutUint64(buf[8:16], h.CTR)
		ctr = buf[16-n : 16]
	}
	b = append(b, config)
	b = append(b, kid...)
	return append(b, ctr...)
}

func byteLen(v uint64) int { return max(1, (bits.Len64(v)+7)/8) }

// ParseHeader decodes the header at the start of frame and returns it with
// its length in bytes. A frame that ends inside the header is an error with
// ReasonShortHeader.
func ParseHeader(frame []byte) (Header, int, error) {
	if len(frame) == 0 {
		return Header{}, 0, parley.Errorf(parley.CodeInvalid, ReasonShortHeader, "sframe: parse header: empty frame")
	}
	config := frame[0]
	n := 1
	var h Header
	read := func(what string, l int) (uint64, error) {
		if len(frame) < n+l {
			return 0, parley.Errorf(parley.CodeInvalid, ReasonShortHeader, "sframe: parse header: %s needs %d bytes, %d left", what, l, len(frame)-n)
		}
		var v uint64
		for _, c := range frame[n : n+l] {
			v = v<<8 | uint64(c)
		}
		n += l
		return v, nil
	}
	var err error
	if config&0x80 == 0 {
		h.KID = uint64(config>>4) & 7
	} else if h.KID, err = read("KID", int(config>>4&7)+1); err != nil {
		return Header{}, 0, err
	}
	if config&0x08 == 0 {
		h.CTR = uint64(config & 7)
	} else if h.CTR, err = read("CTR", int(config&7)+1); err != nil {
		return Header{}, 0, err
	}
	return h, n, nil
}
