#!/usr/bin/env bash
# Runs every test: the web app's checks; Rust unit, property, API, store conformance (SQLite,
# PostgreSQL, MariaDB), Redis and cluster tests; schemathesis against a live server; and
# end-to-end tests of the web app in real Chromium. Installs what the tests need on first run.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
# The connection tests hold hundreds of sockets; servers under test want room for their cap.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" || true

ensure_apt curl python3-venv coturn chromium fonts-noto-cjk ffmpeg
ensure_python_tools

if [ -f web/package.json ]; then
  build_web
  echo "==> web: type check and lint"
  (cd web && npm run --silent typecheck && npm run --silent lint)
  (cd web && npm run --silent test)
fi

# Throwaway database servers on free ports, removed on exit: the store conformance suite and
# the cluster tests create databases of their own on them (SSGWAN_TEST_POSTGRES_URL and
# SSGWAN_TEST_MYSQL_URL). Tests that need Redis start their own redis-server (so they can stop
# and restart it), hence only the package here.
start_postgres
start_mariadb
ensure_apt redis-server

# A real S3-compatible server for the file store tests (tests/api/uploads.rs).
ensure_s3s_fs

echo "==> cargo test"
cargo test --workspace --all-targets --locked

echo "==> schemathesis against a live server"
bash scripts/schemathesis.sh

echo "==> end-to-end tests in Chromium"
cargo build --locked -p ssgwan-server
SSGWAN_BIN="$ROOT/target/debug/ssgwan" E2E_SKIP_BUILD= bash e2e/run.sh
