package server_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/proto/parleypb"
	"github.com/parleyhq/parley/server"
)

// answer is what a reply to a request about user id tells, without its
// request id and with id blanked where the reply echoes it (a presence
// answer, an error message naming it).
func answer(f *parleypb.ServerFrame, id int64) string {
	f = proto.Clone(f).(*parleypb.ServerFrame)
	f.Id = 0
	if p := f.GetPresence(); p != nil {
		p.UserId = 0
	}
	if e := f.GetError(); e != nil {
		e.Message = strings.ReplaceAll(e.Message, strconv.FormatInt(id, 10), "ID")
	}
	b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(f)
	return string(b)
}

// idProbes are the requests that take a user id, as a stranger would send
// them while walking ids.
var idProbes = map[string]func(id int64) *parleypb.ClientFrame{
	"resolve": func(id int64) *parleypb.ClientFrame {
		return &parleypb.ClientFrame{Body: &parleypb.ClientFrame_Resolve{Resolve: &parleypb.ResolveRequest{Who: &parleypb.ResolveRequest_UserId{UserId: id}}}}
	},
	"presence": func(id int64) *parleypb.ClientFrame {
		return &parleypb.ClientFrame{Body: &parleypb.ClientFrame_Presence{Presence: &parleypb.PresenceRequest{UserId: id}}}
	},
	"devices": func(id int64) *parleypb.ClientFrame {
		return &parleypb.ClientFrame{Body: &parleypb.ClientFrame_ListDevices{ListDevices: &parleypb.ListDevicesRequest{UserId: id}}}
	},
	"group user keys": func(id int64) *parleypb.ClientFrame {
		return &parleypb.ClientFrame{Body: &parleypb.ClientFrame_GroupUserKeys{GroupUserKeys: &parleypb.GroupUserKeysRequest{UserId: id}}}
	},
	"claim key packages": func(id int64) *parleypb.ClientFrame {
		return &parleypb.ClientFrame{Body: &parleypb.ClientFrame_ClaimKeyPackages{ClaimKeyPackages: &parleypb.ClaimKeyPackagesRequest{UserIds: []int64{id}}}}
	},
	"group check add": func(id int64) *parleypb.ClientFrame {
		return &parleypb.ClientFrame{Body: &parleypb.ClientFrame_GroupCheckAdd{GroupCheckAdd: &parleypb.GroupCheckAddRequest{UserIds: []int64{id}}}}
	},
	"add contact": func(id int64) *parleypb.ClientFrame {
		return &parleypb.ClientFrame{Body: &parleypb.ClientFrame_Contact{Contact: &parleypb.ContactRequest{UserId: id}}}
	},
	"block": func(id int64) *parleypb.ClientFrame {
		return &parleypb.ClientFrame{Body: &parleypb.ClientFrame_Block{Block: &parleypb.BlockRequest{UserId: id}}}
	},
}

// TestUserIDsNotEnumerable: a stranger walking user ids 1..N through every
// request that takes one gets, for each id, the answer it gets for an id
// no one has: the walk finds none of the registered users. Their ids are
// random, not sequential.
func TestUserIDsNotEnumerable(t *testing.T) {
	// The per-account lookup limit would end the walk early; this test is
	// about what each answer tells, so it lifts the limit.
	e := newEnv(t, func(c *server.Config) {
		c.Accounts.Limits.LookupsPerUser = parley.Limit{Events: 1_000_000, Window: time.Hour}
	})
	var users []account
	for _, name := range []string{"Ann", "Ben", "Cat", "Dan", "Eve", "Fay"} {
		users = append(users, e.register(name))
	}
	for i, u := range users {
		if u.user < int64(parley.MinRandomUserID) || u.user > int64(parley.MaxUserID) {
			t.Fatalf("user %d has id %d, outside the random range", i, u.user)
		}
		if i > 0 && (u.user == users[i-1].user+1 || u.user == users[i-1].user) {
			t.Fatalf("ids %d then %d: sequential", users[i-1].user, u.user)
		}
	}
	// Ann and Ben share a chat; the stranger shares nothing with anyone.
	ca := e.connect(users[0])
	e.direct(ca, users[1])
	stranger := e.connect(e.register("Mallory"))

	const walk = 300
	for name, probe := range idProbes {
		t.Run(name, func(t *testing.T) {
			unused := int64(parley.MaxUserID)
			want := answer(stranger.call(probe(unused)), unused)
			for id := int64(1); id <= walk; id++ {
				if got := answer(stranger.call(probe(id)), id); got != want {
					t.Fatalf("id %d answers %q, an unused id %q", id, got, want)
				}
			}
		})
	}
}

