#!/usr/bin/env bash
# The one test command (README "Test"): gofmt, vet and staticcheck, then
# every test with the race detector. Tests that need PostgreSQL or an S3 server run when
# PARLEY_TEST_POSTGRES / PARLEY_TEST_S3 are set (scripts/postgres-start.sh and
# scripts/s3-start.sh print them); otherwise they skip and say why.
set -euo pipefail
cd "$(dirname "$0")/.."
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then echo "gofmt would change: $unformatted" >&2; exit 1; fi
go vet ./...
# staticcheck v0.7.0: newer releases (2025.1.x) are refused by the module proxy here.
STATICCHECK=$(command -v staticcheck || echo "$(go env GOPATH)/bin/staticcheck")
[ -x "$STATICCHECK" ] || GOFLAGS= go install honnef.co/go/tools/cmd/staticcheck@v0.7.0
"$STATICCHECK" ./...
# The client core must build for the browser (GOOS=js GOARCH=wasm).
GOOS=js GOARCH=wasm go build ./client/...
# The browser bridge (web/wasm, js/wasm only) is vetted and checked for the browser;
# the client suite also runs against the browser's KV store (client/localstore/kv.go).
GOOS=js GOARCH=wasm go vet ./web/wasm
GOOS=js GOARCH=wasm "$STATICCHECK" ./web/wasm
PARLEY_TEST_STORE=kv go test -race -timeout 30m "$@" ./client/
go test -race -timeout 30m "$@" $(go list ./... | grep -v '/mls$')
# The MLS package runs in local-directory mode so that its test-vector
# summary lines ("mls vectors: FILE ran=N skipped=M") are printed.
(cd mls && go test -race -timeout 30m "$@")
# The business API driven by an independent WhatsApp Cloud API client (npm
# @great-detail/whatsapp, pinned in e2e/cloudapi/package-lock.json) against a
# real `parley serve`, with a customer on the CLI. Needs node and npm.
cloudapi_bin=$(mktemp -d)
go build -o "$cloudapi_bin/parley" ./cmd/parley
(cd e2e/cloudapi && npm ci --no-audit --no-fund --silent && node test.mjs "$cloudapi_bin/parley") || { rm -rf "$cloudapi_bin"; exit 1; }
rm -rf "$cloudapi_bin"
# The browser client end to end in Debian's Chromium (skips when it is absent).
bash scripts/test-web.sh
