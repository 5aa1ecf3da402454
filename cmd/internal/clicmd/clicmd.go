// Package clicmd is what a feature's command table needs of the parley
// program: its parsed command line, its profile's client, the operator's
// admin API and one way to print. A feature keeps its commands in a package
// of its own (cmd/internal/broadcastcmd, …) as a generic table over Call,
// and cmd/parley only lists the table; cmd/parley stays flags and printing.
package clicmd

import (
	"github.com/parleyhq/parley/apiclient"
	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/cmd/internal/cmdline"
)

// Call is one run of a command, as cmd/parley's call implements it.
type Call interface {
	// Cmd is the command line: context, flags, positional arguments.
	Cmd() *cmdline.Call
	// Client parses the command line and runs fn with the profile's
	// registered client; Cmd().Ctx is then the command's, with its timeout.
	Client(fn func(c *client.Client) error) error
	// Admin declares --server and --token, parses the command line
	// (declare the command's own flags first) and runs fn with the admin
	// API's client.
	Admin(fn func(c *apiclient.Client) error) error
	// Out prints one result: obj as a JSON line with --json, else text.
	Out(obj map[string]any, text string)
}

// Do adapts a command without flags: it runs with the profile's client
// once its arguments are checked.
func Do[C Call](run func(x C, c *client.Client) error) func(x C) error {
	return func(x C) error {
		return x.Client(func(c *client.Client) error { return run(x, c) })
	}
}

// Done prints obj and text unless err, and returns err: the end of a
// command whose outcome is err.
func Done[C Call](x C, err error, obj map[string]any, text string) error {
	if err != nil {
		return err
	}
	x.Out(obj, text)
	return nil
}
