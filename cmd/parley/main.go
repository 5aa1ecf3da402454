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
	"slices"
	"syscall"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/apiclient"
	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/cmd/internal/broadcastcmd"
	"github.com/parleyhq/parley/cmd/internal/callcmd"
	"github.com/parleyhq/parley/cmd/internal/cmdline"
	"github.com/parleyhq/parley/cmd/internal/moderationcmd"
	"github.com/parleyhq/parley/cmd/internal/profilecmd"
	"github.com/parleyhq/parley/cmd/internal/searchcmd"
	"github.com/parleyhq/parley/cmd/internal/statuscmd"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit codes: one per error class (parley help and docs/cli.md list them).
const (
	exitOK              = 0
	exitInternal        = 1
	exitUsage           = 2
	exitInvalid         = 3
	exitUnauthenticated = 4
	exitUnavailable     = 12
)

var exitCodes = map[parley.Code]int{
	parley.CodeInternal: exitInternal, parley.CodeInvalid: exitInvalid, parley.CodeUnauthenticated: exitUnauthenticated,
	parley.CodeForbidden: 5, parley.CodeNotFound: 6, parley.CodeConflict: 7, parley.CodeRateLimited: 8,
	parley.CodeTooLarge: 9, parley.CodeBlocked: 10, parley.CodeExpired: 11, parley.CodeUnavailable: exitUnavailable,
}

// usageError is a command-line mistake (exit code 2).
func usageError(msg string) error { return &cmdline.UsageError{Msg: msg} }

