package cloudapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/content"
)

// TemplateComponent is one component of a template definition.
type TemplateComponent struct {
	Type    string           `json:"type"`             // HEADER, BODY, FOOTER, BUTTONS
	Format  string           `json:"format,omitempty"` // HEADER: TEXT (media headers are not supported)
	Text    string           `json:"text,omitempty"`
	Buttons []TemplateButton `json:"buttons,omitempty"`
	Example json.RawMessage  `json:"example,omitempty"`
}

// TemplateButton is a button of a template definition.
type TemplateButton struct {
	Type        string `json:"type"` // QUICK_REPLY, URL, PHONE_NUMBER, COPY_CODE
	Text        string `json:"text"`
	URL         string `json:"url,omitempty"`
	PhoneNumber string `json:"phone_number,omitempty"`
	Example     any    `json:"example,omitempty"`
}

// TemplateCreate is the body of POST /vN/WABA/message_templates.
type TemplateCreate struct {
	Name            string              `json:"name"`
	Language        string              `json:"language"`
	Category        string              `json:"category"`
	ParameterFormat string              `json:"parameter_format,omitempty"` // POSITIONAL (default) or NAMED
	Components      []TemplateComponent `json:"components"`
}

var (
	templateNameRe = regexp.MustCompile(`^[a-z0-9_]{1,512}$`)
	languageRe     = regexp.MustCompile(`^[a-z]{2,3}(_[A-Za-z]{2,4})?$`)
	placeholderRe  = regexp.MustCompile(`\{\{\s*([A-Za-z0-9_]+)\s*\}\}`)
)

// ParseTemplateCreate decodes and checks a template definition.
func ParseTemplateCreate(data []byte) (*TemplateCreate, error) {
	if len(data) > maxRequestBytes {
		return nil, apiError(CodeInvalidParameter, "the request body is too large")
	}
	var t TemplateCreate
	if err := json.Unmarshal(data, &t); err != nil {
		return nil, apiError(CodeInvalidParameter, "the request body is not valid JSON: "+err.Error())
	}
	if !templateNameRe.MatchString(t.Name) {
		return nil, apiError(CodeParamInvalid, "name must be 1 to 512 lower-case letters, digits and underscores")
	}
	if !languageRe.MatchString(t.Language) {
		return nil, apiError(CodeParamInvalid, "language must be a language code such as en or en_US")
	}
	t.Category = strings.ToUpper(t.Category)
	switch parley.TemplateCategory(t.Category) {
	case parley.CategoryMarketing, parley.CategoryUtility, parley.CategoryAuthentication:
	default:
		return nil, apiError(CodeParamInvalid, "category must be MARKETING, UTILITY or AUTHENTICATION")
	}
	if err := checkComponents(t.Components); err != nil {
		return nil, err
	}
	return &t, nil
}

// checkComponents checks a template's components: one BODY, at most one
// HEADER (TEXT), FOOTER and BUTTONS, texts within limits.
func checkComponents(cs []TemplateComponent) error {
	seen := map[string]bool{}
	for i := range cs {
		c := &cs[i]
		c.Type = strings.ToUpper(c.Type)
		if seen[c.Type] {
			return apiError(CodeParamInvalid, "components: more than one "+c.Type)
		}
		seen[c.Type] = true
		switch c.Type {
		case "HEADER":
			if f := strings.ToUpper(c.Format); f != "" && f != "TEXT" {
				return apiError(CodeParamInvalid, "components: only TEXT headers are supported")
			}
			if c.Text == "" || len(c.Text) > 60 {
				return apiError(CodeParamInvalid, "components: a HEADER text has 1 to 60 characters")
			}
		case "BODY":
			if strings.TrimSpace(c.Text) == "" || len(c.Text) > 1024 {
				return apiError(CodeParamInvalid, "components: a BODY text has 1 to 1024 characters")
			}
		case "FOOTER":
			if c.Text == "" || len(c.Text) > 60 {
				return apiError(CodeParamInvalid, "components: a FOOTER text has 1 to 60 characters")
			}
			if placeholderRe.MatchString(c.Text) {
				return apiError(CodeParamInvalid, "components: a FOOTER has no parameters")
			}
		case "BUTTONS":
			if len(c.Buttons) == 0 || len(c.Buttons) > 10 {
				return apiError(CodeParamInvalid, "components: BUTTONS has 1 to 10 buttons")
			}
			for j := range c.Buttons {
				b := &c.Buttons[j]
				b.Type = strings.ToUpper(b.Type)
				if b.Text == "" || len(b.Text) > 25 {
					return apiError(CodeParamInvalid, "components: a button text has 1 to 25 characters")
				}
				switch b.Type {
				case "QUICK_REPLY", "COPY_CODE":
				case "URL":
					if !strings.HasPrefix(b.URL, "https://") && !strings.HasPrefix(b.URL, "http://") {
						return apiError(CodeParamInvalid, "components: a URL button needs an http(s) url")
					}
				case "PHONE_NUMBER":
					if b.PhoneNumber == "" {
						return apiError(CodeParamInvalid, "components: a PHONE_NUMBER button needs phone_number")
					}
				default:
					return apiError(CodeParamInvalid, "components: button type "+b.Type+" is not supported")
				}
			}
		default:
			return apiError(CodeParamInvalid, "components: unknown component type "+strconv.Quote(c.Type))
		}
	}
	if !seen["BODY"] {
		return apiError(CodeParamMissing, "components: a BODY is required")
	}
	return nil
}

