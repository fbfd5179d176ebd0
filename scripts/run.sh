#!/usr/bin/env bash
# Runs the platform embedded (SQLite + local files) at http://localhost:8080 with dev login on.
# Extra arguments go to `ssgwan serve` (see `ssgwan serve --help`).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
build_web
cargo build --release -p ssgwan-server
# Room for the connection cap under the open-file limit (docs/operations.md).
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" || true
exec target/release/ssgwan serve --dev-login "$@"
