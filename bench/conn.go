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
	"google.golang.org/protobuf/proto"

	"github.com/parleyhq/parley/proto/parleypb"
)

// conn is a lean protocol client: one WebSocket, frames written in batches
// under a mutex, read by the owner goroutine. It does only what the bench
// needs; the real client core is package client.
type conn struct {
	nc  net.Conn
	br  *bufio.Reader
	wmu sync.Mutex
	buf []byte
	in  parleypb.ServerFrame
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
