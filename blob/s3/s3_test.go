package s3_test

import (
	"context"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/blob/blobtest"
	"github.com/parleyhq/parley/blob/s3"
)

var bucketSeq atomic.Int64

// config reads PARLEY_TEST_S3 ("http://ACCESS:SECRET@HOST:PORT/BUCKET", as
// printed by scripts/s3-start.sh) or skips the test.
func config(t *testing.T) s3.Config {
	t.Helper()
	raw := os.Getenv("PARLEY_TEST_S3")
	if raw == "" {
		t.Skip("PARLEY_TEST_S3 is not set: run `eval \"$(bash scripts/s3-start.sh)\"` to test against a real S3 server")
	}
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		t.Fatalf("PARLEY_TEST_S3=%q: want http://ACCESS:SECRET@HOST:PORT/BUCKET", raw)
	}
	secret, _ := u.User.Password()
	return s3.Config{
		Endpoint:  u.Host,
		Secure:    u.Scheme == "https",
		AccessKey: u.User.Username(),
		SecretKey: secret,
		Bucket:    strings.Trim(u.Path, "/"),
		PartSize:  5 << 20, // exercise multipart uploads in the streaming test
	}
}

func TestContract(t *testing.T) {
	cfg := config(t)
	blobtest.Run(t, func(t *testing.T) parley.BlobStore {
		c := cfg
		// A fresh prefix per subtest keeps them independent in one bucket.
		c.Prefix = "t" + time.Now().Format("150405.000000") + "-" + string(rune('a'+bucketSeq.Add(1)%26)) + "/"
		s, err := s3.Open(t.Context(), c)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestOpenUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	_, err := s3.Open(ctx, s3.Config{Endpoint: "127.0.0.1:1", Bucket: "parley", AccessKey: "a", SecretKey: "b"})
	if err == nil {
		t.Fatal("Open of an unreachable endpoint succeeded")
	}
}
