#!/usr/bin/env bash
# Measures Parley and ejabberd on the same scenarios in one sitting and
# appends one JSON line per run to OUT (default docs/bench-results/DATE.jsonl).
#
#   bash scripts/bench-compare.sh            # both
#   SKIP_PEER=1 bash scripts/bench-compare.sh  # Parley only
#
# ejabberd is installed, configured and restarted by ../shared/peer-bench
# (Debian package; loopback only). Each Parley scenario starts its own
# server on a fresh data directory. The machine is shared: every line
# carries other_cores (CPU used by other processes); compare runs with low
# other_cores, and repeat (RUNS) to quote medians.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v jq >/dev/null || { echo "bench-compare: needs jq (apt-get install jq) to find half the maximum rate" >&2; exit 1; }
mkdir -p docs/bench-results
OUT=${OUT:-$PWD/docs/bench-results/$(date -u +%Y-%m-%d).jsonl}
RUNS=${RUNS:-3}
peer=$(cd ../shared/peer-bench && pwd)

if [ -z "${SKIP_PEER:-}" ]; then
  bash "$peer/setup-ejabberd.sh" >&2
  OUT="$OUT" bash "$peer/run-all.sh" >&2
  (cd "$peer" && for _ in $(seq "$RUNS"); do ./xmpp-load direct -pairs 500 -duration 20s -window 4 -rate 10000 | tee -a "$OUT"; done)
fi

go build -o /tmp/parley-bench-bin ./cmd/parley
run() { for _ in $(seq "$RUNS"); do /tmp/parley-bench-bin bench "$@" --quiet | tee -a "$OUT"; done; }
run connect --connections 5000
run connect --connections 15000
max=$(run direct --pairs 500 --duration 20s --window 4 | jq -s 'map(.delivered_per_s) | sort | .[length/2|floor]')
run direct --pairs 500 --duration 20s --window 1
run direct --pairs 500 --duration 20s --rate 5000
run direct --pairs 500 --duration 20s --rate 10000
run direct --pairs 500 --duration 20s --rate "$(jq -n "$max/2|floor")" # half the maximum
run fanout --members 1000 --posts 50
run fanout --members 5000 --posts 1
run offline --messages 10000
RUNS=1 run media --media-mib 1024
echo "results in $OUT" >&2
