package client_test

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("database/sql.(*DB).connectionOpener"),
		// tusd (the media service's upload handler) cancels each request's
		// handler context from a goroutine that, once the request ended,
		// still waits out GracefulRequestCompletionTimeout (10 s) before it
		// exits: not a leak, but longer than goleak's retries.
		goleak.IgnoreTopFunction("github.com/tus/tusd/v2/pkg/handler.newDelayedContext.func1"))
}
