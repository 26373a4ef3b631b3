#!/usr/bin/env bash
# bench/upload/run.sh — tus upload throughput of Cosmiv against nginx (see bench/upload/README.md).
#
#   bash bench/upload/run.sh
#   BENCH_UPLOAD_MB=256 BENCH_ROUNDS=3 bash bench/upload/run.sh
#
# 1. writes BENCH_UPLOAD_MB MiB of /dev/urandom to a temp file (deleted at the end);
# 2. starts build/cosmiv on a free 127.0.0.1 port with a fresh data dir and
#    registers one user; starts a private nginx whose /up/ location stores
#    PUT bodies on disk (ngx_http_dav_module, dav_methods PUT);
# 3. alternates, BENCH_ROUNDS times: cosmiv tus with the whole file in ONE
#    PATCH, cosmiv tus in BENCH_CHUNK_MB MiB PATCHes, nginx PUT — the same
#    client (curl) for all; keeps the best MB/s of each;
# 4. checks every transfer: status, the Upload-Offset of each answer, HEAD,
#    and cmp of the stored file (cosmiv's spool file, nginx's PUT file) with
#    the source; then deletes it (tus DELETE / rm) so the disk holds at most
#    three copies;
# 5. prints a table and writes build/bench/upload.json.
# Only 127.0.0.1 is ever contacted. Everything lives in a temp dir, removed
# on exit (BENCH_KEEP_TMP=1 keeps it, minus the big files); both servers are
# stopped by a trap.
set -euo pipefail

SIZE_MB=${BENCH_UPLOAD_MB:-1024}
ROUNDS=${BENCH_ROUNDS:-2}
CHUNK_MB=${BENCH_CHUNK_MB:-8}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
BIN=$ROOT/build/cosmiv
OUT_JSON=$ROOT/build/bench/upload.json

die() { echo "bench: $*" >&2; exit 1; }
note() { echo "bench: $*" >&2; }

[[ $SIZE_MB =~ ^[1-9][0-9]*$ ]] || die "BENCH_UPLOAD_MB must be a positive integer"
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "BENCH_ROUNDS must be a positive integer"
[[ $CHUNK_MB =~ ^[1-9][0-9]*$ ]] || die "BENCH_CHUNK_MB must be a positive integer"
for tool in nginx curl cmp dd; do
	command -v "$tool" >/dev/null || die "$tool is not installed (apt-get install nginx-light curl)"
done
NGINX=$(command -v nginx)
NGINX_BUILD=$("$NGINX" -V 2>&1) || die "nginx -V failed"
grep -q -- '--with-http_dav_module' <<<"$NGINX_BUILD" ||
	die "this nginx has no ngx_http_dav_module (needed for PUT); Debian's nginx-light has it"
if [[ ! -x $BIN ]]; then
	note "building build/cosmiv"
	make -C "$ROOT" build/cosmiv >&2
fi

