#!/usr/bin/env bash
# What headless Chromium sends for a live camera, a disabled track, a black clip and a still
# image (the figures in docs/camera-measurements.md, behind the media server's presence rule).
# Installs ffmpeg and chromium when missing, then runs e2e/tools/measure-camera.mjs; arguments
# go to it (e.g. --seconds 20 --json out.json --only live,black).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
ensure_apt ffmpeg chromium
if [ ! -d e2e/node_modules/playwright-core ]; then
  (cd e2e && npm ci --no-audit --no-fund --loglevel=error)
fi
node e2e/tools/measure-camera.mjs "$@"
