#!/usr/bin/env bash
# Runs Parley with its browser client: builds the client (scripts/build-web.sh)
# and starts `parley serve` with any arguments given, e.g.
#   scripts/run.sh --listen 127.0.0.1:8080 --data ./parley-data
# then open http://127.0.0.1:8080 in a browser.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build-web.sh
exec go run ./cmd/parley serve "$@"
