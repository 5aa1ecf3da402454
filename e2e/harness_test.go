// Package e2e holds whole-system tests: the real server started as the
// built parley binary on port 0 in a temp dir, driven through the CLI (and
// raw protocol frames where a misbehaving client is the point).
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/parleyhq/parley/parleytest"
)

// parleyBin is the CLI built once by TestMain.
var parleyBin string

func TestMain(m *testing.M) { parleytest.RunWithBinary(m, "../cmd/parley", &parleyBin) }

// TestSourcesTracked opens the module's Go sources: go test's cache records
// the files a test opens, so a change anywhere in the binary's sources
// (built by TestMain, outside the test's own build) reruns these tests
// instead of reporting a stale cached pass.
func TestSourcesTracked(t *testing.T) { touchSources("..") }

func touchSources(root string) {
	filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if !d.IsDir() && (strings.HasSuffix(path, ".go") || d.Name() == "go.mod" || d.Name() == "go.sum") {
			f, err := os.Open(path)
			if err == nil {
				f.Close()
			}
		}
		return nil
	})
}

var (
	listeningRe = regexp.MustCompile(`listening on (http://[0-9.:]+)`)
	codeRe      = regexp.MustCompile(`verification code for (\+[0-9]+): ([0-9]+)`)
)

// server is a `parley serve` process.
type server struct {
	t      *testing.T
	data   string
	listen string
	URL    string
	cmd    *exec.Cmd
	exited chan struct{}

	mu     sync.Mutex
	codes  map[string]string
	notify chan struct{}
	log    bytes.Buffer
}

func mustServe(t *testing.T) *server {
	t.Helper()
	s := &server{t: t, data: t.TempDir(), listen: "127.0.0.1:0", codes: map[string]string{}, notify: make(chan struct{})}
	s.mustStart()
	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			s.mu.Lock()
			t.Logf("server log:\n%s", s.log.String())
			s.mu.Unlock()
		}
	})
	return s
}

func (s *server) mustStart() {
	t := s.t
	t.Helper()
	var lastErr error
	for attempt := 0; attempt < 50; attempt++ {
		// The tests' webhook receivers listen on 127.0.0.1: allowed as an
		// operator allows a private range.
		cmd := exec.Command(parleyBin, "serve", "--data", s.data, "--listen", s.listen, "--outbound-allow", "127.0.0.1/32")
		stderr, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		url := make(chan string, 1)
		exited := make(chan struct{})
		go func() {
			sc := bufio.NewScanner(stderr)
			sc.Buffer(make([]byte, 64<<10), 1<<20)
			for sc.Scan() {
				line := sc.Text()
				s.mu.Lock()
				s.log.WriteString(line + "\n")
				if m := codeRe.FindStringSubmatch(line); m != nil {
					s.codes[m[1]] = m[2]
					close(s.notify)
					s.notify = make(chan struct{})
				}
				s.mu.Unlock()
				if m := listeningRe.FindStringSubmatch(line); m != nil {
					select {
					case url <- m[1]:
					default:
					}
				}
			}
			io.Copy(io.Discard, stderr)
		}()
		go func() {
			cmd.Wait()
			close(exited)
		}()
		select {
		case u := <-url:
			s.URL, s.cmd, s.exited = u, cmd, exited
			s.listen = strings.TrimPrefix(u, "http://")
			return
		case <-exited:
			// The previous process may still hold the port: try again.
			lastErr = fmt.Errorf("server exited before listening")
			time.Sleep(100 * time.Millisecond)
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("server did not start listening")
		}
	}
	t.Fatalf("server: %v\n%s", lastErr, s.log.String())
}

// stop ends the server gracefully (SIGTERM) and waits for it.
func (s *server) stop() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(15 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
	}
	s.cmd = nil
}

// kill ends the server abruptly (SIGKILL): only durable state survives.
func (s *server) kill() {
	s.cmd.Process.Kill()
	<-s.exited
	s.cmd = nil
}

// mustRestart starts a new server process on the same address and data.
func (s *server) mustRestart() {
	s.t.Helper()
	s.mustStart()
}

// MustCode waits for the verification code sent to phone.
func (s *server) MustCode(phone string) string {
	s.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		s.mu.Lock()
		code, ok := s.codes[phone]
		delete(s.codes, phone)
		ch := s.notify
		s.mu.Unlock()
		if ok {
			return code
		}
		select {
		case <-ch:
		case <-deadline:
			s.t.Fatalf("no verification code for %s", phone)
		}
	}
}

// device is one CLI profile.
type device struct {
	t       *testing.T
	name    string
	profile string
	phone   string
}

func newDevice(t *testing.T, name, phone string) *device {
	return &device{t: t, name: name, profile: filepath.Join(t.TempDir(), name), phone: phone}
}

// result is one CLI run.
type result struct {
	code   int
	stdout string
	stderr string
}

func (r result) lines() []map[string]any {
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err == nil {
			out = append(out, m)
		}
	}
	return out
}

