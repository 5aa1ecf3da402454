package content

import (
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/attachment"
)

// TestDecode: a body round-trips at the current version; what a reader
// cannot use is kept as unsupported rather than failing the envelope; only
// bytes that are not a body fail.
func TestDecode(t *testing.T) {
	at := time.UnixMilli(1_700_000_000_000)
	rec := MessageRecord{Kind: KindText, Text: "hi", SentAt: at, ClientID: "c1", Forwarded: true}
	b, err := Decode(Encode(RecordBody(rec)))
	if err != nil || b.V != Version || b.Kind != KindText || b.Text != "hi" || !b.Fwd || b.SentAt != at.UnixMilli() || b.ClientID != "c1" {
		t.Fatalf("round trip: %+v, %v", b, err)
	}
	loc, err := attachment.NewLocation(52.5, 13.4, "Berlin")
	if err != nil {
		t.Fatal(err)
	}
	shipped := &BusinessContent{OrderStatus: &OrderStatusMessage{OrderID: "o1", Status: OrderShipped}}
	for _, tc := range []struct {
		name, body, kind string
		media, biz       bool
	}{
		{"no kind is text", `{"v":1,"text":"x"}`, KindText, false, false},
		{"unknown kind kept", `{"v":2,"kind":"hologram","text":"x"}`, "hologram", false, false},
		{"media kind without media", `{"v":2,"kind":"image"}`, KindUnsupported, false, false},
		{"media on a text dropped", `{"v":2,"kind":"text","media":{"kind":"location"}}`, KindText, false, false},
		{"business kind without content", `{"v":2,"kind":"order"}`, KindUnsupported, false, false},
		{"content of another kind", `{"v":2,"kind":"order","ext":{"biz":{"order_status":{"order_id":"o1","status":"shipped"}}}}`, KindUnsupported, false, false},
		{"business content on a text dropped", `{"v":2,"kind":"text","ext":{"biz":{"order_status":{"order_id":"o1","status":"shipped"}}}}`, KindText, false, false},
		{"valid business content", `{"v":2,"kind":"order_status","ext":{"biz":{"order_status":{"order_id":"o1","status":"shipped"}}}}`, KindOrderStatus, false, true},
	} {
		b, err := Decode([]byte(tc.body))
		if err != nil || b.Kind != tc.kind || (b.Media != nil) != tc.media || (b.Ext != nil && b.Ext.Biz != nil) != tc.biz {
			t.Errorf("%s: %+v, %v", tc.name, b, err)
		}
	}
	b, err = Decode(Encode(Body{Kind: KindLocation, Media: &loc}))
	if err != nil || b.Kind != KindLocation || b.Media == nil || b.Media.Location == nil {
		t.Fatalf("location: %+v, %v", b, err)
	}
	b, err = Decode(Encode(Body{Kind: KindOrderStatus, Text: shipped.Summary(), Ext: &Ext{Biz: shipped}}))
	if err != nil || b.Ext.Biz.OrderStatus.Status != OrderShipped {
		t.Fatalf("business: %+v, %v", b, err)
	}
	for _, bad := range []string{``, `[]`, `{"kind":"text"}`, `{"v":0}`} {
		if _, err := Decode([]byte(bad)); err == nil {
			t.Errorf("Decode(%q) accepted", bad)
		}
	}
}

// TestValidate: each business kind's rules refuse with a business_* reason.
func TestValidate(t *testing.T) {
	money := parley.Money{Amount1000: 2000, Currency: "EUR"}
	for _, tc := range []struct {
		name   string
		bc     BusinessContent
		reason string // "" for valid
	}{
		{"order", BusinessContent{Order: &OrderMessage{OrderID: "o", Business: 1, Items: []OrderItem{{ProductID: "p", Quantity: 2, Price: 1000}}, Total: money}}, ""},
		{"two parts", BusinessContent{Order: &OrderMessage{}, OrderStatus: &OrderStatusMessage{}}, "business_kind"},
		{"order total", BusinessContent{Order: &OrderMessage{OrderID: "o", Business: 1, Items: []OrderItem{{ProductID: "p", Quantity: 1, Price: 1000}}, Total: money}}, "business_total"},
		{"no items", BusinessContent{Order: &OrderMessage{OrderID: "o", Business: 1, Total: money}}, "business_items"},
		{"four buttons", BusinessContent{Interactive: &InteractiveMessage{Type: "button", Body: "?", Buttons: []ReplyButton{{"a", "A"}, {"b", "B"}, {"c", "C"}, {"d", "D"}}}}, "business_buttons"},
		{"duplicate ids", BusinessContent{Interactive: &InteractiveMessage{Type: "button", Body: "?", Buttons: []ReplyButton{{"a", "A"}, {"a", "B"}}}}, "business_duplicate_id"},
		{"long title", BusinessContent{Interactive: &InteractiveMessage{Type: "button", Body: "?", Buttons: []ReplyButton{{"a", "a title far longer than allowed"}}}}, "business_title"},
	} {
		err := tc.bc.Validate()
		if got := parley.ErrorReason(err); tc.reason == "" && err != nil || tc.reason != "" && got != tc.reason {
			t.Errorf("%s: %v (reason %q), want %q", tc.name, err, got, tc.reason)
		}
	}
}

func TestKindsHelpers(t *testing.T) {
	if got := MentionNames("hi @ann and @bob.s, @everyone"); !slices.Equal(got, []string{"ann", "bob.s", "everyone"}) {
		t.Errorf("MentionNames: %q", got)
	}
	if got := Hashtags("#go #Go #go #ünï"); !slices.Equal(got, []string{"go", "Go", "ünï"}) {
		t.Errorf("Hashtags: %q", got)
	}
	if !IsControl(KindVote) || IsControl(KindPoll) {
		t.Error("IsControl")
	}
	p := &PollSpec{Question: "?", Options: []string{"a", "b", "c"}}
	for choices, ok := range map[string]bool{"": true, "0": true, "0,1": false, "3": false} {
		var cs []int
		for _, c := range choices {
			if c != ',' {
				cs = append(cs, int(c-'0'))
			}
		}
		if err := ValidChoices(p, cs); (err == nil) != ok {
			t.Errorf("ValidChoices(%v): %v", cs, err)
		}
	}
	if got := ControlText(Body{Kind: KindReaction}, "c:1"); got != "removed a reaction to c:1" {
		t.Errorf("ControlText without ext: %q", got)
	}
	if conv, seq, err := ParseMessageID(FormatMessageID("caaaaaaaaaaaa", 7)); err != nil || conv != "caaaaaaaaaaaa" || seq != 7 {
		t.Errorf("message id round trip: %s %d %v", conv, seq, err)
	}
}
