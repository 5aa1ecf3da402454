// Command parley is Parley's one binary: the server (parley serve), the
// client commands (account, device, send, listen, chats, …) and the bench.
//
// Global flags go before the command:
//
//	parley [--json] [--profile DIR] COMMAND [flags] [args]
//
// Exit codes are listed by `parley help` and in docs/cli.md.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit codes: one per error class.
const (
	exitOK              = 0
	exitInternal        = 1
	exitUsage           = 2
	exitInvalid         = 3
	exitUnauthenticated = 4
	exitForbidden       = 5
	exitNotFound        = 6
	exitConflict        = 7
	exitRateLimited     = 8
	exitTooLarge        = 9
	exitBlocked         = 10
	exitExpired         = 11
	exitUnavailable     = 12
)

var exitCodes = map[parley.Code]int{
	parley.CodeInvalid:         exitInvalid,
	parley.CodeUnauthenticated: exitUnauthenticated,
	parley.CodeForbidden:       exitForbidden,
	parley.CodeNotFound:        exitNotFound,
	parley.CodeConflict:        exitConflict,
	parley.CodeRateLimited:     exitRateLimited,
	parley.CodeTooLarge:        exitTooLarge,
	parley.CodeBlocked:         exitBlocked,
	parley.CodeExpired:         exitExpired,
	parley.CodeUnavailable:     exitUnavailable,
	parley.CodeInternal:        exitInternal,
}

// usageErr is a command-line mistake (exit code 2).
type usageErr struct{ msg string }

func (e *usageErr) Error() string { return e.msg }

func usageError(msg string) error { return &usageErr{msg} }

// exitCode maps an error to the process exit code.
func exitCode(err error) int {
	var ue *usageErr
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue), errors.Is(err, flag.ErrHelp):
		return exitUsage
	}
	if code, ok := exitCodes[parley.ErrorCode(err)]; ok {
		return code
	}
	return exitInternal
}

// env is what every command gets: the global options and the output.
type env struct {
	json    bool
	profile string
	timeout time.Duration
	verbose bool
	stdin   io.Reader
	stdout  io.Writer
	stderr  io.Writer
}

// Main runs the parley command line and returns the exit code. Tests call it
// in-process.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	fs := flag.NewFlagSet("parley", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&e.json, "json", false, "print one JSON object per line")
	fs.StringVar(&e.profile, "profile", "", "profile directory (default $PARLEY_PROFILE or ~/.parley)")
	fs.DurationVar(&e.timeout, "timeout", 30*time.Second, "give up on a client command after this long")
	fs.BoolVar(&e.verbose, "v", false, "log the client's connection activity to stderr")
	fs.Usage = func() { fmt.Fprint(stderr, usageText) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() == 0 {
		fmt.Fprint(stderr, usageText)
		return exitUsage
	}
	if e.profile == "" {
		e.profile = os.Getenv("PARLEY_PROFILE")
	}
	if e.profile == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			fmt.Fprintln(stderr, "parley: no --profile given and no home directory")
			return exitUsage
		}
		e.profile = filepath.Join(home, ".parley")
	}
	cmd, rest := fs.Arg(0), fs.Args()[1:]
	err := e.run(ctx, cmd, rest)
	if err != nil {
		e.printError(err)
	}
	return exitCode(err)
}

