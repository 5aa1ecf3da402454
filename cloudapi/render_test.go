package cloudapi

import (
	"encoding/json"
	"testing"

	"github.com/parleyhq/parley"
)

func TestRender(t *testing.T) {
	comps := `[{"type":"HEADER","format":"TEXT","text":"Order {{1}}"},{"type":"BODY","text":"Hi {{1}}, {{2}} is ready. {{1}}!"},
		{"type":"FOOTER","text":"Thanks"},{"type":"BUTTONS","buttons":[{"type":"URL","text":"Track","url":"https://t.example/{{1}}"},{"type":"QUICK_REPLY","text":"OK"}]}]`
	tpl := parley.Template{ID: "tpl_1", Name: "ready", Language: "en", Category: parley.CategoryUtility, Components: json.RawMessage(comps)}
	send := func(s string) *TemplateSend {
		var ts TemplateSend
		if err := json.Unmarshal([]byte(s), &ts); err != nil {
			t.Fatal(err)
		}
		return &ts
	}
	m, err := render(tpl, send(`{"name":"ready","language":{"code":"en"},"components":[
		{"type":"header","parameters":[{"type":"text","text":"#7"}]},
		{"type":"body","parameters":[{"type":"text","text":"Ann"},{"type":"currency","currency":{"fallback_value":"$5.00","code":"USD","amount_1000":5000}}]},
		{"type":"button","sub_type":"url","index":"0","parameters":[{"type":"text","text":"abc"}]},
		{"type":"button","sub_type":"quick_reply","index":1,"parameters":[{"type":"payload","payload":"ok-7"}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if m.Header != "Order #7" || m.Body != "Hi Ann, $5.00 is ready. Ann!" || m.Footer != "Thanks" ||
		m.Buttons[0].URL != "https://t.example/abc" || m.Buttons[1].Payload != "ok-7" {
		t.Fatalf("rendered: %+v", m)
	}
	for name, s := range map[string]string{
		"too few":      `{"components":[{"type":"header","parameters":[{"type":"text","text":"#7"}]},{"type":"body","parameters":[{"type":"text","text":"Ann"}]}]}`,
		"too many":     `{"components":[{"type":"header","parameters":[{"type":"text","text":"#7"},{"type":"text","text":"x"}]}]}`,
		"no header":    `{"components":[{"type":"body","parameters":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}]}`,
		"extra button": `{"components":[{"type":"header","parameters":[{"type":"text","text":"#7"}]},{"type":"body","parameters":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},{"type":"button","index":"0","parameters":[{"type":"text","text":"abc"}]},{"type":"button","index":"5","parameters":[{"type":"text","text":"z"}]}]}`,
	} {
		_, err := render(tpl, send(s))
		if ae, ok := err.(*Error); !ok || ae.Code != CodeTemplateParams {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestRate(t *testing.T) {
	for _, c := range []struct {
		signals, recipients int
		want                parley.Quality
	}{{0, 0, parley.QualityGreen}, {1, 1, parley.QualityGreen}, {2, 10, parley.QualityYellow}, {2, 200, parley.QualityGreen},
		{3, 10, parley.QualityRed}, {3, 100, parley.QualityYellow}, {10, 1000, parley.QualityGreen}, {60, 1000, parley.QualityRed}} {
		if got := rate(c.signals, c.recipients); got != c.want {
			t.Errorf("rate(%d, %d) = %s, want %s", c.signals, c.recipients, got, c.want)
		}
	}
}
