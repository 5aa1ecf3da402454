package cloudapi

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/content"
)

// Inbound is a message a customer sent to a business, as the hosted
// endpoint decrypted it.
type Inbound struct {
	Business     parley.UserID
	Customer     parley.UserID
	CustomerName string
	MessageID    string
	At           time.Time
	Context      string // the message id it replies to, "" for none
	Record       content.MessageRecord
	MediaID      string // for media kinds: the id the file was kept under for GET /MEDIA_ID
	MediaSHA256  string // for media kinds: the hex SHA-256 of the file (the webhook's sha256)
	// Reaction is set for a customer's reaction (Record is then the
	// reaction's event): the webhook's type "reaction".
	Reaction *InReaction
}

// InReaction is a customer's reaction to a message of the chat.
type InReaction struct {
	MessageID string // the message reacted to
	Emoji     string // "" when the customer removed their reaction
}

// Status is a change of an outgoing message's status.
type Status struct {
	Business  parley.UserID
	Customer  parley.UserID
	WaID      string // the customer's wa_id when the caller knows it ("": looked up)
	MessageID string
	Status    string // sent, delivered, read, failed
	At        time.Time
	Error     string // for failed: error_data.details
	// CallbackData is the send's biz_opaque_callback_data when the caller
	// knows it (the sent status the endpoint raises during the send); ""
	// makes HandleStatus look it up (callback.go).
	CallbackData string
}

// optOutWords and optInWords are the keywords honoured in a customer's message.
var (
	optOutWords = map[string]bool{"STOP": true, "STOPALL": true, "UNSUBSCRIBE": true, "CANCEL": true, "END": true, "QUIT": true, "OPTOUT": true, "OPT-OUT": true, "OPT OUT": true}
	optInWords  = map[string]bool{"START": true, "SUBSCRIBE": true, "UNSTOP": true}
)

// keyword normalises a message for keyword matching.
func keyword(text string) string {
	return strings.Trim(strings.ToUpper(strings.TrimSpace(text)), ".!")
}

// HandleInbound takes a customer's message: it opens the customer-service
// window, honours opt-out and opt-in keywords at once (recorded before the
// confirmation is sent), records insights and enqueues the "messages"
// webhook. The hosted endpoint calls it for every message it receives.
func (s *Service) HandleInbound(ctx context.Context, in Inbound) error {
	if err := s.st.TouchInbound(ctx, in.Business, in.Customer, in.At); err != nil {
		return err
	}
	cust, err := s.customerState(ctx, in.Business, in.Customer)
	if err != nil {
		return err
	}
	s.custMu.Lock()
	if in.At.After(cust.lastInbound) {
		cust.lastInbound = in.At
	}
	replied := in.Context
	if replied == "" {
		replied = cust.lastOutbound
	}
	o := cust.optIn
	s.custMu.Unlock()
	u, err := s.cfg.Users.User(ctx, in.Customer)
	if err != nil {
		return err
	}
	wa := WaID(u.Phone)
	if in.CustomerName == "" {
		in.CustomerName = u.Name
	}
	msg := s.messageJSON(in, wa)
	if err := s.webhook(ctx, in.Business, wa, "messages", map[string]any{
		"messaging_product": "whatsapp",
		"metadata":          s.metadata(ctx, in.Business),
		"contacts":          []any{map[string]any{"profile": map[string]string{"name": in.CustomerName}, "wa_id": wa}},
		"messages":          []any{msg},
	}); err != nil {
		return err // the hosted endpoint hands the message over again (hosted/handled.go)
	}
	now := s.clk.Now().UTC()
	// Recorded durably before returning, as the webhook is: the hosted
	// endpoint marks the message handled once this returns, and a crash
	// after that must not lose its insights (recording twice counts once).
	if err := s.recordNow(ctx, parley.MessageEvent{Business: in.Business, MessageID: in.MessageID, Customer: wa, Status: parley.StatusInbound, At: now}); err != nil {
		return err
	}
	if replied != "" {
		if err := s.recordNow(ctx, parley.MessageEvent{Business: in.Business, MessageID: replied, Customer: wa, Status: parley.StatusReplied, At: now}); err != nil {
			return err
		}
	}
	if in.Record.Kind != content.KindText {
		return nil
	}
	switch kw := keyword(in.Record.Text); {
	case optOutWords[kw]:
		if !o.OptedOutAt.IsZero() {
			return nil
		}
		o.Business, o.Customer, o.OptedOutAt, o.OptOutText = in.Business, in.Customer, now, in.Record.Text
		if err := s.putOptIn(ctx, o); err != nil {
			return err
		}
		s.confirm(ctx, in.Business, u, fmt.Sprintf(s.cfg.OptOutConfirmation, s.businessName(ctx, in.Business)))
	case optInWords[kw]:
		if o.Active() {
			return nil
		}
		o = parley.OptIn{Business: in.Business, Customer: in.Customer, Source: "keyword in chat", Text: in.Record.Text, At: now}
		if err := s.putOptIn(ctx, o); err != nil {
			return err
		}
		s.confirm(ctx, in.Business, u, fmt.Sprintf("You are subscribed to messages from %s again. Reply STOP to unsubscribe.", s.businessName(ctx, in.Business)))
	}
	return nil
}

