package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/gobwas/ws"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/parleyhq/parley/proto/parleypb"
)

// conn is a lean protocol client: one WebSocket, frames written in batches
// under a mutex, read by the owner goroutine. It does only what the bench
// needs; the real client core is package client.
type conn struct {
	nc   net.Conn
	br   *bufio.Reader
	wmu  sync.Mutex
	buf  []byte
	in   parleypb.ServerFrame
	rbuf []byte // recvEnvelope's frame buffer
}

func dial(ctx context.Context, addr string) (*conn, error) {
	d := ws.Dialer{Timeout: 30 * time.Second}
	nc, br, _, err := d.Dial(ctx, "ws://"+addr+"/v1/ws")
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	if br == nil {
		br = bufio.NewReaderSize(nc, 4096)
	}
	return &conn{nc: nc, br: br}, nil
}

// send writes frames as masked binary WebSocket messages in one syscall.
func (c *conn) send(frames ...*parleypb.ClientFrame) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	out := c.buf[:0]
	for _, f := range frames {
		payload, err := proto.Marshal(f)
		if err != nil {
			return err
		}
		h := ws.Header{Fin: true, OpCode: ws.OpBinary, Length: int64(len(payload)), Masked: true, Mask: ws.NewMask()}
		ws.Cipher(payload, h.Mask, 0)
		var hb [ws.MaxHeaderSize]byte
		n := headerBytes(hb[:], h)
		out = append(out, hb[:n]...)
		out = append(out, payload...)
	}
	c.buf = out
	_, err := c.nc.Write(out)
	return err
}

// headerBytes encodes a WebSocket frame header into b and returns its length.
func headerBytes(b []byte, h ws.Header) int {
	w := sliceWriter{b: b[:0]}
	_ = ws.WriteHeader(&w, h)
	return len(w.b)
}

type sliceWriter struct{ b []byte }

func (w *sliceWriter) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }

// recv reads the next server frame. The returned frame is reused by the next
// call. Control frames are handled here.
func (c *conn) recv() (*parleypb.ServerFrame, error) {
	for {
		h, err := ws.ReadHeader(c.br)
		if err != nil {
			return nil, err
		}
		payload := make([]byte, h.Length)
		if _, err := io.ReadFull(c.br, payload); err != nil {
			return nil, err
		}
		if h.Masked {
			ws.Cipher(payload, h.Mask, 0)
		}
		switch h.OpCode {
		case ws.OpClose:
			return nil, fmt.Errorf("server closed: %x", payload)
		case ws.OpPing, ws.OpPong, ws.OpContinuation:
			continue
		}
		c.in.Reset()
		if err := proto.Unmarshal(payload, &c.in); err != nil {
			return nil, fmt.Errorf("decode server frame: %w", err)
		}
		return &c.in, nil
	}
}

// recvEnvelope reads the next server frame. For an envelope it returns its
// Seq and payload (valid until the next read) with ok set; any other frame
// gives ok false. It decodes only those two fields, with protowire and no
// allocation: the lean path of the direct scenario's receivers, which need
// nothing else (the peer's load tool is lean the same way).
func (c *conn) recvEnvelope() (seq int64, payload []byte, ok bool, err error) {
	for {
		h, err := ws.ReadHeader(c.br)
		if err != nil {
			return 0, nil, false, err
		}
		if int64(cap(c.rbuf)) < h.Length {
			c.rbuf = make([]byte, h.Length)
		}
		b := c.rbuf[:h.Length]
		if _, err := io.ReadFull(c.br, b); err != nil {
			return 0, nil, false, err
		}
		if h.Masked {
			ws.Cipher(b, h.Mask, 0)
		}
		switch h.OpCode {
		case ws.OpClose:
			return 0, nil, false, fmt.Errorf("server closed: %x", b)
		case ws.OpPing, ws.OpPong, ws.OpContinuation:
			continue
		}
		return parseEnvelope(b)
	}
}

// parseEnvelope decodes a ServerFrame's envelope Seq and payload (aliasing
// b); ok is false for any other frame.
func parseEnvelope(b []byte) (seq int64, payload []byte, ok bool, err error) {
	env, found, err := protoField(b, 50) // ServerFrame.envelope
	if err != nil || !found {
		return 0, nil, false, err
	}
	for len(env) > 0 {
		num, typ, n := protowire.ConsumeTag(env)
		if n < 0 {
			return 0, nil, false, protowire.ParseError(n)
		}
		env = env[n:]
		switch {
		case num == 2 && typ == protowire.VarintType: // Envelope.seq
			var v uint64
			v, n = protowire.ConsumeVarint(env)
			seq = int64(v)
		case num == 8 && typ == protowire.BytesType: // Envelope.payload
			payload, n = protowire.ConsumeBytes(env)
		default:
			n = protowire.ConsumeFieldValue(num, typ, env)
		}
		if n < 0 {
			return 0, nil, false, protowire.ParseError(n)
		}
		env = env[n:]
	}
	return seq, payload, true, nil
}

// protoField returns the bytes of the length-delimited field num of the
// message b, if present.
func protoField(b []byte, num protowire.Number) ([]byte, bool, error) {
	for len(b) > 0 {
		n, typ, m := protowire.ConsumeTag(b)
		if m < 0 {
			return nil, false, protowire.ParseError(m)
		}
		b = b[m:]
		if n == num && typ == protowire.BytesType {
			v, k := protowire.ConsumeBytes(b)
			if k < 0 {
				return nil, false, protowire.ParseError(k)
			}
			return v, true, nil
		}
		k := protowire.ConsumeFieldValue(n, typ, b)
		if k < 0 {
			return nil, false, protowire.ParseError(k)
		}
		b = b[k:]
	}
	return nil, false, nil
}

// login sends Hello and Auth together and waits for the AuthResponse.
func (c *conn) login(device int64, secret []byte) error {
	err := c.send(
		&parleypb.ClientFrame{Id: 1, Body: &parleypb.ClientFrame_Hello{Hello: &parleypb.Hello{Versions: []uint32{1}, Client: "parley-bench"}}},
		&parleypb.ClientFrame{Id: 2, Body: &parleypb.ClientFrame_Auth{Auth: &parleypb.AuthRequest{DeviceId: device, Secret: secret}}},
	)
	if err != nil {
		return err
	}
	for {
		f, err := c.recv()
		if err != nil {
			return err
		}
		if e := f.GetError(); e != nil {
			return fmt.Errorf("login device %d: %s %s %s", device, e.Code, e.Reason, e.Message)
		}
		if f.Id == 2 && f.GetAuth() != nil {
			return nil
		}
	}
}

func (c *conn) close() { c.nc.Close() }
