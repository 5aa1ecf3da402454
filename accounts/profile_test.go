package accounts_test

import (
	"strings"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/accounts"
)

func TestSetUsername(t *testing.T) {
	tests := []struct {
		username string
		code     parley.Code
		reason   string
	}{
		{"alice", "", ""},
		{"abc", "", ""},
		{"Alice_99", "", ""},
		{"a.b_c.9", "", ""},
		{strings.Repeat("a", 32), "", ""},
		{"", "", ""}, // clears
		{"ab", parley.CodeInvalid, "username_invalid"},
		{strings.Repeat("a", 33), parley.CodeInvalid, "username_invalid"},
		{"1alice", parley.CodeInvalid, "username_invalid"},
		{"_alice", parley.CodeInvalid, "username_invalid"},
		{".alice", parley.CodeInvalid, "username_invalid"},
		{"al ice", parley.CodeInvalid, "username_invalid"},
		{"al-ice", parley.CodeInvalid, "username_invalid"},
		{"alïce", parley.CodeInvalid, "username_invalid"},
		{"alice@x", parley.CodeInvalid, "username_invalid"},
		{"bob", parley.CodeConflict, "username_taken"},
		{"BOB", parley.CodeConflict, "username_taken"},
		{"bOb", parley.CodeConflict, "username_taken"},
	}
	e := newEnv(t, accounts.Config{})
	alice := e.MustSignUp(alicePhone, "Alice")
	bob := e.MustSignUp(bobPhone, "Bob")
	if err := e.svc.SetUsername(e.ctx, bob.User, "Bob"); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.username, func(t *testing.T) {
			err := e.svc.SetUsername(e.ctx, alice.User, tt.username)
			wantErr(t, err, tt.code, tt.reason)
			u, _ := e.store.User(e.ctx, alice.User)
			if err == nil && u.Username != tt.username {
				t.Fatalf("username = %q, want %q", u.Username, tt.username)
			}
		})
	}

	// One's own username in another case, and freeing a name for others.
	if err := e.svc.SetUsername(e.ctx, bob.User, "BOB"); err != nil {
		t.Fatalf("changing the case of one's own username: %v", err)
	}
	if err := e.svc.SetUsername(e.ctx, bob.User, ""); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SetUsername(e.ctx, alice.User, "bob"); err != nil {
		t.Fatalf("taking a freed username: %v", err)
	}
	p, err := e.svc.Resolve(e.ctx, bob.User, accounts.Query{Username: "BoB"})
	if err != nil || p.User.ID != alice.User || p.User.Username != "bob" {
		t.Fatalf("Resolve(BoB) = %+v, %v", p.User, err)
	}
	err = e.svc.SetUsername(e.ctx, 99999, "nobody")
	wantErr(t, err, parley.CodeNotFound, "")
}

func TestResolveByPhonePrivacy(t *testing.T) {
	tests := []struct {
		findByPhone parley.Visibility
		contact     bool // the owner has the viewer in their contacts
		found       bool
	}{
		{"", false, true},
		{parley.VisibleEveryone, false, true},
		{parley.VisibleEveryone, true, true},
		{parley.VisibleContacts, false, false},
		{parley.VisibleContacts, true, true},
		{parley.VisibleNobody, false, false},
		{parley.VisibleNobody, true, false},
	}
	for _, tt := range tests {
		name := string(tt.findByPhone) + "/non-contact"
		if tt.contact {
			name = string(tt.findByPhone) + "/contact"
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, accounts.Config{})
			alice := e.MustSignUp(alicePhone, "Alice")
			bob := e.MustSignUp(bobPhone, "Bob")
			if err := e.svc.SetUsername(e.ctx, alice.User, "alice"); err != nil {
				t.Fatal(err)
			}
			if err := e.svc.SetPrivacy(e.ctx, alice.User, parley.Privacy{FindByPhone: tt.findByPhone}); err != nil {
				t.Fatal(err)
			}
			if tt.contact {
				if err := e.svc.AddContact(e.ctx, alice.User, bob.User); err != nil {
					t.Fatal(err)
				}
			}
			linked := e.MustLink(alice, "laptop")

			p, err := e.svc.Resolve(e.ctx, bob.User, accounts.Query{Phone: "+1 415 555 0100"})
			if !tt.found {
				// Exactly the answer for a number nobody has.
				_, none := e.svc.Resolve(e.ctx, bob.User, accounts.Query{Phone: davePhone})
				wantErr(t, none, parley.CodeNotFound, "user_not_found")
				if err == nil || err.Error() != none.Error() {
					t.Fatalf("hidden user: %v, unknown number: %v", err, none)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				if p.User.ID != alice.User || !p.PhoneVisible || p.User.Phone != alicePhone || p.User.PINHash != nil ||
					len(p.Devices) != 2 || p.Devices[1].ID != linked.Device || p.Devices[0].SecretHash != nil || p.Contact || p.Blocked {
					t.Fatalf("Resolve by phone = %+v", p)
				}
			}

			// By username: always found; the phone only when the setting admits a contact.
			p, err = e.svc.Resolve(e.ctx, bob.User, accounts.Query{Username: "ALICE"})
			if err != nil {
				t.Fatal(err)
			}
			wantPhone := tt.contact && tt.findByPhone != parley.VisibleNobody
			if p.User.ID != alice.User || p.PhoneVisible != wantPhone || (p.User.Phone != "") != wantPhone {
				t.Fatalf("Resolve by username = %+v, want phone visible %v", p, wantPhone)
			}

			// Oneself: always, with the phone.
			p, err = e.svc.Resolve(e.ctx, alice.User, accounts.Query{Phone: alicePhone})
			if err != nil || !p.PhoneVisible || p.User.Phone != alicePhone {
				t.Fatalf("Resolve self = %+v, %v", p, err)
			}
		})
	}
}

