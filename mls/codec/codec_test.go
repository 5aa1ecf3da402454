package codec

import (
	"bytes"
	"errors"
	"testing"
)

func TestVarintRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 63, 64, 16383, 16384, MaxVectorLen} {
		w := &Writer{}
		w.Varint(n)
		if w.Err() != nil {
			t.Fatalf("Varint(%d): %v", n, w.Err())
		}
		if len(w.Bytes()) != VarintLen(n) {
			t.Errorf("Varint(%d) length %d, want %d", n, len(w.Bytes()), VarintLen(n))
		}
		r := NewReader(w.Bytes())
		if got := r.Varint(); got != n || r.Finish() != nil {
			t.Errorf("Varint round trip %d -> %d (%v)", n, got, r.Finish())
		}
	}
}

func TestVarintRejects(t *testing.T) {
	for _, c := range []struct {
		in   []byte
		want error
	}{
		{[]byte{0x40, 0x3f}, ErrNonMinimalVarint},
		{[]byte{0x80, 0x00, 0x00, 0x3f}, ErrNonMinimalVarint},
		{[]byte{0x80, 0x00, 0x3f, 0xff}, ErrNonMinimalVarint},
		{[]byte{0xc0, 0, 0, 0, 0, 0, 0, 0}, ErrInvalidVarint},
		{[]byte{0x40}, ErrShort},
		{[]byte{}, ErrShort},
	} {
		r := NewReader(c.in)
		r.Varint()
		if !errors.Is(r.Err(), c.want) {
			t.Errorf("Varint(%x) err = %v, want %v", c.in, r.Err(), c.want)
		}
	}
	w := &Writer{}
	w.Varint(MaxVectorLen + 1)
	if !errors.Is(w.Err(), ErrTooLong) {
		t.Errorf("Writer.Varint(2^30) err = %v", w.Err())
	}
}

func TestHostileLength(t *testing.T) {
	// A 1 GiB length prefix with 3 bytes of content must fail without
	// allocating.
	in := []byte{0xbf, 0xff, 0xff, 0xff, 1, 2, 3}
	allocs := testing.AllocsPerRun(10, func() {
		r := NewReader(in)
		if b := r.Opaque(); b != nil || !errors.Is(r.Err(), ErrShort) {
			t.Fatalf("Opaque = %v, %v", b, r.Err())
		}
	})
	if allocs > 1 {
		t.Errorf("hostile length allocated %v times", allocs)
	}
}

func TestVectorAndFinish(t *testing.T) {
	w := NewWriter(0)
	w.Vector(func(w *Writer) {
		for i := 0; i < 100; i++ {
			w.U16(uint16(i))
		}
	})
	w.Optional(true)
	w.Opaque([]byte("hi"))
	w.U64(7)
	w.U32(8)
	w.U8(9)
	r := NewReader(w.Bytes())
	var got []uint16
	r.VectorEach(func(r *Reader) { got = append(got, r.U16()) })
	if len(got) != 100 || got[99] != 99 {
		t.Fatalf("VectorEach got %d elements", len(got))
	}
	if !r.Optional() || !bytes.Equal(r.Opaque(), []byte("hi")) || r.U64() != 7 || r.U32() != 8 || r.U8() != 9 {
		t.Fatal("field mismatch")
	}
	if err := r.Finish(); err != nil {
		t.Fatal(err)
	}
	// Trailing data inside a vector is an error.
	r = NewReader([]byte{0x03, 0, 1, 2})
	r.Vector(func(r *Reader) { r.U16() })
	if !errors.Is(r.Err(), ErrTrailingData) {
		t.Errorf("Vector trailing err = %v", r.Err())
	}
	// Trailing data after the value.
	r = NewReader([]byte{1, 2})
	r.U8()
	if !errors.Is(r.Finish(), ErrTrailingData) {
		t.Errorf("Finish err = %v", r.Finish())
	}
	// Invalid optional byte.
	r = NewReader([]byte{2})
	r.Optional()
	if !errors.Is(r.Err(), ErrInvalidOptional) {
		t.Errorf("Optional err = %v", r.Err())
	}
	// Element decoder that consumes nothing must not loop forever.
	r = NewReader([]byte{0x01, 0x00})
	r.VectorEach(func(r *Reader) {})
	if !errors.Is(r.Err(), ErrInvalidValue) {
		t.Errorf("VectorEach empty element err = %v", r.Err())
	}
}

func TestVectorLargeShift(t *testing.T) {
	payload := bytes.Repeat([]byte{0xab}, 20000)
	w := NewWriter(0)
	w.U8(1)
	w.Vector(func(w *Writer) { w.Raw(payload) })
	r := NewReader(w.Bytes())
	r.U8()
	if b := r.Opaque(); !bytes.Equal(b, payload) || r.Finish() != nil {
		t.Fatal("large vector round trip failed")
	}
}

func FuzzReader(f *testing.F) {
	f.Add([]byte{0x03, 0, 1, 2, 1, 0x40, 0x40})
	f.Add([]byte{0x80, 0x00, 0x40, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(data)
		var out [][]byte
		r.VectorEach(func(r *Reader) {
			if r.Optional() {
				out = append(out, r.Opaque())
			} else {
				r.U16()
			}
		})
		if r.Err() != nil {
			return
		}
		// Whatever decoded must re-encode canonically to the consumed prefix.
		consumed := data[:r.Offset()]
		r2 := NewReader(consumed)
		w := NewWriter(len(consumed))
		r2.VectorEach(func(r *Reader) {
			if r.Optional() {
				w.Optional(true)
				w.Opaque(r.Opaque())
			} else {
				w.Optional(false)
				w.U16(r.U16())
			}
		})
		w2 := NewWriter(0)
		w2.Vector(func(x *Writer) { x.Raw(w.Bytes()) })
		if !bytes.Equal(w2.Bytes(), consumed) {
			t.Fatalf("re-encoding differs: %x vs %x", w2.Bytes(), consumed)
		}
	})
}
