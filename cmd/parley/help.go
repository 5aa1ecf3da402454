package main

import (
	"strings"
	"unicode/utf8"
)

const helpHead = `parley — end-to-end encrypted messaging

usage: parley [--json] [--profile DIR] [--timeout D] [-v] COMMAND [flags] [args]

global flags (before or after the command; after a "--" everything is an argument):
  --json          print one JSON object per line (stable snake_case keys);
                  errors go to stderr as {"error":CODE,"reason":…,"message":…}
  --profile DIR   the device profile to use (default $PARLEY_PROFILE or ~/.parley)
  --timeout D     give up on a client command after D (default 30s)
  -v              log connection activity to stderr
`

const helpExitCodes = `
exit codes:
  0  ok                  7  conflict (e.g. username taken)
  1  internal error      8  rate limited
  2  usage               9  too large
  3  invalid input       10 blocked by the recipient
  4  unauthenticated     11 expired (code or link)
  5  forbidden           12 server unavailable (or timed out)
  6  not found
`

// helpText is `parley help`: the global flags, the commands table and the
// exit codes.
func helpText() string {
	var b strings.Builder
	b.WriteString(helpHead)
	for _, c := range commands {
		if c.section != "" {
			b.WriteString("\n" + c.section + ":\n")
		}
		writeCommand(&b, "", &c, false)
	}
	b.WriteString(helpExitCodes)
	return b.String()
}

// subHelp is `parley NAME help`: the intro and every subcommand's forms.
func subHelp(c *command) string {
	var b strings.Builder
	if c.intro != "" {
		b.WriteString(c.intro + "\n")
	}
	for _, sub := range c.subs {
		writeCommand(&b, c.name, &sub, true)
	}
	return b.String()
}

// writeCommand writes the help of c (called prefix c.name): its usage or,
// without one, its subcommands'. With all, an entry without usage or
// subcommands is listed by name; else it is left out (an alias).
func writeCommand(b *strings.Builder, prefix string, c *command, all bool) {
	name := strings.TrimSpace(prefix + " " + c.name)
	switch {
	case c.usage != "":
		writeUsage(b, name, c.usage)
		if all && c.run != nil { // order, insights: and their subcommands
			for _, sub := range c.subs {
				writeCommand(b, name, &sub, true)
			}
		}
	case len(c.subs) > 0:
		for _, sub := range c.subs {
			writeCommand(b, name, &sub, true)
		}
	case all:
		b.WriteString("  " + name + "\n")
	}
}

// writeUsage writes the help lines of the command called name: each form
// after two spaces, its description from column 43 (on the next line when
// the form is longer). A line after the first with no form continues the
// description above; one starting with a space continues the form.
func writeUsage(b *strings.Builder, name, usage string) {
	const col = 41
	for i, line := range strings.Split(usage, "\n") {
		form, what, _ := strings.Cut(line, "\t")
		left := strings.TrimRight(name+" "+form, " ")
		switch {
		case i > 0 && form == "":
			left = ""
		case strings.HasPrefix(form, " "):
			left = strings.Repeat(" ", len(name)) + form
		}
		b.WriteString("  " + left)
		if what == "" {
			b.WriteString("\n")
			continue
		}
		width := utf8.RuneCountInString(left)
		if width >= col-1 {
			b.WriteString("\n  ")
			width = 0
		}
		b.WriteString(strings.Repeat(" ", col-width) + what + "\n")
	}
}