func TestResolve(t *testing.T) {
	e := newEnv(t, accounts.Config{})
	alice := e.MustSignUp(alicePhone, "Alice")
	bob := e.MustSignUp(bobPhone, "Bob")
	carol := e.MustSignUp(carolPhone, "Carol")
	dave := e.MustSignUp(davePhone, "Dave")
	mustOK := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	mustOK(e.svc.AddContact(e.ctx, alice.User, bob.User)) // alice has bob
	mustOK(e.svc.Block(e.ctx, alice.User, carol.User))    // alice blocked carol
	mustOK(e.svc.Block(e.ctx, dave.User, alice.User))     // dave blocked alice
	mustOK(e.svc.SetUsername(e.ctx, dave.User, "dave"))
	createConversation(t, e, carol, dave) // carol and dave share a conversation

	tests := []struct {
		name           string
		viewer         parley.UserID
		q              accounts.Query
		code           parley.Code
		reason         string
		want           parley.UserID
		contact, block bool
	}{
		{"by id: own contact", alice.User, accounts.Query{User: bob.User}, "", "", bob.User, true, false},
		{"by id: they have me", bob.User, accounts.Query{User: alice.User}, "", "", alice.User, false, false},
		{"by id: self", alice.User, accounts.Query{User: alice.User}, "", "", alice.User, false, false},
		{"by id: shared conversation", carol.User, accounts.Query{User: dave.User}, "", "", dave.User, false, false},
		{"by id: stranger", bob.User, accounts.Query{User: carol.User}, parley.CodeNotFound, "user_not_found", 0, false, false},
		{"by id: unknown", bob.User, accounts.Query{User: 99999}, parley.CodeNotFound, "user_not_found", 0, false, false},
		{"blocked flag", alice.User, accounts.Query{Phone: carolPhone}, "", "", carol.User, false, true},
		{"blocked viewer: not by phone", alice.User, accounts.Query{Phone: davePhone}, parley.CodeNotFound, "user_not_found", 0, false, false},
		{"blocked viewer: by username", alice.User, accounts.Query{Username: "dave"}, "", "", dave.User, false, false},
		{"unknown username", alice.User, accounts.Query{Username: "nobody"}, parley.CodeNotFound, "user_not_found", 0, false, false},
		{"bad username", alice.User, accounts.Query{Username: "no body"}, parley.CodeInvalid, "username_invalid", 0, false, false},
		{"bad phone", alice.User, accounts.Query{Phone: "12345"}, parley.CodeInvalid, "phone_invalid", 0, false, false},
		{"empty query", alice.User, accounts.Query{}, parley.CodeInvalid, "query_invalid", 0, false, false},
		{"two fields", alice.User, accounts.Query{Phone: bobPhone, User: bob.User}, parley.CodeInvalid, "query_invalid", 0, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := e.svc.Resolve(e.ctx, tt.viewer, tt.q)
			wantErr(t, err, tt.code, tt.reason)
			if err != nil {
				return
			}
			if p.User.ID != tt.want || p.Contact != tt.contact || p.Blocked != tt.block {
				t.Fatalf("Resolve = %+v", p)
			}
		})
	}
}

