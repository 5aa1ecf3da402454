#!/usr/bin/env bash
# Builds the browser client into web/dist, which package web embeds in the
# parley binary:
#   1. the Go client core for the browser: GOOS=js GOARCH=wasm ->
#      web/app/public/parley.wasm, plus Go's wasm_exec.js glue;
#   2. the Vite + TypeScript app (npm ci when package-lock.json changed,
#      then vite build) -> web/dist;
#   3. gzip variants (<file>.gz) of the compressible files, served to
#      browsers that accept gzip.
# Needs Go and Node.js/npm (network access to the npm registry for npm ci).
set -euo pipefail
cd "$(dirname "$0")/.."
public=web/app/public
dist=web/dist

echo "build-web: compiling the client core to WebAssembly" >&2
GOOS=js GOARCH=wasm go build -trimpath -ldflags="-s -w" -o "$public/parley.wasm.tmp" ./web/wasm
mv "$public/parley.wasm.tmp" "$public/parley.wasm"
goroot=$(go env GOROOT)
exec_js=""
for f in "$goroot/lib/wasm/wasm_exec.js" "$goroot/misc/wasm/wasm_exec.js"; do
  if [ -f "$f" ]; then exec_js=$f; break; fi
done
if [ -z "$exec_js" ]; then echo "build-web: wasm_exec.js not found under $goroot" >&2; exit 1; fi
cp "$exec_js" "$public/wasm_exec.js"

echo "build-web: building the app with Vite" >&2
(
  cd web/app
  # npm ci only when the lock file changed since the last install.
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
  fi
  npm run --silent build
)

echo "build-web: gzip variants" >&2
find "$dist" -type f \( -name '*.js' -o -name '*.css' -o -name '*.html' -o -name '*.wasm' -o -name '*.svg' \
  -o -name '*.webmanifest' -o -name '*.json' \) -size +1k -print0 |
  while IFS= read -r -d '' f; do
    gzip -9 -n -c "$f" >"$f.gz"
    # Keep a variant only when it saves something.
    if [ "$(stat -c %s "$f.gz")" -ge "$(stat -c %s "$f")" ]; then rm -f "$f.gz"; fi
  done
touch "$dist/.gitkeep"

wasm=$dist/parley.wasm
if [ -f "$wasm" ]; then
  echo "build-web: parley.wasm $(stat -c %s "$wasm") bytes, gzip $(stat -c %s "$wasm.gz") bytes" >&2
fi
echo "build-web: done ($(find "$dist" -type f ! -name '*.gz' ! -name .gitkeep | wc -l) files in $dist)" >&2
