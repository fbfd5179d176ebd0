#!/usr/bin/env bash
# Fuzzes the HTTP API from its own OpenAPI document with schemathesis (`--checks all`), signed
# in with a dev-login token, against a throwaway server and database. Fails on any finding.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
ensure_python_tools

cargo build --locked -p ssgwan-server
DATA=$(mktemp -d)
PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
# Rate limits off: the fuzzer sends far more than a person would (429 is documented anyway).
target/debug/ssgwan serve --dev-login --rate-limit-per-second 0 --challenge-daily-limit 0 --upload-daily-files 0 --upload-daily-bytes 0 --addr "127.0.0.1:$PORT" --media-udp-addr 127.0.0.1:0 --media-tcp-addr 127.0.0.1:0 --data-dir "$DATA" --web-dir /nonexistent --log-format json >"$DATA/server.log" 2>&1 &
SERVER=$!
cleanup() {
  kill "$SERVER" 2>/dev/null || true
  wait "$SERVER" 2>/dev/null || true
  rm -rf "$DATA"
}
trap cleanup EXIT
wait_http "$BASE/readyz"

TOKEN=$(curl -fsS -X POST "$BASE/api/auth/dev-login" -H 'content-type: application/json' -d '{"nickname":"schemathesis"}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')

schemathesis run "$BASE/api/openapi.json" \
  --checks all \
  --header "Authorization: Bearer $TOKEN" \
  --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-40}" \
  --seed "${SCHEMATHESIS_SEED:-20261125}" \
  --no-color \
  "$@"
if grep -q '"level":"ERROR"' "$DATA/server.log"; then
  echo "the server logged errors during the run:" >&2
  grep '"level":"ERROR"' "$DATA/server.log" | head -20 >&2
  exit 1
fi
