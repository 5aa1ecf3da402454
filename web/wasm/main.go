//go:build js && wasm

// Command wasm is Parley's client core for the browser: package client
// compiled to WebAssembly, with its state in IndexedDB, exposed to the UI as
// globalThis.parley (typed by web/app/src/core/api.ts). The browser is a
// real end-to-end encrypted device: MLS keys and plaintext never leave it.
//
// Build: GOOS=js GOARCH=wasm go build -o web/app/public/parley.wasm ./web/wasm
// (scripts/build-web.sh).
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"
	"syscall/js"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/web/bridge"
)

// uploadChunk is the size of one upload request: the browser's fetch
// transport buffers a request body whole, and progress advances per chunk.
const uploadChunk = 1 << 20

var (
	jsJSON    = js.Global().Get("JSON")
	jsObject  = js.Global().Get("Object")
	jsPromise = js.Global().Get("Promise")
	jsError   = js.Global().Get("Error")
)

func main() {
	api, err := start()
	var obj js.Value
	if err != nil {
		js.Global().Get("console").Call("error", "parley: the client core did not start:", err.Error())
		obj = failing(err)
	} else {
		obj = expose(api)
	}
	js.Global().Set("parley", obj)
	if ready := js.Global().Get("parleyReady"); ready.Type() == js.TypeFunction {
		ready.Invoke()
	}
	select {} // serve calls until the page goes away
}

// start takes the profile lock, loads the state from IndexedDB and opens the
// client.
func start() (*bridge.API, error) {
	if err := lockProfile(); err != nil {
		return nil, err
	}
	kv, err := openIDB("parley")
	if err != nil {
		return nil, err
	}
	persistStorage()
	ctx := context.Background()
	st, err := client.OpenKVStore(ctx, kv)
	if err != nil {
		return nil, err
	}
	origin := js.Global().Get("location").Get("origin").String()
	c, err := client.Open(ctx, client.Config{Store: st, ServerURL: origin, Events: true, UploadChunk: uploadChunk,
		ClientName: "parley-web/" + version(), DeviceName: deviceName()})
	if err != nil {
		return nil, err
	}
	api := &bridge.API{C: c, Origin: origin, Backups: localSchedule{}}
	go api.RunBackups(ctx, slog.New(slog.DiscardHandler)) // daily backups while the page is open (backup.go)
	return api, nil
}

// lockProfile makes sure one tab at a time runs the client core over the
// profile (two would both write MLS state): it holds a Web Lock for as long
// as the page lives. Browsers without Web Locks run unguarded.
func lockProfile() error {
	locks := js.Global().Get("navigator").Get("locks")
	if locks.IsUndefined() || locks.IsNull() {
		return nil
	}
	got := make(chan bool, 1)
	cb := js.FuncOf(func(this js.Value, args []js.Value) any {
		held := len(args) > 0 && !args[0].IsNull()
		got <- held
		if !held {
			return nil
		}
		// Keep the lock until the page closes: a promise never settled.
		return jsPromise.New(js.FuncOf(func(js.Value, []js.Value) any { return nil }))
	})
	opts := jsObject.New()
	opts.Set("ifAvailable", true)
	locks.Call("request", "parley-profile", opts, cb)
	if !<-got {
		return parley.Errorf(parley.CodeConflict, ReasonOpenInAnotherTab, "Parley is already open in another tab or window of this browser; close it, then reload this one")
	}
	return nil
}

// persistStorage asks the browser not to evict this origin's storage
// under pressure (navigator.storage.persist): the IndexedDB holds the
// device's keys, and losing them loses the device. Browsers may say no
// (Chrome decides by engagement; an installed PWA gets it); nothing waits
// for the answer.
func persistStorage() {
	st := js.Global().Get("navigator").Get("storage")
	if st.IsUndefined() || st.IsNull() || st.Get("persist").Type() != js.TypeFunction {
		return
	}
	func() {
		defer func() { _ = recover() }()
		st.Call("persist")
	}()
}

