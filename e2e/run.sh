#!/usr/bin/env bash
# End-to-end tests of the web app in real Chromium against the real server.
#
#   bash e2e/run.sh            # from the repository root (or anywhere)
#
# Builds the web app, installs the test package, starts `ssgwan serve --dev-login` on a free
# port with a throw-away data directory, waits for /readyz, runs the tests, stops the server.
# Exits non-zero when anything fails; screenshots of failing pages and the server log are left
# in e2e/artifacts/.
#
# Environment:
#   SSGWAN_BIN        server binary (default: <repo>/target/release/ssgwan)
#   CHROMIUM_PATH     browser (default: /usr/bin/chromium)
#   E2E_SKIP_BUILD=1  reuse web/dist and e2e/node_modules as they are (quick reruns)
#   E2E_TESTS         test files to run (default: every file in tests/), e.g. tests/screens.test.mjs
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
E2E="$ROOT/e2e"
BIN="${SSGWAN_BIN:-$ROOT/target/release/ssgwan}"
ARTIFACTS="$E2E/artifacts"

if [[ ! -x "$BIN" ]]; then
  echo "e2e: no server binary at $BIN (build it: cargo build --release -p ssgwan-server, or set SSGWAN_BIN)" >&2
  exit 2
fi

# Room for the server's connection cap under the open-file limit (docs/operations.md).
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" || true

started=$SECONDS
if [[ "${E2E_SKIP_BUILD:-}" != "1" ]]; then
  echo "e2e: building the web app"
  (cd "$ROOT/web" && npm ci --no-audit --no-fund --loglevel=error && npm run build --silent)
  echo "e2e: installing the test package"
  (cd "$E2E" && npm ci --no-audit --no-fund --loglevel=error)
fi

echo "e2e: initial JavaScript of the built app"
BUNDLE_REPORT="$(node "$E2E/lib/bundle-size.mjs" "$ROOT/web/dist")" || { echo "$BUNDLE_REPORT"; exit 1; }
echo "$BUNDLE_REPORT"

rm -rf "$ARTIFACTS"
mkdir -p "$ARTIFACTS"
DATA_DIR="$(mktemp -d -t ssgwan-e2e.XXXXXX)"
PID_FILE="$DATA_DIR/server.pid"
STOP_FILE="$DATA_DIR/stop"
PORT="$(node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")"
BASE_URL="http://localhost:$PORT"

# The server runs under a small supervisor: when it exits (the restart test stops it with
# SIGTERM) it is started again on the same port and data directory, at most 5 times.
supervise() {
  local restarts=0
  while [[ ! -f "$STOP_FILE" && $restarts -le 5 ]]; do
    "$BIN" serve --dev-login \
      --addr "127.0.0.1:$PORT" \
      --media-udp-addr 127.0.0.1:0 \
      --media-tcp-addr 127.0.0.1:0 \
      --public-url "$BASE_URL" \
      --data-dir "$DATA_DIR" \
      --web-dir "$ROOT/web/dist" \
      --rate-limit-per-second 0 \
      --challenge-daily-limit 0 \
      --points-min-lead-minutes 0 \
      --log-format json >>"$ARTIFACTS/server.log" 2>&1 &
    echo $! >"$PID_FILE"
    wait $! || true
    restarts=$((restarts + 1))
    sleep 0.2
  done
}

cleanup() {
  touch "$STOP_FILE" 2>/dev/null || true
  if [[ -f "$PID_FILE" ]]; then
    kill -TERM "$(cat "$PID_FILE")" 2>/dev/null || true
  fi
  if [[ -n "${SUPERVISOR:-}" ]]; then
    wait "$SUPERVISOR" 2>/dev/null || true
  fi
  rm -rf "$DATA_DIR"
}
trap cleanup EXIT

supervise &
SUPERVISOR=$!

echo "e2e: waiting for $BASE_URL/readyz"
for _ in $(seq 1 150); do
  if node -e "fetch('$BASE_URL/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"; then
    ready=1
    break
  fi
  sleep 0.2
done
if [[ -z "${ready:-}" ]]; then
  echo "e2e: the server did not become ready; see $ARTIFACTS/server.log" >&2
  exit 1
fi

status=0
read -r -a TESTS <<<"${E2E_TESTS:-tests/}"
(
  cd "$E2E"
  SSGWAN_E2E_URL="$BASE_URL" SSGWAN_E2E_PID_FILE="$PID_FILE" SSGWAN_E2E_ARTIFACTS="$ARTIFACTS" \
    node --test --test-concurrency=1 --test-reporter=spec "${TESTS[@]}"
) || status=$?

echo "e2e: figures"
echo "  $(tail -n 1 <<<"$BUNDLE_REPORT")"
if [[ -f "$ARTIFACTS/figures.json" ]]; then
  node -e "const f=require(process.argv[1]).firstRemoteFrameMs;if(f)console.log('  navigation to first remote video frame (live room, loopback): '+Object.entries(f).map(([k,v])=>k+' '+v+' ms').join(', '))" "$ARTIFACTS/figures.json"
  node -e "const j=require(process.argv[1]);const f=j.joinToFirstRemoteFrameMs,a=j.joinToAllRemoteFramesMs;if(f)console.log('  four-page room, rejoin to first remote frame decoded: p50 '+f.p50+' ms (max '+f.max+'), to all three: p50 '+a.p50+' ms; a disabled track found out in '+j.disabledTrackDetectedMs+' ms')" "$ARTIFACTS/figures.json"
fi
if [[ -d "$ARTIFACTS/screens" ]]; then
  echo "  screenshots of every page: $(find "$ARTIFACTS/screens" -name '*.png' | wc -l) in ${ARTIFACTS#"$ROOT"/}/screens/"
fi
echo "e2e: finished in $((SECONDS - started)) s with status $status"
exit $status
