package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/parleyhq/parley"
)

// The Store also implements parley.BusinessStore (schema in
// migrations/00400_business.sql).
var _ parley.BusinessStore = (*Store)(nil)

func bizInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func bizJSON(v any) string {
	data, _ := json.Marshal(v)
	return string(data)
}

// PutBusinessProfile creates or replaces the business-set fields of p.
func (s *Store) PutBusinessProfile(ctx context.Context, p parley.BusinessProfile) error {
	return s.write(ctx, "put business profile", func(tx Querier) error {
		_, err := tx.Exec(ctx, `INSERT INTO business_profiles (user_id, name, category, description, address, hours, website, email,
			verified, verified_at, hosted, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, 0, 0, ?)
			ON CONFLICT (user_id) DO UPDATE SET name = excluded.name, category = excluded.category, description = excluded.description,
			address = excluded.address, hours = excluded.hours, website = excluded.website, email = excluded.email, updated_at = excluded.updated_at`,
			p.User, p.Name, p.Category, p.Description, p.Address, bizJSON(p.Hours), p.Website, p.Email, ns(p.UpdatedAt))
		return err
	})
}

const bizProfileColumns = `user_id, name, category, description, address, hours, website, email, verified, verified_at, hosted, updated_at`

func scanProfile(sc Row) (parley.BusinessProfile, error) {
	var p parley.BusinessProfile
	var hours string
	var verified, hosted, verifiedAt, updated int64
	if err := sc.Scan(&p.User, &p.Name, &p.Category, &p.Description, &p.Address, &hours, &p.Website, &p.Email,
		&verified, &verifiedAt, &hosted, &updated); err != nil {
		return p, err
	}
	_ = json.Unmarshal([]byte(hours), &p.Hours)
	p.Verified, p.Hosted = verified != 0, hosted != 0
	p.VerifiedAt, p.UpdatedAt = fromNS(verifiedAt), fromNS(updated)
	return p, nil
}

// BusinessProfile returns a user's business profile.
func (s *Store) BusinessProfile(ctx context.Context, user parley.UserID) (parley.BusinessProfile, error) {
	p, err := scanProfile(s.r.QueryRow(ctx, `SELECT `+bizProfileColumns+` FROM business_profiles WHERE user_id = ?`, user))
	if errors.Is(err, sql.ErrNoRows) {
		return p, &parley.Error{Code: parley.CodeNotFound, Reason: parley.ReasonNotBusiness, Message: "this account is not a business"}
	}
	return p, s.wrap2("business profile", err)
}

// BusinessProfiles lists profiles by user id.
func (s *Store) BusinessProfiles(ctx context.Context, after parley.UserID, limit int) ([]parley.BusinessProfile, error) {
	return selectAll(ctx, s, "business profiles", scanProfile, `SELECT `+bizProfileColumns+` FROM business_profiles WHERE user_id > ? ORDER BY user_id LIMIT ?`, after, limit)
}

// DeleteBusinessProfile deletes the profile and all the business's data.
func (s *Store) DeleteBusinessProfile(ctx context.Context, user parley.UserID) error {
	return s.write(ctx, "delete business profile", func(tx Querier) error {
		res, err := tx.Exec(ctx, `DELETE FROM business_profiles WHERE user_id = ?`, user)
		if err != nil {
			return err
		}
		if res == 0 {
			return &parley.Error{Code: parley.CodeNotFound, Reason: parley.ReasonNotBusiness, Message: "this account is not a business"}
		}
		for _, t := range []string{"business_products", "business_collections", "business_quick_replies", "business_labels",
			"business_chat_labels", "business_auto_replies", "business_auto_reply_claims"} {
			if _, err := tx.Exec(ctx, `DELETE FROM `+t+` WHERE business_id = ?`, user); err != nil {
				return err
			}
		}
		return nil
	})
}

// SetBusinessVerified sets the verified mark, creating an empty profile if
// none exists.
func (s *Store) SetBusinessVerified(ctx context.Context, user parley.UserID, verified bool, at time.Time) error {
	if !verified {
		at = time.Time{}
	}
	return s.write(ctx, "set business verified", func(tx Querier) error {
		_, err := tx.Exec(ctx, `INSERT INTO business_profiles (user_id, name, category, description, address, hours, website, email,
			verified, verified_at, hosted, updated_at) VALUES (?, '', '', '', '', '{}', '', '', ?, ?, 0, ?)
			ON CONFLICT (user_id) DO UPDATE SET verified = excluded.verified, verified_at = excluded.verified_at`,
			user, bizInt(verified), ns(at), ns(at))
		return err
	})
}