// run runs the CLI with --json on the device's profile.
func (d *device) run(args ...string) result {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	global := []string{"--json", "--profile", d.profile}
	if os.Getenv("E2E_VERBOSE") != "" {
		global = append(global, "-v")
	}
	cmd := exec.CommandContext(ctx, parleyBin, append(global, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		d.t.Fatalf("%s: parley %v: %v", d.name, args, err)
	}
	return r
}

// must runs the CLI and fails the test unless it exits 0.
func (d *device) must(args ...string) result {
	d.t.Helper()
	r := d.run(args...)
	if r.code != 0 {
		d.t.Fatalf("%s: parley %s: exit %d\nstdout: %s\nstderr: %s", d.name, strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// mustFail runs the CLI and fails the test unless it exits with code.
func (d *device) mustFail(code int, args ...string) result {
	d.t.Helper()
	r := d.run(args...)
	if r.code != code {
		d.t.Fatalf("%s: parley %s: exit %d, want %d\nstdout: %s\nstderr: %s", d.name, strings.Join(args, " "), r.code, code, r.stdout, r.stderr)
	}
	return r
}

// mustRegister registers the device's phone as a new account (primary).
func (d *device) mustRegister(s *server, name string) {
	d.t.Helper()
	d.must("account", "register", "--server", s.URL, "--phone", d.phone, "--name", name)
	d.must("account", "verify", "--code", s.MustCode(d.phone))
}

// mustLink makes d a linked device of primary's account.
func (d *device) mustLink(s *server, primary *device) {
	d.t.Helper()
	out := primary.must("device", "link").lines()
	if len(out) != 1 || out[0]["code"] == nil {
		d.t.Fatalf("device link printed %v", out)
	}
	d.phone = primary.phone
	d.must("device", "add", "--server", s.URL, "--code", out[0]["code"].(string), "--name", d.name)
}

func (d *device) deviceID() int64 {
	d.t.Helper()
	out := d.must("whoami").lines()
	return int64(out[0]["device_id"].(float64))
}

// startCLI runs the CLI in the background on d's profile; its printed
// lines are the listener's (mustSee), and wait returns its exit code.
func startCLI(d *device, args ...string) (*listener, func() int) {
	d.t.Helper()
	l := &listener{d: d, notify: make(chan struct{}), done: make(chan struct{})}
	l.cmd = exec.Command(parleyBin, append([]string{"--json", "--profile", d.profile}, args...)...)
	stdout, err := l.cmd.StdoutPipe()
	if err != nil {
		d.t.Fatal(err)
	}
	var stderr bytes.Buffer
	l.cmd.Stderr = &stderr
	if err := l.cmd.Start(); err != nil {
		d.t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) != nil {
				continue
			}
			l.mu.Lock()
			l.lines = append(l.lines, m)
			close(l.notify)
			l.notify = make(chan struct{})
			l.mu.Unlock()
		}
		l.cmd.Wait()
		close(l.done)
	}()
	d.t.Cleanup(func() {
		l.stop()
		if d.t.Failed() {
			d.t.Logf("%s %v stderr: %s", d.name, args, stderr.String())
		}
	})
	wait := func() int {
		d.t.Helper()
		select {
		case <-l.done:
		case <-time.After(60 * time.Second):
			d.t.Fatalf("%s: parley %v did not exit", d.name, args)
		}
		return l.cmd.ProcessState.ExitCode()
	}
	return l, wait
}

// listener is a background CLI process (`parley listen --all`, a call…)
// whose printed lines the test waits on.
type listener struct {
	d      *device
	cmd    *exec.Cmd
	mu     sync.Mutex
	lines  []map[string]any
	notify chan struct{}
	done   chan struct{}
}

// mustListen starts `listen --all` and waits until it is connected.
func (d *device) mustListen() *listener {
	d.t.Helper()
	l, _ := startCLI(d, "listen", "--all", "--for", "2m")
	l.mustSee("connected", func(m map[string]any) bool { return m["event"] == "connection" && m["connected"] == true })
	return l
}

// mustSee waits until a printed line satisfies match and returns it.
func (l *listener) mustSee(what string, match func(map[string]any) bool) map[string]any {
	l.d.t.Helper()
	deadline := time.After(20 * time.Second)
	seen := 0
	for {
		l.mu.Lock()
		lines, ch := l.lines, l.notify
		l.mu.Unlock()
		for _, m := range lines[seen:] {
			if match(m) {
				return m
			}
		}
		seen = len(lines)
		select {
		case <-ch:
		case <-l.done:
			l.mu.Lock()
			n := len(l.lines)
			l.mu.Unlock()
			if n == seen {
				l.d.t.Fatalf("%s: listen exited before %s; saw %v", l.d.name, what, lines)
			}
		case <-deadline:
			l.d.t.Fatalf("%s: timed out waiting for %s; saw %v", l.d.name, what, lines)
		}
	}
}

// stop interrupts the listener and waits for it to exit.
func (l *listener) stop() {
	if l.cmd.Process == nil {
		return
	}
	l.cmd.Process.Signal(os.Interrupt)
	select {
	case <-l.done:
	case <-time.After(10 * time.Second):
		l.cmd.Process.Kill()
		<-l.done
	}
}

// kill ends the listener abruptly.
func (l *listener) kill() {
	l.cmd.Process.Kill()
	<-l.done
}

func isMessage(text string) func(map[string]any) bool {
	return func(m map[string]any) bool { return m["event"] == "message" && m["text"] == text }
}

func isReceipt(kind string) func(map[string]any) bool {
	return func(m map[string]any) bool { return m["event"] == "receipt" && m["kind"] == kind }
}

// texts returns the "text" of every line with event "message".
func texts(lines []map[string]any) []string {
	var out []string
	for _, m := range lines {
		if m["event"] == "message" {
			out = append(out, m["text"].(string))
		}
	}
	return out
}
