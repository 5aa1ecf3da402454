package cloudapi

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/content"
)

// SendResult is what a send returns: the Cloud API response's parts.
type SendResult struct {
	Input     string
	WaID      string
	MessageID string
	// MessageStatus is the messages[].message_status of a template send
	// ("accepted"), "" for other sends (the Cloud API sets it only there).
	MessageStatus string
}

// Send checks a send request against the number's rules and sends it
// through the hosted endpoint. Errors are *Error (Cloud API codes):
// 130429 over the throughput limit, 131026 no such customer or blocked,
// 131047 outside the 24-hour window, 131049 MARKETING without opt-in,
// 131050 opted out, 131048 tier used up, 132001 unknown or unapproved
// template, 132015 paused template, 132000 parameter mismatch.
func (s *Service) Send(ctx context.Context, business parley.UserID, req *SendRequest) (SendResult, error) {
	nb, err := s.number(ctx, business)
	if err != nil {
		return SendResult{}, err
	}
	ep, err := s.endpoint()
	if err != nil {
		return SendResult{}, err
	}
	if err := s.take(nb); err != nil {
		return SendResult{}, err
	}
	u, err := s.customerByNumber(ctx, business, req.To)
	if err != nil {
		return SendResult{}, err
	}
	if u.ID == business {
		return SendResult{}, apiError(CodeParamInvalid, "a business cannot message its own number")
	}
	res := SendResult{Input: req.To, WaID: WaID(u.Phone)}
	cust, err := s.customerState(ctx, business, u.ID)
	if err != nil {
		return res, err
	}
	out := Outgoing{Customer: u.ID, To: u.Phone, CallbackData: req.BizOpaqueCallbackData}
	if req.Context != nil {
		out.ReplyTo = req.Context.MessageID
	}
	var tpl parley.Template
	if req.Type == "template" {
		tpl, err = s.templateFor(ctx, business, req.Template)
		if err != nil {
			return res, err
		}
		if tpl.Category == parley.CategoryMarketing {
			s.custMu.Lock()
			o := cust.optIn
			s.custMu.Unlock()
			if !o.OptedOutAt.IsZero() {
				return res, apiError(CodeOptedOut, fmt.Sprintf("the customer opted out of marketing messages (%q)", o.OptOutText))
			}
			if o.At.IsZero() {
				return res, apiError(CodeNoOptIn, "no opt-in is recorded for this customer: MARKETING templates need one (POST /PNID/optins)")
			}
		}
		rendered, err := render(tpl, req.Template)
		if err != nil {
			return res, err
		}
		if err := s.admitRecipient(ctx, business, nb, u.ID); err != nil {
			return res, err
		}
		out.Business = &content.BusinessContent{Template: rendered}
	} else {
		s.custMu.Lock()
		last := cust.lastInbound
		s.custMu.Unlock()
		if last.IsZero() || s.clk.Now().Sub(last) > WindowLength {
			return res, apiError(CodeReengagement, "more than 24 hours have passed since the customer last replied to this number: only templates may be sent")
		}
		if err := fillOutgoing(&out, req); err != nil {
			return res, err
		}
	}
	id, err := ep.Send(ctx, business, out)
	if err != nil {
		if parley.IsCode(err, parley.CodeBlocked) {
			s.AddSignal(ctx, parley.QualitySignal{Business: business, Customer: u.ID, Kind: "block", At: s.clk.Now().UTC()})
			return res, errUndeliverable()
		}
		if parley.IsCode(err, parley.CodeNotFound) {
			return res, errUndeliverable()
		}
		return res, err
	}
	res.MessageID = id
	if req.Type == "template" {
		res.MessageStatus = "accepted"
	}
	if req.Type != "reaction" {
		// A reaction has its own id and sent status, but is not a message
		// a customer's reply answers, nor one insights count.
		s.custMu.Lock()
		cust.lastOutbound = id
		s.custMu.Unlock()
		s.record(ctx, parley.MessageEvent{Business: business, MessageID: id, Customer: res.WaID, Template: tpl.Name,
			Category: string(tpl.Category), Campaign: req.BizOpaqueCallbackData, Status: parley.StatusSent, At: s.clk.Now().UTC()})
	}
	return res, nil
}

