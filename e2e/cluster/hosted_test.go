package cluster

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/apiclient"
	"github.com/parleyhq/parley/broker/nats/natstest"
	pclient "github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/mls"
	"github.com/parleyhq/parley/store/postgres"
)

// seedClient creates a user with one primary device in the store and a
// client profile holding its credentials, connected to serverURL.
func seedClient(t *testing.T, dsn, phone, name, serverURL string) (*pclient.Client, pclient.Account) {
	t.Helper()
	ctx := context.Background()
	st, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Now()
	u, err := st.CreateUser(ctx, parley.User{Phone: phone, Name: name, CreatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	sig, err := mls.GenerateSigner(pclient.CipherSuite)
	if err != nil {
		t.Fatal(err)
	}
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	h := sha256.Sum256(secret)
	d, err := st.CreateDevice(ctx, parley.Device{User: u.ID, Name: name, Primary: true, SecretHash: h[:], IdentityKey: sig.Public, CreatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	acct := pclient.Account{User: u.ID, Device: d.ID, Secret: secret, Phone: phone, Name: name, Primary: true,
		SigPriv: sig.Private, SigPub: sig.Public, ServerURL: serverURL}
	dir := t.TempDir()
	ls, err := pclient.OpenSQLiteStore(ctx, filepath.Join(dir, "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := ls.PutAccount(ctx, acct); err != nil {
		t.Fatal(err)
	}
	ls.Close()
	c, err := pclient.Open(ctx, pclient.Config{Dir: dir, Events: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, acct
}

// waitText waits for a message with text on c and returns it.
func waitText(t *testing.T, c *pclient.Client, text string) pclient.MessageRecord {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case ev := <-c.Events():
			if ev.Kind == pclient.EventMessage && ev.Message != nil && ev.Message.Text == text {
				return *ev.Message
			}
		case <-deadline:
			t.Fatalf("no message %q", text)
		}
	}
}

// TestHostedEndpointTakeover: a business's hosted endpoint runs on the node
// that enabled the API (it holds the lease); a request reaching the other
// node is forwarded to it over NATS; that node is killed with
// SIGKILL; the other node, with a data directory of its own, takes the
// lease over and continues the endpoint from the sealed state in
// PostgreSQL: the business API on it sends to the customer in the same
// chat, and the customer decrypts it.
func TestHostedEndpointTakeover(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dsn := freshDSN(t)
	natsURL := envNATS()
	if natsURL == "" {
		natsURL = natstest.Start(t).URL()
	}
	// The operator key is the one secret every node shares (not a directory).
	keyFile := filepath.Join(t.TempDir(), "operator.key")
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	if err := os.WriteFile(keyFile, []byte(hex.EncodeToString(key)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	flags := []string{"--operator-key", keyFile, "--operator-token", "op-token"}
	a, b := startNode(t, "a", dsn, natsURL, flags...), startNode(t, "b", dsn, natsURL, flags...)
	urlA, urlB := "http://"+a.addr, "http://"+b.addr

	owner, ownerAcct := seedClient(t, dsn, "+14155550100", "Corner Shop", urlA)
	customer, _ := seedClient(t, dsn, "+14155550101", "Customer", urlB)
	code, _, err := owner.LinkCode(ctx)
	if err != nil {
		t.Fatal(err)
	}
	owned := &apiclient.Client{Base: urlA, Auth: apiclient.DeviceAuth(ownerAcct.Device, ownerAcct.Secret)}
	num, err := owned.EnableAPI(ctx, code) // node a attaches the endpoint: a holds the lease
	if err != nil {
		t.Fatalf("enable the API on node a: %v", err)
	}
	pnid := num["phone_number_id"].(string)
	tok, err := owned.CreateToken(ctx, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	api := func(base string) *apiclient.Client {
		return &apiclient.Client{Base: base, Auth: apiclient.Bearer(tok["token"].(string))}
	}
	send := func(base, text string) error {
		return api(base).Call(ctx, "POST", apiclient.CloudPath(pnid, "/messages"), map[string]any{"messaging_product": "whatsapp",
			"to": strings.TrimPrefix("+14155550101", "+"), "type": "text", "text": map[string]any{"body": text}}, nil)
	}

	// The customer writes first (the service window opens), through node b.
	if _, err := customer.Send(ctx, "+14155550100", "is the shop open?"); err != nil {
		t.Fatal(err)
	}
	var first pclient.MessageRecord
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := send(urlA, "yes, until six")
		if err == nil {
			first = waitText(t, customer, "yes, until six")
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("send through node a: %v", err)
		}
		time.Sleep(200 * time.Millisecond) // the window opens once the endpoint took the message
	}
	// Node b does not run the endpoint: it forwards the request to node a
	// (NATS request/reply), which sends in the same chat.
	if err := send(urlB, "forwarded by b"); err != nil {
		t.Fatalf("send through node b while node a holds the endpoint: %v", err)
	}
	if got := waitText(t, customer, "forwarded by b"); got.Conversation != first.Conversation {
		t.Fatalf("the forwarded send is in chat %s, want %s", got.Conversation, first.Conversation)
	}
	if _, err := os.Stat(filepath.Join(b.dataDir, "hosted", pnid)); !os.IsNotExist(err) {
		t.Fatalf("node b opened the endpoint while a holds its lease: %v", err)
	}

	// Node a dies. Within the lease's TTL (15 s) and a renewal period node
	// b takes the endpoint over and sends in the same chat.
	a.kill()
	killed := time.Now()
	deadline = killed.Add(60 * time.Second)
	for {
		err := send(urlB, "sent after the takeover")
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("node b never took the endpoint over: %v\nnode b log:\n%s", err, b.logText())
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Logf("node b sent %v after node a's death", time.Since(killed).Round(100*time.Millisecond))
	got := waitText(t, customer, "sent after the takeover")
	if got.Conversation != first.Conversation || got.Sender != ownerAcct.User {
		t.Fatalf("after the takeover: chat %s from %d, want chat %s from the business %d", got.Conversation, got.Sender, first.Conversation, ownerAcct.User)
	}
	// The customer's next message reaches the endpoint on b, which answers
	// in the window it opened (its handled marks and chats came along).
	if _, err := customer.Send(ctx, "+14155550100", "thanks"); err != nil {
		t.Fatal(err)
	}
	if err := send(urlB, "you are welcome"); err != nil {
		t.Fatal(err)
	}
	waitText(t, customer, "you are welcome")
	// Nothing of the endpoint's state is in b's data directory but media.
	if _, err := os.Stat(filepath.Join(b.dataDir, "hosted", pnid, "client.db")); !os.IsNotExist(err) {
		t.Fatalf("node b has a client.db: %v", err)
	}
}
