package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptrace"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/apiclient"
	"github.com/parleyhq/parley/client/status"
	"github.com/parleyhq/parley/content"
)

// runStatus posts one image status from a poster with cfg.Viewers contacts
// to all of them, while every viewer is online (a waiting GET /v1/status,
// as a client waiting for new statuses does), on a `parley serve` process:
//
//   - the poster encrypts the image once (its own media key), seals the
//     post once under its status key and uploads both in one request with
//     the audience's user ids (package client/status's format);
//   - each viewer wakes and opens (decrypts and checks) the post; once
//     all have, each fetches and decrypts the image (measured apart: the
//     image downloads would otherwise delay the post's delivery to others).
//
// The status key reaching the viewers is not part of a post: it is sent
// once per audience member over their 1:1 MLS chat (a 1:1 message each,
// whose cost `bench direct` measures) and only again when the audience
// shrinks. Here the viewers hold it already, as they do in steady state.
//
// It reports the post time (encrypt, seal, upload: the server stores the
// post, one blob and one audience row per viewer, and wakes the viewers),
// the time until all viewers have opened the post and until all have the
// image, and what the server stored for the post (blob bytes, blobs, and
// the growth of the rest of its data directory).
func runStatus(ctx context.Context, cfg Config) (map[string]any, error) {
	raiseFileLimit()
	n := cfg.Viewers
	if n < 1 || n > 20000 {
		return nil, fmt.Errorf("a bench status has 1 to 20,000 viewers")
	}
	var users []benchUser
	srv, err := startServer(ctx, cfg, func(ctx context.Context, st parley.Store) (err error) {
		users, err = seedUsers(ctx, st, n+1)
		return err
	})
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	base := "http://" + srv.addr
	tr := &http.Transport{MaxIdleConns: n + 16, MaxIdleConnsPerHost: n + 16, MaxConnsPerHost: 0, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 2 * time.Minute}
	api := func(u benchUser) *apiclient.Client {
		c, _ := apiclient.ForDevice(base, u.Device, u.Secret)
		c.HTTP = hc
		return c
	}
	poster, viewers := users[0], users[1:]

	// The poster's status key, held by every viewer.
	key := content.StatusKey{ID: "benchkey", Key: make([]byte, content.StatusKeyLen)}
	_, _ = rand.Read(key.Key)
	image := make([]byte, cfg.ImageBytes)
	_, _ = rand.Read(image)
	thumb := make([]byte, 2<<10) // a small JPEG's worth
	_, _ = rand.Read(thumb)

	feed, err := api(poster).StatusFeed(ctx, time.Time{}, 0)
	if err != nil {
		return nil, fmt.Errorf("status feed: %w", err)
	}
	before := feed.Now

	// Every viewer online: a waiting feed request each.
	fmt.Fprintf(cfg.Log, "%d viewers waiting\n", n)
	var (
		written  sync.WaitGroup
		done     sync.WaitGroup
		postAt   atomic.Int64 // unix ns when the poster started
		opened   = make([]time.Duration, n)
		fetched  = make([]time.Duration, n)
		failures atomic.Int64
		firstErr atomic.Value
	)
	var allOpened sync.WaitGroup
	written.Add(n)
	done.Add(n)
	allOpened.Add(n)
	sem := make(chan struct{}, 256) // connection setup, not the wait, is bounded
	for i, v := range viewers {
		go func() {
			defer done.Done()
			opening := true
			fail := func(err error) {
				failures.Add(1)
				firstErr.CompareAndSwap(nil, err)
				if opening {
					allOpened.Done()
				}
			}
			c := api(v)
			once := sync.OnceFunc(written.Done)
			defer once()
			sem <- struct{}{}
			tctx := httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) {
				<-sem
				once()
			}})
			f, err := c.StatusFeed(tctx, before, 60*time.Second)
			if err != nil {
				fail(err)
				return
			}
			i0 := slices.IndexFunc(f.Posts, func(p apiclient.StatusPost) bool { return p.Poster == poster.User })
			if i0 < 0 {
				fail(fmt.Errorf("viewer %d woke without the post", i))
				return
			}
			p := f.Posts[i0]
			b, err := status.Open(key, p.Poster, p.Ciphertext)
			if err != nil {
				fail(err)
				return
			}
			opened[i] = time.Since(time.Unix(0, postAt.Load()))
			// The image is fetched once every viewer has opened the post:
			// the two are measured apart (500 MB of downloads for 5,000
			// viewers would otherwise crowd out the post's delivery).
			opening = false
			allOpened.Done()
			allOpened.Wait()
			ct, err := c.StatusMedia(ctx, p.ID)
			if err == nil {
				var data []byte
				data, err = status.DecryptMedia(b.Media, ct)
				if err == nil && !bytes.Equal(data[:64], image[:64]) {
					err = fmt.Errorf("viewer %d: the image differs", i)
				}
			}
			if err != nil {
				fail(err)
				return
			}
			fetched[i] = time.Since(time.Unix(0, postAt.Load()))
		}()
	}
	written.Wait()
	// Every request is written; wait until the server has taken them all
	// in (its CPU goes quiet), so the measure starts with every viewer
	// waiting rather than with a backlog of requests being authenticated.
	settled := waitQuiet(srv.pid, 30*time.Second)
	blobsBefore, dataBefore := dirBytes(filepath.Join(srv.dir, "blobs")), dirBytes(srv.dir)

	audience := make([]parley.UserID, n)
	for i, v := range viewers {
		audience[i] = v.User
	}
	cpu := startCPU(srv.pid)
	t0 := time.Now()
	postAt.Store(t0.UnixNano())
	ct, m, err := status.EncryptMedia(image)
	if err != nil {
		return nil, err
	}
	m.Type, m.Thumb = "image/jpeg", thumb
	sealed, err := status.Seal(key, poster.User, status.Body{Kind: status.KindImage, Text: "bench status", Media: m, SentAt: t0.UnixMilli()})
	if err != nil {
		return nil, err
	}
	tSeal := time.Now()
	created, err := api(poster).PostStatus(ctx, apiclient.StatusUpload{ClientID: "bench", KeyID: key.ID, Audience: audience, Ciphertext: sealed}, ct)
	if err != nil {
		return nil, fmt.Errorf("post: %w", err)
	}
	tPosted := time.Now()
	done.Wait()
	serverCPU, clientCPU, otherCPU := cpu.stop()
	if f := failures.Load(); f > 0 {
		return nil, fmt.Errorf("%d viewers failed, the first: %v", f, firstErr.Load())
	}
	blobsAfter, dataAfter := dirBytes(filepath.Join(srv.dir, "blobs")), dirBytes(srv.dir)
	var ol, fl latencies
	for i := range opened {
		ol.add(opened[i])
		fl.add(fetched[i])
	}
	return map[string]any{
		"viewers":            n,
		"settle_ms":          settled.Milliseconds(),
		"post_id":            created.ID,
		"image_bytes":        cfg.ImageBytes,
		"encrypt_seal_ms":    round3(float64(tSeal.Sub(t0).Microseconds()) / 1000),
		"upload_ms":          round3(float64(tPosted.Sub(tSeal).Microseconds()) / 1000),
		"post_ms":            round3(float64(tPosted.Sub(t0).Microseconds()) / 1000),
		"all_opened_ms":      ol.ms(1),
		"opened_p50_ms":      ol.ms(0.5),
		"opened_p99_ms":      ol.ms(0.99),
		"all_media_ms":       fl.ms(1),
		"media_p50_ms":       fl.ms(0.5),
		"sealed_post_bytes":  len(sealed),
		"media_cipher_bytes": len(ct),
		"server_blob_bytes":  blobsAfter - blobsBefore,
		"server_other_bytes": (dataAfter - blobsAfter) - (dataBefore - blobsBefore),
		"server_cpu":         serverCPU,
		"client_cpu":         clientCPU,
		"other_cpu":          otherCPU,
		"key_distribution":   "not in the post: once per audience member over the 1:1 MLS chat (see bench direct)",
		"payload":            "sealed post and encrypted image (client/status format)",
	}, nil
}

// dirBytes is the total size of the files under dir.
func dirBytes(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

// waitQuiet waits until process pid uses under 5 % of a core over 300 ms,
// or at most limit, and returns how long it waited.
func waitQuiet(pid int, limit time.Duration) time.Duration {
	start := time.Now()
	last, _ := procCPU(pid)
	for time.Since(start) < limit {
		time.Sleep(300 * time.Millisecond)
		now, err := procCPU(pid)
		if err != nil || now-last < 15*time.Millisecond {
			break
		}
		last = now
	}
	return time.Since(start)
}
