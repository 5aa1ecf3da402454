package gateway

import (
	"context"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/business"
	"github.com/parleyhq/parley/proto/parleypb"
	"github.com/parleyhq/parley/wire"
)

// Business is what the gateway needs of the business service
// (*business.Service implements it).
type Business interface {
	Profile(ctx context.Context, user parley.UserID) (parley.BusinessProfile, error)
	SetProfile(ctx context.Context, user parley.UserID, p parley.BusinessProfile) (parley.BusinessProfile, error)
	DeleteProfile(ctx context.Context, user parley.UserID) error
	PutProduct(ctx context.Context, user parley.UserID, p parley.Product) (parley.Product, error)
	DeleteProduct(ctx context.Context, user parley.UserID, id parley.ProductID) error
	Product(ctx context.Context, business parley.UserID, id parley.ProductID) (parley.Product, error)
	Catalog(ctx context.Context, business parley.UserID, collection parley.CollectionID) (business.Catalog, error)
	PutCollection(ctx context.Context, user parley.UserID, c parley.Collection) error
	DeleteCollection(ctx context.Context, user parley.UserID, id parley.CollectionID) error
	PutQuickReply(ctx context.Context, user parley.UserID, q parley.QuickReply) (parley.QuickReply, error)
	DeleteQuickReply(ctx context.Context, user parley.UserID, shortcut string) error
	QuickReplies(ctx context.Context, user parley.UserID) ([]parley.QuickReply, error)
	PutLabel(ctx context.Context, user parley.UserID, l parley.Label) (parley.Label, error)
	DeleteLabel(ctx context.Context, user parley.UserID, id parley.LabelID) error
	Labels(ctx context.Context, user parley.UserID) ([]parley.Label, error)
	LabelChat(ctx context.Context, dev parley.Device, conv parley.ConversationID, label parley.LabelID, on bool) error
	ChatLabels(ctx context.Context, user parley.UserID, conv parley.ConversationID, label parley.LabelID) ([]parley.ChatLabel, error)
	SetAutoReply(ctx context.Context, user parley.UserID, a parley.AutoReplySettings) (parley.AutoReplySettings, error)
	AutoReply(ctx context.Context, user parley.UserID) (parley.AutoReplySettings, error)
	ClaimAutoReply(ctx context.Context, dev parley.Device, conv parley.ConversationID, key string) error
}

