package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/parleyhq/parley"
)

// DecodeBody decodes one JSON object from r (the request body, already
// bounded by MaxBody) into v: unknown fields, trailing data and a body over
// MaxBody are refused (CodeInvalid parley.ReasonBadBody, CodeTooLarge
// ReasonBodyTooLarge), and v is then unspecified. An empty body leaves v
// unchanged.
func DecodeBody(r io.Reader, v any) error {
	b, err := io.ReadAll(io.LimitReader(r, MaxBody+1))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) || len(b) > MaxBody {
		return parley.Errorf(parley.CodeTooLarge, ReasonBodyTooLarge, "a request body is at most %d bytes", MaxBody)
	}
	if err != nil {
		return parley.Errorf(parley.CodeInvalid, parley.ReasonBadBody, "the request body could not be read")
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return parley.Errorf(parley.CodeInvalid, parley.ReasonBadBody, "the request body is not the expected JSON object: %v", err)
	}
	if dec.More() {
		return parley.Errorf(parley.CodeInvalid, parley.ReasonBadBody, "the request body has data after its JSON object")
	}
	return nil
}
