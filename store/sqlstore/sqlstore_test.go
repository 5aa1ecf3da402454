package sqlstore

import "testing"

func TestRebind(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`SELECT a FROM t WHERE b = ? AND c = ?`, `SELECT a FROM t WHERE b = $1 AND c = $2`},
		{`UPDATE t SET a = ?1 WHERE b = ?2 OR c = ?1`, `UPDATE t SET a = $1 WHERE b = $2 OR c = $1`},
		{`SELECT '?' FROM t WHERE a = ?`, `SELECT '?' FROM t WHERE a = $1`},
		{`SELECT 1 FROM t WHERE a = ? /*pg: FOR UPDATE*/`, `SELECT 1 FROM t WHERE a = $1 FOR UPDATE`},
		{`SELECT id FROM t LIMIT 1 /*pg: FOR UPDATE SKIP LOCKED*/) RETURNING x`, `SELECT id FROM t LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING x`},
		{`SELECT 2*3 FROM t`, `SELECT 2*3 FROM t`},
	} {
		var r Rebinder
		for range 2 { // the second call is served from the cache
			if got := r.Rebind(c.in); got != c.want {
				t.Errorf("Rebind(%q) = %q, want %q", c.in, got, c.want)
			}
		}
	}
}

// BenchmarkRebind is the cost a PostgreSQL query pays for being written
// with `?`: a cache lookup.
func BenchmarkRebind(b *testing.B) {
	var r Rebinder
	q := sqlWebhookInsert
	r.Rebind(q)
	for b.Loop() {
		r.Rebind(q)
	}
}
