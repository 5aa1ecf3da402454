#!/usr/bin/env bash
# node-install.sh makes sure node and npm are installed (Debian's nodejs and
# npm packages) for the npm-driven tests in scripts/test.sh (e2e/cloudapi).
# Idempotent: it installs nothing when both are present. Progress on stderr.
set -euo pipefail
if command -v node >/dev/null && command -v npm >/dev/null; then
	echo "node-install: node $(node --version), npm $(npm --version) present" >&2
	exit 0
fi
as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi
}
echo "node-install: installing Debian's nodejs and npm" >&2
as_root apt-get update -qq >&2
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >&2
echo "node-install: node $(node --version), npm $(npm --version)" >&2
