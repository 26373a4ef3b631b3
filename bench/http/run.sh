#!/usr/bin/env bash
# bench/http/run.sh — HTTP benchmark of Cosmiv against nginx (see bench/README.md).
#
#   make bench                          # or: bash bench/http/run.sh
#   BENCH_SECONDS=5 BENCH_ROUNDS=3 make bench
#
# 1. starts build/cosmiv on a free 127.0.0.1 port with a fresh data dir,
#    registers one user and seeds 10000 more;
# 2. saves the exact body of GET /api/v2/users/<name> and starts a private
#    nginx (2 workers, keep-alive, no access log) serving it at the same path;
# 3. alternates wrk runs cosmiv / nginx BENCH_ROUNDS times, keeps the best
#    req/s of each, fails on any non-2xx response;
# 4. measures login throughput (one Argon2id verification per request);
# 5. prints a table and writes build/bench/http.json.
# Only 127.0.0.1 is ever contacted. Everything lives in a temp dir, removed
# on exit (BENCH_KEEP_TMP=1 keeps it); both servers are stopped by a trap.
set -euo pipefail

SECONDS_PER_RUN=${BENCH_SECONDS:-10}
ROUNDS=${BENCH_ROUNDS:-2}
SEED_USERS=${BENCH_SEED_USERS:-10000}
THREADS=2
CONNS=64
LOGIN_CONNS=8

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
BIN=$ROOT/build/cosmiv
LUA=$ROOT/bench/http/login.lua
OUT_JSON=$ROOT/build/bench/http.json

die() { echo "bench: $*" >&2; exit 1; }
note() { echo "bench: $*" >&2; }

[[ $SECONDS_PER_RUN =~ ^[1-9][0-9]*$ ]] || die "BENCH_SECONDS must be a positive integer"
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "BENCH_ROUNDS must be a positive integer"
[[ $SEED_USERS =~ ^[0-9]+$ ]] || die "BENCH_SEED_USERS must be a number"
for tool in wrk nginx curl; do
	command -v "$tool" >/dev/null || die "$tool is not installed (apt-get install wrk nginx-light curl)"
done
NGINX=$(command -v nginx)
if [[ ! -x $BIN ]]; then
	note "building build/cosmiv"
	make -C "$ROOT" build/cosmiv >&2
fi

CORES=$(nproc 2>/dev/null || echo 1)
loadavg() { cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "?"; }
LOAD_START=$(loadavg)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/cosmiv-bench.XXXXXX")
COSMIV_PID=""
NGINX_PID=""

