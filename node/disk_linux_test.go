package node

import (
	"context"
	"testing"
)

// TestDiskMetrics: the data directory's file system has a size and no more
// free bytes than that; a missing directory reports no sample, not an error.
func TestDiskMetrics(t *testing.T) {
	ms, err := diskMetrics(t.TempDir())(context.Background())
	if err != nil || len(ms) != 2 {
		t.Fatalf("%v %v", ms, err)
	}
	free, size := ms[0].Value, ms[1].Value
	if ms[0].Name != "parley_data_disk_free_bytes" || size <= 0 || free < 0 || free > size {
		t.Fatalf("free %v size %v (%v)", free, size, ms)
	}
	if ms, err := diskMetrics("/nonexistent/parley")(context.Background()); err != nil || len(ms) != 0 {
		t.Fatalf("missing directory: %v %v", ms, err)
	}
}