func version() string {
	v := "0.1"
	if bi, ok := debug.ReadBuildInfo(); ok {
		v += " " + bi.GoVersion
	}
	return v
}

// deviceName names this browser in the account's device list.
func deviceName() string {
	ua := js.Global().Get("navigator").Get("userAgent").String()
	browser := "Browser"
	for _, b := range []struct{ token, name string }{{"Edg/", "Edge"}, {"Firefox/", "Firefox"}, {"Chrome/", "Chrome"}, {"Safari/", "Safari"}} {
		if strings.Contains(ua, b.token) {
			browser = b.name
			break
		}
	}
	os := ""
	for _, o := range []struct{ token, name string }{{"Android", "Android"}, {"iPhone", "iPhone"}, {"iPad", "iPad"}, {"Windows", "Windows"}, {"Mac OS", "macOS"}, {"Linux", "Linux"}} {
		if strings.Contains(ua, o.token) {
			os = " on " + o.name
			break
		}
	}
	return browser + os
}

// toJS turns a Go result into a JavaScript value: js.Values as they are,
// nil as undefined, anything else through JSON.
func toJS(v any) (js.Value, error) {
	switch v := v.(type) {
	case nil:
		return js.Undefined(), nil
	case js.Value:
		return v, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return js.Undefined(), err
	}
	return jsJSON.Call("parse", string(b)), nil
}

// errorValue is the rejection value of a failed call: an Error with code,
// reason and message (api.ts ParleyError).
func errorValue(err error) js.Value {
	code, reason, msg := parley.ErrorCode(err), parley.ErrorReason(err), parley.ErrorMessage(err)
	if code == parley.CodeInternal && reason == "" {
		msg = err.Error() // on the device itself: the detail helps, and leaks nothing
	}
	e := jsError.New(msg)
	e.Set("code", string(code))
	e.Set("reason", reason)
	return e
}

// promise runs f in its own goroutine and settles a Promise with its result.
func promise(f func(ctx context.Context) (any, error)) js.Value {
	executor := js.FuncOf(func(this js.Value, args []js.Value) any {
		resolve, reject := args[0], args[1]
		go func() {
			var v any
			var err error
			func() {
				defer func() {
					if r := recover(); r != nil {
						err = fmt.Errorf("panic: %v", r)
					}
				}()
				v, err = f(context.Background())
			}()
			if err == nil {
				var jv js.Value
				if jv, err = toJS(v); err == nil {
					resolve.Invoke(jv)
					return
				}
			}
			reject.Invoke(errorValue(err))
		}()
		return nil
	})
	defer executor.Release() // the executor runs inside the constructor
	return jsPromise.New(executor)
}

// jsonArgs turns JavaScript arguments into JSON ("null" for undefined).
func jsonArgs(args []js.Value) bridge.Args {
	out := make(bridge.Args, len(args))
	for i, a := range args {
		if a.IsUndefined() || a.IsNull() || a.Type() == js.TypeFunction {
			out[i] = json.RawMessage("null")
			continue
		}
		out[i] = json.RawMessage(jsJSON.Call("stringify", a).String())
	}
	return out
}

// failing is a parley object whose every call rejects with err.
func failing(err error) js.Value {
	obj := jsObject.New()
	obj.Set("version", "parley-web/"+version())
	reject := js.FuncOf(func(js.Value, []js.Value) any {
		return promise(func(context.Context) (any, error) { return nil, err })
	})
	for _, name := range append(bridge.Methods(), "sendMedia", "media") {
		obj.Set(name, reject)
	}
	obj.Set("onEvent", js.FuncOf(func(js.Value, []js.Value) any {
		return js.FuncOf(func(js.Value, []js.Value) any { return nil })
	}))
	return obj
}