SIZE=$((SIZE_MB * 1048576))
CHUNK=$((CHUNK_MB * 1048576))
NCHUNKS=$(((SIZE + CHUNK - 1) / CHUNK))
CORES=$(nproc 2>/dev/null || echo 1)
TICK=$(getconf CLK_TCK 2>/dev/null || echo 100)
loadavg() { cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "?"; }
LOAD_START=$(loadavg)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/cosmiv-bench-upload.XXXXXX")
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
		# the GiB-sized files go in any case
		rm -f "$TMP/src.bin" "$TMP"/data/uploads/*.part "$TMP"/www/up/* 2>/dev/null || true
		note "kept $TMP (without the uploaded files)"
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

# wait_http PID URL [CODE]: wait until URL answers (2xx, or CODE) while PID stays alive
wait_http() {
	local i code
	for ((i = 0; i < 150; i++)); do
		kill -0 "$1" 2>/dev/null || return 1
		code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 2 "$2" 2>/dev/null) || code=000
		if [[ $code == 2?? || $code == "${3:-2xx}" ]]; then
			kill -0 "$1" 2>/dev/null || return 1
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# header NAME FILE: value of a response header (last one), without CR
header() { awk -v h="$1:" 'tolower($1) == tolower(h) { v = $2 } END { print v }' "$2" | tr -d '\r'; }

# cpu_ticks PID...: user+system clock ticks of these processes (all threads)
cpu_ticks() {
	local t=0 p v
	for p in "$@"; do
		v=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null | awk '{ print $12 + $13 }') || v=0
		t=$((t + ${v:-0}))
	done
	echo "$t"
}
# nginx_pids: sets NGINX_PIDS to the master and its workers
nginx_pids() {
	local kids
	kids=$(ps -o pid= --ppid "$NGINX_PID" 2>/dev/null | tr "\n" " " || true)
	read -r -a NGINX_PIDS <<<"$NGINX_PID $kids"
}

now() { date +%s.%N; }
fadd() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f", a + b }'; }
fsub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f", a - b }'; }
mbps() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.1f", (s > 0) ? b / s / 1e6 : 0 }'; }
gt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a > b) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b > 0) ? a / b : 0 }'; }
cpu_s() { awk -v t="$1" -v k="$TICK" 'BEGIN { printf "%.2f", t / k }'; }

COSMIV_ENV=(
	COSMIV_JWT_SECRET="bench-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
	COSMIV_RATE_AUTH_PER_MIN=100000
	COSMIV_RATE_AUTH_BURST=100000
	COSMIV_RATE_UPLOAD_PER_MIN=100000
	COSMIV_FREE_MAX_UPLOAD_BYTES=4294967296
	COSMIV_LOG_LEVEL=warn
)
((SIZE <= 4294967296)) || die "BENCH_UPLOAD_MB above 4096 is over COSMIV_FREE_MAX_UPLOAD_BYTES"

# ---- 1. the file ----------------------------------------------------------------

# the source, cosmiv's spool copy and nginx's copy never coexist with more, but
# ask for 3x the size so a slow delete cannot fill the disk
avail_kb=$(df -Pk "$TMP" | awk 'NR == 2 { print $4 }')
need_kb=$((3 * SIZE / 1024))
((avail_kb >= need_kb)) ||
	die "$((avail_kb / 1024)) MiB free under $TMP, need $((need_kb / 1024)) MiB (3 x ${SIZE_MB} MiB); try BENCH_UPLOAD_MB=256"
FS_DEV=$(df -P "$TMP" | awk 'NR == 2 { print $1 }')
FS_TYPE=$(findmnt -no FSTYPE -T "$TMP" 2>/dev/null || stat -f -c %T "$TMP" 2>/dev/null || echo "?")

SRC=$TMP/src.bin
note "writing $SIZE_MB MiB of random bytes to $SRC"
nice -n 10 head -c "$SIZE" /dev/urandom >"$SRC"
[[ $(stat -c %s "$SRC") == "$SIZE" ]] || die "could not write $SIZE bytes to $SRC"
sync -f "$SRC" 2>/dev/null || sync

# ---- 2. cosmiv, one user ---------------------------------------------------------

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

# fresh_token: sets TOKEN (an access token lives 15 min; a round at 1 GiB can be long)
fresh_token() {
	local st
	st=$(curl -sS -o "$TMP/login.json" -w '%{http_code}' --max-time 30 -H 'Content-Type: application/json' \
		-d "{\"login\":\"$USER_NAME\",\"password\":\"$USER_PASS\"}" "$COSMIV/api/v2/auth/login")
	[[ $st == 200 ]] || { cat "$TMP/login.json" >&2; die "login returned $st, expected 200"; }
	TOKEN=$(sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p' "$TMP/login.json")
	[[ -n $TOKEN ]] || die "no access_token in the login answer: $(cat "$TMP/login.json")"
}
TOKEN=$(sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p' "$TMP/register.json")
[[ -n $TOKEN ]] || die "no access_token in the register answer: $(cat "$TMP/register.json")"
note "registered $USER_NAME"

TUS=(-H 'Tus-Resumable: 1.0.0')

# create_upload: sets UPLOAD_ID, UPLOAD_URL
create_upload() {
	local st
	st=$(curl -sS -o "$TMP/create.body" -D "$TMP/create.headers" -w '%{http_code}' --max-time 30 -X POST \
		"${TUS[@]}" -H "Authorization: Bearer $TOKEN" -H "Upload-Length: $SIZE" "$COSMIV/api/v2/uploads")
	[[ $st == 201 ]] || { cat "$TMP/create.body" >&2; die "POST /api/v2/uploads returned $st, expected 201"; }
	local loc
	loc=$(header Location "$TMP/create.headers")
	[[ $loc == /api/v2/uploads/* ]] || die "unexpected Location: '$loc'"
	[[ $(header Upload-Offset "$TMP/create.headers") == 0 ]] || die "a new upload does not start at offset 0"
	UPLOAD_ID=${loc##*/}
	UPLOAD_URL=$COSMIV$loc
	[[ -f $DATA/uploads/$UPLOAD_ID.part ]] || die "no spool file $DATA/uploads/$UPLOAD_ID.part"
}

