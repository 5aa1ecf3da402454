package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

func gz(t *testing.T, s string) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	io.WriteString(w, s)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func get(t *testing.T, h http.Handler, method, target string, hdr ...string) *http.Response {
	t.Helper()
	r := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Result()
}

func body(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const (
	wasmBody = "\x00asm fake module bytes"
	brBody   = "brotli stand-in"
)

func builtApp(t *testing.T) fstest.MapFS {
	return fstest.MapFS{
		"index.html":                 {Data: []byte("<!doctype html><title>Parley</title>")},
		"index.html.gz":              {Data: gz(t, "<!doctype html><title>Parley</title>")},
		"sw.js":                      {Data: []byte("self.addEventListener('push', () => {})")},
		"assets/main-abc123XY.js":    {Data: []byte("console.log('app')")},
		"assets/main-abc123XY.js.gz": {Data: gz(t, "console.log('app')")},
		"parley.wasm":                {Data: []byte(wasmBody)},
		"parley.wasm.gz":             {Data: gz(t, wasmBody)},
		// The server never decodes a variant, so any bytes stand for Brotli.
		"parley.wasm.br":       {Data: []byte(brBody)},
		"manifest.webmanifest": {Data: []byte(`{"name":"Parley"}`)},
	}
}

func TestNotBuilt(t *testing.T) {
	h := New(fstest.MapFS{".gitkeep": {}})
	for _, p := range []string{"/", "/chats/x", "/parley.wasm"} {
		resp := get(t, h, "GET", p)
		b := body(t, resp)
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(b, "scripts/build-web.sh") {
			t.Fatalf("%s: %d %q", p, resp.StatusCode, b)
		}
	}
	// The embedded build of this checkout serves something either way.
	resp := get(t, Handler(), "GET", "/")
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("embedded: %d", resp.StatusCode)
	}
}

func TestServeApp(t *testing.T) {
	h := New(builtApp(t))

	resp := get(t, h, "GET", "/")
	if b := body(t, resp); resp.StatusCode != 200 || !strings.Contains(b, "<title>Parley") ||
		resp.Header.Get("Cache-Control") != "no-cache" || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "'wasm-unsafe-eval'") ||
		resp.Header.Get("Content-Encoding") != "" {
		t.Fatalf("index: %d %v %q", resp.StatusCode, resp.Header, b)
	}
	// An app route is the index; a missing file is not.
	if resp := get(t, h, "GET", "/chat/c123"); resp.StatusCode != 200 || !strings.Contains(body(t, resp), "Parley") {
		t.Fatalf("app route: %d", resp.StatusCode)
	}
	if resp := get(t, h, "GET", "/missing.js"); resp.StatusCode != 404 {
		t.Fatalf("missing file: %d", resp.StatusCode)
	}
	if resp := get(t, h, "GET", "/index.html.gz"); resp.StatusCode != 404 {
		t.Fatalf("a .gz variant by name: %d", resp.StatusCode)
	}
	if resp := get(t, h, "GET", "/../../etc/passwd"); resp.StatusCode != 200 || strings.Contains(body(t, resp), "root:") {
		t.Fatalf("traversal: %d", resp.StatusCode) // cleaned to an app route: the index
	}
	if resp := get(t, h, "GET", "/../sw.js"); resp.StatusCode != 200 || !strings.Contains(body(t, resp), "push") {
		t.Fatalf("cleaned path: %d", resp.StatusCode)
	}
	if resp := get(t, h, "POST", "/"); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("POST: %d", resp.StatusCode)
	}

	// Hashed assets are immutable and gzip-encoded when accepted.
	resp = get(t, h, "GET", "/assets/main-abc123XY.js", "Accept-Encoding", "br, gzip")
	raw := body(t, resp)
	if resp.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") ||
		resp.Header.Get("Vary") != "Accept-Encoding" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") {
		t.Fatalf("asset headers: %v", resp.Header)
	}
	zr, err := gzip.NewReader(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if plain, _ := io.ReadAll(zr); string(plain) != "console.log('app')" {
		t.Fatalf("gzip body: %q", plain)
	}
	resp = get(t, h, "GET", "/assets/main-abc123XY.js", "Accept-Encoding", "gzip;q=0")
	if b := body(t, resp); resp.Header.Get("Content-Encoding") != "" || b != "console.log('app')" {
		t.Fatalf("gzip refused: %v %q", resp.Header, b)
	}

	// The wasm: its type; immutable only when ?v= names its contents.
	sum := sha256.Sum256([]byte(wasmBody))
	v := hex.EncodeToString(sum[:])[:12]
	resp = get(t, h, "GET", "/parley.wasm?v="+v, "Accept-Encoding", "gzip")
	if resp.Header.Get("Content-Type") != "application/wasm" || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") ||
		resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("wasm: %v", resp.Header)
	}
	etag := resp.Header.Get("ETag")
	resp = get(t, h, "GET", "/parley.wasm?v=000000000000")
	if resp.Header.Get("Cache-Control") != "no-cache" || body(t, resp) != wasmBody {
		t.Fatalf("wasm with a stale version: %v", resp.Header)
	}
	// Revalidation is a 304.
	resp = get(t, h, "GET", "/parley.wasm?v="+v, "Accept-Encoding", "gzip", "If-None-Match", etag)
	if resp.StatusCode != http.StatusNotModified {
		t.Fatalf("revalidate: %d", resp.StatusCode)
	}
	resp = get(t, h, "GET", "/sw.js")
	if resp.Header.Get("Cache-Control") != "no-cache" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") {
		t.Fatalf("sw.js: %v", resp.Header)
	}
	resp = get(t, h, "HEAD", "/manifest.webmanifest")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/manifest+json" || body(t, resp) != "" {
		t.Fatalf("manifest HEAD: %d %v", resp.StatusCode, resp.Header)
	}
}

