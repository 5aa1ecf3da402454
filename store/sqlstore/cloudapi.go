package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/parleyhq/parley"
)

// The Store also implements parley.CloudAPIStore (schema in
// migrations/00500_cloudapi.sql).
var _ parley.CloudAPIStore = (*Store)(nil)

// PutAPINumber creates or replaces a number's settings.
func (s *Store) PutAPINumber(ctx context.Context, n parley.APINumber) error {
	return s.bizWrite(ctx, "put api number", func(tx Querier) error {
		_, err := tx.Exec(ctx, `INSERT INTO api_numbers (business_id, phone, tier, quality, throughput, auto_approve, hosted_device, tier_changed_at, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (business_id) DO UPDATE SET phone = excluded.phone, tier = excluded.tier, quality = excluded.quality,
				throughput = excluded.throughput, auto_approve = excluded.auto_approve, hosted_device = excluded.hosted_device,
				tier_changed_at = excluded.tier_changed_at, updated_at = excluded.updated_at`,
			n.Business, n.Phone, n.Tier, string(n.Quality), n.Throughput, bizInt(n.AutoApprove), n.HostedDevice,
			ns(n.TierChangedAt), ns(n.CreatedAt), ns(n.UpdatedAt))
		return err
	})
}

const apiNumberCols = `business_id, phone, tier, quality, throughput, auto_approve, hosted_device, tier_changed_at, created_at, updated_at`

func scanAPINumber(sc Row) (parley.APINumber, error) {
	var n parley.APINumber
	var q string
	var auto, changed, created, updated int64
	if err := sc.Scan(&n.Business, &n.Phone, &n.Tier, &q, &n.Throughput, &auto, &n.HostedDevice, &changed, &created, &updated); err != nil {
		return n, err
	}
	n.Quality, n.AutoApprove = parley.Quality(q), auto != 0
	n.TierChangedAt, n.CreatedAt, n.UpdatedAt = fromNS(changed), fromNS(created), fromNS(updated)
	return n, nil
}

// APINumber returns a number's settings.
func (s *Store) APINumber(ctx context.Context, business parley.UserID) (parley.APINumber, error) {
	n, err := scanAPINumber(s.r.QueryRow(ctx, `SELECT `+apiNumberCols+` FROM api_numbers WHERE business_id = ?`, business))
	if errors.Is(err, sql.ErrNoRows) {
		return n, notFound("%s has no API number", business)
	}
	return n, s.wrap2("api number", err)
}

// APINumbers lists every API number by business.
func (s *Store) APINumbers(ctx context.Context) ([]parley.APINumber, error) {
	return selectAll(ctx, s, "api numbers", scanAPINumber, `SELECT `+apiNumberCols+` FROM api_numbers ORDER BY business_id`)
}

func joinScopes(sc []parley.APIScope) string {
	ss := make([]string, len(sc))
	for i, s := range sc {
		ss[i] = string(s)
	}
	return strings.Join(ss, ",")
}

func splitScopes(s string) []parley.APIScope {
	var out []parley.APIScope
	for _, p := range strings.Split(s, ",") {
		if p != "" {
			out = append(out, parley.APIScope(p))
		}
	}
	return out
}

