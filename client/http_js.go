//go:build js

package client

import "net/http"

// attachmentHTTP is the HTTP client for attachments in the browser: the
// default transport, which uses fetch. (A transport with its own dialer,
// like attachment's default, falls back to raw sockets, which a browser
// does not have.)
var attachmentHTTP = http.DefaultClient
