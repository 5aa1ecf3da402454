// Package codec implements the subset of the TLS presentation language
// (RFC 8446 §3) used by MLS (RFC 9420 §2.1.2): fixed-width big-endian
// integers, raw byte strings, and variable-length vectors whose length is
// carried in a QUIC-style variable-length integer of 1, 2 or 4 bytes
// (maximum length 2^30-1).
//
// The Writer is append-based and never fails on its own except when a vector
// exceeds the maximum length, which is reported by Writer.Err.
//
// The Reader has a sticky error: once a read fails every later read returns
// zero values and Err reports the first failure. The Reader never allocates
// more than the number of bytes actually present in its input, so hostile
// length prefixes cannot cause large allocations, and it rejects non-minimal
// variable-length integer encodings as RFC 9420 requires.
package codec

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// MaxVectorLen is the largest length a variable-length vector may have
// (2^30 - 1), the largest value a 4-byte MLS varint can carry.
const MaxVectorLen = 1<<30 - 1

// Sentinel errors returned (possibly wrapped) by Reader and Writer.
var (
	// ErrShort means the input ended before a value was complete.
	ErrShort = errors.New("codec: unexpected end of input")
	// ErrNonMinimalVarint means a varint used more bytes than needed.
	ErrNonMinimalVarint = errors.New("codec: non-minimal varint encoding")
	// ErrInvalidVarint means a varint carried the reserved 0b11 prefix.
	ErrInvalidVarint = errors.New("codec: invalid varint prefix")
	// ErrTrailingData means bytes remained after a complete value.
	ErrTrailingData = errors.New("codec: trailing data")
	// ErrTooLong means a vector exceeded MaxVectorLen.
	ErrTooLong = errors.New("codec: vector too long")
	// ErrInvalidOptional means an optional presence byte was neither 0 nor 1.
	ErrInvalidOptional = errors.New("codec: invalid optional presence byte")
	// ErrInvalidValue is used by decoders for values outside their domain
	// (unknown enum values and the like).
	ErrInvalidValue = errors.New("codec: invalid value")
)

// Writer accumulates an encoding. The zero value is ready to use.
type Writer struct {
	buf []byte
	err error
}

// NewWriter returns a Writer whose buffer has the given initial capacity.
func NewWriter(capacity int) *Writer {
	return &Writer{buf: make([]byte, 0, capacity)}
}

// Bytes returns the encoded bytes. The slice aliases the Writer's buffer.
func (w *Writer) Bytes() []byte { return w.buf }

// Len returns the number of bytes written so far.
func (w *Writer) Len() int { return len(w.buf) }

// Err returns the first error encountered while writing (only ErrTooLong can
// occur), or nil.
func (w *Writer) Err() error { return w.err }

// Reset empties the Writer, keeping its buffer.
func (w *Writer) Reset() { w.buf = w.buf[:0]; w.err = nil }

// U8 appends a uint8.
func (w *Writer) U8(v uint8) { w.buf = append(w.buf, v) }

// U16 appends a big-endian uint16.
func (w *Writer) U16(v uint16) { w.buf = binary.BigEndian.AppendUint16(w.buf, v) }

// U32 appends a big-endian uint32.
func (w *Writer) U32(v uint32) { w.buf = binary.BigEndian.AppendUint32(w.buf, v) }

// U64 appends a big-endian uint64.
func (w *Writer) U64(v uint64) { w.buf = binary.BigEndian.AppendUint64(w.buf, v) }

// Bool appends a boolean as a single byte 0 or 1.
func (w *Writer) Bool(v bool) {
	if v {
		w.U8(1)
	} else {
		w.U8(0)
	}
}

// Raw appends b without a length prefix.
func (w *Writer) Raw(b []byte) { w.buf = append(w.buf, b...) }

// RawString appends s without a length prefix.
func (w *Writer) RawString(s string) { w.buf = append(w.buf, s...) }

