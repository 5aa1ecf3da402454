package sframe_test

import (
	"testing"

	"github.com/parleyhq/parley/sframe"
)

func BenchmarkSealOpen(b *testing.B) {
	for _, size := range []int{80, 1200} {
		b.Run(map[int]string{80: "audio80B", 1200: "video1200B"}[size], func(b *testing.B) {
			k := mustKey(b, 0x1203, "bench base key!!")
			s := sframe.NewSealer(k)
			r := sframe.NewReceiver()
			r.Add(k)
			pt := make([]byte, size)
			buf := make([]byte, 0, size+64)
			out := make([]byte, 0, size)
			b.SetBytes(int64(size))
			for b.Loop() {
				f, err := s.Seal(buf[:0], nil, pt)
				if err != nil {
					b.Fatal(err)
				}
				if _, _, err := r.Open(out[:0], f, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