# patch OFFSET DATA_ARGS...: one PATCH at OFFSET; sets P_CODE P_TIME P_SENT P_OFFSET
patch() {
	local off=$1
	shift
	local w
	w=$(curl -sS -o "$TMP/patch.body" -D "$TMP/patch.headers" -w '%{http_code} %{time_total} %{size_upload}' \
		-X PATCH "$@" -H 'Expect:' "${TUS[@]}" -H "Authorization: Bearer $TOKEN" \
		-H 'Content-Type: application/offset+octet-stream' -H "Upload-Offset: $off" "$UPLOAD_URL") ||
		die "curl PATCH at offset $off failed"
	read -r P_CODE P_TIME P_SENT <<<"$w"
	P_OFFSET=$(header Upload-Offset "$TMP/patch.headers")
	if [[ $P_CODE != 204 ]]; then
		cat "$TMP/patch.body" >&2
		echo >&2
		die "PATCH at offset $off returned $P_CODE, expected 204"
	fi
}

# verify_upload: HEAD says complete, the spool file is the source; then DELETE it
verify_upload() {
	local st part=$DATA/uploads/$UPLOAD_ID.part
	st=$(curl -sS -o /dev/null -D "$TMP/head.headers" -w '%{http_code}' --max-time 30 -I \
		"${TUS[@]}" -H "Authorization: Bearer $TOKEN" "$UPLOAD_URL")
	[[ $st == 200 ]] || die "HEAD $UPLOAD_URL returned $st, expected 200"
	[[ $(header Upload-Offset "$TMP/head.headers") == "$SIZE" ]] ||
		die "HEAD says Upload-Offset $(header Upload-Offset "$TMP/head.headers"), expected $SIZE"
	[[ $(header Upload-Length "$TMP/head.headers") == "$SIZE" ]] || die "HEAD: wrong Upload-Length"
	[[ $(stat -c %s "$part") == "$SIZE" ]] || die "spool file is $(stat -c %s "$part") bytes, expected $SIZE"
	cmp -s "$SRC" "$part" || die "spool file $part differs from the source"
	st=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 60 -X DELETE \
		"${TUS[@]}" -H "Authorization: Bearer $TOKEN" "$UPLOAD_URL")
	[[ $st == 204 ]] || die "DELETE $UPLOAD_URL returned $st, expected 204"
	[[ ! -e $part ]] || die "DELETE left the spool file $part"
}

# ---- 3. private nginx: PUT stores the body under www/up/ ---------------------------

mkdir -p "$TMP/www/up" "$TMP/nginx-temp"
# nginx workers drop to "nobody" when started as root: they must be able to write there.
chmod 755 "$TMP" "$TMP/www"
chmod 777 "$TMP/www/up"