// fillOutgoing sets out's content from a free-form request.
func fillOutgoing(out *Outgoing, req *SendRequest) error {
	switch req.Type {
	case "text":
		out.Text = req.Text.Body
	case "image", "video", "audio", "document", "sticker":
		m := req.media()
		out.Media = &OutMedia{Kind: req.Type, ID: m.ID, Link: m.Link, Caption: m.Caption, Filename: m.Filename}
	case "location":
		lat, _ := req.Location.Latitude.Float64()
		lon, _ := req.Location.Longitude.Float64()
		out.Location = &OutLocation{Lat: lat, Lon: lon, Name: req.Location.Name, Address: req.Location.Address}
	case "contacts":
		out.Contacts = vCard(req.Contacts)
	case "interactive":
		m, err := req.Interactive.content()
		if err != nil {
			return err
		}
		out.Business = &content.BusinessContent{Interactive: m}
	case "reaction":
		out.Reaction = &OutReaction{MessageID: req.Reaction.MessageID, Emoji: req.Reaction.Emoji}
	default:
		return apiError(CodeUnsupportedType, "message type "+req.Type+" is not supported")
	}
	return nil
}

// MarkRead marks a received message read and, with typing set, shows the
// customer that the business is typing (until it sends in that chat or
// TypingLength passes), as the Cloud API's typing_indicator does.
func (s *Service) MarkRead(ctx context.Context, business parley.UserID, messageID string, typing bool) error {
	if _, err := s.number(ctx, business); err != nil {
		return err
	}
	ep, err := s.endpoint()
	if err != nil {
		return err
	}
	err = ep.MarkRead(ctx, business, messageID)
	if err == nil && typing {
		err = ep.Typing(ctx, business, messageID)
	}
	if err != nil {
		if parley.IsCode(err, parley.CodeNotFound) || parley.IsCode(err, parley.CodeInvalid) {
			return apiError(CodeParamInvalid, "message_id: "+errMessage(err))
		}
		return err
	}
	return nil
}

// ---- templates ----

// templateFor finds the approved template a send names.
func (s *Service) templateFor(ctx context.Context, business parley.UserID, ts *TemplateSend) (parley.Template, error) {
	list, err := s.cachedTemplates(ctx, business)
	if err != nil {
		return parley.Template{}, err
	}
	for _, t := range list {
		if t.Name != ts.Name || t.Language != ts.Language.Code {
			continue
		}
		switch t.Status {
		case parley.TemplateApproved:
			return t, nil
		case parley.TemplatePaused:
			return t, apiError(CodeTemplatePaused, fmt.Sprintf("template %s (%s) is paused: %s", t.Name, t.Language, t.Reason))
		case parley.TemplateRejected:
			return t, apiError(CodeTemplateDisabled, fmt.Sprintf("template %s (%s) was rejected: %s", t.Name, t.Language, t.Reason))
		default:
			return t, apiError(CodeTemplateNotFound, fmt.Sprintf("template %s (%s) is not approved yet (%s)", t.Name, t.Language, t.Status))
		}
	}
	return parley.Template{}, apiError(CodeTemplateNotFound, fmt.Sprintf("template name %q does not exist in language %q", ts.Name, ts.Language.Code))
}

