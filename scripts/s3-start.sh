#!/usr/bin/env bash
# s3-start.sh starts a local S3-compatible server (versitygw, posix backend)
# for the blob/s3 contract tests and the media tests on S3, and prints the
# variable they read:
#
#	eval "$(bash scripts/s3-start.sh)"
#	go test ./blob/s3/...
#
# PARLEY_TEST_S3 is a URL carrying everything a client needs:
# http://ACCESS_KEY:SECRET_KEY@127.0.0.1:PORT/BUCKET (the tests create the
# bucket). It is idempotent: it installs versitygw with `go install` only if
# it is missing, and starts it only if it is not already answering on the
# port. Progress goes to stderr; stdout carries only export lines.
set -euo pipefail

VERSION=v1.8.0
PORT=${PARLEY_S3_PORT:-7071}
ACCESS=${PARLEY_S3_ACCESS_KEY:-parley}
SECRET=${PARLEY_S3_SECRET_KEY:-parley-secret}
BUCKET=${PARLEY_S3_BUCKET:-parley-test}
STATE=${PARLEY_S3_DIR:-${TMPDIR:-/tmp}/parley-s3}

log() { echo "s3-start: $*" >&2; }

up() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }

BIN=$(command -v versitygw || true)
if [ -z "$BIN" ]; then
	GOBIN_DIR=$(go env GOBIN)
	[ -n "$GOBIN_DIR" ] || GOBIN_DIR="$(go env GOPATH)/bin"
	BIN="$GOBIN_DIR/versitygw"
fi
if [ ! -x "$BIN" ]; then
	log "installing versitygw $VERSION (takes a few minutes the first time)"
	CGO_ENABLED=0 GOFLAGS=-buildvcs=false go install "github.com/versity/versitygw/cmd/versitygw@$VERSION" >&2
fi

if ! up; then
	mkdir -p "$STATE/data"
	log "starting versitygw on 127.0.0.1:$PORT, data in $STATE/data"
	ROOT_ACCESS_KEY="$ACCESS" ROOT_SECRET_KEY="$SECRET" \
		nohup "$BIN" --port "127.0.0.1:$PORT" posix "$STATE/data" >"$STATE/versitygw.log" 2>&1 </dev/null &
	echo $! >"$STATE/versitygw.pid"
	for _ in $(seq 1 100); do
		up && break
		sleep 0.1
	done
	if ! up; then
		log "versitygw did not start; see $STATE/versitygw.log"
		tail -20 "$STATE/versitygw.log" >&2 || true
		exit 1
	fi
fi
log "ready on 127.0.0.1:$PORT"
echo "export PARLEY_TEST_S3='http://$ACCESS:$SECRET@127.0.0.1:$PORT/$BUCKET'"
