#!/usr/bin/env bash
# Benchmarks (figures, not pass/fail): builds release binaries and runs ssgwan-bench against
# throwaway servers (SQLite files, and a PostgreSQL and a MariaDB started here for the
# `backends` and `cluster` scenarios). Extra arguments go to ssgwan-bench (see --help).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cargo build --release --locked -p ssgwan-server -p ssgwan-bench
if [ -z "${SSGWAN_TEST_POSTGRES_URL:-}" ]; then start_postgres; fi
if [ -z "${SSGWAN_TEST_MYSQL_URL:-}" ]; then start_mariadb; fi
ensure_apt redis-server wrk
# Thousands of WebSockets need file descriptors.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" || true
target/release/ssgwan-bench --server target/release/ssgwan "$@"
