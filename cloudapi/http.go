package cloudapi

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/parleyhq/parley"
)

var versionRe = regexp.MustCompile(`^v[0-9]{1,3}(\.[0-9]{1,3})?$`)

// IsAPIPath reports whether path belongs to the Cloud API routes, so a
// server can mount Handler as its fallback: "/vN/…", and the same routes
// without the version (the Graph API accepts both, and clients that
// resolve paths against a base URL without a trailing slash send them so).
func IsAPIPath(path string) bool {
	p := strings.TrimPrefix(path, "/")
	first, _, _ := strings.Cut(p, "/")
	return versionRe.MatchString(first) || isObjectID(first)
}

// isObjectID reports whether s names an object of the API: a phone-number
// id, a media id, a template id or the media download prefix.
func isObjectID(s string) bool {
	if _, ok := parseBusiness(s); ok {
		return true
	}
	return strings.HasPrefix(s, "med_") || strings.HasPrefix(s, "tpl_") || s == "media_download"
}

// Handler returns the Cloud API routes (/vN/… and unversioned). Mount it
// where unmatched paths arrive: it answers 404 (as an error object) to
// anything else.
func (s *Service) Handler() http.Handler {
	return http.HandlerFunc(s.serveAPI)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "Bearer ") {
		return strings.TrimSpace(h[7:])
	}
	if t := r.URL.Query().Get("access_token"); t != "" {
		return t
	}
	return ""
}

func readBody(r *http.Request) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBytes+1))
	if err != nil {
		return nil, apiError(CodeInvalidParameter, "reading the request body: "+err.Error())
	}
	if len(data) > maxRequestBytes {
		return nil, apiError(CodeInvalidParameter, "the request body is too large")
	}
	return data, nil
}

// auth checks the bearer token and that it may use scope on the number
// (business id in the path; 0 skips that check).
func (s *Service) auth(r *http.Request, business parley.UserID, scope parley.APIScope) (parley.APIToken, error) {
	t, err := s.Authenticate(r.Context(), bearer(r))
	if err != nil {
		return t, err
	}
	if business != 0 && t.Business != business {
		// Another business's number, or none: the Graph API does not tell
		// the two apart, and neither does this.
		return t, errUnknownObject(r.Method, PhoneNumberID(business))
	}
	if !t.Has(scope) {
		return t, apiError(CodePermission, "this token lacks the "+string(scope)+" scope")
	}
	return t, nil
}

func parseBusiness(id string) (parley.UserID, bool) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 {
		return 0, false
	}
	return parley.UserID(n), true
}

func (s *Service) serveAPI(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if versionRe.MatchString(parts[0]) {
		parts = parts[1:]
	}
	if len(parts) == 0 || !isObjectID(parts[0]) {
		writeError(w, &Error{Status: http.StatusNotFound, Code: CodeInvalidParameter, Message: titles[CodeInvalidParameter], Details: "unknown path " + r.URL.Path})
		return
	}
	if err := s.route(w, r, parts); err != nil {
		writeError(w, err)
	}
}