stop_pid() { # pid name: SIGTERM, wait up to 25 s, then SIGKILL
	local pid=$1 i
	[[ -n $pid ]] || return 0
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 250; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	note "$2 (pid $pid) ignored SIGTERM; killing it"
	kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	stop_pid "$NGINX_PID" nginx
	stop_pid "$COSMIV_PID" cosmiv
	wait 2>/dev/null || true
	if ((rc != 0)) && [[ -s $TMP/cosmiv.log ]]; then
		note "last lines of the cosmiv log:"
		tail -n 20 "$TMP/cosmiv.log" >&2 || true
	fi
	if ((rc != 0)); then
		for f in "$TMP/nginx.stderr" "$TMP/nginx-error.log"; do
			[[ -s $f ]] || continue
			note "last lines of ${f##*/}:"
			tail -n 10 "$f" >&2 || true
		done
	fi
	if [[ ${BENCH_KEEP_TMP:-0} == 1 ]]; then
		note "kept $TMP"
	else
		rm -rf "$TMP"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- helpers ----------------------------------------------------------------

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pick_port() {
	local p i
	for ((i = 0; i < 200; i++)); do
		p=$((20000 + RANDOM % 40000))
		port_in_use "$p" || { echo "$p"; return 0; }
	done
	die "no free port found"
}

# owns_port PID PORT: true when PID listens on PORT (or when ss cannot tell)
owns_port() {
	command -v ss >/dev/null || return 0
	local out
	out=$(ss -Hltnp "sport = :$2" 2>/dev/null) || return 0
	[[ $out == *"pid="* ]] || return 0 # no process info (no permission): trust it
	[[ $out == *"pid=$1,"* ]]
}

# wait_http PID URL: wait until URL answers 2xx while PID stays alive
wait_http() {
	local i
	for ((i = 0; i < 150; i++)); do
		kill -0 "$1" 2>/dev/null || return 1
		if curl -fsS -o /dev/null --max-time 2 "$2" 2>/dev/null; then
			kill -0 "$1" 2>/dev/null || return 1
			return 0
		fi
		sleep 0.1
	done
	return 1
}

to_ms() { # "1.23ms" / "850.00us" / "1.02s" / "2.00m" -> milliseconds
	awk -v v="$1" 'BEGIN {
		n = v; sub(/[a-z]+$/, "", n); u = v; sub(/^[0-9.]+/, "", u)
		f = (u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : (u == "m") ? 60000 : (u == "h") ? 3600000 : -1
		if (f < 0 || n == "") { print "nan"; exit }
		printf "%.2f", n * f }'
}

# parse_wrk FILE: sets W_RPS W_REQS W_P50 W_P99 W_NON2XX W_SOCKERR
parse_wrk() {
	W_RPS=$(awk '/^Requests\/sec:/ {print $2}' "$1")
	W_REQS=$(awk '/requests in / {print $1}' "$1")
	W_P50=$(to_ms "$(awk '$1 == "50%" {print $2}' "$1")")
	W_P99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$1")")
	W_NON2XX=$(awk -F: '/Non-2xx or 3xx responses/ {gsub(/ /, "", $2); print $2}' "$1")
	W_NON2XX=${W_NON2XX:-0}
	W_SOCKERR=$(awk '/Socket errors:/ {sub(/^ *Socket errors: */, ""); print}' "$1")
	[[ -n $W_RPS && -n $W_REQS ]] || { cat "$1" >&2; die "cannot parse wrk output ($1)"; }
}

gt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a > b) }'; }

COSMIV_ENV=(
	COSMIV_JWT_SECRET="bench-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
	COSMIV_RATE_AUTH_PER_MIN=1000000
	COSMIV_RATE_AUTH_BURST=1000000
	COSMIV_LOG_LEVEL=warn
)
cosmiv() { env "${COSMIV_ENV[@]}" "$BIN" "$@"; }

# ---- 1. cosmiv, one user, seeded table ---------------------------------------

DATA=$TMP/data
for attempt in 1 2 3 4 5; do
	COSMIV_PORT=$(pick_port)
	env "${COSMIV_ENV[@]}" "$BIN" serve --data-dir "$DATA" --listen "127.0.0.1:$COSMIV_PORT" \
		2>>"$TMP/cosmiv.log" &
	COSMIV_PID=$!
	if wait_http "$COSMIV_PID" "http://127.0.0.1:$COSMIV_PORT/readyz" && owns_port "$COSMIV_PID" "$COSMIV_PORT"; then
		break
	fi
	stop_pid "$COSMIV_PID" cosmiv
	wait "$COSMIV_PID" 2>/dev/null || true
	COSMIV_PID=""
	((attempt < 5)) || die "cosmiv did not start"
	note "cosmiv did not come up on port $COSMIV_PORT; retrying"
done
COSMIV=http://127.0.0.1:$COSMIV_PORT
note "cosmiv pid $COSMIV_PID on $COSMIV"

USER_NAME=bench_$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')
USER_PASS=bench-pass-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')
status=$(curl -sS -o "$TMP/register.json" -w '%{http_code}' --max-time 30 \
	-H 'Content-Type: application/json' \
	-d "{\"username\":\"$USER_NAME\",\"email\":\"$USER_NAME@example.com\",\"password\":\"$USER_PASS\"}" \
	"$COSMIV/api/v2/auth/register")
