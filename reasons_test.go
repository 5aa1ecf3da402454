package parley_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// namedReasons are the packages whose reasons are all named constants: no
// call site there types a reason string (TestNoBareReasons). Not listed:
// store/storetest, whose QualitySignal.Reason is a user's report text, not
// an error reason; cmd/ until it is converted.
var namedReasons = []string{
	"", "accounts", "admin", "business", "calls", "delivery", "gateway", "groups", "hosted", "httperr",
	"insights", "media", "push", "server", "status", "trees", "webhook", "wire",
	// The client side and the stores.
	"apiclient", "attachment", "blob/blobtest", "blob/disk", "blob/s3", "bot", "bot/bottest",
	"bot/examples/faq", "bot/examples/httpfaq", "bot/examples/orderstatus",
	"client", "client/biz", "client/call", "client/calls", "client/chattools", "client/conn", "client/files", "client/groups",
	"client/localstore", "client/mlsengine", "client/moderation", "client/status", "cloudapi", "content", "moderation",
	"store/postgres", "store/sqlite", "store/sqlstore", "web/bridge", "web/wasm",
	// The binary, its wiring and the bench.
	"cmd/parley", "cmd/internal/cmdline", "cmd/internal/moderationcmd", "node", "backup", "tlsserve", "bench", "relay", "sfu", "sframe",
	"outbound", "ratelimit", "clientip", "broker/inproc", "broker/nats", "groupcommit", "parleytest",
}

// TestReasonsDocumented: every Reason constant of the tree is a row of the
// reasons table in docs/protocol.md, and every row is a constant's value.
func TestReasonsDocumented(t *testing.T) {
	consts := map[string][]string{} // value -> constants
	forEachGoFile(t, func(dir string, f *ast.File, _ *token.FileSet) {
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if !strings.HasPrefix(n.Name, "Reason") || i >= len(vs.Values) {
						continue
					}
					if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
						v, _ := strconv.Unquote(lit.Value)
						consts[v] = append(consts[v], name(dir)+"."+n.Name)
					}
				}
			}
		}
	})
	if len(consts) < 100 {
		t.Fatalf("found only %d reason constants", len(consts))
	}
	doc, err := os.ReadFile("docs/protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(doc), "<!-- reasons:begin")
	table, _, ok2 := strings.Cut(table, "<!-- reasons:end -->")
	if !ok || !ok2 {
		t.Fatal("docs/protocol.md has no reasons table (<!-- reasons:begin … reasons:end -->)")
	}
	rows := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z0-9_]+)` \\|").FindAllStringSubmatch(table, -1) {
		rows[m[1]] = true
	}
	for v, names := range consts {
		if !rows[v] {
			t.Errorf("reason %q (%s) is missing from the table in docs/protocol.md", v, strings.Join(names, ", "))
		}
	}
	for v := range rows {
		if consts[v] == nil {
			t.Errorf("docs/protocol.md lists reason %q, which no constant has", v)
		}
	}
}

// TestNoBareReasons: in the packages of namedReasons, a reason is always a
// named constant: no Errorf(code, "literal", …), Error{Reason: "literal"},
// RateLimited("literal", …) or reason argument typed as a literal.
func TestNoBareReasons(t *testing.T) {
	// reasonArg is the index of the reason parameter of the functions that
	// take one.
	reasonArg := map[string]int{
		"Errorf": 1, "commitError": 1, "RateLimited": 0, "rateLimited": 0, "checkText": 0, "cleanName": 1,
		"sendError": 2, "sendErrorIfID": 2, "protocolError": 1, "closeWith": 1,
	}
	snake := regexp.MustCompile(`^"[a-z][a-z0-9]*(_[a-z0-9]+)*"$`)
	seen := map[string]bool{}
	forEachGoFile(t, func(dir string, f *ast.File, fset *token.FileSet) {
		if !slices.Contains(namedReasons, dir) {
			return
		}
		seen[dir] = true
		bare := func(e ast.Expr) bool {
			lit, ok := e.(*ast.BasicLit)
			return ok && lit.Kind == token.STRING && snake.MatchString(lit.Value)
		}
		ast.Inspect(f, func(node ast.Node) bool {
			switch x := node.(type) {
			case *ast.CallExpr:
				var fn string
				switch f := x.Fun.(type) {
				case *ast.Ident:
					fn = f.Name
				case *ast.SelectorExpr:
					if id, ok := f.X.(*ast.Ident); ok && id.Name == "fmt" {
						return true
					}
					fn = f.Sel.Name
				}
				if i, ok := reasonArg[fn]; ok && i < len(x.Args) && bare(x.Args[i]) {
					t.Errorf("%s: %s(…, %s): name the reason", fset.Position(x.Pos()), fn, x.Args[i].(*ast.BasicLit).Value)
				}
			case *ast.KeyValueExpr:
				if k, ok := x.Key.(*ast.Ident); ok && k.Name == "Reason" && bare(x.Value) {
					t.Errorf("%s: Reason: %s: name the reason", fset.Position(x.Pos()), x.Value.(*ast.BasicLit).Value)
				}
			}
			return true
		})
	})
	if len(seen) < len(namedReasons)-1 { // wire may not exist yet
		t.Fatalf("parsed only the packages %v", seen)
	}
}

// forEachGoFile parses every non-test Go file of the module (from its root,
// the working directory of this package's tests) and calls fn with the
// file's package directory relative to the module ("" for the root).
func forEachGoFile(t *testing.T, fn func(dir string, f *ast.File, fset *token.FileSet)) {
	t.Helper()
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if b := d.Name(); path != "." && (strings.HasPrefix(b, ".") || b == "testdata" || b == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		dir := filepath.ToSlash(filepath.Dir(path))
		if dir == "." {
			dir = ""
		}
		fn(dir, f, fset)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