func (s *Service) route(w http.ResponseWriter, r *http.Request, parts []string) error {
	ctx := r.Context()
	id := parts[0]
	// /vN/media_download/MEDIA_ID
	if id == "media_download" && len(parts) == 2 && r.Method == http.MethodGet {
		return s.serveMediaDownload(w, r, parts[1])
	}
	if len(parts) == 1 {
		switch {
		case strings.HasPrefix(id, "med_"):
			return s.serveMedia(w, r, id)
		case strings.HasPrefix(id, "tpl_"):
			return s.serveTemplate(w, r, id)
		}
		business, ok := parseBusiness(id)
		if !ok || r.Method != http.MethodGet {
			return apiError(CodeInvalidParameter, "unknown object "+id)
		}
		if _, err := s.auth(r, business, parley.ScopeProfile); err != nil {
			return err
		}
		n, err := s.Number(ctx, business)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"id": PhoneNumberID(business), "display_phone_number": WaID(n.Phone), "verified_name": s.businessName(ctx, business),
			"quality_rating": string(n.Quality), "messaging_limit_tier": TierName(n.Tier),
			"throughput":    map[string]any{"level": "STANDARD", "messages_per_second": throughput(n)},
			"platform_type": "CLOUD_API", "code_verification_status": "VERIFIED",
		})
		return nil
	}
	business, ok := parseBusiness(id)
	if !ok {
		return apiError(CodeInvalidParameter, "unknown phone number id "+id)
	}
	switch {
	case parts[1] == "messages" && len(parts) == 2 && r.Method == http.MethodPost:
		return s.serveSend(w, r, business)
	case parts[1] == "media" && len(parts) == 2 && r.Method == http.MethodPost:
		return s.serveUpload(w, r, business)
	case parts[1] == "message_templates" && len(parts) == 2:
		return s.serveTemplates(w, r, business)
	case parts[1] == "optins" && len(parts) == 2:
		return s.serveOptIns(w, r, business)
	case parts[1] == "quality" && len(parts) == 3 && parts[2] == "evaluate" && r.Method == http.MethodPost:
		if _, err := s.auth(r, business, parley.ScopeProfile); err != nil {
			return err
		}
		n, err := s.Evaluate(ctx, business)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]any{"quality_rating": string(n.Quality), "messaging_limit_tier": TierName(n.Tier)})
		return nil
	}
	return apiError(CodeInvalidParameter, "unknown path "+r.URL.Path)
}

func (s *Service) serveSend(w http.ResponseWriter, r *http.Request, business parley.UserID) error {
	if _, err := s.auth(r, business, parley.ScopeMessages); err != nil {
		return err
	}
	data, err := readBody(r)
	if err != nil {
		return err
	}
	req, err := ParseSendRequest(data)
	if err != nil {
		return err
	}
	if req.Status == "read" {
		if err := s.MarkRead(r.Context(), business, req.MessageID, req.TypingIndicator != nil); err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]any{"success": true})
		return nil
	}
	res, err := s.Send(r.Context(), business, req)
	if err != nil {
		return err
	}
	msg := map[string]string{"id": res.MessageID}
	if res.MessageStatus != "" {
		msg["message_status"] = res.MessageStatus
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"messaging_product": "whatsapp",
		"contacts":          []any{map[string]string{"input": res.Input, "wa_id": res.WaID}},
		"messages":          []any{msg},
	})
	return nil
}

// ---- media ----

func (s *Service) serveUpload(w http.ResponseWriter, r *http.Request, business parley.UserID) error {
	ctx := r.Context()
	if _, err := s.auth(r, business, parley.ScopeMedia); err != nil {
		return err
	}
	if _, err := s.number(ctx, business); err != nil {
		return err
	}
	ep, err := s.endpoint()
	if err != nil {
		return err
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return apiError(CodeInvalidParameter, "an upload is multipart/form-data with messaging_product, file and type")
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxMediaBytes+1<<20)
	mr, err := r.MultipartReader()
	if err != nil {
		return apiError(CodeInvalidParameter, "multipart: "+err.Error())
	}
	m := parley.APIMedia{ID: newID("med_"), Business: business}
	// messaging_product may come as a form field or in the query string
	// (the Cloud API takes both; SDKs use either).
	product, stored := r.URL.Query().Get("messaging_product"), false
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return apiError(CodeMediaUpload, "multipart: "+err.Error())
		}
		switch part.FormName() {
		case "messaging_product":
			b, _ := io.ReadAll(io.LimitReader(part, 64))
			product = string(b)
		case "type":
			b, _ := io.ReadAll(io.LimitReader(part, 256))
			if m.MimeType == "" || m.MimeType == "application/octet-stream" {
				m.MimeType = strings.TrimSpace(string(b))
			}
		case "file":
			if stored {
				return apiError(CodeInvalidParameter, "one file per upload")
			}
			m.FileName = part.FileName()
			if ct := part.Header.Get("Content-Type"); ct != "" && m.MimeType == "" {
				m.MimeType = ct
			}
			m.Size, m.SHA256, err = ep.PutMedia(ctx, business, m.ID, part, s.cfg.MaxMediaBytes)
			if err != nil {
				_ = ep.DeleteMedia(ctx, business, m.ID)
				if parley.IsCode(err, parley.CodeTooLarge) {
					return apiError(CodeMediaUpload, "the file is larger than the limit of "+strconv.FormatInt(s.cfg.MaxMediaBytes, 10)+" bytes")
				}
				return err
			}
			stored = true
		}
		part.Close()
	}
	if !stored {
		return apiError(CodeParamMissing, "file is required")
	}
	if product != "whatsapp" {
		_ = ep.DeleteMedia(ctx, business, m.ID)
		return apiError(CodeParamInvalid, `messaging_product must be "whatsapp"`)
	}
	if m.MimeType == "" {
		m.MimeType = "application/octet-stream"
	}
	m.CreatedAt = s.clk.Now().UTC()
	if err := s.st.PutAPIMedia(ctx, m); err != nil {
		_ = ep.DeleteMedia(ctx, business, m.ID)
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"id": m.ID})
	return nil
}

