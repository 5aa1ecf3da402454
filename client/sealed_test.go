//go:build !js

package client_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/parleyhq/parley/client"
)

// TestSealedStore: secrets and MLS state go to disk sealed, come back with
// the key, and a wrong key is refused.
func TestSealedStore(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "client.db")
	key := bytes.Repeat([]byte{9}, 32)
	st, err := client.OpenSealedSQLiteStore(ctx, path, key)
	if err != nil {
		t.Fatal(err)
	}
	secret := []byte("device-secret-0123456789abcdef!!")
	sig := []byte("signature-private-key-abcdefghijk")
	state := []byte("mls-group-state-with-epoch-secrets")
	kp := []byte("keypackage-private-init-key-material")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(st.PutAccount(ctx, client.Account{ServerURL: "http://x", User: 1, Device: 2, Secret: secret, SigPriv: sig, SigPub: []byte("pub")}))
	must(st.PutKeyPackages(ctx, []client.KeyPackageSecret{{Ref: []byte("r1"), Private: kp}}))
	must(st.Apply(ctx, client.Applied{Conversation: "cabcdefghij", Group: state, Epoch: 3, Chat: &client.Chat{Kind: "direct", Title: "t"}}))
	must(st.Close())

	raw, err := os.ReadFile(path)
	must(err)
	if wal, err := os.ReadFile(path + "-wal"); err == nil {
		raw = append(raw, wal...)
	}
	for _, s := range [][]byte{secret, sig, state, kp} {
		if bytes.Contains(raw, s) {
			t.Fatalf("%q is on disk in the clear", s)
		}
	}

	st, err = client.OpenSealedSQLiteStore(ctx, path, key)
	must(err)
	a, err := st.Account(ctx)
	must(err)
	if !bytes.Equal(a.Secret, secret) || !bytes.Equal(a.SigPriv, sig) || a.Device != 2 {
		t.Fatalf("account: %+v", a)
	}
	kps, err := st.KeyPackages(ctx)
	must(err)
	if len(kps) != 1 || !bytes.Equal(kps[0].Private, kp) {
		t.Fatalf("key packages: %+v", kps)
	}
	g, err := st.Group(ctx, "cabcdefghij")
	must(err)
	if !bytes.Equal(g, state) {
		t.Fatalf("group: %q", g)
	}
	must(st.Close())

	st, err = client.OpenSealedSQLiteStore(ctx, path, bytes.Repeat([]byte{8}, 32))
	must(err)
	defer st.Close()
	if _, err := st.Account(ctx); err == nil {
		t.Fatal("the account opened with a wrong key")
	}
	if _, err := st.Group(ctx, "cabcdefghij"); err == nil {
		t.Fatal("the group state opened with a wrong key")
	}
}