func presenceOf(c *tclient, user int64) *parleypb.Presence {
	c.t.Helper()
	return c.mustOK(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_Presence{Presence: &parleypb.PresenceRequest{UserId: user}}}).GetPresence()
}

func setLastSeen(c *tclient, v parley.Visibility) {
	c.t.Helper()
	c.mustOK(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_SetPrivacy{SetPrivacy: &parleypb.SetPrivacyRequest{LastSeen: string(v)}}})
}

func addContact(c *tclient, user int64) {
	c.t.Helper()
	c.mustOK(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_Contact{Contact: &parleypb.ContactRequest{UserId: user}}})
}

// TestPresenceOnlyForChosenAudience: Alice is online. Presence requests
// show it only to the audience her last-seen setting chose, and never to a
// stranger, who gets for Alice the answer an unknown id gets.
func TestPresenceOnlyForChosenAudience(t *testing.T) {
	e := newEnv(t)
	alice, bob, carol, eve := e.register("Alice"), e.register("Bob"), e.register("Carol"), e.register("Eve")
	ca := e.connect(alice)
	cb, cc, ce := e.connect(bob), e.connect(carol), e.connect(eve)
	welcomeFor(t, cb, e.direct(ca, bob))   // Bob shares a chat with Alice
	welcomeFor(t, cc, e.direct(ca, carol)) // so does Carol, whom Alice adds to her contacts
	addContact(ca, carol.user)
	// Eve shares nothing with Alice; she has added Alice (that does not
	// make her Alice's contact).
	addContact(ce, alice.user)

	unused := int64(parley.MaxUserID)
	hidden := answer(ce.call(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_Presence{Presence: &parleypb.PresenceRequest{UserId: unused}}}), unused)
	sees := func(c *tclient) bool {
		t.Helper()
		p := presenceOf(c, alice.user)
		if p.GetUserId() != alice.user {
			t.Fatalf("presence of %d answered for %d", alice.user, p.GetUserId())
		}
		if !p.GetOnline() {
			if answer(&parleypb.ServerFrame{Body: &parleypb.ServerFrame_Presence{Presence: p}}, alice.user) != hidden {
				t.Fatalf("hidden presence %v differs from an unknown id's", p)
			}
			return false
		}
		return true
	}
	for _, tc := range []struct {
		setting         parley.Visibility
		bob, carol, eve bool
	}{
		{parley.VisibleEveryone, true, true, false},
		{parley.VisibleContacts, false, true, false},
		{parley.VisibleNobody, false, false, false},
	} {
		setLastSeen(ca, tc.setting)
		for who, c := range map[string]*tclient{"bob (chat)": cb, "carol (contact)": cc, "eve (stranger)": ce} {
			want := map[*tclient]bool{cb: tc.bob, cc: tc.carol, ce: tc.eve}[c]
			if got := sees(c); got != want {
				t.Errorf("last seen %q: %s sees Alice online = %v, want %v", tc.setting, who, got, want)
			}
		}
	}
}

// TestPresencePushOnlyToAudience: with last seen "contacts", Alice going
// offline is pushed to Carol (her contact) and not to Bob, who only shares
// a chat with her.
func TestPresencePushOnlyToAudience(t *testing.T) {
	e := newEnv(t)
	alice, bob, carol := e.register("Alice"), e.register("Bob"), e.register("Carol")
	ca := e.connect(alice)
	cb, cc := e.connect(bob), e.connect(carol)
	welcomeFor(t, cb, e.direct(ca, bob))
	welcomeFor(t, cc, e.direct(ca, carol))
	addContact(ca, carol.user)
	setLastSeen(ca, parley.VisibleContacts)

	isAlice := func(online bool) func(f *parleypb.ServerFrame) bool {
		return func(f *parleypb.ServerFrame) bool {
			p := f.GetPresence()
			return f.Id == 0 && p != nil && p.UserId == alice.user && p.Online == online
		}
	}
	ca.conn.Close()
	if p := cc.next(isAlice(false)).GetPresence(); p.GetLastSeenMs() == 0 {
		t.Fatalf("offline push to a contact without last seen: %v", p)
	}
	// Presence changes are pushed one at a time, in order: once Carol has
	// the next one, Bob's copy of the first, had there been one, was sent.
	ca = e.connect(alice)
	cc.next(isAlice(true))
	cb.mustOK(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_Ping{Ping: &parleypb.Ping{}}})
	for _, f := range cb.pushes {
		if p := f.GetPresence(); p != nil && p.UserId == alice.user {
			t.Fatalf("Bob, outside Alice's audience, got her presence %v", p)
		}
	}
	_ = ca
}

