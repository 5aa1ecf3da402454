package media_test

import (
	"bytes"
	"encoding/binary"
	"io"
	"math"
	"testing"
)

func binaryWrite(w io.Writer, v any) error { return binary.Write(w, binary.LittleEndian, v) }

func sin(x float64) float64 { return math.Sin(x) }

// mp4 builds the boxes MP4Info reads: ftyp, moov{mvhd, trak{tkhd}}, mdat.
func mp4(t *testing.T, timescale, duration uint32, w, h uint16) []byte {
	box := func(typ string, body ...[]byte) []byte {
		b := bytes.Join(body, nil)
		out := binary.BigEndian.AppendUint32(nil, uint32(8+len(b)))
		return append(append(out, typ...), b...)
	}
	mvhd := make([]byte, 100)
	binary.BigEndian.PutUint32(mvhd[12:], timescale)
	binary.BigEndian.PutUint32(mvhd[16:], duration)
	tkhd := make([]byte, 84)
	binary.BigEndian.PutUint32(tkhd[76:], uint32(w)<<16)
	binary.BigEndian.PutUint32(tkhd[80:], uint32(h)<<16)
	return bytes.Join([][]byte{
		box("ftyp", []byte("isom\x00\x00\x02\x00isomiso2mp41")),
		box("moov", box("mvhd", mvhd), box("trak", box("tkhd", tkhd))),
		box("mdat", make([]byte, 1000)),
	}, nil)
}
