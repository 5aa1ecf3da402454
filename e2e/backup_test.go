package e2e

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestBackupUnderLoad: `parley admin backup` copies a server's data while
// a send loop keeps writing; `parley admin restore` brings it back into a
// new directory, and a server started on it serves every message that was
// acknowledged ("sent") before the backup began.
func TestBackupUnderLoad(t *testing.T) {
	s := mustServe(t)
	alice := newDevice(t, "alice", "+14155550181")
	bob := newDevice(t, "bob", "+14155550182")
	alice.mustRegister(s, "Alice")
	bob.mustRegister(s, "Bob")

	type ack struct {
		text string
		at   time.Time // when the CLI exited 0: the server had it durably
	}
	var mu sync.Mutex
	var acked []ack
	progress := make(chan struct{}, 1000)
	stop := make(chan struct{})
	loopDone := make(chan error, 1)
	go func() { // the send loop: alice's CLI, one process per message
		for i := 0; ; i++ {
			select {
			case <-stop:
				loopDone <- nil
				return
			default:
			}
			text := fmt.Sprintf("m%d", i)
			out, err := exec.Command(parleyBin, "--json", "--profile", alice.profile, "send", "--to", bob.phone, text).CombinedOutput()
			if err != nil {
				loopDone <- fmt.Errorf("send %s: %v\n%s", text, err, out)
				return
			}
			mu.Lock()
			acked = append(acked, ack{text, time.Now()})
			mu.Unlock()
			progress <- struct{}{}
		}
	}()
	for range 5 {
		select {
		case <-progress:
		case err := <-loopDone:
			t.Fatal(err)
		}
	}

	archive := filepath.Join(t.TempDir(), "parley.tar.gz")
	began := time.Now()
	out, err := exec.Command(parleyBin, "admin", "backup", "--data", s.data, "--out", archive).CombinedOutput()
	if err != nil {
		t.Fatalf("admin backup: %v\n%s", err, out)
	}
	ended := time.Now()
	if !strings.Contains(string(out), "keys NOT included") || !strings.Contains(string(out), "code.key") {
		t.Errorf("backup did not say which keys it left out:\n%s", out)
	}
	// Let the loop go on after the backup, then stop it.
	for range 2 {
		select {
		case <-progress:
		case err := <-loopDone:
			t.Fatal(err)
		}
	}
	close(stop)
	if err := <-loopDone; err != nil {
		t.Fatal(err)
	}
	s.stop()

	var before []string
	during := 0
	mu.Lock()
	for _, a := range acked {
		switch {
		case a.at.Before(began):
			before = append(before, a.text)
		case a.at.Before(ended):
			during++
		}
	}
	mu.Unlock()
	t.Logf("%d sends acknowledged before the backup began, %d while it ran (%v), %d in all", len(before), during, ended.Sub(began).Round(time.Millisecond), len(acked))

	// Restore refuses a directory that is not empty.
	full := t.TempDir()
	os.WriteFile(filepath.Join(full, "x"), nil, 0o600)
	if out, err := exec.Command(parleyBin, "admin", "restore", "--in", archive, "--data", full).CombinedOutput(); err == nil || !strings.Contains(string(out), "not empty") {
		t.Fatalf("restore into a non-empty directory: %v\n%s", err, out)
	}
	restored := filepath.Join(t.TempDir(), "restored")
	out, err = exec.Command(parleyBin, "admin", "restore", "--in", archive, "--data", restored).CombinedOutput()
	if err != nil {
		t.Fatalf("admin restore: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "holds no keys") {
		t.Errorf("restore did not say the keys are missing:\n%s", out)
	}

	// A server on the restored directory, at the address the profiles know.
	r := &server{t: t, data: restored, listen: s.listen, codes: map[string]string{}, notify: make(chan struct{})}
	r.mustStart()
	t.Cleanup(r.stop)
	resp, err := http.Get(r.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "ready\n" {
		t.Fatalf("restored server's /readyz = %d %q", resp.StatusCode, body)
	}
	got := texts(bob.must("history", "--limit", "0", alice.phone).lines())
	for _, want := range before {
		if !slices.Contains(got, want) {
			t.Fatalf("restored server lacks %q, acknowledged before the backup began; bob has %v", want, got)
		}
	}
}
