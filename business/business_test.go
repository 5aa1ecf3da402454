package business_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/business"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/store/sqlite"
)

func mustService(t *testing.T) (*business.Service, *sqlite.Store) {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return business.New(st, st, parleytest.NewClock(time.Unix(1700000000, 0)), nil), st
}

func wantCode(t *testing.T, what string, err error, code parley.Code, reason string) {
	t.Helper()
	if parley.ErrorCode(err) != code || parley.ErrorReason(err) != reason {
		t.Fatalf("%s: %v, want %s/%s", what, err, code, reason)
	}
}

func TestRules(t *testing.T) {
	svc, st := mustService(t)
	ctx := t.Context()
	u, err := st.CreateUser(ctx, parley.User{Phone: "+14155550100", Name: "Asha"})
	if err != nil {
		t.Fatal(err)
	}
	dev, err := st.CreateDevice(ctx, parley.Device{User: u.ID, Name: "phone", Primary: true})
	if err != nil {
		t.Fatal(err)
	}

	// Nothing before a profile is published, even with the operator's mark.
	if err := svc.SetVerified(ctx, u.ID, true); err != nil {
		t.Fatal(err)
	}
	_, err = svc.PutProduct(ctx, u.ID, parley.Product{ID: "a", Name: "A", Price: parley.Money{Currency: "EUR"}})
	wantCode(t, "product before profile", err, parley.CodeForbidden, "not_business")
	_, err = svc.Labels(ctx, u.ID)
	wantCode(t, "labels before profile", err, parley.CodeForbidden, "not_business")

	p, err := svc.SetProfile(ctx, u.ID, parley.BusinessProfile{Name: "  Asha's Kitchen ", Verified: false, Hosted: true})
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "Asha's Kitchen" || !p.Verified || p.Hosted || !p.UpdatedAt.Equal(time.Unix(1700000000, 0)) {
		t.Fatalf("profile: %+v", p)
	}
	_, err = svc.SetProfile(ctx, u.ID, parley.BusinessProfile{Name: ""})
	wantCode(t, "no name", err, parley.CodeInvalid, "business_name")
	_, err = svc.SetProfile(ctx, u.ID, parley.BusinessProfile{Name: "x", Email: "nope"})
	wantCode(t, "bad email", err, parley.CodeInvalid, "business_email")

	// Labels: predefined ones are fixed; a chat is labelled only by a member device.
	_, err = svc.PutLabel(ctx, u.ID, parley.Label{ID: parley.LabelPaid, Name: "Mine"})
	wantCode(t, "redefine paid", err, parley.CodeForbidden, "default_label")
	wantCode(t, "delete paid", svc.DeleteLabel(ctx, u.ID, parley.LabelPaid), parley.CodeForbidden, "default_label")
	_, err = svc.PutLabel(ctx, u.ID, parley.Label{ID: "vip", Name: "VIP", Color: "red"})
	wantCode(t, "bad color", err, parley.CodeInvalid, "label_color")
	if _, err := svc.PutLabel(ctx, u.ID, parley.Label{ID: "vip", Name: "VIP", Color: "#aa0000"}); err != nil {
		t.Fatal(err)
	}
	ls, err := svc.Labels(ctx, u.ID)
	if err != nil || len(ls) != len(parley.DefaultLabels)+1 || ls[len(ls)-1].ID != "vip" {
		t.Fatalf("labels: %+v %v", ls, err)
	}
	conv := parley.NewConversationID()
	wantCode(t, "label a chat the device is not in", svc.LabelChat(ctx, dev, conv, "vip", true), parley.CodeNotFound, "not_member")
	wantCode(t, "unknown label", svc.LabelChat(ctx, dev, conv, "gold", true), parley.CodeNotFound, "no_label")

	// Quick replies and settings.
	_, err = svc.PutQuickReply(ctx, u.ID, parley.QuickReply{Shortcut: "/hi", Text: " "})
	wantCode(t, "empty quick reply", err, parley.CodeInvalid, "quick_reply_empty")
	q, err := svc.PutQuickReply(ctx, u.ID, parley.QuickReply{Shortcut: "/hi", Text: "Hello!"})
	if err != nil || q.Shortcut != "hi" {
		t.Fatalf("quick reply: %+v %v", q, err)
	}
	_, err = svc.SetAutoReply(ctx, u.ID, parley.AutoReplySettings{GreetingEnabled: true})
	wantCode(t, "greeting without text", err, parley.CodeInvalid, "greeting_empty")

	// Deleting the profile deletes the business's data; the catalog of a
	// personal account is not found.
	if err := svc.DeleteProfile(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	_, err = svc.Catalog(ctx, u.ID, "")
	wantCode(t, "catalog of a personal account", err, parley.CodeNotFound, "not_business")
	qs, _ := svc.QuickReplies(ctx, u.ID)
	if len(qs) != 0 {
		t.Fatalf("quick replies survive the profile: %v", qs)
	}
}
