package disk_test

import (
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/blob/blobtest"
	"github.com/parleyhq/parley/blob/disk"
)

func TestContract(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) parley.BlobStore {
		s, err := disk.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestRejectsBadIDs(t *testing.T) {
	s, err := disk.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []parley.BlobID{"", "b../../etc", "bAAAAAAAAAAA", "x12345678"} {
		if _, err := s.Stat(t.Context(), id); !parley.IsCode(err, parley.CodeInvalid) {
			t.Errorf("Stat(%q) = %v, want CodeInvalid", id, err)
		}
	}
}