// expose builds globalThis.parley.
func expose(api *bridge.API) js.Value {
	obj := jsObject.New()
	obj.Set("version", "parley-web/"+version())
	for _, name := range bridge.Methods() {
		obj.Set(name, js.FuncOf(func(this js.Value, args []js.Value) any {
			a := jsonArgs(args)
			return promise(func(ctx context.Context) (any, error) { return api.Call(ctx, name, a) })
		}))
	}
	obj.Set("sendMedia", js.FuncOf(func(this js.Value, args []js.Value) any {
		return promise(func(ctx context.Context) (any, error) { return sendMedia(ctx, api, args) })
	}))
	obj.Set("media", js.FuncOf(func(this js.Value, args []js.Value) any {
		return promise(func(ctx context.Context) (any, error) { return media(ctx, api, args) })
	}))
	ev := newEvents(api)
	obj.Set("onEvent", js.FuncOf(func(this js.Value, args []js.Value) any {
		if len(args) == 0 || args[0].Type() != js.TypeFunction {
			panic(jsError.New("parley.onEvent needs a function"))
		}
		return ev.add(args[0])
	}))
	go ev.pump()
	return obj
}

// progressFunc adapts an optional JavaScript (sent, total) callback.
func progressFunc(v js.Value) func(sent, total int64) {
	if v.Type() != js.TypeFunction {
		return nil
	}
	return func(sent, total int64) {
		defer func() { _ = recover() }() // a throwing callback does not stop the transfer
		v.Invoke(float64(sent), float64(total))
	}
}

func arg(args []js.Value, i int) js.Value {
	if i < len(args) {
		return args[i]
	}
	return js.Undefined()
}

// sendMedia is parley.sendMedia(to, blob, opts?, onProgress?).
func sendMedia(ctx context.Context, api *bridge.API, args []js.Value) (any, error) {
	a := jsonArgs(args)
	to, err := a.Str(0, "to")
	if err != nil {
		return nil, err
	}
	blob := arg(args, 1)
	if !blob.InstanceOf(js.Global().Get("Blob")) {
		return nil, parley.Errorf(parley.CodeInvalid, bridge.ReasonBadArgument, "argument 2 (file): want a Blob or File")
	}
	var o bridge.SendMediaOptions
	if err := a.Decode(2, "options", &o); err != nil {
		return nil, err
	}
	name := o.Name
	if name == "" {
		if n := blob.Get("name"); n.Type() == js.TypeString {
			name = n.String()
		}
	}
	if name == "" {
		name = "file"
	}
	co, err := o.Client(blob.Get("type").String())
	if err != nil {
		return nil, err
	}
	size := int64(blob.Get("size").Float())
	m, err := api.C.SendMedia(ctx, to, name, &blobReader{blob: blob, size: size}, size, co, progressFunc(arg(args, 3)))
	if err != nil {
		return nil, err
	}
	return bridge.MessageOf(m), nil
}

// media is parley.media(messageId, onProgress?): the decrypted attachment
// as a Blob of its MIME type.
func media(ctx context.Context, api *bridge.API, args []js.Value) (any, error) {
	id, err := jsonArgs(args).Str(0, "message")
	if err != nil {
		return nil, err
	}
	m, err := api.C.Message(ctx, id)
	if err != nil {
		return nil, err
	}
	var size int64
	if m.Media != nil {
		size = m.Media.Size
	}
	w := &progressWriter{progress: progressFunc(arg(args, 1)), total: size}
	m, err = api.C.DownloadMedia(ctx, id, w)
	if err != nil {
		return nil, err
	}
	arr := js.Global().Get("Uint8Array").New(len(w.buf))
	js.CopyBytesToJS(arr, w.buf)
	parts := js.Global().Get("Array").New(arr)
	opts := jsObject.New()
	opts.Set("type", m.Media.MIME)
	return js.Global().Get("Blob").New(parts, opts), nil
}

type progressWriter struct {
	buf      []byte
	total    int64
	progress func(sent, total int64)
	last     time.Time
}

