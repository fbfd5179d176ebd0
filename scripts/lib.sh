# Shared helpers for the project's scripts. Sourced, not run.

# Installs Debian packages that are missing (needs root; apt-get update once per run).
ensure_apt() {
  local missing=()
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "==> installing ${missing[*]}"
    if [ -z "${SSGWAN_APT_UPDATED:-}" ]; then
      apt-get update -qq
      export SSGWAN_APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

# A Python virtual environment under target/ with the test tools (schemathesis).
ensure_python_tools() {
  local venv="$ROOT/target/py-tools"
  if [ ! -x "$venv/bin/schemathesis" ]; then
    echo "==> installing schemathesis into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check 'schemathesis>=4,<5'
  fi
  export PATH="$venv/bin:$PATH"
}

# Builds the web app when its sources are present (npm ci + build into web/dist).
build_web() {
  if [ -f "$ROOT/web/package.json" ]; then
    echo "==> building the web app"
    (cd "$ROOT/web" && npm ci --no-audit --no-fund --loglevel=error && npm run build --silent)
  fi
}

# A free TCP port on loopback.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Waits until an HTTP URL answers 200, up to $2 seconds (default 60).
wait_http() {
  local url=$1 limit=${2:-60} i=0
  until curl -fsS -o /dev/null "$url"; do
    i=$((i + 1))
    if [ "$i" -ge $((limit * 10)) ]; then
      echo "timed out waiting for $url" >&2
      return 1
    fi
    sleep 0.1
  done
}