// SetBusinessHosted records the hosted endpoint, creating an empty
// profile if none exists.
func (s *Store) SetBusinessHosted(ctx context.Context, user parley.UserID, hosted bool) error {
	return s.write(ctx, "set business hosted", func(tx Querier) error {
		_, err := tx.Exec(ctx, `INSERT INTO business_profiles (user_id, name, category, description, address, hours, website, email,
			verified, verified_at, hosted, updated_at) VALUES (?, '', '', '', '', '{}', '', '', 0, 0, ?, 0)
			ON CONFLICT (user_id) DO UPDATE SET hosted = excluded.hosted`, user, bizInt(hosted))
		return err
	})
}

// PutProduct creates or replaces a product, up to parley.MaxProducts.
func (s *Store) PutProduct(ctx context.Context, p parley.Product) error {
	return s.write(ctx, "put product", func(tx Querier) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM business_products WHERE business_id = ? AND id <> ?`, p.Business, p.ID).Scan(&n); err != nil {
			return err
		}
		if n >= parley.MaxProducts {
			return parley.Errorf(parley.CodeTooLarge, parley.ReasonTooManyProducts, "a catalog has at most %d products", parley.MaxProducts)
		}
		_, err := tx.Exec(ctx, `INSERT INTO business_products (business_id, id, name, price_1000, currency, description, available, url,
			images, collections, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (business_id, id) DO UPDATE SET name = excluded.name, price_1000 = excluded.price_1000, currency = excluded.currency,
			description = excluded.description, available = excluded.available, url = excluded.url, images = excluded.images,
			collections = excluded.collections, updated_at = excluded.updated_at`,
			p.Business, p.ID, p.Name, p.Price.Amount1000, p.Price.Currency, p.Description, bizInt(p.Available), p.URL,
			bizJSON(p.Images), bizJSON(p.Collections), ns(p.UpdatedAt))
		return err
	})
}

const bizProductColumns = `business_id, id, name, price_1000, currency, description, available, url, images, collections, updated_at`

func scanProduct(sc Row) (parley.Product, error) {
	var p parley.Product
	var images, colls string
	var avail, updated int64
	if err := sc.Scan(&p.Business, &p.ID, &p.Name, &p.Price.Amount1000, &p.Price.Currency, &p.Description, &avail, &p.URL,
		&images, &colls, &updated); err != nil {
		return p, err
	}
	_ = json.Unmarshal([]byte(images), &p.Images)
	_ = json.Unmarshal([]byte(colls), &p.Collections)
	p.Available, p.UpdatedAt = avail != 0, fromNS(updated)
	return p, nil
}

// Product returns one product of a catalog.
func (s *Store) Product(ctx context.Context, business parley.UserID, id parley.ProductID) (parley.Product, error) {
	p, err := scanProduct(s.r.QueryRow(ctx, `SELECT `+bizProductColumns+` FROM business_products WHERE business_id = ? AND id = ?`, business, id))
	if errors.Is(err, sql.ErrNoRows) {
		return p, &parley.Error{Code: parley.CodeNotFound, Reason: parley.ReasonNoProduct, Message: "no product " + string(id) + " in the catalog"}
	}
	return p, s.wrap2("product", err)
}

// DeleteProduct deletes one product.
func (s *Store) DeleteProduct(ctx context.Context, business parley.UserID, id parley.ProductID) error {
	return s.bizDeleteOne(ctx, "delete product", `DELETE FROM business_products WHERE business_id = ? AND id = ?`,
		&parley.Error{Code: parley.CodeNotFound, Reason: parley.ReasonNoProduct, Message: "no product " + string(id) + " in the catalog"}, business, id)
}

func (s *Store) bizDeleteOne(ctx context.Context, op, query string, missing error, args ...any) error {
	return s.write(ctx, op, func(tx Querier) error {
		res, err := tx.Exec(ctx, query, args...)
		if err != nil {
			return err
		}
		if res == 0 {
			return missing
		}
		return nil
	})
}

// Products lists a catalog (or one collection of it) by product id.
func (s *Store) Products(ctx context.Context, business parley.UserID, collection parley.CollectionID) ([]parley.Product, error) {
	rows, err := s.r.Query(ctx, `SELECT `+bizProductColumns+` FROM business_products WHERE business_id = ? ORDER BY id`, business)
	if err != nil {
		return nil, s.wrap2("products", err)
	}
	defer rows.Close()
	var out []parley.Product
	for rows.Next() {
		p, err := scanProduct(rows)
		if err != nil {
			return nil, s.wrap2("products", err)
		}
		if collection == "" || slices.Contains(p.Collections, collection) {
			out = append(out, p)
		}
	}
	return out, s.wrap2("products", rows.Err())
}

// PutCollection creates or renames a collection, up to parley.MaxCollections.
func (s *Store) PutCollection(ctx context.Context, c parley.Collection) error {
	return s.write(ctx, "put collection", func(tx Querier) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM business_collections WHERE business_id = ? AND id <> ?`, c.Business, c.ID).Scan(&n); err != nil {
			return err
		}
		if n >= parley.MaxCollections {
			return parley.Errorf(parley.CodeTooLarge, parley.ReasonTooManyCollections, "a catalog has at most %d collections", parley.MaxCollections)
		}
		_, err := tx.Exec(ctx, `INSERT INTO business_collections (business_id, id, name) VALUES (?, ?, ?)
			ON CONFLICT (business_id, id) DO UPDATE SET name = excluded.name`, c.Business, c.ID, c.Name)
		return err
	})
}

