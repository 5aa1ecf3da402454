package wire_test

import (
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/proto/parleypb"
	"github.com/parleyhq/parley/wire"
)

// FuzzBusinessFrames decodes arbitrary bytes as the business frames a client sends
// (untrusted) and converts them: nothing panics, and whatever passes
// Validate survives the round trip through its frame unchanged.
func FuzzBusinessFrames(f *testing.F) {
	h := parley.BusinessHours{Zone: "Asia/Kolkata", Days: map[time.Weekday][]parley.Span{time.Monday: {{From: 540, To: 1080}}}}
	seed := func(m proto.Message) {
		data, _ := proto.Marshal(m)
		f.Add(data)
	}
	seed(wire.BizProfileToPB(parley.BusinessProfile{User: 1, Name: "Asha's Kitchen", Hours: h, Website: "https://a.example"}))
	seed(wire.BizProductToPB(parley.Product{Business: 1, ID: "thali", Name: "Thali", Price: parley.Money{Amount1000: 120000, Currency: "INR"},
		Images: []parley.ProductImage{{Blob: "b", Capability: "Y2Fw", Key: []byte{1}, Size: 3, Type: "image/jpeg"}}, Collections: []parley.CollectionID{"meals"}}))
	seed(wire.AutoReplyToPB(parley.AutoReplySettings{GreetingEnabled: true, Greeting: "hi", AwayEvery: time.Hour}))
	f.Add([]byte{0x32, 0x06, 0x12, 0x04, 0x08, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, data []byte) {
		var pp parleypb.BizProfile
		if proto.Unmarshal(data, &pp) == nil {
			p := wire.BizProfileFromPB(&pp)
			if p.Validate() == nil {
				back := wire.BizProfileFromPB(wire.BizProfileToPB(p))
				if back.Name != p.Name || back.Hours.Zone != p.Hours.Zone || len(back.Hours.Days) != len(p.Hours.Days) {
					t.Fatalf("profile round trip: %+v != %+v", back, p)
				}
				_ = p.Hours.OpenAt(time.Unix(1700000000, 0))
			}
		}
		var pr parleypb.BizProduct
		if proto.Unmarshal(data, &pr) == nil {
			p := wire.BizProductFromPB(&pr)
			if p.Validate() == nil {
				back := wire.BizProductFromPB(wire.BizProductToPB(p))
				if back.ID != p.ID || back.Price != p.Price || len(back.Images) != len(p.Images) {
					t.Fatalf("product round trip: %+v != %+v", back, p)
				}
			}
		}
		var ar parleypb.BizAutoReply
		if proto.Unmarshal(data, &ar) == nil {
			a := wire.AutoReplyFromPB(&ar)
			if a.Validate() == nil && wire.AutoReplyFromPB(wire.AutoReplyToPB(a)) != a {
				t.Fatalf("settings round trip: %+v", a)
			}
		}
	})
}
