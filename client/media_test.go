package client_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/attachment"
	"github.com/parleyhq/parley/client"
)

// TestMediaMessages: a file, a location and a contact card go from alice to
// bob inside MLS messages; bob downloads and verifies the file by message
// ID; bob forwards it to carol without re-uploading; a message ID from a
// chat carol is not in is not found on her device.
func TestMediaMessages(t *testing.T) {
	ts := mustServer(t)
	ctx := ctxT(t)
	alice := mustRegister(t, ts, phone(1), "Alice")
	bob := mustRegister(t, ts, phone(2), "Bob")
	carol := mustRegister(t, ts, phone(3), "Carol")

	img := image.NewGray(image.Rect(0, 0, 640, 480))
	for i := range img.Pix {
		img.Pix[i] = byte(i)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "pic.png")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}

	sent, err := alice.SendFile(ctx, bob.phone, path, client.SendFileOptions{Caption: "look"})
	if err != nil {
		t.Fatal(err)
	}
	if sent.Kind != client.KindImage || sent.Media == nil || sent.Media.Width != 640 || sent.Text != "look" || sent.ID() == "" {
		t.Fatalf("sent %+v", sent)
	}
	ev := mustEvent(t, bob.Client, "image", func(ev client.Event) bool {
		return ev.Kind == client.EventMessage && ev.Message.Kind == client.KindImage
	})
	got := ev.Message
	if got.ID() != sent.ID() || got.Media.Height != 480 || len(got.Media.Thumbnail) == 0 || got.Text != "look" || got.Forwarded {
		t.Fatalf("bob received %+v (media %+v)", got, got.Media)
	}
	var out bytes.Buffer
	if _, err := bob.DownloadMedia(ctx, got.ID(), &out); err != nil || !bytes.Equal(out.Bytes(), buf.Bytes()) {
		t.Fatalf("download: %v (%d bytes)", err, out.Len())
	}
	stored, err := bob.Message(ctx, got.ID())
	if err != nil || stored.Media == nil || stored.Media.Blob != sent.Media.Blob {
		t.Fatalf("stored message %+v: %v", stored, err)
	}

	fwd, err := bob.Forward(ctx, got.ID(), carol.phone)
	if err != nil {
		t.Fatal(err)
	}
	if !fwd.Forwarded || fwd.Media.Blob != sent.Media.Blob {
		t.Fatalf("forward %+v", fwd)
	}
	ev = mustEvent(t, carol.Client, "forward", func(ev client.Event) bool {
		return ev.Kind == client.EventMessage && ev.Message.Kind == client.KindImage
	})
	if !ev.Message.Forwarded {
		t.Fatalf("carol's copy is not marked forwarded")
	}
	dst := filepath.Join(t.TempDir(), "saved.png")
	if _, p, err := carol.DownloadMediaFile(ctx, ev.Message.ID(), dst); err != nil || p != dst {
		t.Fatalf("carol download: %v", err)
	}
	if b, _ := os.ReadFile(dst); !bytes.Equal(b, buf.Bytes()) {
		t.Fatalf("carol's file differs")
	}
	if _, err := carol.DownloadMedia(ctx, got.ID(), &out); !parley.IsCode(err, parley.CodeNotFound) {
		t.Fatalf("carol downloading from alice and bob's chat: %v, want not found", err)
	}

	loc, err := alice.SendLocation(ctx, bob.phone, 51.5007, -0.1246, "Big Ben")
	if err != nil {
		t.Fatal(err)
	}
	ev = mustEvent(t, bob.Client, "location", func(ev client.Event) bool {
		return ev.Kind == client.EventMessage && ev.Message.Kind == client.KindLocation
	})
	if l := ev.Message.Media.Location; l == nil || l.Lat != 51.5007 || l.Name != "Big Ben" || ev.Message.ID() != loc.ID() {
		t.Fatalf("location %+v", ev.Message.Media)
	}
	if _, err := alice.SendLocation(ctx, bob.phone, 91, 0, ""); !parley.IsCode(err, parley.CodeInvalid) {
		t.Fatalf("latitude 91: %v", err)
	}
	if _, err := alice.SendContact(ctx, bob.phone, attachment.VCard("Dana", "+14155550199")); err != nil {
		t.Fatal(err)
	}
	ev = mustEvent(t, bob.Client, "contact", func(ev client.Event) bool {
		return ev.Kind == client.EventMessage && ev.Message.Kind == client.KindContact
	})
	if c, err := attachment.ParseVCard(ev.Message.Media.VCard); err != nil || c.Name != "Dana" {
		t.Fatalf("contact %v: %v", c, err)
	}
	if _, err := bob.DownloadMedia(ctx, ev.Message.ID(), &out); !parley.IsCode(err, parley.CodeInvalid) {
		t.Fatalf("download of a contact card: %v", err)
	}
	if ch, err := bob.Chat(ctx, alice.phone); err != nil || ch.LastText != "[contact]" {
		t.Fatalf("bob's chat with alice: last text %q, %v", ch.LastText, err)
	}
}