// confirm sends a keyword confirmation (the window is open: the customer
// just wrote).
func (s *Service) confirm(ctx context.Context, business parley.UserID, u parley.User, text string) {
	ep, err := s.endpoint()
	if err == nil {
		_, err = ep.Send(ctx, business, Outgoing{Customer: u.ID, To: u.Phone, Text: text})
	}
	if err != nil {
		s.log.Warn("keyword confirmation", "business", business, "customer", u.ID, "err", err)
	}
}

func (s *Service) businessName(ctx context.Context, business parley.UserID) string {
	if u, err := s.cfg.Users.User(ctx, business); err == nil && u.Name != "" {
		return u.Name
	}
	return "this business"
}

// messageJSON renders an inbound message in the webhook's shape.
func (s *Service) messageJSON(in Inbound, wa string) map[string]any {
	m := map[string]any{"from": wa, "id": in.MessageID, "timestamp": strconv.FormatInt(in.At.Unix(), 10)}
	if in.Context != "" {
		m["context"] = map[string]string{"from": WaID(s.phoneOf(in.Business)), "id": in.Context}
	}
	r := in.Record
	switch {
	case in.Reaction != nil:
		m["type"] = "reaction"
		re := map[string]string{"message_id": in.Reaction.MessageID}
		if in.Reaction.Emoji != "" { // a removed reaction has no emoji, as in the Cloud API
			re["emoji"] = in.Reaction.Emoji
		}
		m["reaction"] = re
	case r.Business != nil && r.Business.Reply != nil:
		rep := r.Business.Reply
		m["type"] = "interactive"
		if rep.Type == "list_reply" {
			m["interactive"] = map[string]any{"type": "list_reply", "list_reply": map[string]string{"id": rep.ID, "title": rep.Title, "description": rep.Description}}
		} else {
			m["interactive"] = map[string]any{"type": "button_reply", "button_reply": map[string]string{"id": rep.ID, "title": rep.Title}}
		}
	case r.Business != nil && r.Business.Order != nil:
		o := r.Business.Order
		items := make([]map[string]any, 0, len(o.Items))
		for _, it := range o.Items {
			items = append(items, map[string]any{"product_retailer_id": it.ProductID, "quantity": it.Quantity,
				"item_price": float64(it.Price) / 1000, "currency": o.Total.Currency})
		}
		m["type"] = "order"
		m["order"] = map[string]any{"catalog_id": PhoneNumberID(in.Business), "text": o.Note, "product_items": items}
	case r.Kind == content.KindText:
		m["type"] = "text"
		m["text"] = map[string]string{"body": r.Text}
	case r.Kind == content.KindLocation && r.Media != nil && r.Media.Location != nil:
		m["type"] = "location"
		m["location"] = map[string]any{"latitude": r.Media.Location.Lat, "longitude": r.Media.Location.Lon, "name": r.Media.Location.Name}
	case r.Kind == content.KindContact && r.Media != nil:
		m["type"] = "contacts"
		m["contacts"] = []any{map[string]any{"name": map[string]string{"formatted_name": r.Text}, "vcard": contactVCard(r)}}
	case r.Media != nil && in.MediaID != "":
		kind := r.Kind
		if kind == content.KindVoice {
			kind = "audio"
		}
		obj := map[string]any{"id": in.MediaID, "mime_type": r.Media.MIME}
		if in.MediaSHA256 != "" {
			obj["sha256"] = in.MediaSHA256
		}
		if r.Text != "" {
			obj["caption"] = r.Text
		}
		if kind == "document" && r.Media.FileName != "" {
			obj["filename"] = r.Media.FileName
		}
		m["type"] = kind
		m[kind] = obj
	default:
		m["type"] = "unsupported"
		m["errors"] = []any{map[string]any{"code": CodeUnsupportedType, "title": titles[CodeUnsupportedType],
			"error_data": map[string]string{"details": "message kind " + r.Kind + " has no Cloud API counterpart"}}}
	}
	return m
}