// Zeros appends n zero bytes.
func (w *Writer) Zeros(n int) {
	for ; n > 0; n-- {
		w.buf = append(w.buf, 0)
	}
}

// Varint appends n as a minimal MLS variable-length integer.
func (w *Writer) Varint(n int) {
	w.buf = AppendVarint(w.buf, n)
	if n < 0 || n > MaxVectorLen {
		w.setErr(fmt.Errorf("%w: %d", ErrTooLong, n))
	}
}

// Opaque appends b as a variable-length vector: opaque data<V>.
func (w *Writer) Opaque(b []byte) {
	w.Varint(len(b))
	w.buf = append(w.buf, b...)
}

// String appends s as opaque data<V>.
func (w *Writer) String(s string) {
	w.Varint(len(s))
	w.buf = append(w.buf, s...)
}

// Vector appends a variable-length vector whose content is written by f.
func (w *Writer) Vector(f func(w *Writer)) {
	start := len(w.buf)
	f(w)
	n := len(w.buf) - start
	h := VarintLen(n)
	if n > MaxVectorLen {
		w.setErr(fmt.Errorf("%w: %d", ErrTooLong, n))
		h = 4
	}
	// Make room for the header and shift the content right.
	for i := 0; i < h; i++ {
		w.buf = append(w.buf, 0)
	}
	copy(w.buf[start+h:], w.buf[start:start+n])
	putVarint(w.buf[start:start+h], n)
}

// Optional appends the presence byte of an optional<T> value. The caller
// writes the value itself when present is true.
func (w *Writer) Optional(present bool) { w.Bool(present) }

func (w *Writer) setErr(err error) {
	if w.err == nil {
		w.err = err
	}
}

// VarintLen returns the number of bytes of the minimal varint encoding of n.
func VarintLen(n int) int {
	switch {
	case n < 1<<6:
		return 1
	case n < 1<<14:
		return 2
	default:
		return 4
	}
}

// AppendVarint appends the minimal varint encoding of n to b. Values outside
// [0, MaxVectorLen] are truncated; use Writer.Varint to detect them.
func AppendVarint(b []byte, n int) []byte {
	h := VarintLen(n)
	var tmp [4]byte
	putVarint(tmp[:h], n)
	return append(b, tmp[:h]...)
}

func putVarint(dst []byte, n int) {
	v := uint32(n) & MaxVectorLen
	switch len(dst) {
	case 1:
		dst[0] = byte(v)
	case 2:
		binary.BigEndian.PutUint16(dst, uint16(v)|0x4000)
	case 4:
		binary.BigEndian.PutUint32(dst, v|0x80000000)
	}
}

// Reader decodes an encoding with a sticky error. Byte slices it returns are
// fresh copies that do not alias the input.
type Reader struct {
	data []byte
	off  int
	err  error
}

// NewReader returns a Reader over b.
func NewReader(b []byte) *Reader { return &Reader{data: b} }

// Err returns the first error encountered, or nil.
func (r *Reader) Err() error { return r.err }

// Fail records err (if no earlier error is recorded) so that decoders can
// report semantic errors through the same sticky mechanism.
func (r *Reader) Fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

// Failf records a formatted error wrapping ErrInvalidValue.
func (r *Reader) Failf(format string, args ...any) {
	r.Fail(fmt.Errorf("%w: "+format, append([]any{ErrInvalidValue}, args...)...))
}

// Len returns the number of unread bytes.
func (r *Reader) Len() int { return len(r.data) - r.off }

// Empty reports whether all input has been consumed or an error occurred.
func (r *Reader) Empty() bool { return r.err != nil || r.off >= len(r.data) }

// Offset returns the number of bytes consumed so far.
func (r *Reader) Offset() int { return r.off }

