package parley_test

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The import rules of the tree (docs/architecture.md, "Arrows"). Package
// paths are relative to the module: "" is the domain package itself, "x/..."
// is x and everything under it.
//
// Arrows run one way: the domain package (parley) at the bottom; the
// technology packages (store, blob, broker) beside each other and above it;
// the services above them; server wires the services; node and cmd/parley wire
// everything. The client is a separate tree that speaks the wire protocol
// and shares only the domain types, mls, the generated protobuf code and
// the conversions to it (wire).

const module = "github.com/parleyhq/parley"

// serverSide are the packages that make up the server. None of them may
// depend on the client, so the server can change without the client and
// the other way round.
var serverSide = []string{
	"", "accounts", "blob/...", "broker/...", "business", "calls", "clientip", "cloudapi",
	"delivery", "gateway", "groupcommit", "groups", "httperr", "insights", "media", "outbound",
	"push", "ratelimit", "relay", "server", "sfu", "store/...", "trees", "webhook", "wire",
	"tlsserve", "backup", "backups", "moderation", "status",
}

// clientSide are the client packages: they may depend on nothing of the
// server beyond what clientShared lists.
var clientSide = []string{"client/..."}

// clientShared are the packages both sides use: the domain types, MLS,
// the protocol's generated code and its conversions, attachments' encoding
// and SFrame, the plaintext format, and the typed client of the server's
// HTTP routes (attachment's uploads go through it; server code may not
// import it directly).
var clientShared = []string{"", "mls/...", "proto/...", "wire", "attachment", "sframe", "content/...", "apiclient"}

// protobufUsers are the server-side packages allowed to import the
// generated protobuf code. Everywhere else on the server side services speak
// domain types and wire converts.
var protobufUsers = map[string]string{
	"gateway": "it speaks the wire protocol: decodes ClientFrames, encodes ServerFrames",
	"wire":    "the one place of protobuf ↔ domain conversions",
}

// pendingArrows are forbidden arrows still allowed while a change removes
// them; empty: every rule holds.
var pendingArrows = []arrow{}

type arrow struct{ from, to string }

// TestDeps fails when a forbidden import appears (tailscale's TestDeps).
// It reads the import graph with go list, for the host and for js/wasm
// (the browser build of the client).
func TestDeps(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list over the module")
	}
	for label, env := range map[string][]string{"host": nil, "js/wasm": {"GOOS=js", "GOARCH=wasm"}} {
		for _, v := range violations(goList(t, env)) {
			t.Errorf("%s: %s", label, v)
		}
	}
}

// TestDepsCatchesForbiddenArrows: the rules do flag what they forbid (on a
// made-up graph, so the test cannot pass by matching nothing).
func TestDepsCatchesForbiddenArrows(t *testing.T) {
	pkgs := []pkg{
		{ImportPath: module, Imports: []string{"net/http"}, Deps: []string{"net/http"}},
		{ImportPath: module + "/mls", Imports: []string{module}, Deps: []string{module}},
		{ImportPath: module + "/gateway", Imports: []string{module + "/hosted"}, Deps: []string{module + "/hosted", module + "/client"}},
		{ImportPath: module + "/client/x", Imports: []string{module + "/delivery"}, Deps: []string{module + "/delivery"}},
		{ImportPath: module + "/wire", Imports: []string{module + "/delivery"}, Deps: []string{module + "/delivery"}},
		{ImportPath: module + "/groups", Imports: []string{module + "/proto/parleypb"}, Deps: []string{module + "/proto/parleypb"}},
		{ImportPath: module + "/store/sqlite", Imports: []string{module + "/store/postgres", module + "/parleytest"}, Deps: []string{module + "/store/postgres"}},
	}
	got := strings.Join(violations(pkgs), "\n")
	for _, want := range []string{
		"parley imports net/http",
		"mls depends on parley",
		"gateway depends on client",
		"gateway imports hosted",
		"client/x depends on delivery",
		"groups imports proto/parleypb",
		"wire depends on delivery",
		"store/sqlite depends on store/postgres",
		"store/sqlite imports parleytest",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("no violation %q in:\n%s", want, got)
		}
	}
}

type pkg struct {
	ImportPath string
	Imports    []string // direct, non-test
	Deps       []string // transitive, non-test
}