[[ $status == 201 ]] || { cat "$TMP/register.json" >&2; echo >&2; die "register returned $status, expected 201"; }

SEED_MSG="(none)"
if ((SEED_USERS > 0)); then
	SEED_MSG=$(cosmiv seed users --count "$SEED_USERS" --data-dir "$DATA") || die "cosmiv seed failed"
fi
note "registered $USER_NAME; seed: $SEED_MSG"

PROFILE_PATH=/api/v2/users/$USER_NAME
status=$(curl -sS -o "$TMP/profile.json" -w '%{http_code}' --max-time 10 "$COSMIV$PROFILE_PATH")
[[ $status == 200 ]] || { cat "$TMP/profile.json" >&2; die "GET $PROFILE_PATH returned $status"; }
grep -q "\"username\":\"$USER_NAME\"" "$TMP/profile.json" || die "unexpected profile body: $(cat "$TMP/profile.json")"
status=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 30 -H 'Content-Type: application/json' \
	-d "{\"login\":\"$USER_NAME\",\"password\":\"$USER_PASS\"}" "$COSMIV/api/v2/auth/login")
[[ $status == 200 ]] || die "login returned $status, expected 200"

# ---- 2. private nginx serving the same bytes ---------------------------------

mkdir -p "$TMP/www${PROFILE_PATH%/*}" "$TMP/nginx-temp"
cp "$TMP/profile.json" "$TMP/www$PROFILE_PATH"
# nginx workers drop to "nobody" when started as root: they must be able to read the file.
chmod 755 "$TMP" "$TMP/www"
find "$TMP/www" -type d -exec chmod 755 {} + && chmod 644 "$TMP/www$PROFILE_PATH"

write_nginx_conf() {
	cat >"$TMP/nginx.conf" <<EOF
# generated by bench/http/run.sh
worker_processes 2;
pid $TMP/nginx.pid;
lock_file $TMP/nginx.lock;
error_log $TMP/nginx-error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 65s;
    keepalive_requests 1000000;   # wrk keeps its connections; so does cosmiv
    server_tokens off;
    client_body_temp_path $TMP/nginx-temp/body;
    proxy_temp_path $TMP/nginx-temp/proxy;
    fastcgi_temp_path $TMP/nginx-temp/fastcgi;
    uwsgi_temp_path $TMP/nginx-temp/uwsgi;
    scgi_temp_path $TMP/nginx-temp/scgi;
    types { }
    default_type application/json;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        root $TMP/www;
        location / {
            # the same fixed headers cosmiv sends, so both responses are alike in size
            add_header X-Content-Type-Options nosniff always;
            add_header Referrer-Policy strict-origin-when-cross-origin always;
            add_header X-Frame-Options DENY always;
            add_header Cross-Origin-Opener-Policy same-origin always;
            add_header Content-Security-Policy "default-src 'none'; frame-ancestors 'none'; base-uri 'none'" always;
            add_header Cache-Control no-store always;
            add_header Vary Origin always;
        }
    }
}
EOF
}

for attempt in 1 2 3 4 5; do
	NGINX_PORT=$(pick_port)
	write_nginx_conf
	"$NGINX" -t -q -p "$TMP" -e "$TMP/nginx-error.log" -c "$TMP/nginx.conf" >/dev/null 2>>"$TMP/nginx.stderr" ||
		die "nginx rejected $TMP/nginx.conf: $(tail -n 3 "$TMP/nginx.stderr" "$TMP/nginx-error.log" 2>/dev/null)"
	"$NGINX" -p "$TMP" -e "$TMP/nginx-error.log" -c "$TMP/nginx.conf" -g 'daemon off;' \
		2>>"$TMP/nginx.stderr" &
	NGINX_PID=$!
	if wait_http "$NGINX_PID" "http://127.0.0.1:$NGINX_PORT$PROFILE_PATH" && owns_port "$NGINX_PID" "$NGINX_PORT"; then
		break
	fi
	stop_pid "$NGINX_PID" nginx
	wait "$NGINX_PID" 2>/dev/null || true
	NGINX_PID=""
	((attempt < 5)) || die "nginx did not start"
	note "nginx did not come up on port $NGINX_PORT; retrying"
