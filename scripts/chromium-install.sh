#!/usr/bin/env bash
# Installs Debian's Chromium (and ChromeDriver) for the browser client's
# end-to-end tests (scripts/test-web.sh), unless it is already there. CI calls
# it before scripts/test.sh; Playwright never downloads a browser of its own.
# The emoji font makes reactions visible in the screenshots.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  echo "chromium-install: $(/usr/bin/chromium --version 2>/dev/null || echo present)"
  exit 0
fi
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq chromium chromium-driver fonts-noto-color-emoji
/usr/bin/chromium --version
