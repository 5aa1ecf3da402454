package cmdline_test

import (
	"context"
	"errors"
	"flag"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/parleyhq/parley/cmd/internal/cmdline"
)

// call is a program's call type: cmdline's with what the run saw.
type call struct {
	*cmdline.Call
	got *[]string
}

func table() []cmdline.Command[*call] {
	record := func(x *call) error {
		color := x.FS.String("color", "", "a color")
		to := x.Need("to", "", "where")
		if err := x.Parse(); err != nil {
			return err
		}
		*x.got = append([]string{x.Path, *color, *to}, x.Pos...)
		return nil
	}
	return []cmdline.Command[*call]{
		{Name: "paint", Section: "things", Usage: "THING --to T [--color C]\tpaint a thing", Min: 1, Max: 2, Run: record},
		{Name: "box", Usage: "…\tboxes", Intro: "usage: prog box SUB", Subs: []cmdline.Command[*call]{
			{Name: "open", Usage: "BOX --to T", Min: 1, Max: 1, Run: record},
			{Name: "close"},
		}},
		{Name: "lid", Usage: "[--to T]\tlids", Run: record, Subs: []cmdline.Command[*call]{{Name: "off", Run: record}}},
	}
}

func run(t *testing.T, args ...string) ([]string, string, error) {
	t.Helper()
	var got []string
	var help strings.Builder
	err := cmdline.Run(context.Background(), "prog", table(), args, &help,
		func(path string) *flag.FlagSet {
			fs := flag.NewFlagSet(path, flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			return fs
		},
		func(c *cmdline.Call) *call { return &call{Call: c, got: &got} })
	return got, help.String(), err
}

func TestRun(t *testing.T) {
	for name, tc := range map[string]struct {
		args  []string
		want  []string // what the run saw
		usage string   // the usage error's text, if any
		help  string   // in the help printed
	}{
		"flags after":         {args: []string{"paint", "wall", "--to", "x", "--color", "red"}, want: []string{"paint", "red", "x", "wall"}},
		"flags between":       {args: []string{"paint", "--to=x", "wall", "door"}, want: []string{"paint", "", "x", "wall", "door"}},
		"after --":            {args: []string{"paint", "--to", "x", "--", "--color"}, want: []string{"paint", "", "x", "--color"}},
		"needed flag missing": {args: []string{"paint", "wall"}, usage: "usage: prog paint THING --to T [--color C]"},
		"too few":             {args: []string{"paint", "--to", "x"}, usage: "usage: prog paint THING --to T [--color C]"},
		"too many":            {args: []string{"paint", "--to", "x", "a", "b", "c"}, usage: "usage: prog paint THING --to T [--color C]"},
		"unknown flag":        {args: []string{"paint", "--to", "x", "--size", "2", "a"}, usage: "flag provided but not defined: -size"},
		"unknown command":     {args: []string{"sing"}, usage: `unknown command "sing" (see prog help)`},
		"sub":                 {args: []string{"box", "open", "b1", "--to", "y"}, want: []string{"box open", "", "y", "b1"}},
		"no sub":              {args: []string{"box"}, usage: "box: a subcommand is required", help: "usage: prog box SUB\n  box open BOX --to T\n  box close\n"},
		"sub help":            {args: []string{"box", "help"}, help: "box open BOX --to T"},
		"unknown sub":         {args: []string{"box", "shut"}, usage: `unknown box command "shut" (see prog box help)`},
		"run without sub":     {args: []string{"lid", "--to", "z"}, want: []string{"lid", "", "z"}},
		"run with sub":        {args: []string{"lid", "off", "--to", "z"}, want: []string{"lid off", "", "z"}},
	} {
		t.Run(name, func(t *testing.T) {
			got, help, err := run(t, tc.args...)
			var ue *cmdline.UsageError
			switch {
			case tc.usage != "":
				if !errors.As(err, &ue) || ue.Msg != tc.usage {
					t.Fatalf("error %v, want usage error %q", err, tc.usage)
				}
			case err != nil:
				t.Fatalf("error %v", err)
			case !slices.Equal(got, tc.want) && tc.want != nil:
				t.Fatalf("run saw %q, want %q", got, tc.want)
			}
			if !strings.Contains(help, tc.help) {
				t.Fatalf("help %q lacks %q", help, tc.help)
			}
		})
	}
}

func TestTakeFlags(t *testing.T) {
	fs := flag.NewFlagSet("prog", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "")
	profile := fs.String("profile", "", "")
	rest, err := cmdline.TakeFlags(fs, []string{"send", "--json", "--to", "x", "-profile", "p", "hi", "--", "--json"})
	if err != nil || !*asJSON || *profile != "p" || !slices.Equal(rest, []string{"send", "--to", "x", "hi", "--", "--json"}) {
		t.Fatalf("TakeFlags = %q, %v; json %v, profile %q", rest, err, *asJSON, *profile)
	}
	if _, err := cmdline.TakeFlags(fs, []string{"x", "--profile"}); err == nil {
		t.Fatal("a flag without its value was taken")
	}
	if _, err := cmdline.TakeFlags(fs, []string{"--json=maybe"}); err == nil {
		t.Fatal("a bad bool value was taken")
	}
}

func TestHelp(t *testing.T) {
	got := cmdline.Help(table())
	want := "\nthings:\n" +
		"  paint THING --to T [--color C]           paint a thing\n" +
		"  box …                                    boxes\n" +
		"  lid [--to T]                             lids\n"
	if got != want {
		t.Fatalf("Help =\n%s\nwant\n%s", got, want)
	}
}

func TestOptionalFlags(t *testing.T) {
	fs := flag.NewFlagSet("prog", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var s, unset cmdline.OptString
	var b cmdline.OptBool
	var list cmdline.Strings
	fs.Var(&s, "s", "")
	fs.Var(&unset, "u", "")
	fs.Var(&b, "b", "")
	fs.Var(&list, "l", "")
	if err := fs.Parse([]string{"-s", "", "-b", "false", "-l", "1", "-l", "2"}); err != nil {
		t.Fatal(err)
	}
	if s.V == nil || *s.V != "" || unset.V != nil || b.V == nil || *b.V || !slices.Equal(list, cmdline.Strings{"1", "2"}) {
		t.Fatalf("s %v, unset %v, b %v, list %v", s.V, unset.V, b.V, list)
	}
	if err := fs.Parse([]string{"-b", "perhaps"}); err == nil {
		t.Fatal("-b perhaps was accepted")
	}
}
