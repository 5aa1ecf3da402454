#!/usr/bin/env bash
# The browser client's end-to-end tests: builds the web app and the wasm core
# (scripts/build-web.sh), builds the parley binary with them embedded, then runs
# web/e2e/web.test.mjs (node --test, playwright-core driving Debian's Chromium
# against a real `parley serve` on 127.0.0.1). Screenshots go to
# web/e2e/screenshots/. Skips, saying so, when Chromium is not installed
# (scripts/chromium-install.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/.."
CHROMIUM="${PARLEY_CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM" ]; then
  echo "test-web: SKIPPED: $CHROMIUM is absent; run scripts/chromium-install.sh to run the browser tests"
  exit 0
fi
bash scripts/build-web.sh
# The UI must type-check against the core's API (web/app/src/core/api.ts).
(cd web/app && npm run --silent typecheck)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/parley" ./cmd/parley
(cd web/e2e && npm ci --no-audit --no-fund --loglevel=error)
cd web/e2e
PARLEY_BIN="$tmp/parley" PARLEY_CHROMIUM="$CHROMIUM" node --test --test-concurrency=1 --test-timeout=600000 web.test.mjs load.test.mjs