done
NGINX_URL=http://127.0.0.1:$NGINX_PORT
curl -sS --max-time 10 -o "$TMP/profile-nginx.json" -D "$TMP/profile-nginx.headers" "$NGINX_URL$PROFILE_PATH"
cmp -s "$TMP/profile.json" "$TMP/profile-nginx.json" || die "nginx does not serve the same bytes as cosmiv"
grep -qi '^content-type: application/json' "$TMP/profile-nginx.headers" || die "nginx Content-Type is not application/json"
note "nginx pid $NGINX_PID on $NGINX_URL ($(wc -c <"$TMP/profile.json") byte body)"

# ---- 3. GET profile: cosmiv vs nginx, alternated -----------------------------

best_c_rps=0 best_n_rps=0
best_c_p50=nan best_c_p99=nan best_n_p50=nan best_n_p99=nan
c_runs="" n_runs="" c_reqs=0 n_reqs=0 sock_notes=""
run_wrk() { # name url round -> parses into W_*
	local f=$TMP/wrk-$1-$3.txt
	wrk -t"$THREADS" -c"$CONNS" -d"${SECONDS_PER_RUN}s" --latency "$2" >"$f" 2>&1 ||
		{ cat "$f" >&2; die "wrk against $1 failed"; }
	parse_wrk "$f"
	((W_REQS > 0)) || { cat "$f" >&2; die "wrk completed no request against $1"; }
	if [[ $W_NON2XX != 0 ]]; then
		cat "$f" >&2
		die "$1 answered $W_NON2XX non-2xx responses (round $3)"
	fi
	[[ -z $W_SOCKERR ]] || sock_notes+="  $1 round $3: socket errors: $W_SOCKERR"$'\n'
	note "round $3 $1: $W_RPS req/s, p50 ${W_P50} ms, p99 ${W_P99} ms${W_SOCKERR:+, socket errors: $W_SOCKERR}"
}

for ((round = 1; round <= ROUNDS; round++)); do
	run_wrk cosmiv "$COSMIV$PROFILE_PATH" "$round"
	kill -0 "$COSMIV_PID" 2>/dev/null || die "cosmiv died during round $round"
	c_runs+="${c_runs:+,}$W_RPS" c_reqs=$((c_reqs + W_REQS))
	if gt "$W_RPS" "$best_c_rps"; then best_c_rps=$W_RPS best_c_p50=$W_P50 best_c_p99=$W_P99; fi

	run_wrk nginx "$NGINX_URL$PROFILE_PATH" "$round"
	n_runs+="${n_runs:+,}$W_RPS" n_reqs=$((n_reqs + W_REQS))
	if gt "$W_RPS" "$best_n_rps"; then best_n_rps=$W_RPS best_n_p50=$W_P50 best_n_p99=$W_P99; fi
done
RATIO=$(awk -v a="$best_c_rps" -v b="$best_n_rps" 'BEGIN { printf "%.3f", (b > 0) ? a / b : 0 }')

# nginx is done; give login the machine to itself
stop_pid "$NGINX_PID" nginx
wait "$NGINX_PID" 2>/dev/null || true
NGINX_PID=""

# ---- 4. login throughput ------------------------------------------------------