// CreateAPIToken stores t.
func (s *Store) CreateAPIToken(ctx context.Context, t parley.APIToken) error {
	return s.bizWrite(ctx, "create api token", func(tx Querier) error {
		_, err := tx.Exec(ctx, `INSERT INTO api_tokens (id, business_id, name, scopes, hash, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			t.ID, t.Business, t.Name, joinScopes(t.Scopes), nonNil(t.Hash), ns(t.CreatedAt), ns(t.RevokedAt))
		if s.b.Violation(err).Unique {
			return parley.Errorf(parley.CodeConflict, parley.ReasonTokenExists, "token %s already exists", t.ID)
		}
		return err
	})
}

const apiTokenCols = `id, business_id, name, scopes, hash, created_at, revoked_at`

func scanAPIToken(sc Row) (parley.APIToken, error) {
	var t parley.APIToken
	var scopes string
	var created, revoked int64
	if err := sc.Scan(&t.ID, &t.Business, &t.Name, &scopes, &t.Hash, &created, &revoked); err != nil {
		return t, err
	}
	t.Scopes, t.CreatedAt, t.RevokedAt = splitScopes(scopes), fromNS(created), fromNS(revoked)
	return t, nil
}

// APITokenByHash returns the token whose secret hashes to hash.
func (s *Store) APITokenByHash(ctx context.Context, hash []byte) (parley.APIToken, error) {
	t, err := scanAPIToken(s.r.QueryRow(ctx, `SELECT `+apiTokenCols+` FROM api_tokens WHERE hash = ?`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return t, notFound("no such token")
	}
	return t, s.wrap2("api token", err)
}

// APITokens lists a business's tokens, oldest first.
func (s *Store) APITokens(ctx context.Context, business parley.UserID) ([]parley.APIToken, error) {
	return selectAll(ctx, s, "api tokens", scanAPIToken, `SELECT `+apiTokenCols+` FROM api_tokens WHERE business_id = ? ORDER BY created_at, id`, business)
}

// RevokeAPIToken marks the token revoked (the first time stays).
func (s *Store) RevokeAPIToken(ctx context.Context, business parley.UserID, id string, at time.Time) error {
	return s.bizWrite(ctx, "revoke api token", func(tx Querier) error {
		res, err := tx.Exec(ctx, `UPDATE api_tokens SET revoked_at = CASE WHEN revoked_at = 0 THEN ? ELSE revoked_at END
			WHERE business_id = ? AND id = ?`, ns(at), business, id)
		if err != nil {
			return err
		}
		if res == 0 {
			return notFound("no token %s", id)
		}
		return nil
	})
}

// CreateTemplate stores t.
func (s *Store) CreateTemplate(ctx context.Context, t parley.Template) error {
	return s.bizWrite(ctx, "create template", func(tx Querier) error {
		_, err := tx.Exec(ctx, `INSERT INTO api_templates (id, business_id, name, language, category, status, reason, components, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, t.ID, t.Business, t.Name, t.Language, string(t.Category), string(t.Status), t.Reason,
			string(t.Components), ns(t.CreatedAt), ns(t.UpdatedAt))
		if s.b.Violation(err).Unique {
			return parley.Errorf(parley.CodeConflict, parley.ReasonTemplateExists, "template %s (%s) already exists", t.Name, t.Language)
		}
		return err
	})
}

// UpdateTemplate replaces the mutable fields of template t.ID.
func (s *Store) UpdateTemplate(ctx context.Context, t parley.Template) error {
	return s.bizWrite(ctx, "update template", func(tx Querier) error {
		res, err := tx.Exec(ctx, `UPDATE api_templates SET category = ?, status = ?, reason = ?, components = ?, updated_at = ? WHERE id = ?`,
			string(t.Category), string(t.Status), t.Reason, string(t.Components), ns(t.UpdatedAt), t.ID)
		if err != nil {
			return err
		}
		if res == 0 {
			return notFound("no template %s", t.ID)
		}
		return nil
	})
}

const templateCols = `id, business_id, name, language, category, status, reason, components, created_at, updated_at`

func scanTemplate(sc Row) (parley.Template, error) {
	var t parley.Template
	var cat, status, comps string
	var created, updated int64
	if err := sc.Scan(&t.ID, &t.Business, &t.Name, &t.Language, &cat, &status, &t.Reason, &comps, &created, &updated); err != nil {
		return t, err
	}
	t.Category, t.Status, t.Components = parley.TemplateCategory(cat), parley.TemplateStatus(status), []byte(comps)
	t.CreatedAt, t.UpdatedAt = fromNS(created), fromNS(updated)
	return t, nil
}

// Template returns a template by ID.
func (s *Store) Template(ctx context.Context, id string) (parley.Template, error) {
	t, err := scanTemplate(s.r.QueryRow(ctx, `SELECT `+templateCols+` FROM api_templates WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return t, notFound("no template %s", id)
	}
	return t, s.wrap2("template", err)
}

// Templates lists a business's templates by name and language.
func (s *Store) Templates(ctx context.Context, business parley.UserID) ([]parley.Template, error) {
	return selectAll(ctx, s, "templates", scanTemplate, `SELECT `+templateCols+` FROM api_templates WHERE business_id = ? ORDER BY name, language`, business)
}

// DeleteTemplates deletes a template name (one language, or all).
func (s *Store) DeleteTemplates(ctx context.Context, business parley.UserID, name, language string) (int, error) {
	var n int64
	err := s.bizWrite(ctx, "delete templates", func(tx Querier) error {
		var err error
		n, err = tx.Exec(ctx, `DELETE FROM api_templates WHERE business_id = ? AND name = ? AND (? = '' OR language = ?)`, business, name, language, language)
		return err
	})
	return int(n), err
}

// PutOptIn creates or replaces an opt-in record.
func (s *Store) PutOptIn(ctx context.Context, o parley.OptIn) error {
	return s.bizWrite(ctx, "put opt-in", func(tx Querier) error {
		_, err := tx.Exec(ctx, `INSERT INTO api_optins (business_id, customer_id, source, text, at, opted_out_at, opt_out_text) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (business_id, customer_id) DO UPDATE SET source = excluded.source, text = excluded.text, at = excluded.at,
				opted_out_at = excluded.opted_out_at, opt_out_text = excluded.opt_out_text`,
			o.Business, o.Customer, o.Source, o.Text, ns(o.At), ns(o.OptedOutAt), o.OptOutText)
		return err
	})
}

const optInCols = `business_id, customer_id, source, text, at, opted_out_at, opt_out_text`

func scanOptIn(sc Row) (parley.OptIn, error) {
	var o parley.OptIn
	var at, out int64
	if err := sc.Scan(&o.Business, &o.Customer, &o.Source, &o.Text, &at, &out, &o.OptOutText); err != nil {
		return o, err
	}
	o.At, o.OptedOutAt = fromNS(at), fromNS(out)
	return o, nil
}

// OptIn returns a customer's opt-in record.
func (s *Store) OptIn(ctx context.Context, business, customer parley.UserID) (parley.OptIn, error) {
	o, err := scanOptIn(s.r.QueryRow(ctx, `SELECT `+optInCols+` FROM api_optins WHERE business_id = ? AND customer_id = ?`, business, customer))
	if errors.Is(err, sql.ErrNoRows) {
		return o, notFound("no opt-in of %s", customer)
	}
	return o, s.wrap2("opt-in", err)
}

// OptIns lists a business's opt-in records by customer.
func (s *Store) OptIns(ctx context.Context, business parley.UserID) ([]parley.OptIn, error) {
	return selectAll(ctx, s, "opt-ins", scanOptIn, `SELECT `+optInCols+` FROM api_optins WHERE business_id = ? ORDER BY customer_id`, business)
}

// TouchInbound raises the customer's last inbound time.
func (s *Store) TouchInbound(ctx context.Context, business, customer parley.UserID, at time.Time) error {
	return s.bizWrite(ctx, "touch inbound", func(tx Querier) error {
		_, err := tx.Exec(ctx, `INSERT INTO api_windows (business_id, customer_id, last_inbound) VALUES (?, ?, ?)
			ON CONFLICT (business_id, customer_id) DO UPDATE SET last_inbound = CASE WHEN excluded.last_inbound > api_windows.last_inbound
				THEN excluded.last_inbound ELSE api_windows.last_inbound END`,
			business, customer, ns(at))
		return err
	})
}

// LastInbound returns the customer's last inbound time, zero if none.
func (s *Store) LastInbound(ctx context.Context, business, customer parley.UserID) (time.Time, error) {
	var at int64
	err := s.r.QueryRow(ctx, `SELECT last_inbound FROM api_windows WHERE business_id = ? AND customer_id = ?`, business, customer).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	return fromNS(at), s.wrap2("last inbound", err)
}

// AddRecipient records a (business, customer, day) triple.
func (s *Store) AddRecipient(ctx context.Context, business, customer parley.UserID, day string) (bool, error) {
	var added bool
	err := s.bizWrite(ctx, "add recipient", func(tx Querier) error {
		res, err := tx.Exec(ctx, `INSERT INTO api_recipients (business_id, day, customer_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, business, day, customer)
		added = res > 0
		return err
	})
	return added, err
}

// CountRecipients counts distinct customers messaged on days >= fromDay.
func (s *Store) CountRecipients(ctx context.Context, business parley.UserID, fromDay string) (int, error) {
	var n int
	err := s.r.QueryRow(ctx, `SELECT COUNT(DISTINCT customer_id) FROM api_recipients WHERE business_id = ? AND day >= ?`, business, fromDay).Scan(&n)
	return n, s.wrap2("count recipients", err)
}

// RecentRecipients returns each customer messaged in a period >= from with
// its latest period.
func (s *Store) RecentRecipients(ctx context.Context, business parley.UserID, from string) (map[parley.UserID]string, error) {
	rows, err := s.r.Query(ctx, `SELECT customer_id, MAX(day) FROM api_recipients WHERE business_id = ? AND day >= ? GROUP BY customer_id`, business, from)
	if err != nil {
		return nil, s.wrap2("recent recipients", err)
	}
	defer rows.Close()
	out := map[parley.UserID]string{}
	for rows.Next() {
		var c parley.UserID
		var day string
		if err := rows.Scan(&c, &day); err != nil {
			return nil, s.wrap2("recent recipients", err)
		}
		out[c] = day
	}
	return out, s.wrap2("recent recipients", rows.Err())
}

// AddQualitySignal stores a block or report.
func (s *Store) AddQualitySignal(ctx context.Context, q parley.QualitySignal) error {
	return s.bizWrite(ctx, "add quality signal", func(tx Querier) error {
		_, err := tx.Exec(ctx, `INSERT INTO api_quality_signals (business_id, customer_id, kind, reason, at) VALUES (?, ?, ?, ?, ?)`,
			q.Business, q.Customer, q.Kind, q.Reason, ns(q.At))
		return err
	})
}

// NoteContact records that business messaged customer at at.
func (s *Store) NoteContact(ctx context.Context, business, customer parley.UserID, at time.Time) error {
	return s.bizWrite(ctx, "note contact", func(tx Querier) error {
		_, err := tx.Exec(ctx, `INSERT INTO api_contacts (business_id, customer_id, last_at) VALUES (?, ?, ?)
			ON CONFLICT (business_id, customer_id) DO UPDATE SET last_at = CASE WHEN excluded.last_at > api_contacts.last_at
				THEN excluded.last_at ELSE api_contacts.last_at END`, business, customer, ns(at))
		return err
	})
}

// LastContact returns when business last messaged customer.
func (s *Store) LastContact(ctx context.Context, business, customer parley.UserID) (time.Time, error) {
	var at int64
	err := s.r.QueryRow(ctx, `SELECT last_at FROM api_contacts WHERE business_id = ? AND customer_id = ?`, business, customer).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	return fromNS(at), s.wrap2("last contact", err)
}

// CountQualitySignals counts distinct customers who blocked or reported
// business since the given time or block it now, among those it messaged
// at or after contactSince.
func (s *Store) CountQualitySignals(ctx context.Context, business parley.UserID, since, contactSince time.Time) (int, error) {
	var n int
	err := s.r.QueryRow(ctx, `SELECT COUNT(*) FROM (
		SELECT customer_id FROM api_quality_signals WHERE business_id = ? AND at >= ?
		UNION SELECT blocker_id FROM blocks WHERE blocked_id = ?) AS q
		JOIN api_contacts c ON c.business_id = ? AND c.customer_id = q.customer_id AND c.last_at >= ?`,
		business, ns(since), business, business, ns(contactSince)).Scan(&n)
	return n, s.wrap2("count quality signals", err)
}

// PutAPIMedia stores a media record.
func (s *Store) PutAPIMedia(ctx context.Context, m parley.APIMedia) error {
	return s.bizWrite(ctx, "put api media", func(tx Querier) error {
		_, err := tx.Exec(ctx, `INSERT INTO api_media (id, business_id, mime_type, file_name, sha256, size, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			m.ID, m.Business, m.MimeType, m.FileName, m.SHA256, m.Size, ns(m.CreatedAt))
		if s.b.Violation(err).Unique {
			return parley.Errorf(parley.CodeConflict, parley.ReasonMediaExists, "media %s already exists", m.ID)
		}
		return err
	})
}

// APIMedia returns a media record.
func (s *Store) APIMedia(ctx context.Context, id string) (parley.APIMedia, error) {
	m := parley.APIMedia{ID: id}
	var created int64
	err := s.r.QueryRow(ctx, `SELECT business_id, mime_type, file_name, sha256, size, created_at FROM api_media WHERE id = ?`, id).
		Scan(&m.Business, &m.MimeType, &m.FileName, &m.SHA256, &m.Size, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return m, notFound("no media %s", id)
	}
	m.CreatedAt = fromNS(created)
	return m, s.wrap2("api media", err)
}

// DeleteAPIMedia deletes a media record.
func (s *Store) DeleteAPIMedia(ctx context.Context, id string) error {
	return s.bizWrite(ctx, "delete api media", func(tx Querier) error {
		res, err := tx.Exec(ctx, `DELETE FROM api_media WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if res == 0 {
			return notFound("no media %s", id)
		}
		return nil
	})
}
