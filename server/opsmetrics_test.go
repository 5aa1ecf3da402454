package server_test

import (
	"io"
	"net/http/httptest"
	"regexp"
	"strconv"
	"testing"
)

// TestOpsMetrics: after a message is sent, received and acknowledged,
// /metrics has a store latency histogram per operation with the append,
// ack and cursor reads counted, and a depth and capacity for every queue.
func TestOpsMetrics(t *testing.T) {
	e := newEnv(t)
	a, b := e.register("alice"), e.register("bob")
	ca, cb := e.connect(a), e.connect(b)
	conv := e.direct(ca, b)
	welcomeFor(t, cb, conv)
	ca.mustOK(sendFrame(conv, "m1", "hello"))
	env := cb.nextEnvelope()
	cb.mustOK(ackFrame(conv, env.Seq))

	rec := httptest.NewRecorder()
	e.srv.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	text := string(body)
	for _, want := range []string{
		"# TYPE parley_store_op_duration_seconds histogram",
		`parley_store_op_duration_seconds_bucket{op="append",le="+Inf"}`,
		`parley_store_op_duration_seconds_sum{op="read_log"}`,
		`parley_queue_depth{queue="delivery_append"}`,
		`parley_queue_capacity{queue="delivery_append"}`,
		`parley_queue_depth{queue="gateway_frames"}`,
		`parley_queue_depth{queue="gateway_session_max"}`,
		`parley_queue_depth{queue="groupcommit_webhook"}`,
		`parley_queue_depth{queue="groupcommit_insights"}`,
	} {
		if !regexp.MustCompile(regexp.QuoteMeta(want)).MatchString(text) {
			t.Errorf("no %s in /metrics", want)
		}
	}
	count := func(op string) int {
		m := regexp.MustCompile(`parley_store_op_duration_seconds_count\{op="` + op + `"\} (\d+)`).FindStringSubmatch(text)
		if m == nil {
			t.Fatalf("no count of %s:\n%s", op, text)
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}
	// The message's group commit; the acks (answered after their write);
	// each device's cursors when its stream attached.
	for op, least := range map[string]int{"append": 1, "ack": 1, "cursors": 2} {
		if n := count(op); n < least {
			t.Errorf("%s counted %d times, want at least %d", op, n, least)
		}
	}
}