// exitCode maps an error to the process exit code.
func exitCode(err error) int {
	var ue *cmdline.UsageError
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

// command is an entry of the command table (package cmdline).
type command = cmdline.Command[*call]

// commands is the parley command line: `parley help` lists it in this
// order. Subcommand tables are in the files of their area (group.go,
// business.go, business_api.go…).
var commands = []command{
	{Name: "serve", Section: "server", OwnFlags: true, Usage: "--data DIR --listen HOST:PORT\trun a Parley server",
		Run: func(x *call) error { return serveCommand(x.Ctx, x.Args, x.stdout, x.stderr) }},
	{Name: "bench", OwnFlags: true, Usage: "SCENARIO\tbenchmark (connect|direct|offline|fanout|media|community|all)",
		Run: func(x *call) error { return benchCommand(x.Ctx, x.Args, x.stdout, x.stderr) }},
	{Name: "admin", Usage: "…\tthe operator's tools: backup, restore; against a running server:\n\tusers, suspend, revoke-device, groups, verify, stats, audit …\n\t(parley admin help)",
		Intro: adminIntro, Subs: slices.Concat(adminCommands, moderationcmd.AdminCommands[*call]())}, // admin.go, admin_api.go

	{Name: "account", Section: "account", Subs: accountCommands},
	{Name: "whoami", Usage: "\tthis profile's account and device", Run: whoami},
	{Name: "device", Section: "devices", Subs: deviceCommands},

	{Name: "send", Section: "messaging (CHAT is a chat id, +PHONE or @username; MESSAGE_ID is CHAT_ID:SEQ,\nas send, listen and history print it)",
		Usage: `--to PHONE|@USERNAME|CHAT TEXT	send; exits once the server has it ("sent")
--to CHAT --reply-to MESSAGE_ID TEXT	reply to (quote) a message
--to CHAT --file PATH [--caption TEXT]	send a photo, video or document (encrypted, up to 2 GiB)
--to CHAT --voice PATH	send a voice note (WAV, Ogg)
--to CHAT --location LAT,LON [--name NAME]
--to CHAT --contact NAME,PHONE	send a contact card (vCard)`, Max: -1, Run: send},
	{Name: "forward", Usage: "MESSAGE_ID --to CHAT\tforward a message (files are not uploaded again)", Min: 1, Max: 1, Run: forward},
	{Name: "media", Usage: "get MESSAGE_ID [-o PATH]\tdownload, decrypt and verify a message's file", Subs: []command{
		{Name: "get", Min: 1, Max: 1, Usage: "MESSAGE_ID [-o PATH]", Run: mediaGet}}},
	{Name: "group", Usage: "…\tgroups: create, add, remove, promote, demote, settings,\n\tinvite, join, requests, leave … (parley group help)",
		Intro: groupIntro, Subs: slices.Concat(groupCommands, moderationcmd.GroupCommands[*call]())},
	{Name: "community", Usage: "…\tcommunities: create, add, remove, add-group, groups,\n\tjoin-group … (parley community help)",
		Intro: "usage: parley community SUBCOMMAND", Subs: communityCommands},
	{Name: "broadcast", Usage: "create|send|list|edit|delete …\tbroadcast lists: one message, each recipient's copy in your 1:1 chat\n\t(parley broadcast help; docs/broadcast.md)",
		Intro: "usage: parley [--json] broadcast SUBCOMMAND … (docs/broadcast.md)", Subs: broadcastcmd.Commands[*call]()},
	{Name: "status", Usage: "post|list|view|viewers|delete|mute|unmute|reply|settings …\tStatus: 24-hour stories (parley status help; docs/status.md)", Intro: "usage: parley [--json] status SUBCOMMAND … (docs/status.md)", Subs: statuscmd.Commands[*call]()},
	callcmd.Command[*call](), callcmd.LogCommand[*call](), // parley call CHAT | answer | decline; parley calls (docs/calls.md)
	{Name: "profile", Usage: "show|name|about|photo …\tyour name, about line and profile photo (parley profile help)", Intro: "usage: parley [--json] profile SUBCOMMAND …", Subs: profilecmd.Commands[*call]()},
	searchcmd.Command[*call](),
	{Name: "announce", Usage: "COMMUNITY TEXT\tpost to a community's announcement group (admins)", Min: 2, Max: -1, Run: do(announce)},
	{Name: "reply", Min: 2, Max: -1, Usage: "MESSAGE_ID TEXT\treply to (quote) a message; the kinds: docs/groups.md", Run: do(reply)},
	{Name: "react", Min: 1, Max: 2, Usage: "MESSAGE_ID EMOJI | react --remove MESSAGE_ID", Run: react},
	{Name: "edit", Min: 2, Max: -1, Usage: "MESSAGE_ID TEXT", Run: do(edit)},
	{Name: "delete", Min: 1, Max: 1, Usage: "MESSAGE_ID\tdelete a message for everyone", Run: do(deleteMessage)},
	{Name: "poll", Subs: pollCommands},
	{Name: "view", Min: 1, Max: 1, Usage: "CHAT [--limit N]\ta chat's messages with replies, reactions, polls", Run: chatMessages},
	{Name: "listen", Usage: "[--for DURATION] [--count N] [--all]\tprint messages and receipts as they arrive", Run: func(x *call) error { return x.listen(nil) }},
	{Name: "chats", Usage: "\tlist chats", Run: do(chats)},
	{Name: "chat", Subs: chatCommands},
	{Name: "history", Usage: "CHAT [--limit N]\tshow a chat's messages with their status", Min: 1, Max: 1, Run: chatMessages},
	{Name: "read", Usage: "CHAT\tmark a chat read (sends read receipts)", Min: 1, Max: 1, Run: do(read)},
	{Name: "verify", Usage: "CONTACT\tshow the safety number to compare", Min: 1, Max: 1, Run: do(verify)},
	{Name: "business", Usage: "…\tbusiness accounts: profile, catalog, quick replies, labels,\n\tgreeting/away, API tokens, templates, webhooks, insights\n\t(parley business help)",
		Intro: "usage: parley [--json] business SUBCOMMAND … (docs/business.md)", Subs: businessCommands},
	{Name: "block", Usage: "CONTACT", Min: 1, Max: 1, Run: do(block)},
	moderationcmd.Report[*call](),
	{Name: "unblock", Usage: "CONTACT", Min: 1, Max: 1, Run: do(block)},
	{Name: "contacts", Usage: "add CONTACT | contacts remove CONTACT | contacts list", Subs: contactsCommands},
	{Name: "backup", Usage: "create|restore\tend-to-end encrypted backups of this profile's chats (docs/backup.md)", Subs: backupCommands}, // backup.go
}

// call is one run of a command: cmdline's (the arguments, flags and
// positional arguments) with the environment.
type call struct {
	*cmdline.Call
	*env
}

// do adapts a command without flags: it runs with the profile's
// registered client once its arguments are checked.
func do(run func(x *call, c *client.Client) error) func(x *call) error {
	return func(x *call) error {
		return x.client(func(c *client.Client) error { return run(x, c) })
	}
}

// client parses x's arguments and runs fn with the profile's registered
// client; x.Ctx is then the command's, with its timeout.
func (x *call) client(fn func(c *client.Client) error) error {
	if err := x.Parse(); err != nil {
		return err
	}
	return x.withClient(x.Ctx, func(ctx context.Context, c *client.Client) error {
		x.Ctx = ctx
		return fn(c)
	})
}

// Cmd, Client, Admin and Out make call a clicmd.Call, for the command
// tables kept in packages of their own (cmd/internal/…cmd).
func (x *call) Cmd() *cmdline.Call                             { return x.Call }
func (x *call) Client(fn func(c *client.Client) error) error   { return x.client(fn) }
func (x *call) Admin(fn func(c *apiclient.Client) error) error { return x.admin(fn) }
func (x *call) Out(obj map[string]any, text string)            { x.out(obj, text) }

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
	if cmd := cmdline.Find(commands, name); cmd != nil && !cmd.OwnFlags {
		var err error
		if rest, err = cmdline.TakeFlags(fs, rest); err != nil {
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
	default:
		err = cmdline.Run(ctx, "parley", commands, append([]string{name}, rest...), e.stdout,
			func(path string) *flag.FlagSet { return newFlags(path, e) },
			func(c *cmdline.Call) *call { return &call{Call: c, env: e} })
	}
	if err != nil {
		e.printError(err)
	}
	return exitCode(err)
}

// printError reports err on stderr: one line of text, or with --json one
// object {"error": code, "reason": …, "message": …}.
func (e *env) printError(err error) {
	var ue *cmdline.UsageError
	if errors.As(err, &ue) {
		if e.json {
			e.writeJSON(e.stderr, map[string]any{"error": "usage", "message": ue.Msg})
			return
		}
		fmt.Fprintf(e.stderr, "parley: %s\n", ue.Msg)
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
		return parley.Errorf(parley.CodeUnauthenticated, apiclient.ReasonNotRegistered,
			"profile %s is not registered: run parley account register and account verify, or device add", e.profile)
	}
	return fn(ctx, c)
}

func newFlags(name string, e *env) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	return fs
}