// RegisterMedia records a file the hosted endpoint kept (a customer's
// inbound media) so the API can serve it.
func (s *Service) RegisterMedia(r *http.Request, m parley.APIMedia) error {
	return s.st.PutAPIMedia(r.Context(), m)
}

func (s *Service) mediaOf(r *http.Request, id string) (parley.APIMedia, error) {
	t, err := s.auth(r, 0, parley.ScopeMedia)
	if err != nil {
		return parley.APIMedia{}, err
	}
	m, err := s.st.APIMedia(r.Context(), id)
	if err == nil && m.Business != t.Business {
		err = parley.ErrNotFound
	}
	if parley.IsCode(err, parley.CodeNotFound) {
		return m, apiError(CodeParamInvalid, "no media "+id)
	}
	return m, err
}

func (s *Service) serveMedia(w http.ResponseWriter, r *http.Request, id string) error {
	m, err := s.mediaOf(r, id)
	if err != nil {
		return err
	}
	switch r.Method {
	case http.MethodGet:
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		prefix := ""
		if version, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/"); versionRe.MatchString(version) {
			prefix = "/" + version
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"messaging_product": "whatsapp", "url": scheme + "://" + r.Host + prefix + "/media_download/" + m.ID,
			"mime_type": m.MimeType, "sha256": m.SHA256, "file_size": m.Size, "id": m.ID,
		})
		return nil
	case http.MethodDelete:
		ep, err := s.endpoint()
		if err != nil {
			return err
		}
		if err := s.st.DeleteAPIMedia(r.Context(), m.ID); err != nil {
			return err
		}
		if err := ep.DeleteMedia(r.Context(), m.Business, m.ID); err != nil && !parley.IsCode(err, parley.CodeNotFound) {
			s.log.Warn("deleting media bytes", "media", m.ID, "err", err)
		}
		writeJSON(w, http.StatusOK, map[string]any{"success": true})
		return nil
	}
	return apiError(CodeInvalidParameter, "method not allowed")
}

func (s *Service) serveMediaDownload(w http.ResponseWriter, r *http.Request, id string) error {
	m, err := s.mediaOf(r, id)
	if err != nil {
		return err
	}
	ep, err := s.endpoint()
	if err != nil {
		return err
	}
	rc, err := ep.OpenMedia(r.Context(), m.Business, m.ID)
	if err != nil {
		return err
	}
	defer rc.Close()
	w.Header().Set("Content-Type", m.MimeType)
	w.Header().Set("Content-Length", strconv.FormatInt(m.Size, 10))
	_, _ = io.Copy(w, rc)
	return nil
}