// placeholders lists a text's distinct placeholders in order of appearance.
func placeholders(s string) []string {
	var out []string
	for _, m := range placeholderRe.FindAllStringSubmatch(s, -1) {
		dup := false
		for _, o := range out {
			dup = dup || o == m[1]
		}
		if !dup {
			out = append(out, m[1])
		}
	}
	return out
}

// fill substitutes parameters into text: positional ({{1}} is params[0])
// or named (by parameter_name). The number of parameters must equal the
// number of distinct placeholders.
func fill(what, text string, params []TemplateParameter) (string, error) {
	names := placeholders(text)
	if len(params) != len(names) {
		return "", apiError(CodeTemplateParams, fmt.Sprintf("%s: expected %d parameters, received %d", what, len(names), len(params)))
	}
	vals := map[string]string{}
	for i, p := range params {
		v := p.Value()
		if len(v) > 1024 {
			return "", apiError(CodeParamInvalid, what+": a parameter is longer than 1024 characters")
		}
		if p.ParameterName != "" {
			vals[p.ParameterName] = v
		} else {
			vals[strconv.Itoa(i+1)] = v
		}
	}
	var missing string
	out := placeholderRe.ReplaceAllStringFunc(text, func(m string) string {
		name := placeholderRe.FindStringSubmatch(m)[1]
		v, ok := vals[name]
		if !ok {
			missing = name
		}
		return v
	})
	if missing != "" {
		return "", apiError(CodeTemplateParams, fmt.Sprintf("%s: no value for parameter %q", what, missing))
	}
	return out, nil
}

// render builds the message a template send produces for one customer.
func render(t parley.Template, send *TemplateSend) (*content.TemplateMessage, error) {
	var comps []TemplateComponent
	if err := json.Unmarshal(t.Components, &comps); err != nil {
		return nil, fmt.Errorf("template %s: stored components: %w", t.ID, err)
	}
	params := map[string][]TemplateParameter{}
	buttonParams := map[int][]TemplateParameter{}
	for _, c := range send.Components {
		typ := strings.ToLower(c.Type)
		switch typ {
		case "header", "body":
			params[typ] = append(params[typ], c.Parameters...)
		case "button":
			i, err := strconv.Atoi(c.Index.String())
			if err != nil || i < 0 || i >= 10 {
				return nil, apiError(CodeParamInvalid, "template.components: a button component needs an index 0 to 9")
			}
			buttonParams[i] = c.Parameters
		default:
			return nil, apiError(CodeParamInvalid, "template.components: unknown component type "+strconv.Quote(c.Type))
		}
	}
	m := &content.TemplateMessage{Name: t.Name, Language: t.Language, Category: string(t.Category)}
	for _, c := range comps {
		var err error
		switch c.Type {
		case "HEADER":
			m.Header, err = fill("header", c.Text, params["header"])
			delete(params, "header")
		case "BODY":
			m.Body, err = fill("body", c.Text, params["body"])
			delete(params, "body")
		case "FOOTER":
			m.Footer = c.Text
		case "BUTTONS":
			for i, b := range c.Buttons {
				tb := content.TemplateButton{Type: strings.ToLower(b.Type), Text: b.Text, URL: b.URL, Phone: b.PhoneNumber}
				switch b.Type {
				case "URL":
					if len(placeholders(b.URL)) > 0 {
						tb.URL, err = fill(fmt.Sprintf("button %d", i), b.URL, buttonParams[i])
					}
				case "QUICK_REPLY":
					if ps := buttonParams[i]; len(ps) > 0 {
						tb.Payload = ps[0].Value()
					}
				}
				delete(buttonParams, i)
				m.Buttons = append(m.Buttons, tb)
				if err != nil {
					break
				}
			}
		}
		if err != nil {
			return nil, err
		}
	}
	for typ, ps := range params {
		if len(ps) > 0 {
			return nil, apiError(CodeTemplateParams, fmt.Sprintf("%s: the template has no %s, received %d parameters", typ, typ, len(ps)))
		}
	}
	if len(buttonParams) > 0 {
		return nil, apiError(CodeTemplateParams, "template.components: parameters for a button the template does not have")
	}
	return m, nil
}

// templateJSON is a template as the Cloud API lists it.
type templateJSON struct {
	ID         string          `json:"id"`
	Name       string          `json:"name"`
	Language   string          `json:"language"`
	Category   string          `json:"category"`
	Status     string          `json:"status"`
	Reason     string          `json:"rejected_reason,omitempty"`
	Components json.RawMessage `json:"components"`
}

func templateOut(t parley.Template) templateJSON {
	comps := t.Components
	if len(bytes.TrimSpace(comps)) == 0 {
		comps = json.RawMessage("[]")
	}
	return templateJSON{ID: t.ID, Name: t.Name, Language: t.Language, Category: string(t.Category), Status: string(t.Status), Reason: t.Reason, Components: comps}
}