func (w *progressWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	if w.progress != nil && (time.Since(w.last) > 100*time.Millisecond || int64(len(w.buf)) >= w.total) {
		w.last = time.Now()
		w.progress(int64(len(w.buf)), w.total)
	}
	return len(p), nil
}

// blobReader reads a Blob at random offsets (io.ReaderAt), a window of
// blobWindow bytes at a time.
type blobReader struct {
	blob js.Value
	size int64

	mu     sync.Mutex
	winOff int64
	win    []byte
}

const blobWindow = 1 << 20

func (r *blobReader) ReadAt(p []byte, off int64) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for n < len(p) {
		pos := off + int64(n)
		if pos >= r.size {
			return n, io.EOF
		}
		if pos < r.winOff || pos >= r.winOff+int64(len(r.win)) {
			if err := r.fill(pos); err != nil {
				return n, err
			}
		}
		n += copy(p[n:], r.win[pos-r.winOff:])
	}
	return n, nil
}

func (r *blobReader) fill(pos int64) error {
	end := min(pos+blobWindow, r.size)
	ab, err := await(r.blob.Call("slice", float64(pos), float64(end)).Call("arrayBuffer"))
	if err != nil {
		return parley.Errorf(parley.CodeInvalid, ReasonFileUnreadable, "cannot read the file: %v", err)
	}
	arr := js.Global().Get("Uint8Array").New(ab)
	if cap(r.win) < arr.Length() {
		r.win = make([]byte, arr.Length())
	}
	r.win = r.win[:arr.Length()]
	js.CopyBytesToGo(r.win, arr)
	r.winOff = pos
	if len(r.win) == 0 {
		return io.ErrUnexpectedEOF
	}
	return nil
}

// await waits for a JavaScript Promise.
func await(p js.Value) (js.Value, error) {
	type result struct {
		v   js.Value
		err error
	}
	done := make(chan result, 1)
	ok := js.FuncOf(func(this js.Value, args []js.Value) any { done <- result{v: arg(args, 0)}; return nil })
	fail := js.FuncOf(func(this js.Value, args []js.Value) any {
		e := arg(args, 0)
		msg := "rejected"
		if !e.IsUndefined() && !e.IsNull() {
			msg = e.Call("toString").String()
		}
		done <- result{err: fmt.Errorf("%s", msg)}
		return nil
	})
	defer ok.Release()
	defer fail.Release()
	p.Call("then", ok, fail)
	r := <-done
	return r.v, r.err
}

// events fans the client's events out to the onEvent listeners.
type events struct {
	api       *bridge.API
	mu        sync.Mutex
	next      int
	listeners map[int]js.Value
}

func newEvents(api *bridge.API) *events {
	return &events{api: api, listeners: map[int]js.Value{}}
}

// add registers a listener and returns its unsubscribe function.
func (e *events) add(f js.Value) js.Value {
	e.mu.Lock()
	id := e.next
	e.next++
	e.listeners[id] = f
	e.mu.Unlock()
	var off js.Func
	off = js.FuncOf(func(js.Value, []js.Value) any {
		e.mu.Lock()
		delete(e.listeners, id)
		e.mu.Unlock()
		off.Release()
		return nil
	})
	return off.Value
}

func (e *events) pump() {
	for ev := range e.api.C.Events() {
		e.api.Observe(ev)
		v, err := toJS(bridge.EventOf(ev))
		if err != nil {
			continue
		}
		e.mu.Lock()
		ls := make([]js.Value, 0, len(e.listeners))
		for _, f := range e.listeners {
			ls = append(ls, f)
		}
		e.mu.Unlock()
		for _, f := range ls {
			func() {
				defer func() {
					if r := recover(); r != nil {
						js.Global().Get("console").Call("error", "parley: an onEvent listener threw:", fmt.Sprint(r))
					}
				}()
				f.Invoke(v)
			}()
		}
	}
}
