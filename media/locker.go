package media

import (
	"context"
	"sync"

	tusd "github.com/tus/tusd/v2/pkg/handler"
)

// waitLocker serialises requests per upload like tusd's memorylocker, but a
// request that finds the upload locked waits for the holder to finish
// instead of asking it to release early.
//
// Why not memorylocker: its early release makes tusd cancel the holder's
// request, and tusd v2.10.1 then reads the request's body reader from another
// goroutine without synchronisation (a data race the race detector reports
// when a client resumes while the server still handles the dropped request).
// Waiting is safe: a dropped request ends as soon as its read fails, at the
// latest after the handler's NetworkTimeout, and a waiter gives up with
// ErrLockTimeout when its own request context ends.
type waitLocker struct {
	mu   sync.Mutex
	held map[string]chan struct{} // closed when the holder unlocks
}

func newWaitLocker() *waitLocker { return &waitLocker{held: make(map[string]chan struct{})} }

// UseIn registers the locker with a tusd store composer.
func (l *waitLocker) UseIn(c *tusd.StoreComposer) { c.UseLocker(l) }

// NewLock implements tusd.Locker.
func (l *waitLocker) NewLock(id string) (tusd.Lock, error) { return &waitLock{l: l, id: id}, nil }

type waitLock struct {
	l    *waitLocker
	id   string
	done chan struct{}
}

// Lock implements tusd.Lock. requestUnlock is deliberately not called.
func (w *waitLock) Lock(ctx context.Context, _ func()) error {
	for {
		w.l.mu.Lock()
		ch, busy := w.l.held[w.id]
		if !busy {
			w.done = make(chan struct{})
			w.l.held[w.id] = w.done
			w.l.mu.Unlock()
			return nil
		}
		w.l.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return tusd.ErrLockTimeout
		}
	}
}

// Unlock implements tusd.Lock.
func (w *waitLock) Unlock() error {
	w.l.mu.Lock()
	if w.l.held[w.id] == w.done {
		delete(w.l.held, w.id)
	}
	w.l.mu.Unlock()
	close(w.done)
	return nil
}