func (e *env) run(ctx context.Context, cmd string, args []string) error {
	switch cmd {
	case "serve":
		return serveCommand(ctx, args, e.stdout, e.stderr)
	case "bench":
		return benchCommand(ctx, args, e.stdout, e.stderr)
	case "admin":
		return adminCommand(ctx, args, e.stdout, e.stderr) // admin.go
	case "help", "-h", "--help":
		fmt.Fprint(e.stdout, usageText)
		return nil
	case "account":
		return e.account(ctx, args)
	case "device":
		return e.device(ctx, args)
	case "send":
		return e.send(ctx, args)
	case "listen":
		return e.listen(ctx, args)
	case "forward":
		return e.forward(ctx, args)
	case "media":
		return e.media(ctx, args)
	case "chats":
		return e.chats(ctx, args)
	case "history":
		return e.history(ctx, args)
	case "read":
		return e.read(ctx, args)
	case "verify":
		return e.verify(ctx, args)
	case "block", "unblock":
		return e.block(ctx, cmd, args)
	case "contacts":
		return e.contacts(ctx, args)
	case "whoami":
		return e.whoami(ctx, args)
	case "group":
		return e.group(ctx, args) // group.go
	case "community":
		return e.community(ctx, args)
	case "announce":
		return e.announce(ctx, args)
	case "reply":
		return e.reply(ctx, args) // kinds.go
	case "react":
		return e.react(ctx, args)
	case "edit":
		return e.edit(ctx, args)
	case "delete":
		return e.deleteMessage(ctx, args)
	case "poll":
		return e.poll(ctx, args)
	case "view":
		return e.view(ctx, args)
	case "chat":
		return e.chat(ctx, args)
	case "business":
		return e.business(ctx, args) // business.go: subcommands register themselves
	}
	return usageError(fmt.Sprintf("unknown command %q (see parley help)", cmd))
}

// printError reports err on stderr: one line of text, or with --json one
// object {"error": code, "reason": …, "message": …}.
func (e *env) printError(err error) {
	var ue *usageErr
	if errors.As(err, &ue) {
		if e.json {
			e.writeJSON(e.stderr, map[string]any{"error": "usage", "message": ue.msg})
			return
		}
		fmt.Fprintf(e.stderr, "parley: %s\n", ue.msg)
		return
	}
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	code := parley.ErrorCode(err)
	msg := parley.ErrorMessage(err)
	if code == parley.CodeInternal {
		msg = err.Error()
	}
	if e.json {
		e.writeJSON(e.stderr, map[string]any{"error": string(code), "reason": parley.ErrorReason(err), "message": msg})
		return
	}
	fmt.Fprintf(e.stderr, "parley: %s\n", msg)
}

// out prints one result: obj as a JSON line with --json, else text.
func (e *env) out(obj map[string]any, text string) {
	if e.json {
		e.writeJSON(e.stdout, obj)
		return
	}
	fmt.Fprintln(e.stdout, text)
}

func (e *env) writeJSON(w io.Writer, obj any) {
	data, err := json.Marshal(obj)
	if err != nil {
		data = []byte(`{"error":"internal","message":"cannot encode output"}`)
	}
	w.Write(append(data, '\n'))
}

// open opens the profile's client. Logs go to stderr with -v only.
func (e *env) open(ctx context.Context, server string, events bool) (*client.Client, error) {
	return e.openNamed(ctx, server, "", events)
}

// openNamed is open with the name this device registers or links under
// (default: the host name).
func (e *env) openNamed(ctx context.Context, server, deviceName string, events bool) (*client.Client, error) {
	logger := slog.New(slog.DiscardHandler)
	if e.verbose {
		logger = slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	host := deviceName
	if host == "" {
		host, _ = os.Hostname()
	}
	if host == "" {
		host = "cli"
	}
	return client.Open(ctx, client.Config{
		Dir: e.profile, ServerURL: server, ClientName: "parley-cli/0.1", DeviceName: host,
		Logger: logger, Events: events,
	})
}

// withClient runs fn with an open, registered client and a command timeout.
func (e *env) withClient(ctx context.Context, fn func(ctx context.Context, c *client.Client) error) error {
	return e.withClientTimeout(ctx, e.timeout, fn)
}

// withClientTimeout is withClient with another timeout (file transfers).
func (e *env) withClientTimeout(ctx context.Context, timeout time.Duration, fn func(ctx context.Context, c *client.Client) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c, err := e.open(ctx, "", false)
	if err != nil {
		return err
	}
	defer c.Close()
	if !c.Account().Registered() {
		return parley.Errorf(parley.CodeUnauthenticated, "not_registered",
			"profile %s is not registered: run parley account register and account verify, or device add", e.profile)
	}
	return fn(ctx, c)
}

func newFlags(name string, e *env) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	return fs
}

// parseFlags parses flags that may come before or after positional
// arguments and returns the positional ones.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError(err.Error())
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func ts(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}