// Finish returns the first error, or ErrTrailingData if unread bytes remain.
func (r *Reader) Finish() error {
	if r.err != nil {
		return r.err
	}
	if r.off != len(r.data) {
		return fmt.Errorf("%w: %d bytes", ErrTrailingData, len(r.data)-r.off)
	}
	return nil
}

func (r *Reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.data)-r.off {
		r.err = ErrShort
		return nil
	}
	b := r.data[r.off : r.off+n : r.off+n]
	r.off += n
	return b
}

// U8 reads a uint8.
func (r *Reader) U8() uint8 {
	b := r.take(1)
	if b == nil {
		return 0
	}
	return b[0]
}

// U16 reads a big-endian uint16.
func (r *Reader) U16() uint16 {
	b := r.take(2)
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint16(b)
}

// U32 reads a big-endian uint32.
func (r *Reader) U32() uint32 {
	b := r.take(4)
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint32(b)
}

// U64 reads a big-endian uint64.
func (r *Reader) U64() uint64 {
	b := r.take(8)
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

// Bool reads a byte that must be 0 or 1.
func (r *Reader) Bool() bool {
	v := r.U8()
	if v > 1 {
		r.Fail(fmt.Errorf("%w: boolean %d", ErrInvalidValue, v))
		return false
	}
	return v == 1
}

// Optional reads the presence byte of an optional<T>. The caller reads the
// value itself when it returns true.
func (r *Reader) Optional() bool {
	v := r.U8()
	if v > 1 {
		r.Fail(fmt.Errorf("%w: %d", ErrInvalidOptional, v))
		return false
	}
	return v == 1
}

// Raw reads exactly n bytes and returns a copy of them.
func (r *Reader) Raw(n int) []byte {
	b := r.take(n)
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}

// Varint reads a minimal MLS variable-length integer.
func (r *Reader) Varint() int {
	if r.err != nil {
		return 0
	}
	if r.off >= len(r.data) {
		r.err = ErrShort
		return 0
	}
	first := r.data[r.off]
	var n, size int
	switch first >> 6 {
	case 0:
		size = 1
	case 1:
		size = 2
	case 2:
		size = 4
	default:
		r.err = ErrInvalidVarint
		return 0
	}
	b := r.take(size)
	if b == nil {
		return 0
	}
	n = int(first & 0x3f)
	for _, c := range b[1:] {
		n = n<<8 | int(c)
	}
	if size > 1 && VarintLen(n) != size {
		r.err = ErrNonMinimalVarint
		return 0
	}
	return n
}

// Opaque reads opaque data<V> and returns a copy of the bytes. An empty
// vector yields a non-nil empty slice.
func (r *Reader) Opaque() []byte {
	n := r.Varint()
	b := r.take(n)
	if b == nil {
		return nil
	}
	return append(make([]byte, 0, len(b)), b...)
}

// String reads opaque data<V> as a string.
func (r *Reader) String() string {
	n := r.Varint()
	return string(r.take(n))
}

// Vector reads a variable-length vector and calls f with a Reader bounded to
// its content. It is an error (ErrTrailingData) for f to leave bytes of the
// vector unread. f is not called if the header cannot be read.
func (r *Reader) Vector(f func(r *Reader)) {
	n := r.Varint()
	b := r.take(n)
	if r.err != nil {
		return
	}
	sub := Reader{data: b}
	f(&sub)
	if err := sub.Finish(); err != nil {
		r.err = err
	}
}

// VectorEach reads a variable-length vector and calls f repeatedly, once per
// element, until the vector's content is consumed. f must consume at least
// one byte per call or record an error; otherwise decoding fails with
// ErrInvalidValue (this rules out unbounded loops on hostile input).
func (r *Reader) VectorEach(f func(r *Reader)) {
	r.Vector(func(sub *Reader) {
		for !sub.Empty() {
			before := sub.off
			f(sub)
			if sub.err == nil && sub.off == before {
				sub.err = fmt.Errorf("%w: empty vector element", ErrInvalidValue)
			}
		}
	})
}
