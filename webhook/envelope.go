package webhook

import (
	"encoding/json"
	"io"
	"net/http"

	"github.com/parleyhq/parley"
)

// Change is one entry[].changes[] item of a received webhook body, with the
// entry's id.
type Change struct {
	EntryID string
	Field   string
	Value   json.RawMessage
}

// MaxBody bounds what ParseEnvelope accepts.
const MaxBody = 4 << 20

// ParseEnvelope decodes a webhook body as Envelope produces it (and as the
// Cloud API sends it), for receivers such as bots. Errors: CodeInvalid with
// reason "bad_envelope" for anything that is not
// {"object":"whatsapp_business_account","entry":[{"id","changes":[{"field","value"}]}]}
// with a non-empty field and an object value; CodeTooLarge over MaxBody.
func ParseEnvelope(body []byte) ([]Change, error) {
	if len(body) > MaxBody {
		return nil, parley.Errorf(parley.CodeTooLarge, ReasonEnvelopeTooLarge, "webhook body is %d bytes, over %d", len(body), MaxBody)
	}
	var env struct {
		Object string `json:"object"`
		Entry  []struct {
			ID      string `json:"id"`
			Changes []struct {
				Field string          `json:"field"`
				Value json.RawMessage `json:"value"`
			} `json:"changes"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, parley.Errorf(parley.CodeInvalid, ReasonBadEnvelope, "webhook body: %v", err)
	}
	if env.Object != "whatsapp_business_account" {
		return nil, parley.Errorf(parley.CodeInvalid, ReasonBadEnvelope, "webhook body: object is %q, want whatsapp_business_account", env.Object)
	}
	var out []Change
	for _, e := range env.Entry {
		for _, c := range e.Changes {
			var obj map[string]json.RawMessage
			if c.Field == "" || json.Unmarshal(c.Value, &obj) != nil || obj == nil {
				return nil, parley.Errorf(parley.CodeInvalid, ReasonBadEnvelope, "webhook body: a change needs a field and an object value")
			}
			out = append(out, Change{EntryID: e.ID, Field: c.Field, Value: c.Value})
		}
	}
	if len(out) == 0 {
		return nil, parley.Errorf(parley.CodeInvalid, ReasonBadEnvelope, "webhook body has no changes")
	}
	return out, nil
}

// ReadRequest reads a webhook POST as a receiver should: the body (at most
// MaxBody bytes), its X-Hub-Signature-256 and its signed timestamp
// (X-Parley-Signature) checked against appSecret, the timestamp within
// DefaultTolerance of the system clock, the POST not one already accepted
// by this process, then every change of every entry (one POST may carry
// several). Errors: CodeUnauthenticated with ReasonBadSignature,
// ReasonMissingTimestamp, ReasonStaleTimestamp or ReasonReplayed;
// CodeTooLarge and CodeInvalid as from ParseEnvelope; answer with the
// httperr.Status of the code. A Receiver sets the tolerance and the clock.
func ReadRequest(r *http.Request, appSecret string) ([]Change, error) {
	return shared.read(r, appSecret)
}

// Read is ReadRequest with the receiver's secret, tolerance and clock; its
// replay memory is its own.
func (rv *Receiver) Read(r *http.Request) ([]Change, error) {
	return rv.read(r, rv.Secret)
}

func (rv *Receiver) read(r *http.Request, appSecret string) ([]Change, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err != nil {
		return nil, parley.Errorf(parley.CodeInvalid, parley.ReasonBadBody, "reading the webhook body: %v", err)
	}
	if len(body) > MaxBody {
		return nil, parley.Errorf(parley.CodeTooLarge, ReasonEnvelopeTooLarge, "webhook body is over %d bytes", MaxBody)
	}
	if err := rv.check(appSecret, body, r.Header); err != nil {
		return nil, err
	}
	return ParseEnvelope(body)
}