// DeleteCollection deletes a collection (its products stay).
func (s *Store) DeleteCollection(ctx context.Context, business parley.UserID, id parley.CollectionID) error {
	return s.bizDeleteOne(ctx, "delete collection", `DELETE FROM business_collections WHERE business_id = ? AND id = ?`,
		&parley.Error{Code: parley.CodeNotFound, Reason: parley.ReasonNoCollection, Message: "no collection " + string(id)}, business, id)
}

// Collections lists a catalog's collections by id.
func (s *Store) Collections(ctx context.Context, business parley.UserID) ([]parley.Collection, error) {
	return selectAll(ctx, s, "collections", func(r Row) (parley.Collection, error) {
		var c parley.Collection
		err := r.Scan(&c.Business, &c.ID, &c.Name)
		return c, err
	}, `SELECT business_id, id, name FROM business_collections WHERE business_id = ? ORDER BY id`, business)
}

// PutQuickReply creates or replaces a quick reply, up to parley.MaxQuickReplies.
func (s *Store) PutQuickReply(ctx context.Context, q parley.QuickReply) error {
	return s.write(ctx, "put quick reply", func(tx Querier) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM business_quick_replies WHERE business_id = ? AND shortcut <> ?`, q.Business, q.Shortcut).Scan(&n); err != nil {
			return err
		}
		if n >= parley.MaxQuickReplies {
			return parley.Errorf(parley.CodeTooLarge, parley.ReasonTooManyQuickReplies, "a business has at most %d quick replies", parley.MaxQuickReplies)
		}
		_, err := tx.Exec(ctx, `INSERT INTO business_quick_replies (business_id, shortcut, text, media, updated_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (business_id, shortcut) DO UPDATE SET text = excluded.text, media = excluded.media, updated_at = excluded.updated_at`,
			q.Business, q.Shortcut, q.Text, nonNil(q.Media), ns(q.UpdatedAt))
		return err
	})
}

func scanQuickReply(sc Row) (parley.QuickReply, error) {
	var q parley.QuickReply
	var updated int64
	err := sc.Scan(&q.Business, &q.Shortcut, &q.Text, &q.Media, &updated)
	if len(q.Media) == 0 {
		q.Media = nil
	}
	q.UpdatedAt = fromNS(updated)
	return q, err
}

// QuickReply returns one quick reply by shortcut.
func (s *Store) QuickReply(ctx context.Context, business parley.UserID, shortcut string) (parley.QuickReply, error) {
	q, err := scanQuickReply(s.r.QueryRow(ctx, `SELECT business_id, shortcut, text, media, updated_at FROM business_quick_replies
		WHERE business_id = ? AND shortcut = ?`, business, shortcut))
	if errors.Is(err, sql.ErrNoRows) {
		return q, &parley.Error{Code: parley.CodeNotFound, Reason: parley.ReasonNoQuickReply, Message: "no quick reply /" + shortcut}
	}
	return q, s.wrap2("quick reply", err)
}

// DeleteQuickReply deletes a quick reply.
func (s *Store) DeleteQuickReply(ctx context.Context, business parley.UserID, shortcut string) error {
	return s.bizDeleteOne(ctx, "delete quick reply", `DELETE FROM business_quick_replies WHERE business_id = ? AND shortcut = ?`,
		&parley.Error{Code: parley.CodeNotFound, Reason: parley.ReasonNoQuickReply, Message: "no quick reply /" + shortcut}, business, shortcut)
}

// QuickReplies lists quick replies by shortcut.
func (s *Store) QuickReplies(ctx context.Context, business parley.UserID) ([]parley.QuickReply, error) {
	return selectAll(ctx, s, "quick replies", scanQuickReply, `SELECT business_id, shortcut, text, media, updated_at FROM business_quick_replies
		WHERE business_id = ? ORDER BY shortcut`, business)
}

// PutLabel creates or replaces a custom label, up to parley.MaxLabels.
func (s *Store) PutLabel(ctx context.Context, l parley.Label) error {
	return s.write(ctx, "put label", func(tx Querier) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM business_labels WHERE business_id = ? AND id <> ?`, l.Business, l.ID).Scan(&n); err != nil {
			return err
		}
		if n >= parley.MaxLabels {
			return parley.Errorf(parley.CodeTooLarge, parley.ReasonTooManyLabels, "a business has at most %d custom labels", parley.MaxLabels)
		}
		_, err := tx.Exec(ctx, `INSERT INTO business_labels (business_id, id, name, color) VALUES (?, ?, ?, ?)
			ON CONFLICT (business_id, id) DO UPDATE SET name = excluded.name, color = excluded.color`, l.Business, l.ID, l.Name, l.Color)
		return err
	})
}