// unsafeNames hide or reorder text: each must be refused wherever a name
// is set.
var unsafeNames = map[string]string{
	"right-to-left override": "Ann\u202egnp.exe",
	"isolate":                "\u2067Ann\u2069",
	"zero-width space":       "An\u200bn",
	"byte order mark":        "\ufeffAnn",
	"left-to-right mark":     "Ann\u200e",
}

// TestUnsafeNamesRefusedEverywhere sets a name with a bidi override or a
// zero-width character through every request that sets one: display name
// (register), device names (verify, link), group and community names
// (create, update) and the business profile name. Each is refused with
// INVALID name_unsafe; the same request with a clean name succeeds.
func TestUnsafeNamesRefusedEverywhere(t *testing.T) {
	e := newEnv(t)
	owner := e.register("Owner")
	co := e.connect(owner)
	group := func(name, community string) *parleypb.ClientFrame {
		id := string(parley.NewConversationID())
		if community == "self" {
			community = id
		}
		return &parleypb.ClientFrame{Body: &parleypb.ClientFrame_GroupCreate{GroupCreate: &parleypb.GroupCreateRequest{
			Name: name, CommunityId: community, Conversation: &parleypb.CreateConversationRequest{ConversationId: id, Kind: "group",
				Commit: []byte("commit"), GroupInfo: []byte("groupinfo"), ClientId: "create-" + id}}}}
	}
	created := co.mustOK(group("Book club", ""))
	conv := created.GetAppended().GetConversationId()
	key := make([]byte, 32)

	setters := map[string]func(name string) (*tclient, *parleypb.ClientFrame){
		"display name": func(name string) (*tclient, *parleypb.ClientFrame) {
			return dial(t, e.addr), &parleypb.ClientFrame{Body: &parleypb.ClientFrame_Register{Register: &parleypb.RegisterRequest{
				Phone: fmt.Sprintf("+1415556%04d", e.phone.Add(1)), Name: name}}}
		},
		"device name at verify": func(name string) (*tclient, *parleypb.ClientFrame) {
			c := dial(t, e.addr)
			phone := fmt.Sprintf("+1415557%04d", e.phone.Add(1))
			c.mustOK(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_Register{Register: &parleypb.RegisterRequest{Phone: phone, Name: "Someone"}}})
			return c, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_Verify{Verify: &parleypb.VerifyRequest{
				Phone: phone, Code: e.codes.Code(phone), IdentityKey: key, DeviceName: name}}}
		},
		"linked device name": func(name string) (*tclient, *parleypb.ClientFrame) {
			code := co.mustOK(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_LinkCode{LinkCode: &parleypb.LinkCodeRequest{}}}).GetLinkCode().GetCode()
			return dial(t, e.addr), &parleypb.ClientFrame{Body: &parleypb.ClientFrame_LinkDevice{LinkDevice: &parleypb.LinkDeviceRequest{
				Code: code, IdentityKey: key, DeviceName: name}}}
		},
		"group name":     func(name string) (*tclient, *parleypb.ClientFrame) { return co, group(name, "") },
		"community name": func(name string) (*tclient, *parleypb.ClientFrame) { return co, group(name, "self") },
		"group rename": func(name string) (*tclient, *parleypb.ClientFrame) {
			return co, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_GroupUpdate{GroupUpdate: &parleypb.GroupUpdateRequest{
				ConversationId: conv, Name: &name}}}
		},
		"business profile name": func(name string) (*tclient, *parleypb.ClientFrame) {
			return co, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_BizProfileSet{BizProfileSet: &parleypb.BizProfileSetRequest{
				Profile: &parleypb.BizProfile{Name: name, Category: "Shop"}}}}
		},
	}
	for route, set := range setters {
		t.Run(route, func(t *testing.T) {
			for what, name := range unsafeNames {
				c, f := set(name)
				if e := c.mustErr(f, parleypb.ErrorCode_INVALID, parley.ReasonNameUnsafe); !strings.Contains(e.Message, "U+") {
					t.Errorf("%s: message %q does not name the character", what, e.Message)
				}
			}
			c, f := set("Ann 👩\u200d💻")
			c.mustOK(f)
		})
	}
}
