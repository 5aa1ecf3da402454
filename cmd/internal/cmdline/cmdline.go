// Package cmdline runs a command line described by a table of commands:
// each entry a name, its help lines, the bounds of its positional
// arguments and a run function, or a table of subcommands. It owns what
// is the same for every command — finding the entry, parsing flags given
// before or after the positional arguments, required flags, usage errors,
// `COMMAND help` and the help text of a whole table — so that a program's
// own files hold only its flags and printing. cmd/parley is its user.
package cmdline

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Command is one entry of a command table: `PROGRAM NAME …` or, in a
// parent's Subs, `PROGRAM PARENT NAME …`. C is the program's call type,
// which embeds *Call. Every entry has Run, Subs or both.
type Command[C any] struct {
	Name string
	// Usage is the help: one form a line, "FORM\tWHAT IT DOES". The
	// first line's form is a leaf's usage error. A line after the first
	// with no form continues the description above; one starting with a
	// space continues the form. Without Usage the entry lists its Subs,
	// or (at the top level) is left out of the help: an alias.
	Usage   string
	Section string // at the top level: starts a section of the help
	Intro   string // what `PROGRAM NAME help` prints before the Subs
	// Min and Max bound a leaf's positional arguments (Max -1: no bound),
	// checked by Call.Parse.
	Min, Max int
	// OwnFlags marks a command that parses all of its arguments itself
	// (a program does not take its global flags from them).
	OwnFlags bool
	// Run runs the command: it declares its flags on x's FlagSet, then
	// parses (Call.Parse). With Subs, Run is the command given no
	// subcommand name (nil: a subcommand is required).
	Run  func(x C) error
	Subs []Command[C]
}

// UsageError is a mistake on the command line.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// Call is one run of a command: the arguments after its name, its flags
// and, once parsed, its positional arguments.
type Call struct {
	Ctx     context.Context
	Program string   // "parley"
	Path    string   // the command's names after the program: "group add"
	Name    string   // the command's own name: "add"
	Args    []string // the arguments after the name
	FS      *flag.FlagSet
	Pos     []string // the positional arguments, once parsed

	usage    string
	min, max int
	parsed   bool
	needed   []*string
}

// Find is the entry of table named name, or nil.
func Find[C any](table []Command[C], name string) *Command[C] {
	for i := range table {
		if table[i].Name == name {
			return &table[i]
		}
	}
	return nil
}

// Run runs the entry of table named args[0] with the arguments after it:
// its Run, or the subcommand the next argument names ("help", "-h" or
// "--help" print the subcommands' help to help). newCall makes the
// program's call of each Call; newFlags its FlagSet for a path.
func Run[C any](ctx context.Context, program string, table []Command[C], args []string, help io.Writer,
	newFlags func(path string) *flag.FlagSet, newCall func(*Call) C) error {
	c := Find(table, args[0])
	if c == nil {
		return &UsageError{fmt.Sprintf("unknown command %q (see %s help)", args[0], program)}
	}
	return c.dispatch(&Call{Ctx: ctx, Program: program, Path: c.Name, Name: c.Name, Args: args[1:]}, help, newFlags, newCall)
}

func (c *Command[C]) dispatch(x *Call, help io.Writer, newFlags func(string) *flag.FlagSet, newCall func(*Call) C) error {
	x.FS, x.usage, x.min, x.max = newFlags(x.Path), c.Usage, c.Min, c.Max
	if len(c.Subs) > 0 && len(x.Args) > 0 {
		if sub := Find(c.Subs, x.Args[0]); sub != nil {
			next := &Call{Ctx: x.Ctx, Program: x.Program, Path: x.Path + " " + sub.Name, Name: sub.Name, Args: x.Args[1:]}
			return sub.dispatch(next, help, newFlags, newCall)
		}
	}
	asksHelp := len(x.Args) > 0 && (x.Args[0] == "help" || x.Args[0] == "-h" || x.Args[0] == "--help")
	switch {
	case len(c.Subs) == 0 || c.Run != nil && !asksHelp:
		return c.Run(newCall(x))
	case len(x.Args) == 0 || asksHelp:
		fmt.Fprint(help, SubHelp(c))
		if len(x.Args) == 0 {
			return &UsageError{x.Path + ": a subcommand is required"}
		}
		return nil
	}
	return &UsageError{fmt.Sprintf("unknown %s command %q (see %s %s help)", x.Path, x.Args[0], x.Program, x.Path)}
}

