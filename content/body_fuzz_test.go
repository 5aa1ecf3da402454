package content

import (
	"encoding/json"
	"testing"

	"github.com/parleyhq/parley"
)

// FuzzDecodeBody feeds arbitrary message bodies (the plaintext another
// device sent, untrusted) to the decoder: it never panics, and a body it
// keeps as a business kind always carries valid content of that kind.
func FuzzDecodeBody(f *testing.F) {
	seeds := []BusinessContent{
		{Product: &ProductMessage{Business: 7, ProductID: "thali", Name: "Veg thali", Price: parley.Money{Amount1000: 120000, Currency: "INR"}, Available: true}},
		{Order: &OrderMessage{OrderID: "o1", Business: 7, Items: []OrderItem{{ProductID: "thali", Quantity: 2, Price: 1000}}, Total: parley.Money{Amount1000: 2000, Currency: "INR"}}},
		{OrderStatus: &OrderStatusMessage{OrderID: "o1", Status: OrderShipped}},
		{Interactive: &InteractiveMessage{Type: "button", Body: "ok?", Buttons: []ReplyButton{{ID: "y", Title: "Yes"}}}},
		{Interactive: &InteractiveMessage{Type: "list", Body: "pick", ButtonText: "Menu", Sections: []ListSection{{Title: "A", Rows: []ListRow{{ID: "r1", Title: "One"}}}}}},
		{Reply: &InteractiveReply{Type: "button_reply", ID: "y", Title: "Yes"}},
		{Template: &TemplateMessage{Name: "order_update", Language: "en", Category: "UTILITY", Body: "Your order shipped", Buttons: []TemplateButton{{Type: "quick_reply", Text: "Thanks"}}}},
	}
	for _, bc := range seeds {
		b := Body{V: Version, Kind: bc.Kind(), Text: bc.Summary(), SentAt: 1, ClientID: "x", Ext: &Ext{Biz: &bc}}
		data, _ := json.Marshal(b)
		f.Add(data)
	}
	f.Add([]byte(`{"v":2,"kind":"order","ext":{"biz":{"order":{"order_id":"o","business":1,"items":[{"product_id":"p","quantity":1,"price_1000":5}],"total":{"amount_1000":6,"currency":"EUR"}}}}}`))
	f.Add([]byte(`{"v":2,"kind":"text","ext":{"biz":{"product":{}}}}`))
	f.Add([]byte(`{"v":2,"kind":"status_key","ext":{"status_key":{"id":"k1","key":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}}}`))
	f.Add([]byte(`{"v":2,"kind":"text","text":"nice","ext":{"status":{"id":"sabc","poster":7,"kind":"image","preview":"the crag"}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := Decode(data)
		if err != nil {
			return
		}
		if b.Ext != nil && b.Ext.StatusKey != nil && (b.Kind != KindStatusKey || !b.Ext.StatusKey.Valid()) {
			t.Fatalf("kept a status key in %s", data)
		}
		if b.Ext != nil && b.Ext.Status != nil && !b.Ext.Status.Valid() {
			t.Fatalf("kept an invalid status quote in %s", data)
		}
		if IsBusinessKind(b.Kind) {
			if b.Ext == nil || b.Ext.Biz == nil || b.Ext.Biz.Kind() != b.Kind || b.Ext.Biz.Validate() != nil {
				t.Fatalf("kept %s with invalid content %s", b.Kind, data)
			}
			_ = b.Ext.Biz.Summary()
		} else if b.Ext != nil && b.Ext.Biz != nil {
			t.Fatalf("kept business content on a %s message", b.Kind)
		}
	})
}