// businessRequest handles the business frames; handled is false for any
// other frame.
func (s *session) businessRequest(ctx context.Context, f *parleypb.ClientFrame) (out *parleypb.ServerFrame, handled bool, err error) {
	switch f.Body.(type) {
	case *parleypb.ClientFrame_BizProfileGet, *parleypb.ClientFrame_BizProfileSet, *parleypb.ClientFrame_BizProductPut,
		*parleypb.ClientFrame_BizProductDelete, *parleypb.ClientFrame_BizCatalog, *parleypb.ClientFrame_BizCollection,
		*parleypb.ClientFrame_BizQuickReply, *parleypb.ClientFrame_BizQuickReplies, *parleypb.ClientFrame_BizLabel,
		*parleypb.ClientFrame_BizLabels, *parleypb.ClientFrame_BizChatLabel, *parleypb.ClientFrame_BizChatLabels,
		*parleypb.ClientFrame_BizAutoReply, *parleypb.ClientFrame_BizAutoReplyClaim:
	default:
		return nil, false, nil
	}
	svc := s.g.biz
	if svc == nil {
		return nil, true, parley.Errorf(parley.CodeUnavailable, parley.ReasonBusinessDisabled, "this server does not host business accounts")
	}
	dev := s.dev
	user := dev.User
	switch b := f.Body.(type) {
	case *parleypb.ClientFrame_BizProfileGet:
		id := parley.UserID(b.BizProfileGet.GetUserId())
		if id == 0 {
			id = user
		}
		p, err := svc.Profile(ctx, id)
		if err != nil {
			return nil, true, err
		}
		return &parleypb.ServerFrame{Body: &parleypb.ServerFrame_BizProfile{BizProfile: wire.BizProfileToPB(p)}}, true, nil
	case *parleypb.ClientFrame_BizProfileSet:
		if b.BizProfileSet.GetDelete() {
			return okFrame(), true, svc.DeleteProfile(ctx, user)
		}
		p, err := svc.SetProfile(ctx, user, wire.BizProfileFromPB(b.BizProfileSet.GetProfile()))
		if err != nil {
			return nil, true, err
		}
		return &parleypb.ServerFrame{Body: &parleypb.ServerFrame_BizProfile{BizProfile: wire.BizProfileToPB(p)}}, true, nil
	case *parleypb.ClientFrame_BizProductPut:
		p, err := svc.PutProduct(ctx, user, wire.BizProductFromPB(b.BizProductPut.GetProduct()))
		if err != nil {
			return nil, true, err
		}
		return &parleypb.ServerFrame{Body: &parleypb.ServerFrame_BizProduct{BizProduct: wire.BizProductToPB(p)}}, true, nil
	case *parleypb.ClientFrame_BizProductDelete:
		return okFrame(), true, svc.DeleteProduct(ctx, user, parley.ProductID(b.BizProductDelete.GetId()))
	case *parleypb.ClientFrame_BizCatalog:
		r := b.BizCatalog
		owner := parley.UserID(r.GetBusiness())
		if owner == 0 {
			owner = user
		}
		var cat business.Catalog
		if r.GetProductId() != "" {
			p, err := svc.Product(ctx, owner, parley.ProductID(r.GetProductId()))
			if err != nil {
				return nil, true, err
			}
			cat.Products = []parley.Product{p}
		} else if cat, err = svc.Catalog(ctx, owner, parley.CollectionID(r.GetCollection())); err != nil {
			return nil, true, err
		}
		resp := &parleypb.BizCatalog{}
		for _, p := range cat.Products {
			resp.Products = append(resp.Products, wire.BizProductToPB(p))
		}
		for _, c := range cat.Collections {
			resp.Collections = append(resp.Collections, &parleypb.BizCollection{Id: string(c.ID), Name: c.Name})
		}
		return &parleypb.ServerFrame{Body: &parleypb.ServerFrame_BizCatalog{BizCatalog: resp}}, true, nil
	case *parleypb.ClientFrame_BizCollection:
		r := b.BizCollection
		if r.GetDelete() {
			return okFrame(), true, svc.DeleteCollection(ctx, user, parley.CollectionID(r.GetId()))
		}
		return okFrame(), true, svc.PutCollection(ctx, user, parley.Collection{ID: parley.CollectionID(r.GetId()), Name: r.GetName()})
	case *parleypb.ClientFrame_BizQuickReply:
		q := b.BizQuickReply.GetQuickReply()
		if b.BizQuickReply.GetDelete() {
			return okFrame(), true, svc.DeleteQuickReply(ctx, user, q.GetShortcut())
		}
		saved, err := svc.PutQuickReply(ctx, user, parley.QuickReply{Shortcut: q.GetShortcut(), Text: q.GetText(), Media: q.GetMedia()})
		if err != nil {
			return nil, true, err
		}
		return &parleypb.ServerFrame{Body: &parleypb.ServerFrame_BizQuickReplies{BizQuickReplies: &parleypb.BizQuickReplyList{
			QuickReplies: []*parleypb.BizQuickReply{wire.QuickReplyToPB(saved)}}}}, true, nil
	case *parleypb.ClientFrame_BizQuickReplies:
		list, err := svc.QuickReplies(ctx, user)
		if err != nil {
			return nil, true, err
		}
		resp := &parleypb.BizQuickReplyList{}
		for _, q := range list {
			resp.QuickReplies = append(resp.QuickReplies, wire.QuickReplyToPB(q))
		}
		return &parleypb.ServerFrame{Body: &parleypb.ServerFrame_BizQuickReplies{BizQuickReplies: resp}}, true, nil
	case *parleypb.ClientFrame_BizLabel:
		l := b.BizLabel.GetLabel()
		if b.BizLabel.GetDelete() {
			return okFrame(), true, svc.DeleteLabel(ctx, user, parley.LabelID(l.GetId()))
		}
		_, err := svc.PutLabel(ctx, user, parley.Label{ID: parley.LabelID(l.GetId()), Name: l.GetName(), Color: l.GetColor()})
		return okFrame(), true, err
	case *parleypb.ClientFrame_BizLabels:
		list, err := svc.Labels(ctx, user)
		if err != nil {
			return nil, true, err
		}
		resp := &parleypb.BizLabelList{}
		for i, l := range list {
			resp.Labels = append(resp.Labels, &parleypb.BizLabel{Id: string(l.ID), Name: l.Name, Color: l.Color,
				Predefined: i < len(parley.DefaultLabels)})
		}
		return &parleypb.ServerFrame{Body: &parleypb.ServerFrame_BizLabels{BizLabels: resp}}, true, nil
	case *parleypb.ClientFrame_BizChatLabel:
		r := b.BizChatLabel
		return okFrame(), true, svc.LabelChat(ctx, dev, parley.ConversationID(r.GetConversationId()), parley.LabelID(r.GetLabelId()), !r.GetRemove())
	case *parleypb.ClientFrame_BizChatLabels:
		r := b.BizChatLabels
		list, err := svc.ChatLabels(ctx, user, parley.ConversationID(r.GetConversationId()), parley.LabelID(r.GetLabelId()))
		if err != nil {
			return nil, true, err
		}
		resp := &parleypb.BizChatLabelList{}
		for _, l := range list {
			resp.Labels = append(resp.Labels, &parleypb.BizChatLabel{ConversationId: string(l.Conversation), LabelId: string(l.Label), AtMs: wire.MS(l.At)})
		}
		return &parleypb.ServerFrame{Body: &parleypb.ServerFrame_BizChatLabels{BizChatLabels: resp}}, true, nil
	case *parleypb.ClientFrame_BizAutoReply:
		r := b.BizAutoReply
		var a parley.AutoReplySettings
		if r.GetSet() {
			a, err = svc.SetAutoReply(ctx, user, wire.AutoReplyFromPB(r.GetSettings()))
		} else {
			a, err = svc.AutoReply(ctx, user)
		}
		if err != nil {
			return nil, true, err
		}
		return &parleypb.ServerFrame{Body: &parleypb.ServerFrame_BizAutoReply{BizAutoReply: wire.AutoReplyToPB(a)}}, true, nil
	case *parleypb.ClientFrame_BizAutoReplyClaim:
		r := b.BizAutoReplyClaim
		return okFrame(), true, svc.ClaimAutoReply(ctx, dev, parley.ConversationID(r.GetConversationId()), r.GetKey())
	}
	return nil, false, nil
}