// The precompressed variant sent for each Accept-Encoding: Brotli first, then
// gzip, then the file itself; a coding refused with q=0 is never sent.
func TestEncodingNegotiation(t *testing.T) {
	h := New(builtApp(t))
	for _, tc := range []struct {
		name, accept, encoding, body string
	}{
		{"none", "", "", wasmBody},
		{"identity", "identity", "", wasmBody},
		{"gzip only", "gzip", "gzip", ""},
		{"chromium", "gzip, deflate, br, zstd", "br", brBody},
		{"br only", "br", "br", brBody},
		{"br refused", "br;q=0, gzip", "gzip", ""},
		{"br refused with decimals", "gzip, br; q=0.000", "gzip", ""},
		{"both refused", "br;q=0, gzip;q=0", "", wasmBody},
		{"star", "*", "br", brBody},
		{"star but not br", "*, br;q=0", "gzip", ""},
		{"upper case", "BR", "br", brBody},
		{"low but not zero", "br;q=0.001", "br", brBody},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var resp *http.Response
			if tc.accept == "" {
				resp = get(t, h, "GET", "/parley.wasm")
			} else {
				resp = get(t, h, "GET", "/parley.wasm", "Accept-Encoding", tc.accept)
			}
			b := body(t, resp)
			if got := resp.Header.Get("Content-Encoding"); got != tc.encoding {
				t.Fatalf("Content-Encoding %q, want %q", got, tc.encoding)
			}
			if resp.Header.Get("Vary") != "Accept-Encoding" || resp.Header.Get("Content-Type") != "application/wasm" {
				t.Fatalf("headers: %v", resp.Header)
			}
			if tc.body != "" && b != tc.body {
				t.Fatalf("body %q, want %q", b, tc.body)
			}
			if tc.encoding != "" && !strings.HasSuffix(resp.Header.Get("ETag"), "-"+tc.encoding+`"`) {
				t.Fatalf("ETag %q does not name the representation", resp.Header.Get("ETag"))
			}
		})
	}
	if resp := get(t, h, "GET", "/parley.wasm.br"); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("a .br variant by name: %d", resp.StatusCode)
	}
}

// FuzzAccepts: any Accept-Encoding header is parsed without panicking, and
// a coding the header refuses by name with q=0 is never accepted.
func FuzzAccepts(f *testing.F) {
	for _, s := range []string{"", "gzip, deflate, br, zstd", "br;q=0", "*;q=0.5, gzip;q=0", "br; q=0.000, *", ";;,,=", "q=0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Accept-Encoding", header)
		for _, enc := range []string{"br", "gzip"} {
			if accepts(r, enc) && strings.TrimSpace(header) == enc+";q=0" {
				t.Fatalf("%q accepted %s", header, enc)
			}
		}
	})
}
