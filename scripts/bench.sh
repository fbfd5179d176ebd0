#!/usr/bin/env bash
# Benchmarks (figures, not pass/fail): builds release binaries and runs ssgwan-bench against
# a throwaway SQLite server. Extra arguments go to ssgwan-bench (see --help).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
cargo build --release --locked -p ssgwan-server -p ssgwan-bench
# Thousands of WebSockets need file descriptors.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" || true
exec target/release/ssgwan-bench --server target/release/ssgwan "$@"
