package content

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/attachment"
)

// The business message kinds. Like every message they are end-to-end
// encrypted; the body extension carries their structured content under
// "biz" (a BusinessContent with exactly one part set) and Text carries a
// readable rendering, so a client that does not know a kind still shows
// something sensible.
const (
	KindProduct          = "product"           // a catalog item shared in a chat
	KindOrder            = "order"             // a customer's cart sent as an order
	KindOrderStatus      = "order_status"      // the business marks an order paid, shipped, …
	KindInteractive      = "interactive"       // reply buttons or a list
	KindInteractiveReply = "interactive_reply" // the customer's choice of a button or row
	KindTemplate         = "template"          // a rendered message template
)

// Order statuses a business sets with an order_status message.
const (
	OrderPending   = "pending" // the order as the customer sent it
	OrderPaid      = "paid"
	OrderShipped   = "shipped"
	OrderCompleted = "completed"
	OrderCancelled = "cancelled"
)

// Limits of the business kinds (those of the Cloud API where it has one).
const (
	MaxReplyButtons    = 3
	MaxListSections    = 10
	MaxListRows        = 10 // in all sections together
	MaxOrderItems      = 100
	maxBizIDBytes      = 256
	maxBizTitleBytes   = 24  // button and row titles
	maxBizShortBytes   = 200 // names, headers, footers, row descriptions
	maxBizTextBytes    = 4096
	maxTemplateButtons = 10
)

// BusinessContent is the structured content of a business message: exactly
// one of its parts is set, and it decides the message's kind.
type BusinessContent struct {
	Product     *ProductMessage     `json:"product,omitempty"`
	Order       *OrderMessage       `json:"order,omitempty"`
	OrderStatus *OrderStatusMessage `json:"order_status,omitempty"`
	Interactive *InteractiveMessage `json:"interactive,omitempty"`
	Reply       *InteractiveReply   `json:"interactive_reply,omitempty"`
	Template    *TemplateMessage    `json:"template,omitempty"`
}

// ProductMessage is a catalog item as shared in a chat: a snapshot of the
// product when it was sent (the catalog may change later).
type ProductMessage struct {
	Business    parley.UserID          `json:"business"`
	ProductID   string                 `json:"product_id"`
	Name        string                 `json:"name"`
	Price       parley.Money           `json:"price"`
	Description string                 `json:"description,omitempty"`
	Available   bool                   `json:"available"`
	Image       *attachment.Descriptor `json:"image,omitempty"`
}

// OrderItem is one line of an order.
type OrderItem struct {
	ProductID string `json:"product_id"`
	Name      string `json:"name,omitempty"`
	Quantity  int    `json:"quantity"`
	// Price is the unit price in thousandths of the order's currency.
	Price int64 `json:"price_1000"`
}

// OrderMessage is a customer's cart sent to a business as an order.
type OrderMessage struct {
	OrderID  string        `json:"order_id"`
	Business parley.UserID `json:"business"`
	Items    []OrderItem   `json:"items"`
	Total    parley.Money  `json:"total"` // the sum of quantity × price
	Note     string        `json:"note,omitempty"`
}

// OrderStatusMessage is a business's update of an order's status.
type OrderStatusMessage struct {
	OrderID string `json:"order_id"`
	Status  string `json:"status"` // OrderPaid, OrderShipped, OrderCompleted, OrderCancelled
	Note    string `json:"note,omitempty"`
}

// InteractiveMessage offers reply buttons (Type "button", 1 to 3 Buttons)
// or a list (Type "list", ButtonText opening Sections of rows).
type InteractiveMessage struct {
	Type        string                 `json:"type"` // "button" or "list"
	Header      string                 `json:"header,omitempty"`
	HeaderMedia *attachment.Descriptor `json:"header_media,omitempty"`
	Body        string                 `json:"body"`
	Footer      string                 `json:"footer,omitempty"`
	Buttons     []ReplyButton          `json:"buttons,omitempty"`
	ButtonText  string                 `json:"button_text,omitempty"` // the list's button
	Sections    []ListSection          `json:"sections,omitempty"`
}

// ReplyButton is one reply button.
type ReplyButton struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

// ListSection is a titled group of list rows.
type ListSection struct {
	Title string    `json:"title,omitempty"`
	Rows  []ListRow `json:"rows"`
}

// ListRow is one choice of a list.
type ListRow struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
}

// InteractiveReply is the choice of a reply button ("button_reply") or a
// list row ("list_reply"); the message replies to the interactive message.
type InteractiveReply struct {
	Type        string `json:"type"` // "button_reply" or "list_reply"
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
}

