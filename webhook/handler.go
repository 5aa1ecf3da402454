package webhook

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/httperr"
)

// Path is where Handler is mounted.
const Path = "/business/v1/webhook"

// MaxReplayIDs bounds the ids of one replay request.
const MaxReplayIDs = 1000

// Authorize maps a request to the business it acts for (for example the
// user of the device in "Authorization: Parley <device>:<secret>"). It
// decides who may have a webhook at all: the server's refuses accounts
// that are not businesses with CodeForbidden and ReasonNotBusiness.
type Authorize func(r *http.Request) (parley.UserID, error)

// ConfigView is a configuration as the HTTP API shows it: the app secret
// is never returned.
type ConfigView struct {
	CallbackURL string    `json:"callback_url"`
	VerifyToken string    `json:"verify_token"`
	HasSecret   bool      `json:"app_secret_set"`
	VerifiedAt  time.Time `json:"verified_at"`
}

// DeliveryView is a queued or dead delivery as the HTTP API shows it.
type DeliveryView struct {
	ID        int64           `json:"id"`
	Field     string          `json:"field"`
	OrderKey  string          `json:"order_key"`
	Phone     string          `json:"phone_number_id"`
	Value     json.RawMessage `json:"value"`
	Dead      bool            `json:"dead"`
	Attempts  int             `json:"attempts"`
	NextAt    time.Time       `json:"next_at"`
	CreatedAt time.Time       `json:"created_at"`
	LastError string          `json:"last_error,omitempty"`
}

// Handler serves the business's webhook settings:
//
//	GET    /business/v1/webhook                      → ConfigView
//	PUT    /business/v1/webhook {callback_url, verify_token, app_secret}
//	                                                  → runs the GET handshake, then ConfigView
//	DELETE /business/v1/webhook                      → 204
//	GET    /business/v1/webhook/deliveries?dead=1&limit=100 → {"deliveries":[DeliveryView]}
//	POST   /business/v1/webhook/replay {"ids":[…]}    → {"replayed":n} (all dead ones when ids is empty)
//
// Errors are {"code","reason","message"} with the status of the code.
func (s *Service) Handler(auth Authorize) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+Path, func(w http.ResponseWriter, r *http.Request) {
		biz, err := auth(r)
		if err != nil {
			writeError(w, err)
			return
		}
		c, err := s.store.WebhookConfig(r.Context(), biz)
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, view(c))
	})
	mux.HandleFunc("PUT "+Path, func(w http.ResponseWriter, r *http.Request) {
		biz, err := auth(r)
		if err != nil {
			writeError(w, err)
			return
		}
		var in struct {
			CallbackURL string `json:"callback_url"`
			VerifyToken string `json:"verify_token"`
			AppSecret   string `json:"app_secret"`
		}
		if err := decode(r, &in); err != nil {
			writeError(w, err)
			return
		}
		c, err := s.Configure(r.Context(), parley.WebhookConfig{Business: biz, CallbackURL: in.CallbackURL, VerifyToken: in.VerifyToken, AppSecret: in.AppSecret})
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, view(c))
	})
	mux.HandleFunc("DELETE "+Path, func(w http.ResponseWriter, r *http.Request) {
		biz, err := auth(r)
		if err != nil {
			writeError(w, err)
			return
		}
		if err := s.Remove(r.Context(), biz); err != nil {
			writeError(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET "+Path+"/deliveries", func(w http.ResponseWriter, r *http.Request) {
		biz, err := auth(r)
		if err != nil {
			writeError(w, err)
			return
		}
		limit := 100
		if l := r.URL.Query().Get("limit"); l != "" {
			if limit, err = strconv.Atoi(l); err != nil || limit <= 0 || limit > 1000 {
				writeError(w, parley.Errorf(parley.CodeInvalid, ReasonBadLimit, "limit must be 1..1000"))
				return
			}
		}
		dead := r.URL.Query().Get("dead") == "1" || r.URL.Query().Get("dead") == "true"
		ds, err := s.store.WebhookDeliveries(r.Context(), biz, dead, limit)
		if err != nil {
			writeError(w, err)
			return
		}
		out := make([]DeliveryView, 0, len(ds))
		for _, d := range ds {
			out = append(out, DeliveryView{ID: d.ID, Field: d.Event.Field, OrderKey: d.Event.OrderKey, Phone: d.Event.PhoneNumberID,
				Value: d.Event.Value, Dead: d.Dead, Attempts: d.Attempts, NextAt: d.NextAt, CreatedAt: d.CreatedAt, LastError: d.LastError})
		}
		writeJSON(w, http.StatusOK, map[string]any{"deliveries": out})
	})
	mux.HandleFunc("POST "+Path+"/replay", func(w http.ResponseWriter, r *http.Request) {
		biz, err := auth(r)
		if err != nil {
			writeError(w, err)
			return
		}
		var in struct {
			IDs []int64 `json:"ids"`
		}
		if err := decode(r, &in); err != nil {
			writeError(w, err)
			return
		}
		if len(in.IDs) > MaxReplayIDs {
			writeError(w, parley.Errorf(parley.CodeTooLarge, ReasonTooManyIDs, "replay at most %d ids at once (or none for all)", MaxReplayIDs))
			return
		}
		n, err := s.Replay(r.Context(), biz, in.IDs)
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]int{"replayed": n})
	})
	return mux
}

func view(c parley.WebhookConfig) ConfigView {
	return ConfigView{CallbackURL: c.CallbackURL, VerifyToken: c.VerifyToken, HasSecret: c.AppSecret != "", VerifiedAt: c.VerifiedAt}
}

func decode(r *http.Request, v any) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, 64<<10+1))
	if err != nil {
		return parley.Errorf(parley.CodeInvalid, parley.ReasonBadBody, "reading the body: %v", err)
	}
	if len(b) > 64<<10 {
		return parley.Errorf(parley.CodeTooLarge, ReasonBodyTooLarge, "the body is over 64 KiB")
	}
	if len(b) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return parley.Errorf(parley.CodeInvalid, parley.ReasonBadJSON, "the body is not valid JSON: %v", err)
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, err error) { httperr.Write(w, nil, 0, err) }
