// Package web serves the browser client: the Vite build in web/dist
// (scripts/build-web.sh), embedded in the binary, so `parley serve` alone
// serves the app. The app talks to the same server's /v1/ws, /media/v1/ and
// /push/v1/ endpoints.
package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

//go:embed all:dist
var dist embed.FS

// Handler serves the embedded build (see New).
func Handler() http.Handler {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // the embed directive guarantees dist exists
	}
	return New(sub)
}

// New serves the built app in fsys (the contents of web/dist):
//
//   - GET and HEAD only; "/" and paths without a file extension that match
//     no file are the app's index.html (the app routes them itself).
//   - A precompressed variant is sent when the request accepts its
//     encoding (Vary: Accept-Encoding): "<file>.br" with Content-Encoding: br
//     first (Brotli is about 30% smaller than gzip for the wasm core), else
//     "<file>.gz" with Content-Encoding: gzip, else the file itself.
//   - Caching for a service worker: index.html, sw.js and other unhashed
//     files are "no-cache" (always revalidated, with an ETag, so a 304 is
//     cheap); files under assets/ (named by content hash) and files
//     requested with ?v= equal to the first 12 hex digits of their SHA-256
//     (parley.wasm, wasm_exec.js) are immutable for a year.
//   - .wasm is application/wasm; HTML gets a Content-Security-Policy that
//     allows only this origin (plus wasm compilation).
//   - When fsys has no index.html, every page is a short 503 page saying
//     the client is not built and how to build it.
func New(fsys fs.FS) http.Handler {
	return &handler{fsys: fsys, etags: map[string]string{}}
}

type handler struct {
	fsys  fs.FS
	mu    sync.Mutex
	etags map[string]string // name → SHA-256 hex of the contents
}

// contentSecurityPolicy confines the app to its own origin: scripts,
// WebSocket, media and workers; blob: and data: for decrypted media and
// thumbnails; 'wasm-unsafe-eval' to compile the client core.
const contentSecurityPolicy = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' blob: data:; media-src 'self' blob: data:; connect-src 'self'; worker-src 'self'; manifest-src 'self'; " +
	"object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

const notBuilt = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Parley: web client not built</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: system-ui, sans-serif; max-width: 40em; margin: 3em auto; padding: 0 1em">
<h1>Web client not built</h1>
<p>This Parley server is running, but its browser client was not built into this binary.</p>
<p>Build it and start the server again:</p>
<pre>scripts/build-web.sh
go run ./cmd/parley serve</pre>
<p>or simply <code>scripts/run.sh</code>, which does both.</p>
</body></html>
`

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "no-referrer")
	if _, err := fs.Stat(h.fsys, "index.html"); err != nil {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, notBuilt)
		return
	}
	name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	if name == "" {
		name = "index.html"
	}
	if st, err := fs.Stat(h.fsys, name); err != nil || st.IsDir() || strings.HasSuffix(name, ".gz") || strings.HasSuffix(name, ".br") {
		if path.Ext(name) != "" {
			http.NotFound(w, r)
			return
		}
		name = "index.html" // an app route
	}
	h.serveFile(w, r, name)
}

func (h *handler) serveFile(w http.ResponseWriter, r *http.Request, name string) {
	hd := w.Header()
	ctype := contentType(name)
	hd.Set("Content-Type", ctype)
	if strings.HasPrefix(ctype, "text/html") {
		hd.Set("Content-Security-Policy", contentSecurityPolicy)
	}
	etag, err := h.etag(name)
	if err != nil {
		http.Error(w, "cannot read "+name, http.StatusInternalServerError)
		return
	}
	if strings.HasPrefix(name, "assets/") || (r.URL.Query().Get("v") != "" && r.URL.Query().Get("v") == etag[:12]) {
		hd.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		hd.Set("Cache-Control", "no-cache")
	}
	hd.Set("Vary", "Accept-Encoding")

	send := name
	for _, v := range variants {
		if !accepts(r, v.encoding) {
			continue
		}
		if _, err := fs.Stat(h.fsys, name+v.suffix); err == nil {
			send = name + v.suffix
			hd.Set("Content-Encoding", v.encoding)
			etag += "-" + v.encoding // a different representation
			break
		}
	}
	hd.Set("ETag", `"`+etag+`"`)
	f, err := h.fsys.Open(send)
	if err != nil {
		http.Error(w, "cannot open "+name, http.StatusInternalServerError)
		return
	}
	defer f.Close()
	if rs, ok := f.(io.ReadSeeker); ok {
		http.ServeContent(w, r, "", time.Time{}, rs)
		return
	}
	data, err := io.ReadAll(f)
	if err != nil {
		http.Error(w, "cannot read "+name, http.StatusInternalServerError)
		return
	}
	http.ServeContent(w, r, "", time.Time{}, strings.NewReader(string(data)))
}

// etag returns the SHA-256 (hex) of a file's uncompressed contents,
// computed once.
func (h *handler) etag(name string) (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if e, ok := h.etags[name]; ok {
		return e, nil
	}
	f, err := h.fsys.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sum := sha256.New()
	if _, err := io.Copy(sum, f); err != nil {
		return "", err
	}
	e := hex.EncodeToString(sum.Sum(nil))
	h.etags[name] = e
	return e, nil
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".wasm":
		return "application/wasm"
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".webmanifest":
		return "application/manifest+json"
	case ".html":
		return "text/html; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".json":
		return "application/json"
	}
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}

// variants are the precompressed files build-web.sh writes, best first.
var variants = []struct{ encoding, suffix string }{
	{"br", ".br"},
	{"gzip", ".gz"},
}

// accepts reports whether the request's Accept-Encoding allows enc,
// named or through "*", and does not refuse it with q=0. A named coding's
// q-value takes precedence over "*" (RFC 9110, section 12.5.3).
func accepts(r *http.Request, enc string) bool {
	star := false
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		name = strings.TrimSpace(name)
		ok := !refused(params)
		switch {
		case strings.EqualFold(name, enc):
			return ok
		case name == "*":
			star = ok
		}
	}
	return star
}

// refused reports whether the parameters of an Accept-Encoding element set
// q to zero ("q=0", "q=0.0", "Q=0.000" …).
func refused(params string) bool {
	for _, p := range strings.Split(params, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "q") {
			continue
		}
		v = strings.TrimSpace(v)
		if v == "" || v[0] != '0' {
			return false
		}
		return strings.Trim(strings.TrimPrefix(v[1:], "."), "0") == ""
	}
	return false
}