// CreateTemplate stores a new template: APPROVED at once under an
// auto-approve policy (server-wide or the number's), else PENDING until the
// operator decides.
func (s *Service) CreateTemplate(ctx context.Context, business parley.UserID, tc *TemplateCreate) (parley.Template, error) {
	n, err := s.Number(ctx, business)
	if err != nil {
		return parley.Template{}, err
	}
	comps, err := jsonMarshal(tc.Components)
	if err != nil {
		return parley.Template{}, err
	}
	now := s.clk.Now().UTC()
	t := parley.Template{ID: newID("tpl_"), Business: business, Name: tc.Name, Language: tc.Language,
		Category: parley.TemplateCategory(tc.Category), Status: parley.TemplatePending, Components: comps, CreatedAt: now, UpdatedAt: now}
	if s.cfg.AutoApprove || n.AutoApprove {
		t.Status = parley.TemplateApproved
	}
	err = s.st.CreateTemplate(ctx, t)
	s.dropTemplates(business)
	if err != nil {
		if parley.IsCode(err, parley.CodeConflict) {
			return t, apiError(CodeParamInvalid, fmt.Sprintf("a template named %s already exists in %s", t.Name, t.Language))
		}
		return t, err
	}
	if t.Status == parley.TemplateApproved {
		s.templateWebhook(ctx, t, "APPROVED")
	}
	return t, nil
}

// UpdateTemplate edits a template's components or category; the edit goes
// back to review (PENDING) unless auto-approved.
func (s *Service) UpdateTemplate(ctx context.Context, business parley.UserID, id string, category string, comps []TemplateComponent) (parley.Template, error) {
	t, err := s.Template(ctx, business, id)
	if err != nil {
		return t, err
	}
	if t.Status == parley.TemplatePaused {
		return t, apiError(CodeTemplatePaused, "a paused template cannot be edited")
	}
	if category != "" {
		c := parley.TemplateCategory(strings.ToUpper(category))
		if c != parley.CategoryMarketing && c != parley.CategoryUtility && c != parley.CategoryAuthentication {
			return t, apiError(CodeParamInvalid, "category must be MARKETING, UTILITY or AUTHENTICATION")
		}
		t.Category = c
	}
	if comps != nil {
		if err := checkComponents(comps); err != nil {
			return t, err
		}
		if t.Components, err = jsonMarshal(comps); err != nil {
			return t, err
		}
	}
	n, err := s.Number(ctx, business)
	if err != nil {
		return t, err
	}
	t.Status, t.Reason, t.UpdatedAt = parley.TemplatePending, "", s.clk.Now().UTC()
	if s.cfg.AutoApprove || n.AutoApprove {
		t.Status = parley.TemplateApproved
	}
	err = s.st.UpdateTemplate(ctx, t)
	s.dropTemplates(t.Business)
	if err != nil {
		return t, err
	}
	if t.Status == parley.TemplateApproved {
		s.templateWebhook(ctx, t, "APPROVED")
	}
	return t, nil
}

// Template returns business's template id.
func (s *Service) Template(ctx context.Context, business parley.UserID, id string) (parley.Template, error) {
	t, err := s.st.Template(ctx, id)
	if err == nil && t.Business != business {
		err = parley.ErrNotFound
	}
	if parley.IsCode(err, parley.CodeNotFound) {
		return t, apiError(CodeTemplateNotFound, "no template "+id)
	}
	return t, err
}

// Templates lists business's templates.
func (s *Service) Templates(ctx context.Context, business parley.UserID) ([]parley.Template, error) {
	return s.st.Templates(ctx, business)
}

// DeleteTemplates deletes a template name (one language or all).
func (s *Service) DeleteTemplates(ctx context.Context, business parley.UserID, name, language string) error {
	n, err := s.st.DeleteTemplates(ctx, business, name, language)
	s.dropTemplates(business)
	if err != nil {
		return err
	}
	if n == 0 {
		return apiError(CodeTemplateNotFound, fmt.Sprintf("no template named %q", name))
	}
	return nil
}

// ReviewTemplate is the operator's decision on a template: APPROVED,
// REJECTED (with a reason) or PAUSED. It sends the template-status webhook.
func (s *Service) ReviewTemplate(ctx context.Context, id string, status parley.TemplateStatus, reason string) (parley.Template, error) {
	t, err := s.st.Template(ctx, id)
	if err != nil {
		return t, err
	}
	switch status {
	case parley.TemplateApproved, parley.TemplateRejected, parley.TemplatePaused:
	default:
		return t, parley.Errorf(parley.CodeInvalid, ReasonBadStatus, "status must be APPROVED, REJECTED or PAUSED")
	}
	if t.Status == status {
		return t, nil
	}
	t.Status, t.Reason, t.UpdatedAt = status, reason, s.clk.Now().UTC()
	err = s.st.UpdateTemplate(ctx, t)
	s.dropTemplates(t.Business)
	if err != nil {
		return t, err
	}
	s.templateWebhook(ctx, t, string(status))
	return t, nil
}

