package parleytest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// RunWithBinary is a TestMain for tests that drive the real parley binary
// as a separate process: it builds the package at cmdDir (relative to the
// test's package, e.g. "../cmd/parley") into a temporary directory, sets
// *bin to the binary, runs the tests and exits with their code, removing
// the binary. A build failure exits 1 with the compiler's output.
func RunWithBinary(m *testing.M, cmdDir string, bin *string) {
	dir, err := os.MkdirTemp("", "parley-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	*bin = filepath.Join(dir, "parley")
	cmd := exec.Command("go", "build", "-o", *bin, cmdDir)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build parley:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
