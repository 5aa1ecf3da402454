package gateway

import (
	"errors"
	"io"
	"net"
	"sync"
	"syscall"
)

// readBufSize is the read buffer a session holds while bytes are arriving.
const readBufSize = 4096

var readBufPool = sync.Pool{New: func() any { b := make([]byte, readBufSize); return &b }}

// connReader buffers a session's reads only while the client is sending: a
// burst of frames costs one read system call, not two or three per frame,
// and a session parked waiting for its next frame holds no read buffer.
//
// On a socket it waits for readability through syscall.RawConn and takes a
// pooled buffer only once there are bytes to read. On other connections
// (tests, or while bytes buffered during the upgrade are consumed) the first
// read of a frame goes straight into the caller's small header buffer when
// nothing is buffered, and the reads after it, within the frame, fill a
// pooled buffer. The reader loop calls frameStart before each frame.
type connReader struct {
	src      io.Reader       // the connection, maybe preceded by early bytes
	raw      syscall.RawConn // set once src is a plain socket
	buf      *[]byte         // pooled; nil when nothing is buffered
	pos, end int
	direct   bool  // the next read may bypass the buffer (frame start)
	err      error // from a read that also returned bytes
}

// newConnReader reads from rd, which reads conn, possibly after early
// bytes.
func newConnReader(conn net.Conn, rd io.Reader) connReader {
	r := connReader{src: rd}
	if rd == io.Reader(conn) {
		if sc, ok := conn.(syscall.Conn); ok {
			if raw, err := sc.SyscallConn(); err == nil {
				r.raw = raw
			}
		}
	}
	return r
}

// frameStart marks the start of a frame: when nothing is buffered, the
// buffer goes back to the pool.
func (r *connReader) frameStart() {
	if r.pos < r.end {
		return
	}
	if r.buf != nil {
		readBufPool.Put(r.buf)
		r.buf = nil
	}
	r.pos, r.end = 0, 0
	r.direct = r.raw == nil
}

// empty reports whether nothing is buffered.
func (r *connReader) empty() bool { return r.pos >= r.end }

// wait blocks until the connection has bytes to read (buffering them) or
// fails. Without a socket (raw) it returns at once: the next Read blocks.
func (r *connReader) wait() error {
	if r.raw == nil || r.pos < r.end {
		return nil
	}
	n, err := r.rawFill()
	if n <= 0 {
		return err
	}
	r.pos, r.end = 0, n
	return nil
}

// release drops the buffer (the session ended).
func (r *connReader) release() {
	if r.buf != nil {
		readBufPool.Put(r.buf)
		r.buf = nil
	}
	r.pos, r.end = 0, 0
}

func (r *connReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if r.pos < r.end {
		n := copy(p, (*r.buf)[r.pos:r.end])
		r.pos += n
		return n, nil
	}
	if r.err != nil {
		err := r.err
		r.err = nil
		return 0, err
	}
	if r.raw != nil {
		if len(p) >= readBufSize {
			return r.rawRead(p)
		}
		n, err := r.rawFill()
		if n <= 0 {
			return 0, err
		}
		m := copy(p, (*r.buf)[:n])
		r.pos, r.end = m, n
		return m, nil
	}
	if r.direct || len(p) >= readBufSize {
		r.direct = false
		return r.src.Read(p)
	}
	if r.buf == nil {
		r.buf = readBufPool.Get().(*[]byte)
	}
	n, err := r.src.Read(*r.buf)
	if n <= 0 {
		r.pos, r.end = 0, 0
		return 0, err
	}
	r.err = err
	m := copy(p, (*r.buf)[:n])
	r.pos, r.end = m, n
	return m, nil
}

// rawFill waits until the socket is readable, then reads what it has into a
// pooled buffer (r.buf), which it holds only when it returns n > 0.
func (r *connReader) rawFill() (int, error) {
	var n int
	var rerr error
	err := r.raw.Read(func(fd uintptr) bool {
		if r.buf == nil {
			r.buf = readBufPool.Get().(*[]byte)
		}
		for {
			n, rerr = syscall.Read(int(fd), *r.buf)
			if !errors.Is(rerr, syscall.EINTR) {
				break
			}
		}
		if errors.Is(rerr, syscall.EAGAIN) {
			// Nothing yet: wait for readability without a buffer.
			readBufPool.Put(r.buf)
			r.buf = nil
			return false
		}
		return true
	})
	if n <= 0 {
		if r.buf != nil {
			readBufPool.Put(r.buf)
			r.buf = nil
		}
		r.pos, r.end = 0, 0
		switch {
		case err != nil:
			return 0, err
		case rerr != nil:
			return 0, rerr
		default:
			return 0, io.EOF
		}
	}
	return n, nil
}

// rawRead reads straight into p (a large payload) once the socket is
// readable.
func (r *connReader) rawRead(p []byte) (int, error) {
	var n int
	var rerr error
	err := r.raw.Read(func(fd uintptr) bool {
		for {
			n, rerr = syscall.Read(int(fd), p)
			if !errors.Is(rerr, syscall.EINTR) {
				break
			}
		}
		return !errors.Is(rerr, syscall.EAGAIN)
	})
	switch {
	case n > 0:
		return n, nil
	case err != nil:
		return 0, err
	case rerr != nil:
		return 0, rerr
	default:
		return 0, io.EOF
	}
}
