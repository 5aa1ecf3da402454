package node

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// envInUsage finds the environment variable a flag's usage names, as the
// serve flags end theirs: "… [PARLEY_LISTEN]".
var envInUsage = regexp.MustCompile(`\[(PARLEY_[A-Z0-9_]+)\]$`)

// ApplyConfigFile sets fs's flags from the config file at path, after
// fs.Parse: each line is `name = value` (a TOML subset: the name is a
// flag's name without dashes' prefix, e.g. `listen = "0.0.0.0:8080"`; the
// value a TOML basic string, a number, true or false; `#` starts a comment;
// blank lines are skipped). Precedence is command line > environment >
// file > default: a flag given on the command line, or whose environment
// variable (named in its usage as [PARLEY_…]) is set, keeps its value. A
// name that is no flag of fs, a flag named twice, a section header or a
// value the flag refuses is an error naming the line and the key, so a
// typo never passes silently. The key "config" itself is refused.
func ApplyConfigFile(fs *flag.FlagSet, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	onCommandLine := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { onCommandLine[fl.Name] = true })
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		where := fmt.Sprintf("config %s:%d", path, n)
		key, raw, ok := strings.Cut(line, "=")
		if !ok {
			return fmt.Errorf("%s: want name = value, got %q", where, line)
		}
		key = strings.TrimSpace(key)
		fl := fs.Lookup(key)
		if fl == nil || key == "config" {
			return fmt.Errorf("%s: unknown key %q (the keys are the flags of `parley serve -h`, without dashes in front)", where, key)
		}
		if seen[key] {
			return fmt.Errorf("%s: key %q given twice", where, key)
		}
		seen[key] = true
		value, err := configValue(strings.TrimSpace(raw))
		if err != nil {
			return fmt.Errorf("%s: key %q: %w", where, key, err)
		}
		if onCommandLine[key] {
			continue
		}
		if m := envInUsage.FindStringSubmatch(fl.Usage); m != nil {
			if _, set := os.LookupEnv(m[1]); set {
				continue
			}
		}
		if err := fs.Set(key, value); err != nil {
			return fmt.Errorf("%s: key %q: %w", where, key, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	return nil
}

// configValue decodes a value: a double-quoted TOML basic string (Go's
// escapes, which cover TOML's common ones) or a bare word (number, true,
// false), either followed by an optional # comment.
func configValue(raw string) (string, error) {
	if strings.HasPrefix(raw, `"`) {
		q, err := strconv.QuotedPrefix(raw)
		if err != nil {
			return "", fmt.Errorf("unterminated or malformed string %s", raw)
		}
		if rest := strings.TrimSpace(raw[len(q):]); rest != "" && rest[0] != '#' {
			return "", fmt.Errorf("text after the string: %q", rest)
		}
		return strconv.Unquote(q)
	}
	v, _, _ := strings.Cut(raw, "#")
	v = strings.TrimSpace(v)
	if v == "" || strings.ContainsAny(v, `"' []{}`) {
		return "", fmt.Errorf("value %q: want a \"string\", a number, true or false", raw)
	}
	return v, nil
}
