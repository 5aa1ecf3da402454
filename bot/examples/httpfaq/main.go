// Command httpfaq is the FAQ bot of bot/examples/faq written against the
// business HTTP API instead of the client core, the way existing WhatsApp
// Cloud API bots work: Parley POSTs customer messages to this program's
// webhook (signed with X-Hub-Signature-256, after the GET handshake), and
// it answers with POST /v23.0/{phone-number-id}/messages. The business's
// number must use the hosted endpoint (`parley business api enable`).
//
//	PARLEY_API_TOKEN=… PARLEY_APP_SECRET=… go run ./bot/examples/httpfaq \
//	    --api http://127.0.0.1:8080 --phone-number-id PNID --listen 127.0.0.1:9000 --verify-token T
//	parley business webhook set --url http://127.0.0.1:9000/webhook --verify-token T --app-secret "$PARLEY_APP_SECRET"
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/parleyhq/parley/httperr"
	"github.com/parleyhq/parley/webhook"
)

var answers = map[string]string{
	"faq:hours":    "We are open Monday to Saturday, 9:00 to 18:00.",
	"faq:delivery": "We deliver within 5 km for free; further away it is 3 EUR.",
	"faq:pay":      "We take cash on delivery, cards and bank transfers.",
}

// faqBot is the webhook handler.
type faqBot struct {
	api, pnid, token       string // the business API: base URL, phone-number id, bearer token
	appSecret, verifyToken string
	http                   *http.Client
	log                    *slog.Logger
}

// inbound is the part of a "messages" webhook value the bot reads.
type inbound struct {
	Messages []struct {
		From        string                `json:"from"`
		ID          string                `json:"id"`
		Type        string                `json:"type"`
		Text        struct{ Body string } `json:"text"`
		Interactive struct {
			Type        string                     `json:"type"`
			ButtonReply struct{ ID, Title string } `json:"button_reply"`
			ListReply   struct{ ID, Title string } `json:"list_reply"`
		} `json:"interactive"`
	} `json:"messages"`
}

func (b *faqBot) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet {
		q := r.URL.Query()
		if q.Get("hub.mode") != "subscribe" || q.Get("hub.verify_token") != b.verifyToken {
			http.Error(w, "wrong verify token", http.StatusForbidden)
			return
		}
		io.WriteString(w, q.Get("hub.challenge"))
		return
	}
	changes, err := webhook.ReadRequest(r, b.appSecret)
	if err != nil {
		http.Error(w, err.Error(), httperr.StatusOf(err))
		return
	}
	for _, c := range changes {
		if c.Field != "messages" {
			continue
		}
		var in inbound
		if err := json.Unmarshal(c.Value, &in); err != nil {
			continue // statuses and other shapes
		}
		for _, m := range in.Messages {
			// A failed answer is answered 500, so Parley delivers the
			// event again later (the window for answers stays open 24 h).
			if err := b.answer(r.Context(), m.From, m.Type, m.Text.Body, m.Interactive.ButtonReply.ID+m.Interactive.ListReply.ID); err != nil {
				b.log.Warn("answer failed", "to", m.From, "err", err)
				http.Error(w, "answer failed", http.StatusInternalServerError)
				return
			}
		}
	}
	w.WriteHeader(http.StatusOK)
}

func (b *faqBot) answer(ctx context.Context, to, typ, text, choice string) error {
	if typ == "interactive" {
		if a, ok := answers[choice]; ok {
			return b.send(ctx, map[string]any{"to": to, "type": "text", "text": map[string]any{"body": a}})
		}
	}
	if typ == "text" {
		lower := strings.ToLower(text)
		switch {
		case strings.Contains(lower, "open") || strings.Contains(lower, "hours"):
			return b.send(ctx, map[string]any{"to": to, "type": "text", "text": map[string]any{"body": answers["faq:hours"]}})
		case strings.Contains(lower, "deliver"):
			return b.send(ctx, map[string]any{"to": to, "type": "text", "text": map[string]any{"body": answers["faq:delivery"]}})
		}
	}
	if typ != "text" && typ != "interactive" {
		return nil
	}
	button := func(id, title string) map[string]any {
		return map[string]any{"type": "reply", "reply": map[string]any{"id": id, "title": title}}
	}
	return b.send(ctx, map[string]any{"to": to, "type": "interactive", "interactive": map[string]any{
		"type": "button", "body": map[string]any{"text": "Hi! What would you like to know?"},
		"action": map[string]any{"buttons": []any{button("faq:hours", "Opening hours"), button("faq:delivery", "Delivery"), button("faq:pay", "Payment")}},
	}})
}

// send POSTs one message to the business API.
func (b *faqBot) send(ctx context.Context, msg map[string]any) error {
	msg["messaging_product"] = "whatsapp"
	data, _ := json.Marshal(msg)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(b.api, "/")+"/v23.0/"+b.pnid+"/messages", bytes.NewReader(data))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+b.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		e, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("send: %s: %s", resp.Status, e)
	}
	return nil
}

func main() {
	api := flag.String("api", "http://127.0.0.1:8080", "the Parley server")
	pnid := flag.String("phone-number-id", "", "the business number's phone-number id (parley business api status)")
	listen := flag.String("listen", "127.0.0.1:9000", "where the webhook listens")
	verify := flag.String("verify-token", "", "the webhook's verify token")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	b := &faqBot{api: *api, pnid: *pnid, token: os.Getenv("PARLEY_API_TOKEN"), appSecret: os.Getenv("PARLEY_APP_SECRET"),
		verifyToken: *verify, http: &http.Client{Timeout: 10 * time.Second}, log: log}
	if b.pnid == "" || b.token == "" || b.appSecret == "" || b.verifyToken == "" {
		fmt.Fprintln(os.Stderr, "httpfaq: need --phone-number-id, --verify-token, $PARLEY_API_TOKEN and $PARLEY_APP_SECRET")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	mux := http.NewServeMux()
	mux.Handle("/webhook", b)
	srv := &http.Server{Addr: *listen, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { <-ctx.Done(); _ = srv.Shutdown(context.Background()) }()
	log.Info("httpfaq bot listening", "addr", *listen)
	if err := srv.ListenAndServe(); err != nil && err != http.ErrServerClosed {
		fmt.Fprintln(os.Stderr, "httpfaq:", err)
		os.Exit(1)
	}
}
