# Shared helpers for the project's scripts. Sourced, not run; sourcing it sets ROOT to the
# repository's root and goes there, where every script runs.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

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

# A Python virtual environment under target/ with the test tools: schemathesis, and the
# independent implementations the API tests check our output with (icalendar and
# recurring-ical-events for the calendar feed; cryptography and http_ece for Web Push's VAPID
# tokens and aes128gcm payloads). Exports SSGWAN_TEST_PYTHON for those tests.
ensure_python_tools() {
  local venv="$ROOT/target/py-tools"
  if [ ! -x "$venv/bin/schemathesis" ] || ! "$venv/bin/python" -c 'import icalendar, recurring_ical_events, http_ece, cryptography' 2>/dev/null; then
    echo "==> installing schemathesis and the iCalendar and Web Push test tools into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check 'schemathesis>=4,<5' \
      'icalendar>=6,<8' 'recurring-ical-events>=3,<4' 'http-ece>=1.2,<2' 'cryptography>=42'
  fi
  export PATH="$venv/bin:$PATH"
  export SSGWAN_TEST_PYTHON="$venv/bin/python"
}

# s3s-fs, an S3-compatible server that checks SigV4 signatures, built once into
# target/tools (about two minutes); exports SSGWAN_TEST_S3S_FS for the S3 upload tests.
ensure_s3s_fs() {
  local bin="$ROOT/target/tools/bin/s3s-fs"
  if [ ! -x "$bin" ]; then
    echo "==> installing s3s-fs into $ROOT/target/tools"
    cargo install s3s-fs --version 0.14.1 --locked --features binary --root "$ROOT/target/tools"
  fi
  export SSGWAN_TEST_S3S_FS="$bin"
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

# Cleanup commands run when the sourcing script exits (in reverse order of registration).
SSGWAN_CLEANUPS=()
on_exit() { SSGWAN_CLEANUPS+=("$1"); }
run_cleanups() {
  local i
  for ((i = ${#SSGWAN_CLEANUPS[@]} - 1; i >= 0; i--)); do
    eval "${SSGWAN_CLEANUPS[$i]}" >/dev/null 2>&1 || true
  done
}
trap run_cleanups EXIT

# The newest PostgreSQL server binaries Debian installed.
pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
  [ -n "$dir" ] || { echo "PostgreSQL is not installed" >&2; return 1; }
  echo "$dir"
}

# Starts a throwaway PostgreSQL on a free loopback port; exports SSGWAN_TEST_POSTGRES_URL
# (a superuser URL: tests create a database of their own on it). Removed when the script exits.
start_postgres() {
  ensure_apt postgresql
  local bin dir port
  bin=$(pg_bin)
  dir=$(mktemp -d /tmp/ssgwan-pg.XXXXXX)
  chown postgres "$dir"
  port=$(free_port)
  runuser -u postgres -- "$bin/initdb" -D "$dir/db" -A trust -U postgres --no-sync >"$dir/initdb.log" 2>&1
  runuser -u postgres -- "$bin/pg_ctl" -D "$dir/db" -l "$dir/log" -w \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
    start >/dev/null
  on_exit "runuser -u postgres -- '$bin/pg_ctl' -D '$dir/db' -m immediate stop; rm -rf '$dir'"
  export SSGWAN_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
  echo "==> PostgreSQL on port $port"
}

# Starts a throwaway MariaDB on a free loopback port; exports SSGWAN_TEST_MYSQL_URL (root, no
# password; tests create a database of their own). Removed when the script exits.
start_mariadb() {
  ensure_apt mariadb-server
  local dir port i
  dir=$(mktemp -d /tmp/ssgwan-maria.XXXXXX)
  chown mysql "$dir"
  port=$(free_port)
  mariadb-install-db --user=mysql --datadir="$dir/db" --auth-root-authentication-method=normal \
    --skip-test-db >"$dir/install.log" 2>&1
  mariadbd --no-defaults --user=mysql --datadir="$dir/db" --socket="$dir/sock" --pid-file="$dir/pid" \
    --bind-address=127.0.0.1 --port="$port" --skip-log-bin --innodb-flush-log-at-trx-commit=0 \
    --max-connections=500 \
    >"$dir/log" 2>&1 &
  local pid=$!
  on_exit "kill $pid; wait $pid; rm -rf '$dir'"
  for i in $(seq 1 300); do
    mariadb-admin --socket="$dir/sock" -uroot ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  export SSGWAN_TEST_MYSQL_URL="mysql://root@127.0.0.1:$port/mysql"
  echo "==> MariaDB on port $port"
}