// ---- templates ----

func (s *Service) serveTemplates(w http.ResponseWriter, r *http.Request, business parley.UserID) error {
	ctx := r.Context()
	if _, err := s.auth(r, business, parley.ScopeTemplates); err != nil {
		return err
	}
	switch r.Method {
	case http.MethodGet:
		list, err := s.Templates(ctx, business)
		if err != nil {
			return err
		}
		q := r.URL.Query()
		out := []templateJSON{}
		for _, t := range list {
			if (q.Get("name") != "" && t.Name != q.Get("name")) || (q.Get("status") != "" && string(t.Status) != q.Get("status")) ||
				(q.Get("language") != "" && t.Language != q.Get("language")) || (q.Get("category") != "" && string(t.Category) != q.Get("category")) {
				continue
			}
			out = append(out, templateOut(t))
		}
		writeJSON(w, http.StatusOK, map[string]any{"data": out, "paging": map[string]any{"cursors": map[string]string{"before": "", "after": ""}}})
		return nil
	case http.MethodPost:
		data, err := readBody(r)
		if err != nil {
			return err
		}
		tc, err := ParseTemplateCreate(data)
		if err != nil {
			return err
		}
		t, err := s.CreateTemplate(ctx, business, tc)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]string{"id": t.ID, "status": string(t.Status), "category": string(t.Category)})
		return nil
	case http.MethodDelete:
		q := r.URL.Query()
		name := q.Get("name")
		if name == "" {
			return apiError(CodeParamMissing, "name is required")
		}
		lang := q.Get("language")
		if id := q.Get("hsm_id"); id != "" {
			t, err := s.Template(ctx, business, id)
			if err != nil {
				return err
			}
			if t.Name != name {
				return apiError(CodeParamInvalid, "hsm_id does not name a template called "+name)
			}
			lang = t.Language
		}
		if err := s.DeleteTemplates(ctx, business, name, lang); err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]any{"success": true})
		return nil
	}
	return apiError(CodeInvalidParameter, "method not allowed")
}

func (s *Service) serveTemplate(w http.ResponseWriter, r *http.Request, id string) error {
	t0, err := s.auth(r, 0, parley.ScopeTemplates)
	if err != nil {
		return err
	}
	ctx := r.Context()
	switch r.Method {
	case http.MethodGet:
		t, err := s.Template(ctx, t0.Business, id)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, templateOut(t))
		return nil
	case http.MethodPost:
		data, err := readBody(r)
		if err != nil {
			return err
		}
		var body struct {
			Category   string              `json:"category"`
			Components []TemplateComponent `json:"components"`
		}
		if err := json.Unmarshal(data, &body); err != nil {
			return apiError(CodeInvalidParameter, "the request body is not valid JSON: "+err.Error())
		}
		if _, err := s.UpdateTemplate(ctx, t0.Business, id, body.Category, body.Components); err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]any{"success": true})
		return nil
	}
	return apiError(CodeInvalidParameter, "method not allowed")
}

// ---- opt-ins ----

func (s *Service) serveOptIns(w http.ResponseWriter, r *http.Request, business parley.UserID) error {
	ctx := r.Context()
	if _, err := s.auth(r, business, parley.ScopeOptIns); err != nil {
		return err
	}
	switch r.Method {
	case http.MethodGet:
		list, err := s.OptIns(ctx, business)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]any{"data": list})
		return nil
	case http.MethodPost:
		data, err := readBody(r)
		if err != nil {
			return err
		}
		var body struct {
			WaID   string `json:"wa_id"`
			Source string `json:"source"`
			Text   string `json:"text"`
		}
		if err := json.Unmarshal(data, &body); err != nil {
			return apiError(CodeInvalidParameter, "the request body is not valid JSON: "+err.Error())
		}
		o, err := s.RecordOptIn(ctx, business, body.WaID, body.Source, body.Text)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]any{"success": true, "opted_in_at": o.At})
		return nil
	}
	return apiError(CodeInvalidParameter, "method not allowed")
}

