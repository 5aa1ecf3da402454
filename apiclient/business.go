package apiclient

import (
	"context"
	"net/url"
	"strings"
)

// Object is an answer of the business API as the server wrote it: the CLI
// prints it verbatim (--json) or picks keys from it.
type Object = map[string]any

// The routes below follow docs/business-api.md. Owner routes take a
// device's credential (ForDevice), operator routes the operator token and
// Cloud API routes an API token (New with Bearer).

// The business API's route prefixes.
const (
	OwnerPath    = "/business/v1/api"   // the owner's number, tokens (device credential)
	OperatorPath = "/business/v1/admin" // numbers and template review (operator token)
	ReportPath   = "/business/v1/report"
	CloudVersion = "v23.0" // the Graph API version the Cloud API routes are called with
)

// list is the {"data":[…]} envelope of the business API's lists.
type list[T any] struct {
	Data []T `json:"data"`
}

// EnableAPI runs the owner's number through the business API, linking a
// hosted endpoint with a link code the owner's device made; it returns the
// number's settings.
func (c *Client) EnableAPI(ctx context.Context, linkCode string) (Object, error) {
	var n Object
	return n, c.Call(ctx, "POST", OwnerPath+"/enable", map[string]string{"link_code": linkCode}, &n)
}

// Number is the owner's number: phone-number id, quality, tier, throughput.
func (c *Client) Number(ctx context.Context) (Object, error) {
	var n Object
	return n, c.Call(ctx, "GET", OwnerPath+"/number", nil, &n)
}

// CreateToken makes an API token (all scopes when scopes is empty); the
// answer holds the secret, which the server never shows again.
func (c *Client) CreateToken(ctx context.Context, name string, scopes []string) (Object, error) {
	body := Object{"name": name}
	if len(scopes) > 0 {
		body["scopes"] = scopes
	}
	var t Object
	return t, c.Call(ctx, "POST", OwnerPath+"/tokens", body, &t)
}

// Tokens lists the owner's API tokens (without their secrets).
func (c *Client) Tokens(ctx context.Context) ([]Object, error) {
	var l list[Object]
	return l.Data, c.Call(ctx, "GET", OwnerPath+"/tokens", nil, &l)
}

// RevokeToken ends an API token.
func (c *Client) RevokeToken(ctx context.Context, id string) error {
	return c.Call(ctx, "DELETE", OwnerPath+"/tokens/"+url.PathEscape(id), nil, nil)
}

// ReportBusiness reports a business (by phone number) to the server.
func (c *Client) ReportBusiness(ctx context.Context, business, reason string, block bool) error {
	return c.Call(ctx, "POST", ReportPath, Object{"business": business, "reason": reason, "block": block}, nil)
}

// SetNumber (operator) changes a number's settings: tier, throughput,
// auto_approve; keys left out keep their value.
func (c *Client) SetNumber(ctx context.Context, pnid string, settings Object) (Object, error) {
	var n Object
	return n, c.Call(ctx, "POST", OperatorPath+"/numbers/"+url.PathEscape(pnid), settings, &n)
}

// ReviewTemplate (operator) sets a template's status: APPROVED, REJECTED
// or PAUSED.
func (c *Client) ReviewTemplate(ctx context.Context, id, status, reason string) (Object, error) {
	var t Object
	return t, c.Call(ctx, "POST", OperatorPath+"/templates/"+url.PathEscape(id), map[string]string{"status": status, "reason": reason}, &t)
}

// PendingTemplates (operator) lists the templates waiting for review, each
// with its number's "phone_number_id".
func (c *Client) PendingTemplates(ctx context.Context) ([]Object, error) {
	var l list[struct {
		PNID     string `json:"phone_number_id"`
		Template Object `json:"template"`
	}]
	if err := c.Call(ctx, "GET", OperatorPath+"/templates?status=PENDING", nil, &l); err != nil {
		return nil, err
	}
	var rows []Object
	for _, d := range l.Data {
		if d.Template == nil {
			d.Template = Object{}
		}
		d.Template["phone_number_id"] = d.PNID
		rows = append(rows, d.Template)
	}
	return rows, nil
}

// CloudPath is the path of a Cloud API route rel ("/messages",
// "/message_templates"…) of the number pnid.
func CloudPath(pnid, rel string) string { return "/" + CloudVersion + "/" + url.PathEscape(pnid) + rel }

// Template is a message template to create: the text parts and the
// buttons, each "QUICK_REPLY:TEXT", "URL:TEXT:URL" or
// "PHONE_NUMBER:TEXT:PHONE".
type Template struct {
	Name, Language, Category string
	Header, Body, Footer     string
	Buttons                  []string
}

// components is the Cloud API's components array of t.
func (t Template) components() []Object {
	var comps []Object
	if t.Header != "" {
		comps = append(comps, Object{"type": "HEADER", "format": "TEXT", "text": t.Header})
	}
	comps = append(comps, Object{"type": "BODY", "text": t.Body})
	if t.Footer != "" {
		comps = append(comps, Object{"type": "FOOTER", "text": t.Footer})
	}
	if len(t.Buttons) == 0 {
		return comps
	}
	var bs []Object
	for _, b := range t.Buttons {
		parts := strings.SplitN(b, ":", 3)
		btn := Object{"type": strings.ToUpper(parts[0])}
		if len(parts) > 1 {
			btn["text"] = parts[1]
		}
		if len(parts) > 2 {
			if btn["type"] == "PHONE_NUMBER" {
				btn["phone_number"] = parts[2]
			} else {
				btn["url"] = parts[2]
			}
		}
		bs = append(bs, btn)
	}
	return append(comps, Object{"type": "BUTTONS", "buttons": bs})
}

// Templates lists the number's message templates.
func (c *Client) Templates(ctx context.Context, pnid string) ([]Object, error) {
	var l list[Object]
	return l.Data, c.Call(ctx, "GET", CloudPath(pnid, "/message_templates"), nil, &l)
}

// CreateTemplate submits a template for review; the answer has its id and
// status.
func (c *Client) CreateTemplate(ctx context.Context, pnid string, t Template) (Object, error) {
	var out Object
	return out, c.Call(ctx, "POST", CloudPath(pnid, "/message_templates"), Object{"name": t.Name, "language": t.Language,
		"category": t.Category, "components": t.components()}, &out)
}

// DeleteTemplate deletes a template's every language, or only language
// when it is not "".
func (c *Client) DeleteTemplate(ctx context.Context, pnid, name, language string) error {
	q := url.Values{"name": {name}}
	if language != "" {
		q.Set("language", language)
	}
	return c.Call(ctx, "DELETE", CloudPath(pnid, "/message_templates?"+q.Encode()), nil, nil)
}

// OptIns lists the customers' marketing opt-ins of the number.
func (c *Client) OptIns(ctx context.Context, pnid string) ([]Object, error) {
	var l list[Object]
	return l.Data, c.Call(ctx, "GET", CloudPath(pnid, "/optins"), nil, &l)
}

// AddOptIn records a customer's marketing opt-in: where (source) and to
// what text.
func (c *Client) AddOptIn(ctx context.Context, pnid, waID, source, text string) error {
	return c.Call(ctx, "POST", CloudPath(pnid, "/optins"), map[string]string{"wa_id": waID, "source": source, "text": text}, nil)
}
