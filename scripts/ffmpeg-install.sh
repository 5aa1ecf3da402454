#!/usr/bin/env bash
# Installs Debian's ffmpeg (ffmpeg and ffprobe), unless it is already there:
# the CLI makes video thumbnails and reads video durations with it when it is
# on PATH (cmd/internal/ffmpeg), and the e2e tests of that path need it. CI
# calls it before scripts/test.sh. Without it the CLI still sends videos,
# saying once that they go without a thumbnail.
set -euo pipefail
if ! dpkg -s ffmpeg >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends ffmpeg
fi
echo "ffmpeg-install: $(ffmpeg -version 2>/dev/null | head -n 1)"