cfg=$(cosmiv config) || die "cosmiv config failed"
cfg_val() { awk -v k="$1" '$1 == k {print $2}' <<<"$cfg"; }
A_MEM=$(cfg_val COSMIV_ARGON2_MEMLIMIT)
A_OPS=$(cfg_val COSMIV_ARGON2_OPSLIMIT)
A_CONC=$(cfg_val COSMIV_HASH_CONCURRENCY)
[[ -n $A_MEM && -n $A_OPS && -n $A_CONC ]] || die "cannot read the Argon2id settings from 'cosmiv config'"
A_CONC_EFF=$A_CONC
[[ $A_CONC != 0 ]] || A_CONC_EFF=$CORES # 0: one hash per core
A_MIB=$(awk -v m="$A_MEM" 'BEGIN { printf "%g", m / 1048576 }')
A_HASH="" # what the stored hash says, when the DB is a SQLite file we can read
if [[ -z ${COSMIV_DATABASE_URL:-} ]] && command -v sqlite3 >/dev/null && [[ -f $DATA/cosmiv.db ]]; then
	A_HASH=$(sqlite3 "file:$DATA/cosmiv.db?mode=ro" \
		"SELECT password_hash FROM users WHERE username = '$USER_NAME'" 2>/dev/null |
		sed -n 's/^\(\$argon2id\$v=[0-9]*\$m=[0-9]*,t=[0-9]*,p=[0-9]*\)\$.*/\1/p') || A_HASH=""
fi

LOGIN_FILE=$TMP/wrk-login.txt
wrk -t"$THREADS" -c"$LOGIN_CONNS" -d"${SECONDS_PER_RUN}s" --latency --timeout 30s -s "$LUA" \
	"$COSMIV/api/v2/auth/login" -- "$USER_NAME" "$USER_PASS" >"$LOGIN_FILE" 2>&1 ||
	{ cat "$LOGIN_FILE" >&2; die "wrk login run failed"; }
parse_wrk "$LOGIN_FILE"
((W_REQS > 0)) || { cat "$LOGIN_FILE" >&2; die "no login completed"; }
[[ $W_NON2XX == 0 ]] || { cat "$LOGIN_FILE" >&2; die "login answered $W_NON2XX non-2xx responses"; }
[[ -z $W_SOCKERR ]] || sock_notes+="  login: socket errors: $W_SOCKERR"$'\n'
L_RPS=$W_RPS L_REQS=$W_REQS L_P50=$W_P50 L_P99=$W_P99
kill -0 "$COSMIV_PID" 2>/dev/null || die "cosmiv died during the login run"

# ---- 5. stop cosmiv, look at its log ------------------------------------------

stop_pid "$COSMIV_PID" cosmiv
set +e
wait "$COSMIV_PID" 2>/dev/null
COSMIV_RC=$?
set -e
COSMIV_PID=""
LOG_ERRORS=$(grep -c '"level":"error"' "$TMP/cosmiv.log" || true)
LOG_WARNS=$(grep -c '"level":"warn"' "$TMP/cosmiv.log" || true)

# ---- 6. report ----------------------------------------------------------------

VERSION=$("$BIN" version 2>/dev/null || echo "cosmiv ?")
NGINX_VERSION=$("$NGINX" -v 2>&1 | sed 's/^nginx version: //')
WRK_VERSION=$( (wrk -v 2>&1 || true) | awk 'NR == 1 {print $2}')
DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)
CPU=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || true)
LOAD_END=$(loadavg)
DB_KIND=sqlite
[[ -z ${COSMIV_DATABASE_URL:-} ]] || DB_KIND=postgresql