// ---- owner, customer and operator routes ----

// OwnerHandler serves /business/v1/api/… (the owner's device), the
// customers' /business/v1/report and the operator's /business/v1/admin/….
func (s *Service) OwnerHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /business/v1/api/enable", s.owner(func(w http.ResponseWriter, r *http.Request, u parley.UserID) error {
		var body struct {
			LinkCode string `json:"link_code"`
		}
		if err := decodeJSON(r, &body); err != nil {
			return err
		}
		n, err := s.Enable(r.Context(), u, body.LinkCode)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, numberJSON(n))
		return nil
	}))
	mux.HandleFunc("GET /business/v1/api/number", s.owner(func(w http.ResponseWriter, r *http.Request, u parley.UserID) error {
		n, err := s.Number(r.Context(), u)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, numberJSON(n))
		return nil
	}))
	mux.HandleFunc("POST /business/v1/api/tokens", s.owner(func(w http.ResponseWriter, r *http.Request, u parley.UserID) error {
		var body struct {
			Name   string            `json:"name"`
			Scopes []parley.APIScope `json:"scopes"`
		}
		if err := decodeJSON(r, &body); err != nil {
			return err
		}
		t, secret, err := s.CreateToken(r.Context(), u, body.Name, body.Scopes)
		if err != nil {
			return err
		}
		out := tokenJSON(t)
		out["token"] = secret
		writeJSON(w, http.StatusOK, out)
		return nil
	}))
	mux.HandleFunc("GET /business/v1/api/tokens", s.owner(func(w http.ResponseWriter, r *http.Request, u parley.UserID) error {
		list, err := s.st.APITokens(r.Context(), u)
		if err != nil {
			return err
		}
		out := []map[string]any{}
		for _, t := range list {
			out = append(out, tokenJSON(t))
		}
		writeJSON(w, http.StatusOK, map[string]any{"data": out})
		return nil
	}))
	mux.HandleFunc("DELETE /business/v1/api/tokens/{id}", s.owner(func(w http.ResponseWriter, r *http.Request, u parley.UserID) error {
		if err := s.RevokeToken(r.Context(), u, r.PathValue("id")); err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]any{"success": true})
		return nil
	}))
	mux.HandleFunc("POST /business/v1/report", s.owner(func(w http.ResponseWriter, r *http.Request, u parley.UserID) error {
		var body struct {
			Business string `json:"business"`
			Reason   string `json:"reason"`
			Block    bool   `json:"block"`
		}
		if err := decodeJSON(r, &body); err != nil {
			return err
		}
		if err := s.Report(r.Context(), u, body.Business, body.Reason, body.Block); err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]any{"success": true})
		return nil
	}))
	mux.HandleFunc("POST /business/v1/admin/templates/{id}", s.operator(func(w http.ResponseWriter, r *http.Request) error {
		var body struct {
			Status string `json:"status"`
			Reason string `json:"reason"`
		}
		if err := decodeJSON(r, &body); err != nil {
			return err
		}
		t, err := s.ReviewTemplate(r.Context(), r.PathValue("id"), parley.TemplateStatus(strings.ToUpper(body.Status)), body.Reason)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, templateOut(t))
		return nil
	}))
	mux.HandleFunc("GET /business/v1/admin/templates", s.operator(func(w http.ResponseWriter, r *http.Request) error {
		nums, err := s.st.APINumbers(r.Context())
		if err != nil {
			return err
		}
		out := []map[string]any{}
		for _, n := range nums {
			list, err := s.st.Templates(r.Context(), n.Business)
			if err != nil {
				return err
			}
			for _, t := range list {
				if st := r.URL.Query().Get("status"); st != "" && string(t.Status) != st {
					continue
				}
				out = append(out, map[string]any{"phone_number_id": PhoneNumberID(t.Business), "template": templateOut(t)})
			}
		}
		writeJSON(w, http.StatusOK, map[string]any{"data": out})
		return nil
	}))
	mux.HandleFunc("POST /business/v1/admin/numbers/{id}", s.operator(func(w http.ResponseWriter, r *http.Request) error {
		business, ok := parseBusiness(r.PathValue("id"))
		if !ok {
			return parley.Errorf(parley.CodeInvalid, ReasonBadNumber, "unknown phone number id")
		}
		var body struct {
			Tier        *int  `json:"tier"`
			Throughput  *int  `json:"throughput"`
			AutoApprove *bool `json:"auto_approve"`
		}
		if err := decodeJSON(r, &body); err != nil {
			return err
		}
		n, err := s.SetNumber(r.Context(), business, NumberSettings{Tier: body.Tier, Throughput: body.Throughput, AutoApprove: body.AutoApprove})
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, numberJSON(n))
		return nil
	}))
	return mux
}