// TemplateMessage is a message template as rendered by the business for
// this customer (parameters substituted).
type TemplateMessage struct {
	Name        string                 `json:"name"`
	Language    string                 `json:"language"`
	Category    string                 `json:"category,omitempty"` // MARKETING, UTILITY, AUTHENTICATION
	Header      string                 `json:"header,omitempty"`
	HeaderMedia *attachment.Descriptor `json:"header_media,omitempty"`
	Body        string                 `json:"body"`
	Footer      string                 `json:"footer,omitempty"`
	Buttons     []TemplateButton       `json:"buttons,omitempty"`
}

// TemplateButton is a button of a template: a quick reply (Payload), a URL
// or a phone number to call.
type TemplateButton struct {
	Type    string `json:"type"` // "quick_reply", "url", "phone_number", "copy_code"
	Text    string `json:"text"`
	URL     string `json:"url,omitempty"`
	Phone   string `json:"phone,omitempty"`
	Payload string `json:"payload,omitempty"`
}

// Kind returns the message kind of c, "" when not exactly one part is set.
func (bc BusinessContent) Kind() string {
	kind, n := "", 0
	set := func(ok bool, k string) {
		if ok {
			kind, n = k, n+1
		}
	}
	set(bc.Product != nil, KindProduct)
	set(bc.Order != nil, KindOrder)
	set(bc.OrderStatus != nil, KindOrderStatus)
	set(bc.Interactive != nil, KindInteractive)
	set(bc.Reply != nil, KindInteractiveReply)
	set(bc.Template != nil, KindTemplate)
	if n != 1 {
		return ""
	}
	return kind
}

// IsBusinessKind reports whether kind is one of the business message kinds.
func IsBusinessKind(kind string) bool {
	switch kind {
	case KindProduct, KindOrder, KindOrderStatus, KindInteractive, KindInteractiveReply, KindTemplate:
		return true
	}
	return false
}

func bizInvalid(reason, format string, args ...any) error {
	return parley.Errorf(parley.CodeInvalid, reason, format, args...)
}

func checkBizText(field, s string, max int, required bool) error {
	if required && strings.TrimSpace(s) == "" {
		return bizInvalid(ReasonBusinessFieldPrefix+field, "%s is required", field)
	}
	if len(s) > max || !utf8.ValidString(s) {
		return bizInvalid(ReasonBusinessFieldPrefix+field, "%s is at most %d bytes of UTF-8", field, max)
	}
	return nil
}

func checkMedia(field string, d *attachment.Descriptor) error {
	if d != nil && d.Validate() != nil {
		return bizInvalid(ReasonBusinessFieldPrefix+field, "%s is not a valid media descriptor", field)
	}
	return nil
}

