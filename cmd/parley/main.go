// Command parley is Parley's one binary: the server (parley serve), the
// client commands (account, device, send, listen, chats, …) and the bench.
//
// Global flags go before or after the command:
//
//	parley [--json] [--profile DIR] COMMAND [flags] [args]
//	parley COMMAND [flags] [args] [--json] [--profile DIR]
//
// The commands are one table, commands below: each entry's name, help
// lines and run function, or its subcommands. A new command (or a serve
// flag set up in its own file) adds one entry. What is not flags or
// printing lives outside this package: the SDK (package client), the HTTP
// API client (package apiclient) and the bench (package bench).
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
	"strings"
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

// command is one entry of a command table: `parley NAME …` or, in a
// parent's subs, `parley PARENT NAME …`.
type command struct {
	name string
	// usage is the help: one form a line, "FORM\tWHAT IT DOES". The first
	// line's form is the usage error of a leaf. An entry without usage is
	// left out of the help (an alias, a form another line covers).
	usage   string
	section string // a top-level entry that starts a section of the help
	intro   string // what `parley NAME help` prints before the subcommands
	// min and max bound a leaf's positional arguments (max -1: no bound),
	// checked by call.parse.
	min, max int
	ownFlags bool // parses global-looking flags itself (serve, bench)
	// run runs the command; it declares its flags on x.fs, then calls
	// x.parse or x.client. With subs, run is the command without a
	// subcommand name (nil: a subcommand is required).
	run func(x *call) error
	// do, instead of run, is a command without flags: it runs with the
	// profile's registered client once its arguments are checked.
	do   func(x *call, c *client.Client) error
	subs []command
}

// commands is the parley command line: `parley help` lists it in this
// order. Subcommand tables are in the files of their area (group.go,
// business.go, business_api.go…).
var commands = []command{
	{name: "serve", section: "server", ownFlags: true, usage: "--data DIR --listen HOST:PORT\trun a Parley server",
		run: func(x *call) error { return serveCommand(x.ctx, x.args, x.stdout, x.stderr) }},
	{name: "bench", ownFlags: true, usage: "SCENARIO\tbenchmark (connect|direct|offline|fanout|media|community|all)",
		run: func(x *call) error { return benchCommand(x.ctx, x.args, x.stdout, x.stderr) }},

	{name: "account", section: "account", subs: accountCommands},
	{name: "whoami", usage: "\tthis profile's account and device", run: whoami},
	{name: "device", section: "devices", subs: deviceCommands},

	{name: "send", section: "messaging (CHAT is a chat id, +PHONE or @username; MESSAGE_ID is CHAT_ID:SEQ,\nas send, listen and history print it)",
		usage: `--to PHONE|@USERNAME|CHAT TEXT	send; exits once the server has it ("sent")
--to CHAT --reply-to MESSAGE_ID TEXT	reply to (quote) a message
--to CHAT --file PATH [--caption TEXT]	send a photo, video or document (encrypted, up to 2 GiB)
--to CHAT --voice PATH	send a voice note (WAV, Ogg)
--to CHAT --location LAT,LON [--name NAME]
--to CHAT --contact NAME,PHONE	send a contact card (vCard)`, max: -1, run: send},
	{name: "forward", usage: "MESSAGE_ID --to CHAT\tforward a message (files are not uploaded again)", min: 1, max: 1, run: forward},
	{name: "media", usage: "get MESSAGE_ID [-o PATH]\tdownload, decrypt and verify a message's file", subs: []command{
		{name: "get", min: 1, max: 1, usage: "MESSAGE_ID [-o PATH]", run: mediaGet}}},
	{name: "group", usage: "…\tgroups: create, add, remove, promote, demote, settings,\n\tinvite, join, requests, leave … (parley group help)",
		intro: groupIntro, subs: groupCommands},
	{name: "community", usage: "…\tcommunities: create, add, remove, add-group, groups,\n\tjoin-group … (parley community help)",
		intro: "usage: parley community SUBCOMMAND", subs: communityCommands},
	{name: "announce", usage: "COMMUNITY TEXT\tpost to a community's announcement group (admins)", min: 2, max: -1, do: announce},
	{name: "reply", min: 2, max: -1, usage: "| react | edit | delete MESSAGE_ID …\tmessage kinds; poll create|vote|show;\n\tchat disappear CHAT 24h|7d|90d|off; view CHAT\n\t(docs/groups.md)", do: reply},
	{name: "react", min: 1, max: 2, usage: "", run: react},
	{name: "edit", min: 2, max: -1, do: edit},
	{name: "delete", min: 1, max: 1, do: deleteMessage},
	{name: "poll", subs: pollCommands},
	{name: "view", min: 1, max: 1, run: chatMessages},
	{name: "listen", usage: "[--for DURATION] [--count N] [--all]\tprint messages and receipts as they arrive", run: func(x *call) error { return x.listen(nil) }},
	{name: "chats", usage: "\tlist chats", do: chats},
	{name: "chat", usage: "resync CHAT\trejoin a chat whose encryption state broke on this\n\tdevice (done by itself when it detects that)", subs: chatCommands},
	{name: "history", usage: "CHAT [--limit N]\tshow a chat's messages with their status", min: 1, max: 1, run: chatMessages},
	{name: "read", usage: "CHAT\tmark a chat read (sends read receipts)", min: 1, max: 1, do: read},
	{name: "verify", usage: "CONTACT\tshow the safety number to compare", min: 1, max: 1, do: verify},
	{name: "business", usage: "…\tbusiness accounts: profile, catalog, quick replies, labels,\n\tgreeting/away, API tokens, templates, webhooks, insights\n\t(parley business help)",
		intro: "usage: parley [--json] business SUBCOMMAND … (docs/business.md)", subs: businessCommands},
	{name: "block", usage: "CONTACT | unblock CONTACT", min: 1, max: 1, do: block},
	{name: "unblock", min: 1, max: 1, do: block},
	{name: "contacts", usage: "add CONTACT | contacts remove CONTACT | contacts list", subs: contactsCommands},
}