func numberJSON(n parley.APINumber) map[string]any {
	return map[string]any{"phone_number_id": PhoneNumberID(n.Business), "display_phone_number": n.Phone,
		"quality_rating": string(n.Quality), "messaging_limit_tier": TierName(n.Tier), "throughput": throughput(n),
		"auto_approve": n.AutoApprove, "hosted_device": int64(n.HostedDevice)}
}

func tokenJSON(t parley.APIToken) map[string]any {
	m := map[string]any{"id": t.ID, "name": t.Name, "scopes": t.Scopes, "phone_number_id": PhoneNumberID(t.Business), "created_at": t.CreatedAt}
	if !t.RevokedAt.IsZero() {
		m["revoked_at"] = t.RevokedAt
	}
	return m
}

func decodeJSON(r *http.Request, v any) error {
	data, err := readBody(r)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return parley.Errorf(parley.CodeInvalid, parley.ReasonBadJSON, "the request body is not valid JSON: %v", err)
	}
	return nil
}

// ownerError writes a Parley-style error ({"error":{"code","reason","message"}})
// for the owner and operator routes.
func ownerError(w http.ResponseWriter, err error) {
	var ae *Error
	if errors.As(err, &ae) {
		writeError(w, ae)
		return
	}
	code := parley.ErrorCode(err)
	st := map[parley.Code]int{
		parley.CodeInvalid: 400, parley.CodeUnauthenticated: 401, parley.CodeForbidden: 403, parley.CodeNotFound: 404,
		parley.CodeConflict: 409, parley.CodeRateLimited: 429, parley.CodeTooLarge: 413, parley.CodeExpired: 410,
		parley.CodeUnavailable: 503, parley.CodeBlocked: 403,
	}[code]
	if st == 0 {
		st = 500
	}
	writeJSON(w, st, map[string]any{"error": map[string]string{"code": string(code), "reason": parley.ErrorReason(err), "message": parley.ErrorMessage(err)}})
}

func (s *Service) owner(f func(w http.ResponseWriter, r *http.Request, u parley.UserID) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.DeviceAuth == nil {
			ownerError(w, parley.Errorf(parley.CodeUnavailable, ReasonNoAuth, "device authentication is not configured"))
			return
		}
		u, _, err := s.cfg.DeviceAuth(r.Context(), r.Header.Get("Authorization"))
		if err != nil {
			ownerError(w, err)
			return
		}
		if err := f(w, r, u); err != nil {
			ownerError(w, err)
		}
	}
}

func (s *Service) operator(f func(w http.ResponseWriter, r *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok := bearer(r)
		if s.cfg.OperatorToken == "" || subtle.ConstantTimeCompare([]byte(tok), []byte(s.cfg.OperatorToken)) != 1 {
			ownerError(w, parley.Errorf(parley.CodeForbidden, ReasonNotOperator, "an operator token is required (serve --operator-token)"))
			return
		}
		if err := f(w, r); err != nil {
			ownerError(w, err)
		}
	}
}
