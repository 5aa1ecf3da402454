package bench

import (
	"context"
	crand "crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/attachment"
)

// runMedia measures the media service as a separate process: a random file
// of size bytes is uploaded with the attachment client (encrypting on the
// fly, tus over HTTP/1.1 on loopback) by one member of a seeded direct
// chat, then downloaded (decrypting and verifying) by the other. The
// server's RSS is sampled every 50 ms and its peak high-water mark (VmHWM)
// read at the end.
//
// Upload time runs from the tus creation to the server's answer to the
// last PATCH, so it includes the server's move of the staged file into the
// blob store with its fsync; download time ends after the digest check.
func runMedia(ctx context.Context, cfg Config, size int64) (map[string]any, error) {
	if size <= 0 {
		size = 1 << 30
	}
	var users []benchUser
	var conv parley.ConversationID
	srv, err := startServer(ctx, cfg, func(ctx context.Context, st parley.Store) error {
		var err error
		if users, conv, err = seedMediaChat(ctx, st); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	defer srv.stop()

	// The file lives outside the server's data directory, written before
	// the measurement (and synced, so its write-back does not compete).
	dir, err := os.MkdirTemp("", "parley-bench-media-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "file.bin")
	sum, err := writeRandomFile(path, size)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(cfg.Log, "media: %d-byte file written\n", size)

	base := "http://" + srv.addr
	up := &attachment.Client{BaseURL: base, Device: users[0].Device, Secret: users[0].Secret}
	down := &attachment.Client{BaseURL: base, Device: users[1].Device, Secret: users[1].Secret}

	rssBefore := srv.rssKiB()
	hwmBefore := procStatusKiB(srv.pid, "VmHWM")
	sampler := startRSSSampler(srv.pid, 50*time.Millisecond)

	start := time.Now()
	d, err := up.UploadFile(ctx, conv, path, false, "")
	if err != nil {
		sampler.stop()
		return nil, fmt.Errorf("upload: %w", err)
	}
	upTime := time.Since(start)
	fmt.Fprintf(cfg.Log, "media: uploaded in %v\n", upTime.Round(time.Millisecond))

	h := sha256.New()
	start = time.Now()
	err = down.Download(ctx, d, h)
	downTime := time.Since(start)
	peakSampled := sampler.stop()
	if err != nil {
		return nil, fmt.Errorf("download: %w", err)
	}
	if string(h.Sum(nil)) != string(sum) {
		return nil, fmt.Errorf("download: the file's SHA-256 differs from the uploaded one")
	}
	fmt.Fprintf(cfg.Log, "media: downloaded in %v\n", downTime.Round(time.Millisecond))

	// VmHWM is the process's lifetime peak: it exceeds the pre-transfer one
	// only if the transfers raised it. Take the larger of it and the samples.
	peak := peakSampled
	if hwm := procStatusKiB(srv.pid, "VmHWM"); hwm > hwmBefore {
		peak = max(peak, hwm)
	}
	peak = max(peak, rssBefore)
	mbps := func(d time.Duration) float64 { return round3(float64(size) / d.Seconds() / 1e6) }
	return map[string]any{
		"file_bytes":            size,
		"upload_mb_per_s":       mbps(upTime),
		"download_mb_per_s":     mbps(downTime),
		"upload_s":              round3(upTime.Seconds()),
		"download_s":            round3(downTime.Seconds()),
		"server_rss_before_kib": rssBefore,
		"server_peak_rss_kib":   peak,
		"server_rss_growth_kib": peak - rssBefore,
		"encryption":            attachment.Scheme,
	}, nil
}

// seedMediaChat creates two users and the direct chat between them.
func seedMediaChat(ctx context.Context, st parley.Store) ([]benchUser, parley.ConversationID, error) {
	users, err := seedUsers(ctx, st, 2)
	if err != nil {
		return nil, "", err
	}
	convs, err := seedPairs(ctx, st, users)
	if err != nil {
		return nil, "", err
	}
	return users, convs[0], nil
}

// writeRandomFile writes size pseudo-random bytes to path, syncs it and
// returns their SHA-256.
func writeRandomFile(path string, size int64) ([]byte, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	var seed [32]byte
	_, _ = crand.Read(seed[:])
	if _, err := io.CopyBuffer(io.MultiWriter(f, h), io.LimitReader(rand.NewChaCha8(seed), size), make([]byte, 1<<20)); err != nil {
		return nil, err
	}
	if err := f.Sync(); err != nil {
		return nil, err
	}
	return h.Sum(nil), f.Close()
}

// procStatusKiB reads a kB field (VmRSS, VmHWM) of /proc/PID/status; 0 if
// unavailable.
func procStatusKiB(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// rssSampler polls a process's VmRSS and keeps the maximum.
type rssSampler struct {
	done chan struct{}
	wg   sync.WaitGroup
	peak int64
}

func startRSSSampler(pid int, every time.Duration) *rssSampler {
	s := &rssSampler{done: make(chan struct{})}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			if v, err := procRSSKiB(pid); err == nil {
				s.peak = max(s.peak, v)
			}
			select {
			case <-s.done:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// stop ends sampling and returns the peak VmRSS seen, in KiB.
func (s *rssSampler) stop() int64 {
	close(s.done)
	s.wg.Wait()
	return s.peak
}
