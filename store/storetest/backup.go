package storetest

import (
	"bytes"
	"testing"

	"github.com/parleyhq/parley"
)

// testClientBackup: one backup per account, replaced whole; CodeNotFound
// ReasonBackupNotFound without one; kept across a reopen.
func testClientBackup(t *testing.T, s parley.Store) {
	ctx := t.Context()
	u := MustUser(t, s).ID
	d := MustDevice(t, s, u)
	if _, err := s.ClientBackup(ctx, u); parley.ErrorReason(err) != parley.ReasonBackupNotFound || !parley.IsCode(err, parley.CodeNotFound) {
		t.Fatalf("no backup yet: %v", err)
	}
	must(t, s.PutClientBackup(ctx, parley.ClientBackup{User: u, Device: d.ID, Data: []byte("first ciphertext"), CreatedAt: t0}))
	later := t0.Add(3600e9)
	must(t, s.PutClientBackup(ctx, parley.ClientBackup{User: u, Device: d.ID, Data: []byte("second"), CreatedAt: later}))
	b, err := s.ClientBackup(ctx, u)
	must(t, err)
	if !bytes.Equal(b.Data, []byte("second")) || b.Device != d.ID || !b.CreatedAt.Equal(later) {
		t.Fatalf("backup %+v", b)
	}
	if _, err := s.ClientBackup(ctx, MustUser(t, s).ID); !parley.IsCode(err, parley.CodeNotFound) {
		t.Fatalf("another user's backup: %v", err)
	}
	must(t, s.DeleteClientBackup(ctx, u))
	must(t, s.DeleteClientBackup(ctx, u))
	if _, err := s.ClientBackup(ctx, u); !parley.IsCode(err, parley.CodeNotFound) {
		t.Fatalf("after delete: %v", err)
	}
}

// testDirectUsersKept: a direct conversation keeps its two users
// (DirectUsers) and stays among ConversationsOfUser of a user whose every
// device left it (re-registration revokes them all).
func testDirectUsersKept(t *testing.T, s parley.Store) {
	ctx := t.Context()
	u, v := MustUser(t, s).ID, MustUser(t, s).ID
	du, dv := MustDevice(t, s, u), MustDevice(t, s, v)
	id := parley.NewConversationID()
	_, err := s.CreateConversation(ctx, parley.Conversation{ID: id, Kind: parley.KindDirect, Epoch: 1, CreatedBy: u, CreatedAt: t0},
		[]parley.Member{{User: u, Device: du.ID}, {User: v, Device: dv.ID}}, nil)
	must(t, err)
	_, err = s.RevokeDevice(ctx, du.ID, t0)
	must(t, err)
	cs, err := s.ConversationsOfUser(ctx, u)
	must(t, err)
	if len(cs) != 1 || cs[0].ID != id {
		t.Fatalf("conversations of a user without devices in them: %+v", cs)
	}
	lo, hi := min(u, v), max(u, v)
	if cs[0].DirectUsers != [2]parley.UserID{lo, hi} {
		t.Fatalf("direct users %v, want %d and %d", cs[0].DirectUsers, lo, hi)
	}
	c, err := s.Conversation(ctx, id)
	must(t, err)
	if c.DirectUsers != cs[0].DirectUsers {
		t.Fatalf("Conversation's direct users %v", c.DirectUsers)
	}
}