// violations lists every broken rule in pkgs.
func violations(pkgs []pkg) []string {
	var out []string
	bad := func(from, how, to, why string) {
		if slices.Contains(pendingArrows, arrow{from, to}) {
			return
		}
		out = append(out, name(from)+" "+how+" "+name(to)+": "+why)
	}
	for _, p := range pkgs {
		from, ok := rel(p.ImportPath)
		if !ok {
			continue
		}
		for _, imp := range p.Imports {
			to, ours := rel(imp)
			switch {
			case !ours:
				if from == "" && imp == "net/http" {
					bad(from, "imports", imp, "the domain knows codes, not HTTP: map them at the edge (httperr)")
				}
			case to == "parleytest" || to == "store/storetest" || strings.HasSuffix(to, "test") && to != from:
				if !strings.HasSuffix(from, "test") && !strings.HasPrefix(from, "bench") {
					bad(from, "imports", to, "test harnesses are for tests")
				}
			case to == "apiclient" && in(from, serverSide):
				bad(from, "imports", to, "the API client is the client side's (attachment's uploads use it); server code fetches URLs through outbound")
			case to == "hosted" && in(from, serverSide):
				bad(from, "imports", to, "the hosted endpoints are a client: node hands them to server (BusinessAPIConfig.Hosted)")
			case to == "proto/parleypb" && in(from, serverSide) && protobufUsers[from] == "":
				bad(from, "imports", to, "services speak domain types; conversions live in wire")
			}
		}
		for _, dep := range p.Deps {
			to, ours := rel(dep)
			switch {
			case !ours:
				if from == "" && dep == "net/http" && !slices.Contains(p.Imports, dep) {
					bad(from, "depends on", dep, "the domain knows codes, not HTTP")
				}
			case from == "mls" || strings.HasPrefix(from, "mls/"):
				if to != "mls" && !strings.HasPrefix(to, "mls/") {
					bad(from, "depends on", to, "mls imports nothing of Parley")
				}
			case from == "":
				bad(from, "depends on", to, "the domain package imports no other Parley package")
			case from == "wire" && to != "" && to != "proto/parleypb":
				bad(from, "depends on", to, "wire converts between the domain and the protocol only")
			case in(from, serverSide) && in(to, clientSide):
				bad(from, "depends on", to, "no server package depends on the client")
			case in(from, clientSide) && !in(to, clientSide) && !in(to, clientShared):
				bad(from, "depends on", to, "the client shares only "+strings.Join(clientShared[1:], ", ")+" and the domain with the server")
			case family(from) != "" && to != "" && family(to) != family(from) && !(harness(from) && harness(to)):
				bad(from, "depends on", to, "a technology package depends only on the domain and its own family")
			case family(from) != "" && family(from) == family(to) && sibling(from, to):
				bad(from, "depends on", to, "implementations do not import each other")
			}
		}
	}
	return out
}

// harness reports whether p is a test harness package (storetest,
// mediatest…): a contract suite may run another's.
func harness(p string) bool { return strings.HasSuffix(p, "test") }

// family is "store", "blob" or "broker" for the technology packages.
func family(p string) string {
	for _, f := range []string{"store", "blob", "broker"} {
		if strings.HasPrefix(p, f+"/") {
			return f
		}
	}
	return ""
}

// implementations are the technology packages that implement one contract
// each; two of one family never import each other (a shared core of theirs
// lives in its own package of the family).
var implementations = []string{"store/sqlite", "store/postgres", "blob/disk", "blob/s3", "broker/inproc", "broker/nats"}

// sibling reports whether from and to are two implementations of one
// contract (store/sqlite and store/postgres).
func sibling(from, to string) bool {
	return from != to && slices.Contains(implementations, from) && slices.Contains(implementations, to)
}

// in reports whether p matches one of the patterns ("x" or "x/...").
func in(p string, patterns []string) bool {
	for _, pat := range patterns {
		if base, ok := strings.CutSuffix(pat, "/..."); ok {
			if p == base || strings.HasPrefix(p, base+"/") {
				return true
			}
		} else if p == pat {
			return true
		}
	}
	return false
}

// rel is path relative to the module ("" for the module's root package).
func rel(path string) (string, bool) {
	if path == module {
		return "", true
	}
	r, ok := strings.CutPrefix(path, module+"/")
	return r, ok
}

func name(rel string) string {
	if rel == "" {
		return "parley"
	}
	return rel
}

// goList is the module's import graph for the GOOS/GOARCH in env.
func goList(t *testing.T, env []string) []pkg {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	cmd := exec.Command(goBin, "list", "-e", "-json=ImportPath,Imports,Deps", "./...")
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 10 {
		t.Fatalf("go list found %d packages", len(pkgs))
	}
	return pkgs
}
