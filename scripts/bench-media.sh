#!/usr/bin/env bash
# Media benchmarks (issue 13): four real Chromium pages in one live room through a release
# server; prints server CPU, received/forwarded packets and Mbit/s, and join-to-first-remote-
# frame p50/p95 over 10 joins (e2e/bench/media.bench.mjs). Figures, not pass/fail.
# MEDIA_BENCH_SECONDS and MEDIA_BENCH_JOINS change the window and the number of joins.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
ensure_apt chromium fonts-noto-cjk
cargo build --release --locked -p ssgwan-server
SSGWAN_BIN="$ROOT/target/release/ssgwan" E2E_TESTS=bench/media.bench.mjs bash "$ROOT/e2e/run.sh"
