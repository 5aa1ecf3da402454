#!/usr/bin/env bash
# Installs Debian's Chromium (and ChromeDriver) for the browser client's
# end-to-end tests (scripts/test-web.sh), unless they are already there. CI
# calls it before scripts/test.sh; Playwright never downloads a browser of its
# own. The emoji font makes reactions visible in the screenshots.
set -euo pipefail
need=()
for p in chromium chromium-driver fonts-noto-color-emoji; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "${need[@]}"
fi
echo "chromium-install: $(/usr/bin/chromium --version 2>/dev/null | grep -o 'Chromium [0-9.]*')"