// Validate checks c against the rules of its kind; every device applies
// them to what it receives. Errors are CodeInvalid with a reason naming the
// field ("business_kind", "business_buttons", …).
func (bc BusinessContent) Validate() error {
	switch bc.Kind() {
	case "":
		return bizInvalid(ReasonBusinessKind, "a business message has exactly one of product, order, order_status, interactive, interactive_reply, template")
	case KindProduct:
		p := bc.Product
		if p.Business <= 0 {
			return bizInvalid(ReasonBusinessBusiness, "a product names its business")
		}
		if err := checkBizText("product_id", p.ProductID, maxBizIDBytes, true); err != nil {
			return err
		}
		if err := checkBizText("name", p.Name, maxBizShortBytes, true); err != nil {
			return err
		}
		if err := p.Price.Validate(); err != nil {
			return err
		}
		if err := checkBizText("description", p.Description, maxBizTextBytes, false); err != nil {
			return err
		}
		return checkMedia("image", p.Image)
	case KindOrder:
		o := bc.Order
		if err := checkBizText("order_id", o.OrderID, maxBizIDBytes, true); err != nil {
			return err
		}
		if o.Business <= 0 {
			return bizInvalid(ReasonBusinessBusiness, "an order names its business")
		}
		if len(o.Items) == 0 || len(o.Items) > MaxOrderItems {
			return bizInvalid(ReasonBusinessItems, "an order has 1 to %d items", MaxOrderItems)
		}
		if err := o.Total.Validate(); err != nil {
			return err
		}
		var total int64
		for _, it := range o.Items {
			if err := checkBizText("product_id", it.ProductID, maxBizIDBytes, true); err != nil {
				return err
			}
			if err := checkBizText("name", it.Name, maxBizShortBytes, false); err != nil {
				return err
			}
			if it.Quantity <= 0 || it.Quantity > 10000 || it.Price < 0 || it.Price > parley.MaxAmount1000 {
				return bizInvalid(ReasonBusinessItems, "an item has a quantity of 1 to 10000 and a price of 0 or more")
			}
			total += int64(it.Quantity) * it.Price
			if total > parley.MaxAmount1000 {
				return bizInvalid(ReasonBusinessTotal, "the order's total is too large")
			}
		}
		if total != o.Total.Amount1000 {
			return bizInvalid(ReasonBusinessTotal, "the order's total is not the sum of its items")
		}
		return checkBizText("note", o.Note, maxBizTextBytes, false)
	case KindOrderStatus:
		s := bc.OrderStatus
		if err := checkBizText("order_id", s.OrderID, maxBizIDBytes, true); err != nil {
			return err
		}
		switch s.Status {
		case OrderPaid, OrderShipped, OrderCompleted, OrderCancelled:
		default:
			return bizInvalid(ReasonBusinessStatus, "an order's status is paid, shipped, completed or cancelled")
		}
		return checkBizText("note", s.Note, maxBizTextBytes, false)
	case KindInteractive:
		return bc.Interactive.validate()
	case KindInteractiveReply:
		r := bc.Reply
		if r.Type != "button_reply" && r.Type != "list_reply" {
			return bizInvalid(ReasonBusinessType, "an interactive reply is a button_reply or a list_reply")
		}
		if err := checkBizText("id", r.ID, maxBizIDBytes, true); err != nil {
			return err
		}
		if err := checkBizText("title", r.Title, maxBizShortBytes, true); err != nil {
			return err
		}
		return checkBizText("description", r.Description, maxBizShortBytes, false)
	case KindTemplate:
		t := bc.Template
		if err := checkBizText("name", t.Name, 512, true); err != nil {
			return err
		}
		if err := checkBizText("language", t.Language, 16, true); err != nil {
			return err
		}
		if err := checkBizText("header", t.Header, maxBizShortBytes, false); err != nil {
			return err
		}
		if err := checkBizText("body", t.Body, 1024, true); err != nil {
			return err
		}
		if err := checkBizText("footer", t.Footer, 60, false); err != nil {
			return err
		}
		if err := checkMedia("header_media", t.HeaderMedia); err != nil {
			return err
		}
		if len(t.Buttons) > maxTemplateButtons {
			return bizInvalid(ReasonBusinessButtons, "a template has at most %d buttons", maxTemplateButtons)
		}
		for _, b := range t.Buttons {
			if err := checkBizText("button", b.Text, 25, true); err != nil {
				return err
			}
			if len(b.URL) > 2000 || len(b.Phone) > 20 || len(b.Payload) > maxBizIDBytes || len(b.Type) > 32 {
				return bizInvalid(ReasonBusinessButton, "a template button's url, phone or payload is too long")
			}
		}
	}
	return nil
}

func (m *InteractiveMessage) validate() error {
	if err := checkBizText("body", m.Body, 1024, true); err != nil {
		return err
	}
	if err := checkBizText("header", m.Header, 60, false); err != nil {
		return err
	}
	if err := checkBizText("footer", m.Footer, 60, false); err != nil {
		return err
	}
	if err := checkMedia("header_media", m.HeaderMedia); err != nil {
		return err
	}
	ids := map[string]bool{}
	checkChoice := func(id, title, desc string) error {
		if err := checkBizText("id", id, maxBizIDBytes, true); err != nil {
			return err
		}
		if ids[id] {
			return bizInvalid(ReasonBusinessDuplicateID, "button and row ids are unique (%q twice)", id)
		}
		ids[id] = true
		if utf8.RuneCountInString(title) > maxBizTitleBytes {
			return bizInvalid(ReasonBusinessTitle, "a button or row title is at most %d characters", maxBizTitleBytes)
		}
		if err := checkBizText("title", title, maxBizShortBytes, true); err != nil {
			return err
		}
		return checkBizText("description", desc, 72*4, false)
	}
	switch m.Type {
	case "button":
		if len(m.Buttons) == 0 || len(m.Buttons) > MaxReplyButtons {
			return bizInvalid(ReasonBusinessButtons, "reply buttons are 1 to %d", MaxReplyButtons)
		}
		if len(m.Sections) > 0 {
			return bizInvalid(ReasonBusinessSections, "reply buttons have no list sections")
		}
		for _, b := range m.Buttons {
			if err := checkChoice(b.ID, b.Title, ""); err != nil {
				return err
			}
		}
	case "list":
		if len(m.Buttons) > 0 {
			return bizInvalid(ReasonBusinessButtons, "a list has no reply buttons")
		}
		if err := checkBizText("button_text", m.ButtonText, 20*4, true); err != nil {
			return err
		}
		if len(m.Sections) == 0 || len(m.Sections) > MaxListSections {
			return bizInvalid(ReasonBusinessSections, "a list has 1 to %d sections", MaxListSections)
		}
		rows := 0
		for _, s := range m.Sections {
			if len(s.Rows) == 0 {
				return bizInvalid(ReasonBusinessRows, "every list section has rows")
			}
			if len(m.Sections) > 1 && strings.TrimSpace(s.Title) == "" {
				return bizInvalid(ReasonBusinessSectionTitle, "sections of a list with several sections have titles")
			}
			if err := checkBizText("section_title", s.Title, maxBizTitleBytes*4, false); err != nil {
				return err
			}
			for _, r := range s.Rows {
				rows++
				if err := checkChoice(r.ID, r.Title, r.Description); err != nil {
					return err
				}
			}
		}
		if rows > MaxListRows {
			return bizInvalid(ReasonBusinessRows, "a list has at most %d rows", MaxListRows)
		}
	default:
		return bizInvalid(ReasonBusinessType, "an interactive message is of type button or list")
	}
	return nil
}

