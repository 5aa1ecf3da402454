package webhook

import (
	"unicode/utf16"
	"unicode/utf8"
)

// EscapeNonASCII returns the JSON text body with every non-ASCII character
// written as a \uXXXX escape with lower-case hex digits, characters above
// U+FFFF as a UTF-16 surrogate pair (😀 → \ud83d\ude00), as the Cloud API
// does before it signs a webhook: Meta documents that it signs "an escaped
// unicode version of the payload", and receivers that verify
// X-Hub-Signature-256 that way (escape the raw body, then HMAC) accept a
// body only if it is already in that form. The result is ASCII, and, for
// valid JSON input, valid JSON equal in value to body: outside strings
// JSON has only ASCII, and an escape inside a string stands for the same
// character. A byte that is not valid UTF-8 becomes \ufffd, the value
// encoding/json decodes it to. ASCII bytes, escapes already present
// included, are copied unchanged, so escaping twice changes nothing.
func EscapeNonASCII(body []byte) []byte {
	n := 0
	for _, b := range body {
		if b >= utf8.RuneSelf {
			n++
		}
	}
	if n == 0 {
		return body
	}
	const hexDigits = "0123456789abcdef"
	out := make([]byte, 0, len(body)+5*n)
	esc := func(u uint16) {
		out = append(out, '\\', 'u', hexDigits[u>>12], hexDigits[u>>8&0xf], hexDigits[u>>4&0xf], hexDigits[u&0xf])
	}
	for i := 0; i < len(body); {
		b := body[i]
		if b < utf8.RuneSelf {
			out = append(out, b)
			i++
			continue
		}
		r, size := utf8.DecodeRune(body[i:])
		i += size
		if r > 0xffff {
			hi, lo := utf16.EncodeRune(r)
			esc(uint16(hi))
			esc(uint16(lo))
			continue
		}
		esc(uint16(r)) // utf8.RuneError (U+FFFD) for an invalid byte
	}
	return out
}
