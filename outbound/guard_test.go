package outbound_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// clientSide are the folders (relative to the module root) whose code does
// not run in the server, or reaches only addresses the operator configured
// or the server itself, and so may use net/http's clients. Everything else
// is server code and makes outbound HTTP requests only through this
// package.
var clientSide = map[string]string{
	"client":     "the client core: runs on users' devices and in the browser; a hosted business endpoint uses it only to reach its own server",
	"attachment": "media upload and download of the client core, to the profile's own server",
	"web":        "the browser client and its wasm bridge",
	"bench":      "the load generator behind `parley bench`, which talks to the server it started",
	"bot":        "the bot SDK, its test server helper and examples, run by businesses rather than by the server",
	"e2e":        "whole-system tests",
	"cmd/parley": "the CLI's client commands (the serve command's files are checked: see isServerFile)",
	"blob/s3":    "the operator's object store, reached by the S3 SDK at the endpoint the operator configured",
	"outbound":   "this package",
	"apiclient":  "the client side's typed client of the server's HTTP routes (CLI, SDK, browser bridge, bench), to the profile's own server",
	"tlsserve":   "the ACME client, which reaches only the certificate authority's directory the operator configured (--acme-directory)",
}

// serverFiles are files inside clientSide folders that are server code all
// the same: every cmd/parley/serve*.go (isServerFile).
func isServerFile(rel string) bool {
	return strings.HasPrefix(rel, "cmd/parley/serve")
}

// forbidden are the net/http names that make (or configure) outbound
// requests outside this package.
var forbidden = map[string]bool{
	"Client": true, "DefaultClient": true, "DefaultTransport": true, "Transport": true,
	"Get": true, "Post": true, "PostForm": true, "Head": true,
}

// TestServerFetchesOnlyThroughOutbound fails when server code names one of
// net/http's clients or fetch functions: a server-side fetch of a URL must
// go through outbound.Client, which refuses internal addresses.
func TestServerFetchesOnlyThroughOutbound(t *testing.T) {
	root := ".."
	fset := token.NewFileSet()
	checked := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), ".") && rel != "." || d.Name() == "node_modules" || d.Name() == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") {
			return nil
		}
		if !isServerFile(rel) {
			for dir := range clientSide {
				if rel == dir || strings.HasPrefix(rel, dir+"/") {
					return nil
				}
			}
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		checked++
		name := ""
		for _, imp := range f.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); p == "net/http" {
				name = "http"
				if imp.Name != nil {
					name = imp.Name.Name
				}
			}
		}
		if name == "" {
			return nil
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if x, ok := sel.X.(*ast.Ident); ok && x.Name == name && forbidden[sel.Sel.Name] {
				t.Errorf("%s: server code uses http.%s; fetch URLs with outbound.Client", fset.Position(sel.Pos()), sel.Sel.Name)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 50 {
		t.Fatalf("only %d server files checked: is the module root %s?", checked, root)
	}
}