// Parse parses x's flags (before, between or after the positional
// arguments; all after a "--" are positional) and checks the number of
// positional arguments and the flags declared with Need. Parsing again is
// a no-op.
func (x *Call) Parse() error {
	if x.parsed {
		return nil
	}
	pos, err := ParseFlags(x.FS, x.Args)
	if err != nil {
		return err
	}
	if len(pos) < x.min || x.max >= 0 && len(pos) > x.max {
		return x.Usage()
	}
	for _, v := range x.needed {
		if *v == "" {
			return x.Usage()
		}
	}
	x.Pos, x.parsed = pos, true
	return nil
}

// Need declares a string flag that Parse requires (a usage error when it
// is empty).
func (x *Call) Need(name, value, usage string) *string {
	v := x.FS.String(name, value, usage)
	x.needed = append(x.needed, v)
	return v
}

// Usage is the usage error of x's command: "usage: PROGRAM PATH FORM"
// with its first form.
func (x *Call) Usage() error {
	form, _, _ := strings.Cut(x.usage, "\n")
	form, _, _ = strings.Cut(form, "\t")
	return &UsageError{strings.TrimSpace("usage: " + x.Program + " " + x.Path + " " + form)}
}

// Arg is the i-th positional argument, or "".
func (x *Call) Arg(i int) string {
	if i < len(x.Pos) {
		return x.Pos[i]
	}
	return ""
}

// ParseFlags parses flags that may come before or after positional
// arguments and returns the positional ones; a flag error (or -h) is a
// *UsageError (flag.ErrHelp).
func ParseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, &UsageError{err.Error()}
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

// TakeFlags moves the flags of fs found among args, up to a "--", into fs
// and returns the other arguments: a program's global flags given after
// the command. A flag of fs never names a command's own flag.
func TakeFlags(fs *flag.FlagSet, args []string) ([]string, error) {
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
				return nil, &UsageError{"flag needs an argument: " + a}
			}
			i++
			value = args[i]
		}
		if err := fs.Set(name, value); err != nil {
			return nil, &UsageError{fmt.Sprintf("invalid value %q for flag %s: %v", value, a, err)}
		}
	}
	return rest, nil
}

// Help is the commands part of a program's help: table's entries in order,
// each section under its "SECTION:" line.
func Help[C any](table []Command[C]) string {
	var b strings.Builder
	for _, c := range table {
		if c.Section != "" {
			b.WriteString("\n" + c.Section + ":\n")
		}
		writeCommand(&b, "", &c, false)
	}
	return b.String()
}

// SubHelp is `PROGRAM NAME help`: c's Intro and every subcommand's forms.
func SubHelp[C any](c *Command[C]) string {
	var b strings.Builder
	if c.Intro != "" {
		b.WriteString(c.Intro + "\n")
	}
	for _, sub := range c.Subs {
		writeCommand(&b, c.Name, &sub, true)
	}
	return b.String()
}

// writeCommand writes the help of c (called prefix c.Name): its usage and,
// when it also runs without one, its subcommands'; without usage, its
// subcommands'. With all, an entry without either is listed by name;
// else it is left out.
func writeCommand[C any](b *strings.Builder, prefix string, c *Command[C], all bool) {
	name := strings.TrimSpace(prefix + " " + c.Name)
	switch {
	case c.Usage != "":
		writeUsage(b, name, c.Usage)
		if all && c.Run != nil {
			for _, sub := range c.Subs {
				writeCommand(b, name, &sub, true)
			}
		}
	case len(c.Subs) > 0:
		for _, sub := range c.Subs {
			writeCommand(b, name, &sub, true)
		}
	case all:
		b.WriteString("  " + name + "\n")
	}
}

// writeUsage writes the help lines of the command called name: each form
// after two spaces, its description from column 43 (on the next line when
// the form is longer).
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

// Strings is a repeatable string flag: each use appends its value.
type Strings []string

func (s *Strings) String() string     { return strings.Join(*s, ",") }
func (s *Strings) Set(v string) error { *s = append(*s, v); return nil }

// OptString is a string flag whose V is nil unless it is given.
type OptString struct{ V *string }

func (o *OptString) String() string {
	if o.V == nil {
		return ""
	}
	return *o.V
}

func (o *OptString) Set(s string) error { o.V = &s; return nil }

// OptBool is a true|false flag whose V is nil unless it is given.
type OptBool struct{ V *bool }

func (o *OptBool) String() string {
	if o.V == nil {
		return ""
	}
	return strconv.FormatBool(*o.V)
}

func (o *OptBool) Set(s string) error {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return errors.New("want true or false")
	}
	o.V = &b
	return nil
}
