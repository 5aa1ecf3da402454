package cloudapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/parleyhq/parley/content"
)

// maxRequestBytes bounds a JSON request body.
const maxRequestBytes = 256 << 10

// SendRequest is the body of POST /vN/PNID/messages, in the Cloud API's
// shape. A body with Status "read" marks a message read instead.
type SendRequest struct {
	MessagingProduct string `json:"messaging_product"`
	RecipientType    string `json:"recipient_type,omitempty"`
	To               string `json:"to"`
	Type             string `json:"type"`
	Context          *struct {
		MessageID string `json:"message_id"`
	} `json:"context,omitempty"`
	BizOpaqueCallbackData string `json:"biz_opaque_callback_data,omitempty"`

	Text *struct {
		Body       string `json:"body"`
		PreviewURL bool   `json:"preview_url,omitempty"`
	} `json:"text,omitempty"`
	Image       *MediaObject    `json:"image,omitempty"`
	Video       *MediaObject    `json:"video,omitempty"`
	Audio       *MediaObject    `json:"audio,omitempty"`
	Document    *MediaObject    `json:"document,omitempty"`
	Sticker     *MediaObject    `json:"sticker,omitempty"`
	Location    *LocationObject `json:"location,omitempty"`
	Contacts    []ContactObject `json:"contacts,omitempty"`
	Interactive *Interactive    `json:"interactive,omitempty"`
	Template    *TemplateSend   `json:"template,omitempty"`
	Reaction    *struct {
		MessageID string `json:"message_id"`
		Emoji     string `json:"emoji"`
	} `json:"reaction,omitempty"`

	// Mark as read, optionally showing the customer a typing indicator.
	Status          string `json:"status,omitempty"`
	MessageID       string `json:"message_id,omitempty"`
	TypingIndicator *struct {
		Type string `json:"type"`
	} `json:"typing_indicator,omitempty"`
}

// MediaObject is a media message part: an uploaded media id or a link.
type MediaObject struct {
	ID       string `json:"id,omitempty"`
	Link     string `json:"link,omitempty"`
	Caption  string `json:"caption,omitempty"`
	Filename string `json:"filename,omitempty"`
}

// LocationObject is a location message.
type LocationObject struct {
	Latitude  json.Number `json:"latitude"`
	Longitude json.Number `json:"longitude"`
	Name      string      `json:"name,omitempty"`
	Address   string      `json:"address,omitempty"`
}

// ContactObject is one contact card of a contacts message.
type ContactObject struct {
	Name struct {
		FormattedName string `json:"formatted_name"`
		FirstName     string `json:"first_name,omitempty"`
		LastName      string `json:"last_name,omitempty"`
	} `json:"name"`
	Phones []struct {
		Phone string `json:"phone"`
		Type  string `json:"type,omitempty"`
		WaID  string `json:"wa_id,omitempty"`
	} `json:"phones,omitempty"`
	Emails []struct {
		Email string `json:"email"`
		Type  string `json:"type,omitempty"`
	} `json:"emails,omitempty"`
	Org *struct {
		Company string `json:"company,omitempty"`
		Title   string `json:"title,omitempty"`
	} `json:"org,omitempty"`
}

// Interactive is an interactive message (reply buttons or a list).
type Interactive struct {
	Type   string `json:"type"`
	Header *struct {
		Type string `json:"type"`
		Text string `json:"text,omitempty"`
	} `json:"header,omitempty"`
	Body *struct {
		Text string `json:"text"`
	} `json:"body,omitempty"`
	Footer *struct {
		Text string `json:"text"`
	} `json:"footer,omitempty"`
	Action struct {
		Button  string `json:"button,omitempty"`
		Buttons []struct {
			Type  string `json:"type"`
			Reply struct {
				ID    string `json:"id"`
				Title string `json:"title"`
			} `json:"reply"`
		} `json:"buttons,omitempty"`
		Sections []struct {
			Title string `json:"title,omitempty"`
			Rows  []struct {
				ID          string `json:"id"`
				Title       string `json:"title"`
				Description string `json:"description,omitempty"`
			} `json:"rows"`
		} `json:"sections,omitempty"`
	} `json:"action"`
}

// TemplateSend names a template and gives its parameters.
type TemplateSend struct {
	Name     string `json:"name"`
	Language struct {
		Code   string `json:"code"`
		Policy string `json:"policy,omitempty"`
	} `json:"language"`
	Components []TemplateSendComponent `json:"components,omitempty"`
}