func (s *Service) templateWebhook(ctx context.Context, t parley.Template, event string) {
	reason := t.Reason
	if reason == "" {
		reason = "NONE"
	}
	s.webhook(ctx, t.Business, "template:"+t.Name, "message_template_status_update", map[string]any{
		"event": event, "message_template_id": t.ID, "message_template_name": t.Name,
		"message_template_language": t.Language, "message_template_category": string(t.Category), "reason": reason,
	})
}

// ---- quality and tiers ----

// qualityWindow is how far back blocks, reports and recipients count.
const qualityWindow = 7 * 24 * time.Hour

// AddSignal records a customer's block or report and re-rates the number.
func (s *Service) AddSignal(ctx context.Context, q parley.QualitySignal) {
	if err := s.st.AddQualitySignal(ctx, q); err != nil {
		s.log.Error("quality signal", "business", q.Business, "err", err)
		return
	}
	if _, err := s.Evaluate(ctx, q.Business); err != nil {
		s.log.Warn("quality evaluation", "business", q.Business, "err", err)
	}
}

// rate computes a quality rating: the share of the last 7 days' recipients
// who blocked or reported the number. RED from 3 customers and 5 %, YELLOW
// from 2 customers and 2 %.
func rate(signals, recipients int) parley.Quality {
	r := float64(signals) / float64(max(recipients, 1))
	switch {
	case signals >= 3 && r >= 0.05:
		return parley.QualityRed
	case signals >= 2 && r >= 0.02:
		return parley.QualityYellow
	}
	return parley.QualityGreen
}

// Evaluate re-rates the number's quality and applies the consequences:
// RED pauses its approved MARKETING templates and lowers its tier one step;
// back to GREEN unpauses what quality paused. A tier is promoted one step
// when the rating is not RED, the tier has held for 24 hours and the number
// messaged at least half its limit in unique customers in the last 7 days.
// Changes go to the webhook (phone_number_quality_update,
// message_template_status_update).
func (s *Service) Evaluate(ctx context.Context, business parley.UserID) (parley.APINumber, error) {
	nb, err := s.number(ctx, business)
	if err != nil {
		return parley.APINumber{}, err
	}
	now := s.clk.Now().UTC()
	signals, err := s.st.CountQualitySignals(ctx, business, now.Add(-qualityWindow), now.Add(-ContactWindow))
	if err != nil {
		return parley.APINumber{}, err
	}
	recipients, err := s.st.CountRecipients(ctx, business, dayOf(now.Add(-qualityWindow+24*time.Hour)))
	if err != nil {
		return parley.APINumber{}, err
	}
	q := rate(signals, recipients)
	nb.mu.Lock()
	n := nb.n
	oldQ, oldTier := n.Quality, n.Tier
	n.Quality = q
	var event string
	switch {
	case q == parley.QualityRed && oldQ != parley.QualityRed:
		event = "FLAGGED"
		if i := tierIndex(n.Tier); i > 0 {
			n.Tier, n.TierChangedAt, event = parley.Tiers[i-1], now, "DOWNGRADE"
		}
	case q != parley.QualityRed && oldQ == parley.QualityRed:
		event = "UNFLAGGED"
	case q == parley.QualityYellow && oldQ == parley.QualityGreen:
		event = "FLAGGED"
	case q == parley.QualityGreen && oldQ == parley.QualityYellow:
		event = "UNFLAGGED"
	}
	if i := tierIndex(n.Tier); event == "" && q != parley.QualityRed && n.Tier != parley.TierUnlimited && i >= 0 &&
		now.Sub(n.TierChangedAt) >= 24*time.Hour && recipients*2 >= n.Tier {
		n.Tier, n.TierChangedAt, event = parley.Tiers[i+1], now, "UPGRADE"
	}
	if n.Quality != oldQ || n.Tier != oldTier {
		n.UpdatedAt = now
		if err := s.st.PutAPINumber(ctx, n); err != nil {
			nb.mu.Unlock()
			return nb.n, err
		}
		nb.n = n
	}
	nb.mu.Unlock()
	if event != "" {
		s.webhook(ctx, business, "quality", "phone_number_quality_update", map[string]any{
			"display_phone_number": WaID(n.Phone), "event": event, "current_limit": TierName(n.Tier),
			"quality_rating": string(n.Quality), "old_limit": TierName(oldTier),
		})
	}
	if q == oldQ {
		return n, nil
	}
	list, err := s.st.Templates(ctx, business)
	if err != nil {
		return n, err
	}
	for _, t := range list {
		switch {
		case q == parley.QualityRed && t.Category == parley.CategoryMarketing && t.Status == parley.TemplateApproved:
			t.Status, t.Reason = parley.TemplatePaused, "low quality: customers blocked or reported this number"
		case q != parley.QualityRed && t.Status == parley.TemplatePaused && strings.HasPrefix(t.Reason, "low quality"):
			t.Status, t.Reason = parley.TemplateApproved, ""
		default:
			continue
		}
		t.UpdatedAt = now
		err = s.st.UpdateTemplate(ctx, t)
		s.dropTemplates(t.Business)
		if err != nil {
			return n, err
		}
		event := string(t.Status)
		if t.Status == parley.TemplateApproved {
			event = "UNPAUSED"
		}
		s.templateWebhook(ctx, t, event)
	}
	return n, nil
}