write_nginx_conf() {
	cat >"$TMP/nginx.conf" <<EOF
# generated by bench/upload/run.sh
worker_processes 2;
pid $TMP/nginx.pid;
lock_file $TMP/nginx.lock;
error_log $TMP/nginx-error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    server_tokens off;
    client_body_temp_path $TMP/nginx-temp/body;   # same file system as www: the PUT is a rename
    proxy_temp_path $TMP/nginx-temp/proxy;
    fastcgi_temp_path $TMP/nginx-temp/fastcgi;
    uwsgi_temp_path $TMP/nginx-temp/uwsgi;
    scgi_temp_path $TMP/nginx-temp/scgi;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        root $TMP/www;
        location = /ping { return 204; }
        location /up/ {
            # ngx_http_dav_module: the body is written to a temp file as it
            # arrives, renamed to www/up/<name>, then 201. No fsync.
            dav_methods PUT;
            dav_access user:rw;
            client_max_body_size 0;
            client_body_buffer_size 1m;
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
	if wait_http "$NGINX_PID" "http://127.0.0.1:$NGINX_PORT/ping" && owns_port "$NGINX_PID" "$NGINX_PORT"; then
		break
	fi
	stop_pid "$NGINX_PID" nginx
	wait "$NGINX_PID" 2>/dev/null || true
	NGINX_PID=""
	((attempt < 5)) || die "nginx did not start"
	note "nginx did not come up on port $NGINX_PORT; retrying"
done
NGINX_URL=http://127.0.0.1:$NGINX_PORT
note "nginx pid $NGINX_PID on $NGINX_URL"

# ---- 4. the rounds ------------------------------------------------------------------

# Results per method: best MB/s, its seconds and server CPU, and the list of rounds.
declare -A BEST_MBPS=([single]=0 [chunks]=0 [nginx]=0) BEST_S BEST_CPU RUNS
BEST_NGINX_SYNC_S="" CHUNK_WALL_BEST="" PATCHES=0

record() { # method bytes seconds cpu_ticks
	local m
	m=$(mbps "$2" "$3")
	RUNS[$1]+="${RUNS[$1]:+,}$m"
	if gt "$m" "${BEST_MBPS[$1]}"; then
		BEST_MBPS[$1]=$m BEST_S[$1]=$3 BEST_CPU[$1]=$(cpu_s "$4")
		return 0
	fi
	return 1
}

settle() { sync; sleep 1; } # the previous run's dirty pages are not this run's problem

run_single() { # round
	local t0
	fresh_token
	create_upload
	settle
	t0=$(cpu_ticks "$COSMIV_PID")
	patch 0 -T "$SRC"
	local ticks=$(($(cpu_ticks "$COSMIV_PID") - t0))
	[[ $P_SENT == "$SIZE" ]] || die "curl sent $P_SENT bytes, expected $SIZE"
	[[ $P_OFFSET == "$SIZE" ]] || die "single PATCH answered Upload-Offset '$P_OFFSET', expected $SIZE"
	verify_upload
	record single "$SIZE" "$P_TIME" "$ticks" || true
	note "round $1 cosmiv 1 PATCH: $(mbps "$SIZE" "$P_TIME") MB/s (${P_TIME} s, server CPU $(cpu_s "$ticks") s)"
}

run_chunks() { # round
	local off=0 n t0 total=0 w0 wall i=0
	fresh_token
	create_upload
	settle
	t0=$(cpu_ticks "$COSMIV_PID")
	w0=$(now)
	while ((off < SIZE)); do
		n=$((SIZE - off < CHUNK ? SIZE - off : CHUNK))
		# the slice is read into curl's memory before it connects (like a Blob slice in
		# tus-js-client), so time_total is the HTTP exchange only
		patch "$off" --data-binary @- < <(dd if="$SRC" bs=1M iflag=skip_bytes,count_bytes \
			skip="$off" count="$n" status=none)
		[[ $P_SENT == "$n" ]] || die "curl sent $P_SENT bytes at offset $off, expected $n"
		[[ $P_OFFSET == $((off + n)) ]] ||
			die "PATCH at offset $off with $n bytes answered Upload-Offset '$P_OFFSET', expected $((off + n))"
		total=$(fadd "$total" "$P_TIME")
		off=$((off + n)) i=$((i + 1))
	done
	wall=$(fsub "$(now)" "$w0")
	local ticks=$(($(cpu_ticks "$COSMIV_PID") - t0))
	PATCHES=$i
	((PATCHES == NCHUNKS)) || die "sent $PATCHES PATCHes, expected $NCHUNKS"
	verify_upload
	if record chunks "$SIZE" "$total" "$ticks"; then CHUNK_WALL_BEST=$wall; fi
	note "round $1 cosmiv $i x $CHUNK_MB MiB PATCHes: $(mbps "$SIZE" "$total") MB/s (sum of ${i} exchanges ${total} s," \
		"loop wall time ${wall} s, server CPU $(cpu_s "$ticks") s)"
}

run_nginx() { # round
	local name=put-$1.bin w code t sent s0 sync_s
	settle
	local t0
	nginx_pids
	t0=$(cpu_ticks "${NGINX_PIDS[@]}")
	w=$(curl -sS -o "$TMP/put.body" -w '%{http_code} %{time_total} %{size_upload}' -T "$SRC" -H 'Expect:' \
		"$NGINX_URL/up/$name") || die "curl PUT to nginx failed"
	local ticks=$(($(cpu_ticks "${NGINX_PIDS[@]}") - t0))
	read -r code t sent <<<"$w"
	[[ $code == 201 ]] || { cat "$TMP/put.body" >&2; die "nginx PUT returned $code, expected 201"; }
	[[ $sent == "$SIZE" ]] || die "curl sent $sent bytes to nginx, expected $SIZE"
	# what making nginx's file durable would cost on top (not part of its MB/s)
	s0=$(now)
	sync "$TMP/www/up/$name"
	sync_s=$(fsub "$(now)" "$s0")
	[[ $(stat -c %s "$TMP/www/up/$name") == "$SIZE" ]] || die "nginx stored $(stat -c %s "$TMP/www/up/$name") bytes"
	cmp -s "$SRC" "$TMP/www/up/$name" || die "nginx's file differs from the source"
	rm -f "$TMP/www/up/$name"
	if record nginx "$SIZE" "$t" "$ticks"; then BEST_NGINX_SYNC_S=$sync_s; fi
	note "round $1 nginx PUT: $(mbps "$SIZE" "$t") MB/s (${t} s, server CPU $(cpu_s "$ticks") s; fsync afterwards ${sync_s} s)"
}

for ((round = 1; round <= ROUNDS; round++)); do
	run_single "$round"
	kill -0 "$COSMIV_PID" 2>/dev/null || die "cosmiv died during round $round"
	run_chunks "$round"
	kill -0 "$COSMIV_PID" 2>/dev/null || die "cosmiv died during round $round"
	run_nginx "$round"
done

R_SINGLE=$(ratio "${BEST_MBPS[single]}" "${BEST_MBPS[nginx]}")
R_CHUNKS=$(ratio "${BEST_MBPS[chunks]}" "${BEST_MBPS[nginx]}")
NGINX_DURABLE_MBPS=$(mbps "$SIZE" "$(fadd "${BEST_S[nginx]}" "$BEST_NGINX_SYNC_S")")

# ---- 5. stop the servers, look at cosmiv's log -----------------------------------------

stop_pid "$NGINX_PID" nginx
wait "$NGINX_PID" 2>/dev/null || true
NGINX_PID=""
stop_pid "$COSMIV_PID" cosmiv
set +e
wait "$COSMIV_PID" 2>/dev/null
COSMIV_RC=$?
set -e
COSMIV_PID=""
LOG_ERRORS=$(grep -c '"level":"error"' "$TMP/cosmiv.log" || true)
LOG_WARNS=$(grep -c '"level":"warn"' "$TMP/cosmiv.log" || true)
NGINX_ERRORS=$(grep -c '\[\(error\|crit\|alert\|emerg\)\]' "$TMP/nginx-error.log" 2>/dev/null || true)

# ---- 6. report ------------------------------------------------------------------------

VERSION=$("$BIN" version 2>/dev/null || echo "cosmiv ?")
NGINX_VERSION=$("$NGINX" -v 2>&1 | sed 's/^nginx version: //')
CURL_VERSION=$(curl --version | awk 'NR == 1 { print $1 " " $2 }')
DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)
CPU=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || true)
LOAD_END=$(loadavg)

