#!/usr/bin/env bash
# Builds the browser client into web/dist, which package web embeds in the
# parley binary:
#   1. the Go client core for the browser: GOOS=js GOARCH=wasm ->
#      web/app/public/parley.wasm, plus Go's wasm_exec.js glue;
#   2. the Vite + TypeScript app (npm ci when package-lock.json changed,
#      then vite build) -> web/dist;
#   3. Brotli and gzip variants (<file>.br, <file>.gz) of the compressible
#      files (scripts/compress-web.mjs), served to browsers that accept them.
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

echo "build-web: Brotli and gzip variants" >&2
node scripts/compress-web.mjs "$dist"
touch "$dist/.gitkeep"

wasm=$dist/parley.wasm
if [ -f "$wasm" ]; then
  echo "build-web: parley.wasm $(stat -c %s "$wasm") bytes, Brotli $(stat -c %s "$wasm.br"), gzip $(stat -c %s "$wasm.gz")" >&2
fi
echo "build-web: done ($(find "$dist" -type f ! -name '*.gz' ! -name '*.br' ! -name .gitkeep | wc -l) files in $dist)" >&2