// TemplateSendComponent carries the parameters of one template component.
type TemplateSendComponent struct {
	Type       string              `json:"type"` // header, body, button
	SubType    string              `json:"sub_type,omitempty"`
	Index      json.Number         `json:"index,omitempty"`
	Parameters []TemplateParameter `json:"parameters,omitempty"`
}

// TemplateParameter is one parameter value.
type TemplateParameter struct {
	Type          string `json:"type"`
	Text          string `json:"text,omitempty"`
	ParameterName string `json:"parameter_name,omitempty"`
	Payload       string `json:"payload,omitempty"`
	Currency      *struct {
		FallbackValue string `json:"fallback_value"`
		Code          string `json:"code"`
		Amount1000    int64  `json:"amount_1000"`
	} `json:"currency,omitempty"`
	DateTime *struct {
		FallbackValue string `json:"fallback_value"`
	} `json:"date_time,omitempty"`
	Image    *MediaObject `json:"image,omitempty"`
	Video    *MediaObject `json:"video,omitempty"`
	Document *MediaObject `json:"document,omitempty"`
}

// Value is the text a parameter contributes to the rendered template.
func (p TemplateParameter) Value() string {
	switch {
	case p.Currency != nil:
		return p.Currency.FallbackValue
	case p.DateTime != nil:
		return p.DateTime.FallbackValue
	case p.Payload != "":
		return p.Payload
	}
	return p.Text
}