func TestCanSeePresence(t *testing.T) {
	// relation is what ties Bob to Alice: nothing (a stranger), a shared
	// conversation, or Alice having added him.
	tests := []struct {
		lastSeen parley.Visibility
		relation string
		want     bool
	}{
		{"", "stranger", false},
		{"", "chat", true},
		{parley.VisibleEveryone, "stranger", false},
		{parley.VisibleEveryone, "chat", true},
		{parley.VisibleEveryone, "contact", true},
		{parley.VisibleContacts, "stranger", false},
		{parley.VisibleContacts, "chat", false},
		{parley.VisibleContacts, "contact", true},
		{parley.VisibleNobody, "stranger", false},
		{parley.VisibleNobody, "chat", false},
		{parley.VisibleNobody, "contact", false},
	}
	for _, tt := range tests {
		t.Run(string(tt.lastSeen)+"/"+tt.relation, func(t *testing.T) {
			e := newEnv(t, accounts.Config{})
			alice := e.MustSignUp(alicePhone, "Alice")
			bob := e.MustSignUp(bobPhone, "Bob")
			if err := e.svc.SetPrivacy(e.ctx, alice.User, parley.Privacy{LastSeen: tt.lastSeen}); err != nil {
				t.Fatal(err)
			}
			shareChat := tt.relation == "chat"
			if tt.relation == "contact" {
				if err := e.svc.AddContact(e.ctx, alice.User, bob.User); err != nil {
					t.Fatal(err)
				}
			}
			if got, err := e.svc.CanSeePresence(e.ctx, bob.User, alice.User, shareChat); err != nil || got != tt.want {
				t.Fatalf("CanSeePresence = %v, %v; want %v", got, err, tt.want)
			}
			if got, err := e.svc.CanSeePresence(e.ctx, alice.User, alice.User, false); err != nil || !got {
				t.Fatalf("own presence = %v, %v", got, err)
			}
			// A block in either direction hides it.
			for _, pair := range [][2]parley.UserID{{alice.User, bob.User}, {bob.User, alice.User}} {
				if err := e.svc.Block(e.ctx, pair[0], pair[1]); err != nil {
					t.Fatal(err)
				}
				if got, err := e.svc.CanSeePresence(e.ctx, bob.User, alice.User, true); err != nil || got {
					t.Fatalf("CanSeePresence with %v blocking %v = %v, %v", pair[0], pair[1], got, err)
				}
				if err := e.svc.Unblock(e.ctx, pair[0], pair[1]); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func TestSetPrivacy(t *testing.T) {
	e := newEnv(t, accounts.Config{})
	alice := e.MustSignUp(alicePhone, "Alice")
	steps := []struct {
		set    parley.Privacy
		want   parley.Privacy
		code   parley.Code
		reason string
	}{
		{parley.Privacy{FindByPhone: parley.VisibleContacts}, parley.Privacy{FindByPhone: parley.VisibleContacts}, "", ""},
		{parley.Privacy{LastSeen: parley.VisibleNobody}, parley.Privacy{FindByPhone: parley.VisibleContacts, LastSeen: parley.VisibleNobody}, "", ""},
		{parley.Privacy{FindByPhone: "friends"}, parley.Privacy{FindByPhone: parley.VisibleContacts, LastSeen: parley.VisibleNobody}, parley.CodeInvalid, "privacy_invalid"},
		{parley.Privacy{LastSeen: "Everyone"}, parley.Privacy{FindByPhone: parley.VisibleContacts, LastSeen: parley.VisibleNobody}, parley.CodeInvalid, "privacy_invalid"},
		{parley.Privacy{}, parley.Privacy{FindByPhone: parley.VisibleContacts, LastSeen: parley.VisibleNobody}, "", ""},
		{parley.Privacy{FindByPhone: parley.VisibleEveryone, LastSeen: parley.VisibleEveryone}, parley.Privacy{FindByPhone: parley.VisibleEveryone, LastSeen: parley.VisibleEveryone}, "", ""},
	}
	for i, st := range steps {
		err := e.svc.SetPrivacy(e.ctx, alice.User, st.set)
		wantErr(t, err, st.code, st.reason)
		u, err := e.store.User(e.ctx, alice.User)
		if err != nil || u.Privacy != st.want {
			t.Fatalf("step %d: privacy = %+v, %v; want %+v", i, u.Privacy, err, st.want)
		}
	}
}

func TestSetPIN(t *testing.T) {
	e := newEnv(t, accounts.Config{})
	alice := e.MustSignUp(alicePhone, "Alice")
	steps := []struct {
		name        string
		pin, oldPIN string
		code        parley.Code
		reason      string
		wantSet     bool
	}{
		{"too short", "123", "", parley.CodeInvalid, "pin_invalid", false},
		{"too long", "1234567890123", "", parley.CodeInvalid, "pin_invalid", false},
		{"not digits", "12a4", "", parley.CodeInvalid, "pin_invalid", false},
		{"removing when none is set", "", "", "", "", false},
		{"set", "1234", "", "", "", true},
		{"change without the old PIN", "5678", "", parley.CodeForbidden, "pin_required", true},
		{"change with a wrong old PIN", "5678", "1111", parley.CodeForbidden, "pin_wrong", true},
		{"change", "567890123456", "1234", "", "", true},
		{"remove with a wrong PIN", "", "1234", parley.CodeForbidden, "pin_wrong", true},
		{"remove", "", "567890123456", "", "", false},
	}
	for _, st := range steps {
		err := e.svc.SetPIN(e.ctx, alice.User, st.pin, st.oldPIN)
		wantErr(t, err, st.code, st.reason)
		u, err := e.store.User(e.ctx, alice.User)
		if err != nil {
			t.Fatal(err)
		}
		if (len(u.PINHash) > 0) != st.wantSet {
			t.Fatalf("%s: PIN hash %q, want set %v", st.name, u.PINHash, st.wantSet)
		}
		if st.code == "" && st.pin != "" && !strings.HasPrefix(string(u.PINHash), "$argon2id$v=19$m=19456,t=2,p=1$") {
			t.Fatalf("%s: PIN hash %q is not an encoded argon2id hash", st.name, u.PINHash)
		}
	}

	// Same PIN, different salt.
	if err := e.svc.SetPIN(e.ctx, alice.User, "1234", ""); err != nil {
		t.Fatal(err)
	}
	first, _ := e.store.User(e.ctx, alice.User)
	if err := e.svc.SetPIN(e.ctx, alice.User, "1234", "1234"); err != nil {
		t.Fatal(err)
	}
	second, _ := e.store.User(e.ctx, alice.User)
	if string(first.PINHash) == string(second.PINHash) {
		t.Fatal("two hashes of one PIN are equal: no salt")
	}
}

func TestContactsAndBlocks(t *testing.T) {
	e := newEnv(t, accounts.Config{})
	alice := e.MustSignUp(alicePhone, "Alice")
	bob := e.MustSignUp(bobPhone, "Bob")
	calls := []struct {
		name   string
		call   func() error
		code   parley.Code
		reason string
	}{
		{"add", func() error { return e.svc.AddContact(e.ctx, alice.User, bob.User) }, "", ""},
		{"add again", func() error { return e.svc.AddContact(e.ctx, alice.User, bob.User) }, "", ""},
		{"add self", func() error { return e.svc.AddContact(e.ctx, alice.User, alice.User) }, parley.CodeInvalid, "self"},
		{"add unknown", func() error { return e.svc.AddContact(e.ctx, alice.User, 99999) }, parley.CodeNotFound, "user_not_found"},
		{"block", func() error { return e.svc.Block(e.ctx, alice.User, bob.User) }, "", ""},
		{"block again", func() error { return e.svc.Block(e.ctx, alice.User, bob.User) }, "", ""},
		{"block self", func() error { return e.svc.Block(e.ctx, alice.User, alice.User) }, parley.CodeInvalid, "self"},
		{"block unknown", func() error { return e.svc.Block(e.ctx, alice.User, 99999) }, parley.CodeNotFound, "user_not_found"},
	}
	for _, c := range calls {
		wantErr(t, c.call(), c.code, c.reason)
	}
	p, err := e.svc.Resolve(e.ctx, alice.User, accounts.Query{User: bob.User})
	if err != nil || !p.Contact || !p.Blocked {
		t.Fatalf("Resolve = %+v, %v; want contact and blocked", p, err)
	}
	for _, call := range []func() error{
		func() error { return e.svc.RemoveContact(e.ctx, alice.User, bob.User) },
		func() error { return e.svc.RemoveContact(e.ctx, alice.User, bob.User) },
		func() error { return e.svc.Unblock(e.ctx, alice.User, bob.User) },
		func() error { return e.svc.Unblock(e.ctx, alice.User, bob.User) },
	} {
		if err := call(); err != nil {
			t.Fatal(err)
		}
	}
	if ok, _ := e.store.IsContact(e.ctx, alice.User, bob.User); ok {
		t.Fatal("still a contact")
	}
	if ok, _ := e.store.IsBlocked(e.ctx, alice.User, bob.User); ok {
		t.Fatal("still blocked")
	}
}