// Choice returns the button or list row of m with the given id.
func (m *InteractiveMessage) Choice(id string) (InteractiveReply, bool) {
	for _, b := range m.Buttons {
		if b.ID == id {
			return InteractiveReply{Type: "button_reply", ID: b.ID, Title: b.Title}, true
		}
	}
	for _, s := range m.Sections {
		for _, r := range s.Rows {
			if r.ID == id {
				return InteractiveReply{Type: "list_reply", ID: r.ID, Title: r.Title, Description: r.Description}, true
			}
		}
	}
	return InteractiveReply{}, false
}

// Summary renders c as readable text: the Text of its message.
func (bc BusinessContent) Summary() string {
	switch bc.Kind() {
	case KindProduct:
		p := bc.Product
		s := fmt.Sprintf("%s — %s", p.Name, p.Price)
		if !p.Available {
			s += " (unavailable)"
		}
		if p.Description != "" {
			s += "\n" + p.Description
		}
		return s
	case KindOrder:
		o := bc.Order
		var b strings.Builder
		fmt.Fprintf(&b, "order %s: ", o.OrderID)
		for i, it := range o.Items {
			if i > 0 {
				b.WriteString(", ")
			}
			name := it.Name
			if name == "" {
				name = it.ProductID
			}
			fmt.Fprintf(&b, "%d × %s", it.Quantity, name)
		}
		fmt.Fprintf(&b, " — total %s", o.Total)
		if o.Note != "" {
			b.WriteString("\nnote: " + o.Note)
		}
		return b.String()
	case KindOrderStatus:
		s := fmt.Sprintf("order %s is %s", bc.OrderStatus.OrderID, bc.OrderStatus.Status)
		if bc.OrderStatus.Note != "" {
			s += ": " + bc.OrderStatus.Note
		}
		return s
	case KindInteractive:
		m := bc.Interactive
		var b strings.Builder
		if m.Header != "" {
			b.WriteString(m.Header + "\n")
		}
		b.WriteString(m.Body)
		if m.Footer != "" {
			b.WriteString("\n" + m.Footer)
		}
		for _, btn := range m.Buttons {
			fmt.Fprintf(&b, "\n  [%s] %s", btn.ID, btn.Title)
		}
		if m.Type == "list" {
			fmt.Fprintf(&b, "\n  %s:", m.ButtonText)
			for _, s := range m.Sections {
				if s.Title != "" {
					fmt.Fprintf(&b, "\n  %s", s.Title)
				}
				for _, r := range s.Rows {
					fmt.Fprintf(&b, "\n    [%s] %s", r.ID, r.Title)
					if r.Description != "" {
						b.WriteString(" — " + r.Description)
					}
				}
			}
		}
		return b.String()
	case KindInteractiveReply:
		return bc.Reply.Title
	case KindTemplate:
		t := bc.Template
		var b strings.Builder
		if t.Header != "" {
			b.WriteString(t.Header + "\n")
		}
		b.WriteString(t.Body)
		if t.Footer != "" {
			b.WriteString("\n" + t.Footer)
		}
		for _, btn := range t.Buttons {
			fmt.Fprintf(&b, "\n  [%s]", btn.Text)
		}
		return b.String()
	}
	return ""
}

// checkBusinessBody keeps a received body's business content only when it
// is valid and matches the body's kind; a business kind without valid
// content becomes KindUnsupported (shown, not failed).
func checkBusinessBody(b *Body) {
	var bc *BusinessContent
	if b.Ext != nil {
		bc, b.Ext.Biz = b.Ext.Biz, nil
	}
	if !IsBusinessKind(b.Kind) {
		return
	}
	if bc == nil || bc.Kind() != b.Kind || bc.Validate() != nil {
		b.Kind = KindUnsupported
		return
	}
	b.Ext.Biz = bc
}