// find is the entry of table named name, or nil.
func find(table []command, name string) *command {
	for i := range table {
		if table[i].name == name {
			return &table[i]
		}
	}
	return nil
}

// call is one run of a command: the environment, the arguments after the
// command's name, its flags and, once parsed, its positional arguments.
type call struct {
	*env
	ctx    context.Context
	cmd    *command
	path   string // "group add": the command's names after parley
	args   []string
	fs     *flag.FlagSet
	pos    []string
	parsed bool      // the arguments are parsed
	needed []*string // flags that must not be empty
}

// dispatch runs x's command c: a leaf's run, or the subcommand args[0]
// names ("help" lists them).
func (c *command) dispatch(x *call) error {
	x.cmd = c
	x.fs = newFlags(x.path, x.env)
	if len(c.subs) == 0 {
		return c.leaf(x)
	}
	if len(x.args) > 0 {
		if sub := find(c.subs, x.args[0]); sub != nil {
			return sub.dispatch(&call{env: x.env, ctx: x.ctx, path: x.path + " " + sub.name, args: x.args[1:]})
		}
	}
	if (c.run != nil || c.do != nil) && (len(x.args) == 0 || !isHelp(x.args[0])) {
		return c.leaf(x)
	}
	if len(x.args) == 0 || isHelp(x.args[0]) {
		fmt.Fprint(x.stdout, subHelp(c))
		if len(x.args) == 0 {
			return usageError(x.path + ": a subcommand is required")
		}
		return nil
	}
	return usageError(fmt.Sprintf("unknown %s command %q (see parley %s help)", x.path, x.args[0], x.path))
}