func TestParseMessageID(t *testing.T) {
	id := parley.NewConversationID()
	conv, seq, err := client.ParseMessageID(client.FormatMessageID(id, 42))
	if err != nil || conv != id || seq != 42 {
		t.Fatalf("round trip: %v %v %v", conv, seq, err)
	}
	for _, bad := range []string{"", string(id), string(id) + ":0", string(id) + ":x", "nope:3", ":3"} {
		if _, _, err := client.ParseMessageID(bad); !parley.IsCode(err, parley.CodeInvalid) {
			t.Errorf("ParseMessageID(%q) = %v, want invalid", bad, err)
		}
	}
}

// TestStoreMigration: a profile created before media columns existed opens
// and stores media messages.
func TestStoreMigration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parley.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE messages (conversation TEXT NOT NULL, seq INTEGER NOT NULL, client_id TEXT NOT NULL,
		sender INTEGER NOT NULL, sender_device INTEGER NOT NULL, outgoing INTEGER NOT NULL, kind TEXT NOT NULL, text TEXT NOT NULL,
		sent_at INTEGER NOT NULL, stored_at INTEGER NOT NULL, status TEXT NOT NULL, payload BLOB, epoch INTEGER NOT NULL DEFAULT 0,
		PRIMARY KEY (conversation, sender_device, client_id))`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	ctx := context.Background()
	st, err := client.OpenSQLiteStore(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	conv := parley.NewConversationID()
	d, _ := attachment.NewLocation(1, 2, "x")
	m := client.MessageRecord{Conversation: conv, Seq: 7, ClientID: "c1", Kind: client.KindLocation, Media: &d, Forwarded: true, Status: client.StatusReceived}
	if err := st.Apply(ctx, client.Applied{Conversation: conv, Message: &m}); err != nil {
		t.Fatal(err)
	}
	got, err := st.Message(ctx, conv, 7)
	if err != nil || got.Media == nil || got.Media.Location.Name != "x" || !got.Forwarded {
		t.Fatalf("got %+v: %v", got, err)
	}
}

// failingFile fails every read past limit, like a file on a disk that went
// away: the upload stops part way.
type failingFile struct {
	data  []byte
	limit int64
}

func (f failingFile) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > f.limit {
		return 0, errors.New("device gone")
	}
	return copy(p, f.data[off:]), nil
}

// TestSendFileResumes: an upload an earlier SendFile left unfinished is
// resumed, not restarted, when the same file is sent to the same chat
// again, and its record is dropped once it completes.
func TestSendFileResumes(t *testing.T) {
	ts := mustServer(t)
	ctx := ctxT(t)
	alice := mustRegister(t, ts, phone(1), "Alice")
	bob := mustRegister(t, ts, phone(2), "Bob")
	first, err := alice.Send(ctx, bob.phone, "a file follows")
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 3<<20+123)
	_, _ = rand.Read(data)
	path := filepath.Join(t.TempDir(), "data.bin")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}

	// An upload that stops after 1 MiB, as a killed `parley send` would
	// leave it, recorded where SendFile looks for it.
	acct := alice.Account()
	ac := &attachment.Client{BaseURL: ts.URL, Device: acct.Device, Secret: acct.Secret, MaxRetries: 1}
	d := attachment.Descriptor{Kind: attachment.KindDocument, FileName: "data.bin", Size: int64(len(data))}
	if err := ac.Upload(ctx, first.Conversation, failingFile{data, 1 << 20}, &d); err == nil || !d.Blob.Valid() {
		t.Fatalf("partial upload: %v (blob %q)", err, d.Blob)
	}
	state := client.PendingUploadPath(alice.Client, first.Conversation, path)
	if err := client.SavePendingUpload(state, d); err != nil {
		t.Fatal(err)
	}

	sent, err := alice.SendFile(ctx, bob.phone, path, client.SendFileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if sent.Media.Blob != d.Blob {
		t.Fatalf("SendFile uploaded blob %s, want the resumed %s", sent.Media.Blob, d.Blob)
	}
	if _, err := os.Stat(state); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the pending-upload record survived: %v", err)
	}
	mustEvent(t, bob.Client, "file", func(ev client.Event) bool {
		return ev.Kind == client.EventMessage && ev.Message.ID() == sent.ID()
	})
	var out bytes.Buffer
	if _, err := bob.DownloadMedia(ctx, sent.ID(), &out); err != nil || !bytes.Equal(out.Bytes(), data) {
		t.Fatalf("download: %v (%d bytes)", err, out.Len())
	}

	// A record whose upload the server no longer has: SendFile starts over.
	gone := d
	gone.Blob = parley.BlobID("b" + strings.Repeat("a", 26))
	if err := client.SavePendingUpload(state, gone); err != nil {
		t.Fatal(err)
	}
	again, err := alice.SendFile(ctx, bob.phone, path, client.SendFileOptions{})
	if err != nil || again.Media.Blob == gone.Blob || again.Media.Blob == d.Blob {
		t.Fatalf("SendFile with a stale record: %v (blob %s)", err, again.Media.Blob)
	}
}
