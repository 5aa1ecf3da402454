package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// businessCommand is one `parley business SUB …` subcommand: it gets the
// command environment (global flags, output, withClient) and the arguments
// after SUB.
type businessCommand struct {
	Usage string // one line per form, shown by `parley business help`
	Run   func(ctx context.Context, e *env, args []string) error
}

// businessCommands is the registry of `parley business` subcommands. Each
// file of the business area registers its own from init(): this file the
// profile, catalog, quick replies, labels, greeting/away and verify;
// business_api.go tokens, templates, opt-ins and api; business_hooks.go
// webhooks, dead letters and insights. A name registered twice panics at
// start-up.
var businessCommands = map[string]businessCommand{}

// registerBusiness adds a `parley business NAME` subcommand.
func registerBusiness(name string, cmd businessCommand) {
	if _, dup := businessCommands[name]; dup {
		panic("parley business " + name + " registered twice")
	}
	businessCommands[name] = cmd
}

// business dispatches `parley business SUB …`.
func (e *env) business(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(e.stdout, businessUsage())
		if len(args) == 0 {
			return usageError("business: a subcommand is required")
		}
		return nil
	}
	cmd, ok := businessCommands[args[0]]
	if !ok {
		return usageError(fmt.Sprintf("unknown business command %q (see parley business help)", args[0]))
	}
	return cmd.Run(ctx, e, args[1:])
}

// businessUsage lists the registered subcommands' usage, by name.
func businessUsage() string {
	names := make([]string, 0, len(businessCommands))
	for n := range businessCommands {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("usage: parley [--json] business SUBCOMMAND … (docs/business.md)\n\n")
	for _, n := range names {
		for _, line := range strings.Split(strings.TrimRight(businessCommands[n].Usage, "\n"), "\n") {
			b.WriteString("  " + line + "\n")
		}
	}
	return b.String()
}