// DeleteLabel deletes a custom label and takes it off every chat.
func (s *Store) DeleteLabel(ctx context.Context, business parley.UserID, id parley.LabelID) error {
	return s.write(ctx, "delete label", func(tx Querier) error {
		res, err := tx.Exec(ctx, `DELETE FROM business_labels WHERE business_id = ? AND id = ?`, business, id)
		if err != nil {
			return err
		}
		if res == 0 {
			return &parley.Error{Code: parley.CodeNotFound, Reason: parley.ReasonNoLabel, Message: "no label " + string(id)}
		}
		_, err = tx.Exec(ctx, `DELETE FROM business_chat_labels WHERE business_id = ? AND label_id = ?`, business, id)
		return err
	})
}

// Labels lists the custom labels by id.
func (s *Store) Labels(ctx context.Context, business parley.UserID) ([]parley.Label, error) {
	return selectAll(ctx, s, "labels", func(r Row) (parley.Label, error) {
		var l parley.Label
		err := r.Scan(&l.Business, &l.ID, &l.Name, &l.Color)
		return l, err
	}, `SELECT business_id, id, name, color FROM business_labels WHERE business_id = ? ORDER BY id`, business)
}

// LabelChat puts a label on a chat (idempotent; the first time is kept),
// up to parley.MaxLabelsPerChat labels per chat.
func (s *Store) LabelChat(ctx context.Context, l parley.ChatLabel) error {
	return s.write(ctx, "label chat", func(tx Querier) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM business_chat_labels WHERE business_id = ? AND conversation_id = ? AND label_id <> ?`,
			l.Business, l.Conversation, l.Label).Scan(&n); err != nil {
			return err
		}
		if n >= parley.MaxLabelsPerChat {
			return parley.Errorf(parley.CodeTooLarge, parley.ReasonTooManyChatLabels, "a chat has at most %d labels", parley.MaxLabelsPerChat)
		}
		_, err := tx.Exec(ctx, `INSERT INTO business_chat_labels (business_id, conversation_id, label_id, at) VALUES (?, ?, ?, ?)
			ON CONFLICT DO NOTHING`, l.Business, l.Conversation, l.Label, ns(l.At))
		return err
	})
}

// UnlabelChat takes a label off a chat (idempotent).
func (s *Store) UnlabelChat(ctx context.Context, business parley.UserID, conv parley.ConversationID, label parley.LabelID) error {
	return s.write(ctx, "unlabel chat", func(tx Querier) error {
		_, err := tx.Exec(ctx, `DELETE FROM business_chat_labels WHERE business_id = ? AND conversation_id = ? AND label_id = ?`, business, conv, label)
		return err
	})
}

// ChatLabels lists labels on chats, by conversation then label.
func (s *Store) ChatLabels(ctx context.Context, business parley.UserID, conv parley.ConversationID, label parley.LabelID) ([]parley.ChatLabel, error) {
	return selectAll(ctx, s, "chat labels", func(r Row) (parley.ChatLabel, error) {
		var l parley.ChatLabel
		var at int64
		if err := r.Scan(&l.Business, &l.Conversation, &l.Label, &at); err != nil {
			return l, err
		}
		l.At = fromNS(at)
		return l, nil
	}, `SELECT business_id, conversation_id, label_id, at FROM business_chat_labels
		WHERE business_id = ? AND (? = '' OR conversation_id = ?) AND (? = '' OR label_id = ?) ORDER BY conversation_id, label_id`,
		business, conv, conv, label, label)
}

// PutAutoReply creates or replaces the greeting and away settings.
func (s *Store) PutAutoReply(ctx context.Context, a parley.AutoReplySettings) error {
	return s.write(ctx, "put auto reply", func(tx Querier) error {
		_, err := tx.Exec(ctx, `INSERT INTO business_auto_replies (business_id, greeting_enabled, greeting, greeting_after,
			away_enabled, away, away_every, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (business_id) DO UPDATE SET greeting_enabled = excluded.greeting_enabled, greeting = excluded.greeting,
			greeting_after = excluded.greeting_after, away_enabled = excluded.away_enabled, away = excluded.away,
			away_every = excluded.away_every, updated_at = excluded.updated_at`,
			a.Business, bizInt(a.GreetingEnabled), a.Greeting, int64(a.GreetingAfter), bizInt(a.AwayEnabled), a.Away, int64(a.AwayEvery), ns(a.UpdatedAt))
		return err
	})
}

// AutoReply returns the greeting and away settings (zero if none stored).
func (s *Store) AutoReply(ctx context.Context, business parley.UserID) (parley.AutoReplySettings, error) {
	a := parley.AutoReplySettings{Business: business}
	var ge, ae, gafter, aevery, updated int64
	err := s.r.QueryRow(ctx, `SELECT greeting_enabled, greeting, greeting_after, away_enabled, away, away_every, updated_at
		FROM business_auto_replies WHERE business_id = ?`, business).Scan(&ge, &a.Greeting, &gafter, &ae, &a.Away, &aevery, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return a, nil
	}
	if err != nil {
		return a, s.wrap2("auto reply", err)
	}
	a.GreetingEnabled, a.AwayEnabled = ge != 0, ae != 0
	a.GreetingAfter, a.AwayEvery, a.UpdatedAt = time.Duration(gafter), time.Duration(aevery), fromNS(updated)
	return a, nil
}

// ClaimAutoReply claims a greeting or away message once per key, for one
// device.
func (s *Store) ClaimAutoReply(ctx context.Context, business parley.UserID, conv parley.ConversationID, key string, device parley.DeviceID, at time.Time) (bool, error) {
	claimed := false
	err := s.write(ctx, "claim auto reply", func(tx Querier) error {
		res, err := tx.Exec(ctx, `INSERT INTO business_auto_reply_claims (business_id, conversation_id, claim_key, device_id, at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT DO NOTHING`, business, conv, key, device, ns(at))
		if err != nil {
			return err
		}
		if res == 1 {
			claimed = true
			return nil
		}
		var owner parley.DeviceID
		if err := tx.QueryRow(ctx, `SELECT device_id FROM business_auto_reply_claims WHERE business_id = ? AND conversation_id = ? AND claim_key = ?`, business, conv, key).Scan(&owner); err != nil {
			return err
		}
		claimed = owner == device
		return nil
	})
	return claimed, err
}
