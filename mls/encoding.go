package mls

import (
	"errors"
	"fmt"

	"github.com/parleyhq/parley/mls/codec"
)

// ErrMalformed is wrapped by every decoding error returned by this package's
// Unmarshal functions, so callers can distinguish malformed input from
// cryptographic failures.
var ErrMalformed = errors.New("mls: malformed message")

// Encoder is implemented by every wire struct of this package: Encode
// appends the struct's RFC 9420 encoding to w.
type Encoder interface {
	Encode(w *codec.Writer)
}

// Decoder is implemented by pointers to wire structs: Decode reads one
// value from r, recording failures in r's sticky error.
type Decoder interface {
	Decode(r *codec.Reader)
}

// Marshal returns the encoding of v.
func Marshal(v Encoder) ([]byte, error) {
	w := codec.NewWriter(256)
	v.Encode(w)
	if err := w.Err(); err != nil {
		return nil, fmt.Errorf("mls: encode %T: %w", v, err)
	}
	return w.Bytes(), nil
}

// Unmarshal decodes data into v, requiring that all of data is consumed.
// Errors wrap ErrMalformed and the underlying codec error.
func Unmarshal(data []byte, v Decoder) error {
	r := codec.NewReader(data)
	v.Decode(r)
	if err := r.Finish(); err != nil {
		return fmt.Errorf("%w: decode %T: %w", ErrMalformed, v, err)
	}
	return nil
}

// mustEncode returns the encoding of v, ignoring the only possible error
// (a vector longer than 2^30 bytes, which cannot occur for values built in
// memory by this package).
func mustEncode(v Encoder) []byte {
	w := codec.NewWriter(256)
	v.Encode(w)
	return w.Bytes()
}

func encodeU16s[T ~uint16](w *codec.Writer, vs []T) {
	w.Vector(func(w *codec.Writer) {
		for _, v := range vs {
			w.U16(uint16(v))
		}
	})
}

func decodeU16s[T ~uint16](r *codec.Reader) []T {
	var out []T
	r.VectorEach(func(r *codec.Reader) { out = append(out, T(r.U16())) })
	return out
}

func encodeList[T any, P interface {
	*T
	Encoder
}](w *codec.Writer, vs []T) {
	w.Vector(func(w *codec.Writer) {
		for i := range vs {
			P(&vs[i]).Encode(w)
		}
	})
}

func decodeList[T any, P interface {
	*T
	Decoder
}](r *codec.Reader) []T {
	var out []T
	r.VectorEach(func(r *codec.Reader) {
		var v T
		P(&v).Decode(r)
		out = append(out, v)
	})
	return out
}