// leaf runs c's run or do.
func (c *command) leaf(x *call) error {
	if c.do != nil {
		return x.client(func(cl *client.Client) error { return c.do(x, cl) })
	}
	return c.run(x)
}

func isHelp(arg string) bool { return arg == "help" || arg == "-h" || arg == "--help" }

// parse parses x's flags and checks the number of positional arguments.
func (x *call) parse() error {
	if x.parsed {
		return nil
	}
	pos, err := parseFlags(x.fs, x.args)
	if err != nil {
		return err
	}
	if len(pos) < x.cmd.min || x.cmd.max >= 0 && len(pos) > x.cmd.max {
		return x.usage()
	}
	for _, v := range x.needed {
		if *v == "" {
			return x.usage()
		}
	}
	x.pos, x.parsed = pos, true
	return nil
}

// need declares a string flag that parse requires (a usage error when it
// is empty).
func (x *call) need(name, value, usage string) *string {
	v := x.fs.String(name, value, usage)
	x.needed = append(x.needed, v)
	return v
}

// usage is the usage error of x's command: its first form.
func (x *call) usage() error {
	form, _, _ := strings.Cut(x.cmd.usage, "\n")
	form, _, _ = strings.Cut(form, "\t")
	return usageError(strings.TrimSpace("usage: parley " + x.path + " " + form))
}

// client parses x's arguments and runs fn with the profile's registered
// client; x.ctx is then the command's, with its timeout.
func (x *call) client(fn func(c *client.Client) error) error {
	if err := x.parse(); err != nil {
		return err
	}
	return x.withClient(x.ctx, func(ctx context.Context, c *client.Client) error {
		x.ctx = ctx
		return fn(c)
	})
}

// arg is the i-th positional argument, or "".
func (x *call) arg(i int) string {
	if i < len(x.pos) {
		return x.pos[i]
	}
	return ""
}

// done prints obj and text, unless err (the command's outcome).
func (x *call) done(err error, obj map[string]any, text string) error {
	if err != nil {
		return err
	}
	return x.print(obj, text)
}

// print is out for the end of a command: it prints and returns nil.
func (x *call) print(obj map[string]any, text string) error {
	x.out(obj, text)
	return nil
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
	fs.Usage = func() { fmt.Fprint(stderr, helpText()) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() == 0 {
		fmt.Fprint(stderr, helpText())
		return exitUsage
	}
	name, rest := fs.Arg(0), fs.Args()[1:]
	cmd := find(commands, name)
	if cmd != nil && !cmd.ownFlags {
		var err error
		if rest, err = takeGlobalFlags(fs, rest); err != nil {
			e.printError(err)
			return exitCode(err)
		}
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
	var err error
	switch {
	case name == "help" || name == "-h" || name == "--help":
		fmt.Fprint(e.stdout, helpText())
	case cmd == nil:
		err = usageError(fmt.Sprintf("unknown command %q (see parley help)", name))
	default:
		err = cmd.dispatch(&call{env: e, ctx: ctx, path: name, args: rest})
	}
	if err != nil {
		e.printError(err)
	}
	return exitCode(err)
}

// takeGlobalFlags moves the global flags (--json, --profile, --timeout,
// -v) found among a command's arguments, up to a "--", into fs, and
// returns the other arguments: `parley listen --json` is `parley --json
// listen`.
func takeGlobalFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(rest, args[i:]...), nil
		}
		name, value, hasValue := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-"), "=")
		f := fs.Lookup(name)
		if !strings.HasPrefix(a, "-") || f == nil {
			rest = append(rest, a)
			continue
		}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); !hasValue && ok && b.IsBoolFlag() {
			value = "true"
		} else if !hasValue {
			if i+1 == len(args) {
				return nil, usageError("flag needs an argument: " + a)
			}
			i++
			value = args[i]
		}
		if err := fs.Set(name, value); err != nil {
			return nil, usageError(fmt.Sprintf("invalid value %q for flag %s: %v", value, a, err))
		}
	}
	return rest, nil
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