{
	echo
	echo "Cosmiv upload benchmark — $DATE"
	echo "$VERSION, $NGINX_VERSION, $CURL_VERSION; $CORES cores${CPU:+ ($CPU)}; disk: $FS_DEV ($FS_TYPE)"
	echo "file: $SIZE_MB MiB ($SIZE bytes) from /dev/urandom; best of $ROUNDS alternated rounds; MB = 10^6 bytes"
	echo "load average before: $LOAD_START, after: $LOAD_END (other work on the machine shares the cores)"
	echo
	printf '%-44s %8s %9s %13s %9s\n' method "MB/s" seconds "server CPU s" "vs nginx"
	printf '%-44s %8s %9s %13s %9s\n' "cosmiv tus, 1 PATCH (curl -T)" "${BEST_MBPS[single]}" \
		"$(printf '%.2f' "${BEST_S[single]}")" "${BEST_CPU[single]}" "$R_SINGLE"
	printf '%-44s %8s %9s %13s %9s\n' "cosmiv tus, $PATCHES PATCHes of $CHUNK_MB MiB (curl)" "${BEST_MBPS[chunks]}" \
		"$(printf '%.2f' "${BEST_S[chunks]}")" "${BEST_CPU[chunks]}" "$R_CHUNKS"
	printf '%-44s %8s %9s %13s %9s\n' "nginx PUT, dav_methods PUT (curl -T)" "${BEST_MBPS[nginx]}" \
		"$(printf '%.2f' "${BEST_S[nginx]}")" "${BEST_CPU[nginx]}" "1.000"
	echo "  (rounds, MB/s: cosmiv 1 PATCH ${RUNS[single]}; cosmiv chunks ${RUNS[chunks]}; nginx ${RUNS[nginx]})"
	echo "  chunked: seconds = sum of the $PATCHES HTTP exchanges; the shell loop around them (dd + a curl"
	echo "  process per chunk) took $(printf '%.2f' "$CHUNK_WALL_BEST") s of wall time in that round"
	echo
	echo "durability: cosmiv fsyncs the spool file and commits the new offset before it acknowledges a PATCH;"
	echo "  nginx does not fsync. fsync of nginx's file right after its 201 took $(printf '%.2f' "$BEST_NGINX_SYNC_S") s," \
		"i.e. $NGINX_DURABLE_MBPS MB/s"
	echo "  for PUT + fsync (not in the table)."
	echo "checked: every answer's status and Upload-Offset, HEAD offset = $SIZE, cmp of the stored file with the"
	echo "  source ($((3 * ROUNDS)) files, all identical); cosmiv log: $LOG_ERRORS error / $LOG_WARNS warn lines;" \
		"nginx error log: $NGINX_ERRORS error lines; cosmiv exit status $COSMIV_RC after SIGTERM"
} | tee "$TMP/table.txt"

