#!/usr/bin/env bash
# nats-start.sh starts a local NATS server for the cluster tests and for
# trying a Parley cluster on one machine, and prints the URL to use:
#
#	eval "$(scripts/nats-start.sh)"
#	go test ./e2e/cluster/...
#
# There is no nats-server package to rely on, so the real server is built from
# its Go module (the version pinned below, the one go.mod's tests use) into a
# cache directory, once. It listens on 127.0.0.1 only, with its data directory
# (JetStream store; Parley itself uses core NATS only) and log beside it.
#
# It is idempotent: it builds only if the binary is missing, starts only if the
# pid file names no live nats-server, and waits until the server answers.
# Progress goes to stderr; stdout carries only the export line. Stop it with
#	kill "$(cat "${XDG_CACHE_HOME:-$HOME/.cache}/parley/nats/nats-14222.pid")"
set -euo pipefail

VERSION=${NATS_SERVER_VERSION:-v2.15.3}
PORT=${PARLEY_NATS_PORT:-14222}
CACHE=${PARLEY_NATS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/parley/nats}
BIN="$CACHE/bin/$VERSION/nats-server"
DATA="$CACHE/data-$PORT"
PIDFILE="$CACHE/nats-$PORT.pid"
LOGFILE="$CACHE/nats-$PORT.log"

log() { echo "nats-start: $*" >&2; }

mkdir -p "$CACHE" "$DATA"

if [ ! -x "$BIN" ]; then
	log "building nats-server $VERSION into $(dirname "$BIN")"
	# Outside any module, so the server's own go.mod decides its dependencies.
	(cd "$CACHE" && GOBIN="$(dirname "$BIN")" GOFLAGS= go install "github.com/nats-io/nats-server/v2@$VERSION") >&2
fi

ready() {
	# A NATS server greets every client with an INFO line.
	local line
	{ exec 3<>"/dev/tcp/127.0.0.1/$PORT"; } 2>/dev/null || return 1
	read -r -t 2 line <&3 || { exec 3<&-; return 1; }
	exec 3<&-
	[[ $line == INFO* ]]
}

running() {
	[ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null &&
		grep -q nats-server "/proc/$(cat "$PIDFILE")/cmdline" 2>/dev/null
}

if running; then
	log "already running (pid $(cat "$PIDFILE"))"
else
	if ready; then
		log "port $PORT is taken by another server; set PARLEY_NATS_PORT"
		exit 1
	fi
	log "starting nats-server $VERSION on 127.0.0.1:$PORT (log $LOGFILE)"
	nohup "$BIN" -a 127.0.0.1 -p "$PORT" -js -sd "$DATA" -P "$PIDFILE" -l "$LOGFILE" >/dev/null 2>&1 &
	disown || true
fi

# Wait until the server answers (up to 30 s).
for _ in $(seq 1 60); do
	if ready; then
		break
	fi
	sleep 0.5
done
if ! ready; then
	log "nats-server did not become ready on port $PORT; see $LOGFILE"
	exit 1
fi
log "ready: nats://127.0.0.1:$PORT"
echo "export PARLEY_TEST_NATS='nats://127.0.0.1:$PORT'"