func contactVCard(r content.MessageRecord) string {
	if r.Media == nil {
		return ""
	}
	return r.Media.VCard
}

func (s *Service) phoneOf(business parley.UserID) string {
	s.numMu.Lock()
	defer s.numMu.Unlock()
	if nb, ok := s.numbers[business]; ok {
		return nb.n.Phone
	}
	return ""
}

// HandleStatus takes a status change of an outgoing message: the
// "messages" webhook with a statuses entry, enqueued durably when it
// returns nil, and (except for "sent", which Send records with the
// template and campaign) the insights event. A failed status carries the
// Cloud API error 131026 (Message undeliverable) with st.Error as details.
// Every status of a message sent with biz_opaque_callback_data carries it
// (callback.go).
func (s *Service) HandleStatus(ctx context.Context, st Status) error {
	wa := st.WaID
	if wa == "" {
		u, err := s.cfg.Users.User(ctx, st.Customer)
		if err != nil {
			return err
		}
		wa = WaID(u.Phone)
	}
	entry := statusEntry{ID: st.MessageID, RecipientID: wa, Status: st.Status, Timestamp: strconv.FormatInt(st.At.Unix(), 10),
		CallbackData: s.callbackData(ctx, st)}
	if st.Status == parley.StatusFailed {
		entry.Errors = []statusError{{Code: CodeUndeliverable, Title: titles[CodeUndeliverable], Message: titles[CodeUndeliverable],
			ErrorData: map[string]string{"details": st.Error}}}
	}
	if err := s.webhook(ctx, st.Business, wa, "messages", statusValue{MessagingProduct: "whatsapp",
		Metadata: s.metadata(ctx, st.Business), Statuses: []statusEntry{entry}}); err != nil {
		return err
	}
	if st.Status != parley.StatusFailed {
		s.noteContact(ctx, st.Business, st.Customer, st.At)
	}
	if st.Status != parley.StatusSent {
		s.record(ctx, parley.MessageEvent{Business: st.Business, MessageID: st.MessageID, Customer: wa, Status: st.Status, At: st.At})
	}
	return nil
}

// statusValue is a statuses webhook's value (fields in the order a map
// would marshal them, as the other webhooks).
type statusValue struct {
	MessagingProduct string            `json:"messaging_product"`
	Metadata         map[string]string `json:"metadata"`
	Statuses         []statusEntry     `json:"statuses"`
}

type statusEntry struct {
	CallbackData string        `json:"biz_opaque_callback_data,omitempty"`
	Errors       []statusError `json:"errors,omitempty"`
	ID           string        `json:"id"`
	RecipientID  string        `json:"recipient_id"`
	Status       string        `json:"status"`
	Timestamp    string        `json:"timestamp"`
}

type statusError struct {
	Code      int               `json:"code"`
	ErrorData map[string]string `json:"error_data"`
	Message   string            `json:"message"`
	Title     string            `json:"title"`
}

func jsonMarshal(v any) (json.RawMessage, error) {
	b, err := json.Marshal(v)
	return b, err
}

func errMessage(err error) string { return parley.ErrorMessage(err) }
