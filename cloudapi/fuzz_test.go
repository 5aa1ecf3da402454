package cloudapi_test

import (
	"errors"
	"testing"

	"github.com/parleyhq/parley/cloudapi"
)

// FuzzParseSendRequest: any body either parses or gives a Cloud API error
// object; nothing panics.
func FuzzParseSendRequest(f *testing.F) {
	for _, s := range []string{
		`{"messaging_product":"whatsapp","to":"14155550100","type":"text","text":{"body":"hi"}}`,
		`{"messaging_product":"whatsapp","to":"+14155550100","type":"image","image":{"id":"med_abc","caption":"c"}}`,
		`{"messaging_product":"whatsapp","to":"1","type":"document","document":{"link":"https://example.com/a.pdf","filename":"a.pdf"}}`,
		`{"messaging_product":"whatsapp","to":"1","type":"location","location":{"latitude":38.7,"longitude":-9.1,"name":"Lisbon"}}`,
		`{"messaging_product":"whatsapp","to":"1","type":"contacts","contacts":[{"name":{"formatted_name":"Ann"},"phones":[{"phone":"+1"}]}]}`,
		`{"messaging_product":"whatsapp","to":"1","type":"interactive","interactive":{"type":"button","body":{"text":"?"},"action":{"buttons":[{"type":"reply","reply":{"id":"a","title":"A"}}]}}}`,
		`{"messaging_product":"whatsapp","to":"1","type":"interactive","interactive":{"type":"list","body":{"text":"?"},"action":{"button":"Pick","sections":[{"title":"s","rows":[{"id":"r","title":"R"}]}]}}}`,
		`{"messaging_product":"whatsapp","to":"1","type":"template","template":{"name":"t","language":{"code":"en_US"},"components":[{"type":"body","parameters":[{"type":"text","text":"x"}]}]}}`,
		`{"messaging_product":"whatsapp","to":"1","type":"reaction","reaction":{"message_id":"wamid.cabc.1","emoji":"👍"}}`,
		`{"messaging_product":"whatsapp","status":"read","message_id":"wamid.cabc.1"}`,
		`{"messaging_product":"whatsapp","to":"1","type":"sticker"}`,
		`{"messaging_product":"whatsapp","to":"1","type":"location","location":{"latitude":"x"}}`,
		`not json`, `{}`, `[]`, `null`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := cloudapi.ParseSendRequest(data)
		if err != nil {
			var ae *cloudapi.Error
			if !errors.As(err, &ae) || ae.Code == 0 || ae.Status < 400 {
				t.Fatalf("error is not an error object: %v", err)
			}
			return
		}
		if r.MessagingProduct != "whatsapp" {
			t.Fatalf("accepted %q", data)
		}
	})
}

// FuzzParseTemplateCreate: any template definition parses or is refused
// with an error object.
func FuzzParseTemplateCreate(f *testing.F) {
	for _, s := range []string{
		`{"name":"hello","language":"en_US","category":"MARKETING","components":[{"type":"BODY","text":"Hi {{1}}"}]}`,
		`{"name":"order","language":"pt_BR","category":"utility","components":[{"type":"HEADER","format":"TEXT","text":"Order"},{"type":"BODY","text":"{{name}} ready"},{"type":"FOOTER","text":"f"},{"type":"BUTTONS","buttons":[{"type":"URL","text":"Track","url":"https://x/{{1}}"},{"type":"QUICK_REPLY","text":"OK"}]}]}`,
		`{"name":"Bad Name","language":"en","category":"MARKETING","components":[]}`,
		`{"name":"x","language":"en","category":"OTHER","components":[{"type":"BODY","text":"b"}]}`,
		`{`, `{"components":[{"type":"BUTTONS","buttons":[{"type":"PHONE_NUMBER","text":"Call"}]}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tc, err := cloudapi.ParseTemplateCreate(data)
		if err != nil {
			var ae *cloudapi.Error
			if !errors.As(err, &ae) || ae.Code == 0 {
				t.Fatalf("error is not an error object: %v", err)
			}
			return
		}
		if tc.Name == "" || len(tc.Components) == 0 {
			t.Fatalf("accepted %q", data)
		}
	})
}