{
	echo
	echo "Cosmiv HTTP benchmark — $DATE"
	echo "$VERSION, $NGINX_VERSION, wrk $WRK_VERSION; $CORES cores${CPU:+ ($CPU)}; database: $DB_KIND"
	echo "wrk -t$THREADS -c$CONNS -d${SECONDS_PER_RUN}s, best of $ROUNDS alternated rounds; table: $SEED_MSG"
	echo "load average before: $LOAD_START, after: $LOAD_END (other work on the machine shares the cores)"
	echo
	printf '%-28s %12s %12s %8s %16s %16s\n' endpoint "cosmiv req/s" "nginx req/s" ratio \
		"cosmiv p50/p99" "nginx p50/p99"
	printf '%-28s %12s %12s %8s %16s %16s\n' "GET /api/v2/users/{name}" \
		"$(printf '%.0f' "$best_c_rps")" "$(printf '%.0f' "$best_n_rps")" "$RATIO" \
		"$best_c_p50/$best_c_p99 ms" "$best_n_p50/$best_n_p99 ms"
	echo "  (rounds, req/s: cosmiv $c_runs; nginx $n_runs)"
	echo
	printf 'POST /api/v2/auth/login (wrk -t%d -c%d): %.1f logins/s, p50 %s ms, p99 %s ms (%d logins)\n' \
		"$THREADS" "$LOGIN_CONNS" "$L_RPS" "$L_P50" "$L_P99" "$L_REQS"
	echo "  Argon2id in force: memlimit $A_MEM bytes ($A_MIB MiB), opslimit t=$A_OPS," \
		"hash concurrency $A_CONC_EFF$([[ $A_CONC == 0 ]] && echo " (0 = one per core)")${A_HASH:+; stored hash: $A_HASH}"
	echo
	echo "non-2xx responses: 0; cosmiv log: $LOG_ERRORS error / $LOG_WARNS warn lines; cosmiv exit status $COSMIV_RC after SIGTERM"
	[[ -z $sock_notes ]] || printf 'wrk reported:\n%s' "$sock_notes"
} | tee "$TMP/table.txt"

json_str() { printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"; }
num() { [[ $1 =~ ^[0-9]+(\.[0-9]+)?$ ]] && printf '%s' "$1" || printf 'null'; }
mkdir -p "$(dirname "$OUT_JSON")"
cat >"$OUT_JSON.tmp" <<EOF
{
  "date": $(json_str "$DATE"),
  "machine": {"cores": $CORES, "cpu": $(json_str "$CPU"), "loadavg_start": $(json_str "$LOAD_START"), "loadavg_end": $(json_str "$LOAD_END")},
  "versions": {"cosmiv": $(json_str "$VERSION"), "nginx": $(json_str "$NGINX_VERSION"), "wrk": $(json_str "$WRK_VERSION")},
  "database": $(json_str "$DB_KIND"),
  "seed": $(json_str "$SEED_MSG"),
  "settings": {"seconds": $SECONDS_PER_RUN, "rounds": $ROUNDS, "threads": $THREADS, "connections": $CONNS, "login_connections": $LOGIN_CONNS},
  "profile": {
    "endpoint": "GET /api/v2/users/{username}",
    "body_bytes": $(wc -c <"$TMP/profile.json"),
    "cosmiv": {"rps": $(num "$best_c_rps"), "p50_ms": $(num "$best_c_p50"), "p99_ms": $(num "$best_c_p99"), "rounds_rps": [$c_runs], "requests": $c_reqs, "non_2xx": 0},
    "nginx": {"rps": $(num "$best_n_rps"), "p50_ms": $(num "$best_n_p50"), "p99_ms": $(num "$best_n_p99"), "rounds_rps": [$n_runs], "requests": $n_reqs, "non_2xx": 0},
    "ratio_cosmiv_nginx": $(num "$RATIO")
  },
  "login": {
    "endpoint": "POST /api/v2/auth/login",
    "rps": $(num "$L_RPS"), "p50_ms": $(num "$L_P50"), "p99_ms": $(num "$L_P99"), "requests": $L_REQS, "non_2xx": 0,
    "argon2id": {"memlimit_bytes": $A_MEM, "opslimit": $A_OPS, "hash_concurrency_setting": $A_CONC, "hash_concurrency": $A_CONC_EFF, "stored_hash_params": $(json_str "$A_HASH")}
  },
  "cosmiv_log": {"error_lines": $LOG_ERRORS, "warn_lines": $LOG_WARNS, "exit_status": $COSMIV_RC},
  "socket_errors": $(json_str "$(printf '%s' "$sock_notes" | sed 's/^  //' | tr '\n' ';')")
}
EOF
mv "$OUT_JSON.tmp" "$OUT_JSON"
echo "wrote ${OUT_JSON#"$ROOT"/}"
