package wire

import (
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/proto/parleypb"
)

// Conversions between business records and their protocol frames.

// MS is t in Unix milliseconds, 0 for the zero time.
func MS(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// QuickReplyToPB converts a quick reply.
func QuickReplyToPB(q parley.QuickReply) *parleypb.BizQuickReply {
	return &parleypb.BizQuickReply{Shortcut: q.Shortcut, Text: q.Text, Media: q.Media, UpdatedAtMs: MS(q.UpdatedAt)}
}

// FromMS is the time of v Unix milliseconds (UTC), the zero time for 0.
func FromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

// BizProfileToPB converts a profile to its frame.
func BizProfileToPB(p parley.BusinessProfile) *parleypb.BizProfile {
	out := &parleypb.BizProfile{UserId: int64(p.User), Name: p.Name, Category: p.Category, Description: p.Description,
		Address: p.Address, Website: p.Website, Email: p.Email, Verified: p.Verified, VerifiedAtMs: MS(p.VerifiedAt),
		Hosted: p.Hosted, UpdatedAtMs: MS(p.UpdatedAt), Hours: &parleypb.BizHours{Zone: p.Hours.Zone}}
	for d := time.Sunday; d <= time.Saturday; d++ {
		for _, sp := range p.Hours.Days[d] {
			out.Hours.Spans = append(out.Hours.Spans, &parleypb.BizHoursSpan{Weekday: uint32(d), From: uint32(sp.From), To: uint32(sp.To)})
		}
	}
	return out
}

// BizProfileFromPB converts a profile frame.
func BizProfileFromPB(p *parleypb.BizProfile) parley.BusinessProfile {
	out := parley.BusinessProfile{User: parley.UserID(p.GetUserId()), Name: p.GetName(), Category: p.GetCategory(),
		Description: p.GetDescription(), Address: p.GetAddress(), Website: p.GetWebsite(), Email: p.GetEmail(),
		Verified: p.GetVerified(), VerifiedAt: FromMS(p.GetVerifiedAtMs()), Hosted: p.GetHosted(), UpdatedAt: FromMS(p.GetUpdatedAtMs()),
		Hours: parley.BusinessHours{Zone: p.GetHours().GetZone()}}
	for _, sp := range p.GetHours().GetSpans() {
		if out.Hours.Days == nil {
			out.Hours.Days = map[time.Weekday][]parley.Span{}
		}
		d := time.Weekday(min(sp.GetWeekday(), 7)) // 7 and above fail Validate
		out.Hours.Days[d] = append(out.Hours.Days[d], parley.Span{From: int(min(sp.GetFrom(), 1<<20)), To: int(min(sp.GetTo(), 1<<20))})
	}
	return out
}

// BizProductToPB converts a product.
func BizProductToPB(p parley.Product) *parleypb.BizProduct {
	out := &parleypb.BizProduct{Business: int64(p.Business), Id: string(p.ID), Name: p.Name,
		Price:       &parleypb.BizMoney{Amount_1000: p.Price.Amount1000, Currency: p.Price.Currency},
		Description: p.Description, Available: p.Available, Url: p.URL, UpdatedAtMs: MS(p.UpdatedAt)}
	for _, im := range p.Images {
		out.Images = append(out.Images, &parleypb.BizProductImage{BlobId: string(im.Blob), Capability: im.Capability, Key: im.Key,
			Digest: im.Digest, Size: im.Size, Type: im.Type, Thumbnail: im.Thumbnail})
	}
	for _, c := range p.Collections {
		out.Collections = append(out.Collections, string(c))
	}
	return out
}

// BizProductFromPB converts a product frame.
func BizProductFromPB(p *parleypb.BizProduct) parley.Product {
	out := parley.Product{Business: parley.UserID(p.GetBusiness()), ID: parley.ProductID(p.GetId()), Name: p.GetName(),
		Price:       parley.Money{Amount1000: p.GetPrice().GetAmount_1000(), Currency: p.GetPrice().GetCurrency()},
		Description: p.GetDescription(), Available: p.GetAvailable(), URL: p.GetUrl(), UpdatedAt: FromMS(p.GetUpdatedAtMs())}
	for _, im := range p.GetImages() {
		out.Images = append(out.Images, parley.ProductImage{Blob: parley.BlobID(im.GetBlobId()), Capability: im.GetCapability(),
			Key: im.GetKey(), Digest: im.GetDigest(), Size: im.GetSize(), Type: im.GetType(), Thumbnail: im.GetThumbnail()})
	}
	for _, c := range p.GetCollections() {
		out.Collections = append(out.Collections, parley.CollectionID(c))
	}
	return out
}

// AutoReplyToPB converts greeting/away settings.
func AutoReplyToPB(a parley.AutoReplySettings) *parleypb.BizAutoReply {
	return &parleypb.BizAutoReply{GreetingEnabled: a.GreetingEnabled, Greeting: a.Greeting, GreetingAfterS: int64(a.GreetingAfter / time.Second),
		AwayEnabled: a.AwayEnabled, Away: a.Away, AwayEveryS: int64(a.AwayEvery / time.Second), UpdatedAtMs: MS(a.UpdatedAt)}
}

// AutoReplyFromPB converts a settings frame.
func AutoReplyFromPB(a *parleypb.BizAutoReply) parley.AutoReplySettings {
	const maxS = int64(100 * 365 * 24 * 3600)
	return parley.AutoReplySettings{GreetingEnabled: a.GetGreetingEnabled(), Greeting: a.GetGreeting(),
		GreetingAfter: time.Duration(min(a.GetGreetingAfterS(), maxS)) * time.Second, AwayEnabled: a.GetAwayEnabled(), Away: a.GetAway(),
		AwayEvery: time.Duration(min(a.GetAwayEveryS(), maxS)) * time.Second, UpdatedAt: FromMS(a.GetUpdatedAtMs())}
}