// ParseSendRequest decodes and checks a send body. Untrusted input: every
// error is an *Error with a Cloud API code.
func ParseSendRequest(data []byte) (*SendRequest, error) {
	if len(data) > maxRequestBytes {
		return nil, apiError(CodeInvalidParameter, fmt.Sprintf("the request body is larger than %d bytes", maxRequestBytes))
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var r SendRequest
	if err := dec.Decode(&r); err != nil {
		return nil, apiError(CodeInvalidParameter, "the request body is not valid JSON: "+err.Error())
	}
	if r.MessagingProduct != "whatsapp" {
		return nil, apiError(CodeParamInvalid, `messaging_product must be "whatsapp"`)
	}
	if r.Status != "" {
		if r.Status != "read" {
			return nil, apiError(CodeParamInvalid, `status must be "read"`)
		}
		if r.MessageID == "" {
			return nil, apiError(CodeParamMissing, "message_id is required")
		}
		if r.TypingIndicator != nil && r.TypingIndicator.Type != "text" {
			return nil, apiError(CodeParamInvalid, fmt.Sprintf(`typing_indicator.type %q is not supported: the one type is "text"`, r.TypingIndicator.Type))
		}
		return &r, nil
	}
	if r.RecipientType != "" && r.RecipientType != "individual" {
		return nil, apiError(CodeParamInvalid, `recipient_type must be "individual" (groups are not supported)`)
	}
	if strings.TrimSpace(r.To) == "" {
		return nil, apiError(CodeParamMissing, "to is required")
	}
	if r.Type == "" {
		r.Type = "text"
	}
	part := map[string]bool{
		"text": r.Text != nil, "image": r.Image != nil, "video": r.Video != nil, "audio": r.Audio != nil,
		"document": r.Document != nil, "sticker": r.Sticker != nil, "location": r.Location != nil,
		"contacts": len(r.Contacts) > 0, "interactive": r.Interactive != nil, "template": r.Template != nil,
		"reaction": r.Reaction != nil,
	}
	has, known := part[r.Type]
	if !known {
		return nil, apiError(CodeUnsupportedType, fmt.Sprintf("message type %q is not supported", r.Type))
	}
	if !has {
		return nil, apiError(CodeParamMissing, fmt.Sprintf("type is %q but the %q object is missing", r.Type, r.Type))
	}
	switch r.Type {
	case "text":
		if strings.TrimSpace(r.Text.Body) == "" {
			return nil, apiError(CodeParamMissing, "text.body is required")
		}
		if len(r.Text.Body) > 4096 {
			return nil, apiError(CodeParamInvalid, "text.body is longer than 4096 characters")
		}
	case "image", "video", "audio", "document", "sticker":
		m := r.media()
		if (m.ID == "") == (m.Link == "") {
			return nil, apiError(CodeParamInvalid, r.Type+" needs exactly one of id and link")
		}
		if m.Link != "" && !strings.HasPrefix(m.Link, "http://") && !strings.HasPrefix(m.Link, "https://") {
			return nil, apiError(CodeParamInvalid, r.Type+".link must be an http(s) URL")
		}
	case "location":
		lat, err1 := r.Location.Latitude.Float64()
		lon, err2 := r.Location.Longitude.Float64()
		if err1 != nil || err2 != nil || math.Abs(lat) > 90 || math.Abs(lon) > 180 {
			return nil, apiError(CodeParamInvalid, "location needs a latitude in [-90, 90] and a longitude in [-180, 180]")
		}
	case "contacts":
		for i, c := range r.Contacts {
			if strings.TrimSpace(c.Name.FormattedName) == "" {
				return nil, apiError(CodeParamMissing, fmt.Sprintf("contacts[%d].name.formatted_name is required", i))
			}
		}
	case "interactive":
		if _, err := r.Interactive.content(); err != nil {
			return nil, err
		}
	case "template":
		if r.Template.Name == "" || r.Template.Language.Code == "" {
			return nil, apiError(CodeParamMissing, "template.name and template.language.code are required")
		}
	case "reaction":
		if r.Reaction.MessageID == "" {
			return nil, apiError(CodeParamMissing, "reaction.message_id is required")
		}
	}
	if r.Context != nil && r.Context.MessageID == "" {
		return nil, apiError(CodeParamMissing, "context.message_id is required")
	}
	return &r, nil
}

// media returns the media object of a media message.
func (r *SendRequest) media() *MediaObject {
	switch r.Type {
	case "image":
		return r.Image
	case "video":
		return r.Video
	case "audio":
		return r.Audio
	case "document":
		return r.Document
	case "sticker":
		return r.Sticker
	}
	return nil
}

// content converts an interactive object to the client's business content.
func (in *Interactive) content() (*content.InteractiveMessage, error) {
	m := &content.InteractiveMessage{Type: in.Type}
	if in.Body != nil {
		m.Body = in.Body.Text
	}
	if in.Footer != nil {
		m.Footer = in.Footer.Text
	}
	if in.Header != nil {
		if in.Header.Type != "text" {
			return nil, apiError(CodeParamInvalid, "interactive.header.type: only text headers are supported")
		}
		m.Header = in.Header.Text
	}
	switch in.Type {
	case "button":
		for _, b := range in.Action.Buttons {
			if b.Type != "reply" {
				return nil, apiError(CodeParamInvalid, `interactive.action.buttons[].type must be "reply"`)
			}
			m.Buttons = append(m.Buttons, content.ReplyButton{ID: b.Reply.ID, Title: b.Reply.Title})
		}
	case "list":
		m.ButtonText = in.Action.Button
		for _, s := range in.Action.Sections {
			sec := content.ListSection{Title: s.Title}
			for _, r := range s.Rows {
				sec.Rows = append(sec.Rows, content.ListRow{ID: r.ID, Title: r.Title, Description: r.Description})
			}
			m.Sections = append(m.Sections, sec)
		}
	default:
		return nil, apiError(CodeUnsupportedType, fmt.Sprintf("interactive type %q is not supported (button, list)", in.Type))
	}
	if err := (content.BusinessContent{Interactive: m}).Validate(); err != nil {
		return nil, apiError(CodeParamInvalid, "interactive: "+errMessage(err))
	}
	return m, nil
}

// vCard renders contact cards as vCard 3.0 text.
func vCard(cs []ContactObject) string {
	var b strings.Builder
	for _, c := range cs {
		b.WriteString("BEGIN:VCARD\r\nVERSION:3.0\r\n")
		fmt.Fprintf(&b, "FN:%s\r\n", vEscape(c.Name.FormattedName))
		if c.Name.FirstName != "" || c.Name.LastName != "" {
			fmt.Fprintf(&b, "N:%s;%s;;;\r\n", vEscape(c.Name.LastName), vEscape(c.Name.FirstName))
		}
		for _, p := range c.Phones {
			typ := strings.ToUpper(p.Type)
			if typ == "" {
				typ = "CELL"
			}
			fmt.Fprintf(&b, "TEL;TYPE=%s:%s\r\n", vEscape(typ), vEscape(p.Phone))
		}
		for _, e := range c.Emails {
			fmt.Fprintf(&b, "EMAIL:%s\r\n", vEscape(e.Email))
		}
		if c.Org != nil && c.Org.Company != "" {
			fmt.Fprintf(&b, "ORG:%s\r\n", vEscape(c.Org.Company))
		}
		b.WriteString("END:VCARD\r\n")
	}
	return b.String()
}

func vEscape(s string) string {
	return vCardEscaper.Replace(s)
}

func itoa(n int) string { return strconv.Itoa(n) }

var vCardEscaper = strings.NewReplacer("\\", "\\\\", "\n", "\\n", "\r", "", ",", "\\,", ";", "\\;")