// newDay runs at a number's first template send of a UTC day: quality and
// tier are evaluated (admitRecipient then reads the counted customers from
// the store again).
func (s *Service) newDay(ctx context.Context, business parley.UserID, nb *number) {
	if _, err := s.Evaluate(ctx, business); err != nil {
		s.log.Warn("daily evaluation", "business", business, "err", err)
	}
}

// ReasonNoBusiness is the reason of Report's CodeNotFound error: no
// business on the API has the number.
const ReasonNoBusiness = "no_business"

func errNoBusiness() error {
	return parley.Errorf(parley.CodeNotFound, ReasonNoBusiness, "no business on the API has this number")
}

// Report records a customer's report (and block, when block is set) of a
// business, identified by its phone number. Only a customer the business
// sent a message in ContactWindow may report it: others get CodeForbidden
// ReasonNotRecentCustomer and the rating does not move.
func (s *Service) Report(ctx context.Context, customer parley.UserID, businessPhone, reason string, block bool) error {
	// Numbers on the business API are public (customers are meant to
	// reach them); any other number, registered or not, gets the same
	// answer, so a report cannot tell whether a personal account exists.
	u, err := s.userByNumber(ctx, businessPhone)
	if err != nil && !parley.IsCode(err, parley.CodeNotFound) {
		var ae *Error
		if errors.As(err, &ae) { // a malformed number
			return errNoBusiness()
		}
		return err
	}
	if _, err := s.st.APINumber(ctx, u.ID); err != nil { // u.ID 0 when unknown: the same query
		if parley.IsCode(err, parley.CodeNotFound) {
			return errNoBusiness()
		}
		return err
	}
	if len(reason) > 500 {
		return parley.Errorf(parley.CodeInvalid, ReasonReasonTooLong, "a reason has at most 500 bytes")
	}
	if err := s.checkRecentCustomer(ctx, u.ID, customer); err != nil {
		return err
	}
	kind := "report"
	if block {
		kind = "block"
	}
	s.AddSignal(ctx, parley.QualitySignal{Business: u.ID, Customer: customer, Kind: kind, Reason: reason, At: s.clk.Now().UTC()})
	return nil
}
