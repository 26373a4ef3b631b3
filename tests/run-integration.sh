#!/usr/bin/env bash
# Runs the integration suite (tests/integration, node:test) against the real
# server binary twice: embedded (SQLite, in-process rate limits), then scaled
# out (a private PostgreSQL server made with initdb in a temporary directory on
# a random port, plus a private Redis). Both are stopped afterwards, whatever
# happens.
set -euo pipefail
cd "$(dirname "$0")/.."
export COSMIV_BIN=${COSMIV_BIN:-$PWD/build/cov/cosmiv}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=23}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

tmp=$(mktemp -d /tmp/cosmiv-it.XXXXXX)
pg_ctl=
cleanup() {
  [ -n "$pg_ctl" ] && $pg_ctl -D "$tmp/pg" -m immediate stop >/dev/null 2>&1 || true
  [ -f "$tmp/redis.pid" ] && kill "$(cat "$tmp/redis.pid")" 2>/dev/null || true
  [ -n "${s3pid:-}" ] && kill "$s3pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

run_suite() {
  local label=$1
  echo "== integration: $label =="
  node --test --test-reporter=spec ${IT_PATHS:-tests/integration/}
}

# IT_ONLY=pg runs only the scaled-out stage, IT_PATHS narrows the suites (development).
if [ "${IT_ONLY:-}" != pg ]; then
  # ---- 0. the media library through the CLI (no database involved) ----
  echo "== media: probe, render, detector =="
  node --test --test-reporter=spec tests/media/

  # ---- 1. embedded: SQLite, media on the local disk ----
  run_suite "SQLite + local storage"
fi

# ---- 2. scaled out: PostgreSQL + Redis + S3 (s3rver) ----
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
pgport=$(free_port)
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
  chown postgres "$tmp"
  as_pg=(runuser -u postgres --)
fi
"${as_pg[@]}" "$PGBIN/initdb" -D "$tmp/pg" -A trust -U postgres -E UTF8 >/dev/null
pg_ctl="${as_pg[*]} $PGBIN/pg_ctl"
$pg_ctl -D "$tmp/pg" -l "$tmp/pg.log" -w \
  -o "-p $pgport -k $tmp -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off" start >/dev/null
export COSMIV_TEST_PG_URL="postgres://postgres@127.0.0.1:$pgport/postgres"

redisport=$(free_port)
redis-server --port "$redisport" --bind 127.0.0.1 --save '' --appendonly no \
  --daemonize yes --pidfile "$tmp/redis.pid" --logfile "$tmp/redis.log" --dir "$tmp"
for _ in $(seq 50); do redis-cli -p "$redisport" ping >/dev/null 2>&1 && break; sleep 0.1; done
export COSMIV_TEST_REDIS_URL="redis://127.0.0.1:$redisport/0"

# the database cases of the unit tests, now on PostgreSQL too
if [ -z "${IT_PATHS:-}" ]; then
  echo "== unit tests on PostgreSQL =="
  bash tests/run-unit.sh $(find build/cov/unit -type f -perm -u+x | sort)
fi

s3port=$(free_port)
node tests/lib/s3rver.mjs "$s3port" "$tmp/s3" >"$tmp/s3rver.log" 2>&1 &
s3pid=$!
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$s3port/" && break; sleep 0.1; done
export COSMIV_TEST_STORAGE_URL="s3://cosmiv?endpoint=http://127.0.0.1:$s3port&region=us-east-1"

run_suite "PostgreSQL + Redis + S3"
