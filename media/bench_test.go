package media_test

import (
	"bufio"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkMediaTransfer1GiB uploads (encrypting, over tus) and downloads
// (decrypting and verifying) a 1 GiB file through the real HTTP service on
// loopback, with the disk BlobStore and SQLite, and reports MB/s each way
// and the growth of the process's peak RSS during the transfers.
//
// Client and server share this process, so the RSS figure is an upper
// bound for the server's (the client's buffers are a few hundred KiB).
//
//	go test -run '^$' -bench MediaTransfer1GiB -benchtime 1x ./media/
func BenchmarkMediaTransfer1GiB(b *testing.B) {
	const size = 1 << 30
	dir := b.TempDir()
	path := filepath.Join(dir, "1gib.bin")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(f, io.LimitReader(rand.NewChaCha8([32]byte{42}), size)); err != nil {
		b.Fatal(err)
	}
	// Flush the source file now, so its write-back does not compete with
	// the measured upload's.
	if err := f.Sync(); err != nil {
		b.Fatal(err)
	}
	f.Close()

	for b.Loop() {
		e := newEnvB(b)
		resetPeakRSS()
		base := rss("VmRSS")
		start := time.Now()
		d, err := e.client(1).UploadFile(b.Context(), e.conv, path, false, "")
		if err != nil {
			b.Fatal(err)
		}
		up := time.Since(start)
		start = time.Now()
		if err := e.client(2).Download(b.Context(), d, io.Discard); err != nil {
			b.Fatal(err)
		}
		down := time.Since(start)
		peak := rss("VmHWM")
		b.ReportMetric(float64(size)/up.Seconds()/1e6, "upload-MB/s")
		b.ReportMetric(float64(size)/down.Seconds()/1e6, "download-MB/s")
		b.ReportMetric(float64(peak-base)/(1<<20), "peak-RSS-growth-MiB")
	}
}

// resetPeakRSS resets VmHWM (Linux: clear_refs 5); a no-op elsewhere.
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// rss returns a /proc/self/status field in bytes (0 if unavailable).
func rss(field string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n << 10
		}
	}
	return 0
}
