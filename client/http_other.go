//go:build !js

package client

import "net/http"

// attachmentHTTP is nil natively: package attachment's own tuned client.
var attachmentHTTP *http.Client