json_str() { printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"; }
num() { [[ $1 =~ ^[0-9]+(\.[0-9]+)?$ ]] && printf '%s' "$1" || printf 'null'; }
mkdir -p "$(dirname "$OUT_JSON")"
cat >"$OUT_JSON.tmp" <<EOF
{
  "date": $(json_str "$DATE"),
  "machine": {"cores": $CORES, "cpu": $(json_str "$CPU"), "disk": $(json_str "$FS_DEV ($FS_TYPE)"), "loadavg_start": $(json_str "$LOAD_START"), "loadavg_end": $(json_str "$LOAD_END")},
  "versions": {"cosmiv": $(json_str "$VERSION"), "nginx": $(json_str "$NGINX_VERSION"), "curl": $(json_str "$CURL_VERSION")},
  "settings": {"bytes": $SIZE, "mib": $SIZE_MB, "rounds": $ROUNDS, "chunk_bytes": $CHUNK, "patches": $PATCHES},
  "unit": "MB/s, MB = 10^6 bytes; seconds = curl time_total (summed over the PATCHes for chunks)",
  "cosmiv_single_patch": {"mbps": $(num "${BEST_MBPS[single]}"), "seconds": $(num "${BEST_S[single]}"), "server_cpu_s": $(num "${BEST_CPU[single]}"), "rounds_mbps": [${RUNS[single]}], "ratio_to_nginx": $(num "$R_SINGLE")},
  "cosmiv_chunked": {"mbps": $(num "${BEST_MBPS[chunks]}"), "seconds": $(num "${BEST_S[chunks]}"), "loop_wall_s": $(num "$CHUNK_WALL_BEST"), "server_cpu_s": $(num "${BEST_CPU[chunks]}"), "rounds_mbps": [${RUNS[chunks]}], "ratio_to_nginx": $(num "$R_CHUNKS")},
  "nginx_put": {"mbps": $(num "${BEST_MBPS[nginx]}"), "seconds": $(num "${BEST_S[nginx]}"), "server_cpu_s": $(num "${BEST_CPU[nginx]}"), "rounds_mbps": [${RUNS[nginx]}], "fsync_after_s": $(num "$BEST_NGINX_SYNC_S"), "mbps_with_fsync": $(num "$NGINX_DURABLE_MBPS")},
  "fsync": {"cosmiv": "before acknowledging each PATCH", "nginx": "never"},
  "verified_files": $((3 * ROUNDS)),
  "cosmiv_log": {"error_lines": $LOG_ERRORS, "warn_lines": $LOG_WARNS, "exit_status": $COSMIV_RC},
  "nginx_error_lines": $NGINX_ERRORS
}
EOF
mv "$OUT_JSON.tmp" "$OUT_JSON"
echo "wrote ${OUT_JSON#"$ROOT"/}"
