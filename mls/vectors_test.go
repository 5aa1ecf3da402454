// Shared helpers for the official MLS test vectors (RFC 9420 interop vectors
// from mlswg/mls-implementations), available to every test in package mls:
//
//	func loadVectors(t testing.TB, file string, v any)
//	    decodes ../../shared/mls-test-vectors/<file> into v; FAILS the test
//	    (never skips) when the directory or file is missing.
//	type hexBytes []byte
//	    a byte string that unmarshals from a JSON hex string.
//	func reportVectors(file string, ran, skipped int)
//	    prints the one line "mls vectors: <file> ran=<n> skipped=<m>" to
//	    stdout, so it shows in `go test` output even without -v.
//	func suiteSupported(cs CipherSuite) bool
//	    whether the vectors of a cipher suite can be run here.
package mls

import (
	"cmp"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// vectorsDir is the location of the official test vectors relative to the
// package directory, unless the MLS_TEST_VECTORS environment variable names
// another directory (a checkout whose parent has no shared/ beside it).
var vectorsDir = cmp.Or(os.Getenv("MLS_TEST_VECTORS"), "../../shared/mls-test-vectors")

// hexBytes is a byte string encoded in JSON as a hex string.
type hexBytes []byte

// UnmarshalJSON decodes a JSON hex string (or null) into b.
func (b *hexBytes) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		*b = nil
		return nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("hexBytes: %w", err)
	}
	d, err := hex.DecodeString(s)
	if err != nil {
		return fmt.Errorf("hexBytes: %w", err)
	}
	*b = d
	return nil
}

// MarshalJSON encodes b as a JSON hex string.
func (b hexBytes) MarshalJSON() ([]byte, error) {
	return json.Marshal(hex.EncodeToString(b))
}

// String returns the hex encoding of b.
func (b hexBytes) String() string { return hex.EncodeToString(b) }

// loadVectors decodes the named vector file into v. A missing directory or
// file fails the test with a clear message: the vectors are required.
func loadVectors(t testing.TB, file string, v any) {
	t.Helper()
	if _, err := os.Stat(vectorsDir); err != nil {
		abs, _ := filepath.Abs(vectorsDir)
		t.Fatalf("MLS test vectors directory %s (%s) is missing: %v; "+
			"the official vectors must be checked out in shared/mls-test-vectors beside the repository", vectorsDir, abs, err)
	}
	path := filepath.Join(vectorsDir, file)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading MLS test vector file %s: %v", path, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("decoding MLS test vector file %s: %v", path, err)
	}
}

// reportVectors prints the summary line of a vector file's test.
func reportVectors(file string, ran, skipped int) {
	fmt.Printf("mls vectors: %s ran=%d skipped=%d\n", file, ran, skipped)
}

// suiteSupported reports whether vectors for cs can be run by this build.
func suiteSupported(cs CipherSuite) bool { return cs.Supported() }

// skipSuite logs why a vector of an unsupported suite is skipped and fails the
// test if the suite is mandatory (suite 1 must never be skipped).
func skipSuite(t testing.TB, file string, i int, cs CipherSuite) {
	t.Helper()
	if cs == MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519 {
		t.Errorf("%s vector %d: mandatory cipher suite %d skipped", file, i, cs)
		return
	}
	t.Logf("%s vector %d: skipped: cipher suite %d (%s) not implemented", file, i, uint16(cs), cs)
}
