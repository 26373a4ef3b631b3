#!/usr/bin/env bash
# bench/feed/run.sh — feed benchmark: Cosmiv vs a FastAPI reference vs nginx (see bench/feed/README.md).
#
#   bash bench/feed/run.sh                         # 10k users, 1M posts: several minutes
#   BENCH_POSTS=100000 BENCH_SECONDS=5 bash bench/feed/run.sh
#
# 1. seeds a fresh SQLite data dir: 200 ready clips (rows only), then, timed,
#    `cosmiv seed --users --posts --follows-per-user --reuse-clips`; starts
#    (a copy of) build/cosmiv on a free 127.0.0.1 port, registers a bench
#    user, makes it follow BENCH_FOLLOW seeded users and logs it in (one
#    access token for the whole run); when signed-out New pages are cached
#    (COSMIV_FEED_CACHE_MS), starts a second cosmiv with the cache off;
# 2. starts the FastAPI reference (bench/peers/feed_fastapi.py, uvicorn, 2
#    workers) on the same SQLite file, read-only, and checks it answers the
#    same posts as cosmiv's GET /api/v2/feed/new?limit=20;
# 3. saves cosmiv's exact /feed/new body and serves it from a private nginx
#    (2 workers, keep-alive, no access log): the ceiling;
# 4. times each endpoint alone (one connection, one request at a time); then
#    alternates wrk runs on /feed/new — cosmiv, cosmiv cache off, FastAPI,
#    nginx — BENCH_ROUNDS times with the same wrk parameters, then runs
#    /feed/for-you (authenticated, bench/feed/auth.lua) BENCH_ROUNDS times;
#    keeps the best req/s of each; fails on any non-2xx response;
# 5. prints a table and writes build/bench/feed.json; exits 1 (after the
#    table) if requests timed out under load.
# Only 127.0.0.1 is ever contacted. Everything lives in a temp dir, removed
# on exit (BENCH_KEEP_TMP=1 keeps it); all servers are stopped by a trap.
set -euo pipefail

SECONDS_PER_RUN=${BENCH_SECONDS:-10}
ROUNDS=${BENCH_ROUNDS:-2}
WARMUP=${BENCH_WARMUP:-2}
USERS=${BENCH_USERS:-10000}
POSTS=${BENCH_POSTS:-1000000}
FOLLOWS_PER_USER=${BENCH_FOLLOWS_PER_USER:-50}
FOLLOW=${BENCH_FOLLOW:-50}
FY_USERS=${BENCH_FORYOU_USERS:-1000} # seeded users per many-user For you run (each run its own)
CLIPS=${BENCH_CLIPS:-200} # ready clips the seeded posts share (seed --reuse-clips takes up to 200)
STRICT=${BENCH_STRICT:-0}
PY=${BENCH_PYTHON:-/usr/bin/python3} # Debian's python, where python3-fastapi lives
# fast: uvicorn on uvloop + httptools (as `pip install uvicorn[standard]` deploys it);
# plain: Debian's python3-uvicorn defaults, asyncio + h11 (pure Python HTTP parsing)
PEER_STACK=${BENCH_PEER_STACK:-plain} # plain: uvicorn as Debian packages it (no uvloop, no httptools)
LIMIT=20
THREADS=2
CONNS=64
WRK_TIMEOUT=10s
PEER_WORKERS=2
TARGET_RATIO=30  # cosmiv /feed/new req/s >= 30 x the FastAPI reference
TARGET_P99_MS=20 # cosmiv /feed/for-you p99 < 20 ms at the same load

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
BIN=$ROOT/build/cosmiv
LUA=$ROOT/bench/feed/auth.lua
LUA_USERS=$ROOT/bench/feed/users.lua
TOKENS=$ROOT/bench/feed/tokens.py
CHECK=$ROOT/bench/feed/feedcheck.py
PEER_DIR=$ROOT/bench/peers
OUT_JSON=$ROOT/build/bench/feed.json

die() { echo "bench: $*" >&2; exit 1; }
note() { echo "bench: $*" >&2; }

[[ $SECONDS_PER_RUN =~ ^[1-9][0-9]*$ ]] || die "BENCH_SECONDS must be a positive integer"
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "BENCH_ROUNDS must be a positive integer"
[[ $USERS =~ ^[1-9][0-9]*$ ]] || die "BENCH_USERS must be a positive integer"
[[ $POSTS =~ ^[1-9][0-9]*$ ]] || die "BENCH_POSTS must be a positive integer"
[[ $WARMUP =~ ^[0-9]+$ ]] || die "BENCH_WARMUP must be a number of seconds"
[[ $FOLLOWS_PER_USER =~ ^[0-9]+$ ]] || die "BENCH_FOLLOWS_PER_USER must be a number"
[[ $FOLLOW =~ ^[0-9]+$ ]] || die "BENCH_FOLLOW must be a number"
[[ $FY_USERS =~ ^[0-9]+$ ]] || die "BENCH_FORYOU_USERS must be a number (0: no many-user For you run)"
[[ $CLIPS =~ ^[0-9]+$ && $CLIPS -le 200 ]] || die "BENCH_CLIPS must be a number from 0 to 200"
((FOLLOW < USERS)) || die "BENCH_FOLLOW ($FOLLOW) must be below BENCH_USERS ($USERS)"
((POSTS >= LIMIT)) || die "BENCH_POSTS must be at least $LIMIT (one full page)"
for tool in wrk nginx curl sqlite3 setsid; do
	command -v "$tool" >/dev/null ||
		die "$tool is not installed (apt-get install wrk nginx-light curl sqlite3 util-linux)"
done
NGINX=$(command -v nginx)
[[ -x $PY ]] || die "$PY not found (apt-get install python3)"
case $PEER_STACK in
fast)
	PEER_LOOP=(--loop uvloop --http httptools)
	"$PY" -c 'import fastapi, uvicorn, uvloop, httptools' 2>/dev/null ||
		die "the FastAPI reference needs Debian's packages for $PY:" \
			"apt-get install python3-fastapi python3-uvicorn python3-uvloop python3-httptools"
	;;
plain)
	PEER_LOOP=(--loop asyncio --http h11)
	"$PY" -c 'import fastapi, uvicorn, h11' 2>/dev/null ||
		die "the FastAPI reference needs Debian's packages for $PY: apt-get install python3-fastapi python3-uvicorn"
	;;
*) die "BENCH_PEER_STACK must be fast or plain" ;;
esac
if [[ ! -x $BIN ]]; then
	note "building build/cosmiv"
	make -C "$ROOT" build/cosmiv >&2
fi
SEED_HELP=$({ "$BIN" seed --help 2>&1 || true; "$BIN" --help 2>&1 || true; })
grep -q -- '--posts' <<<"$SEED_HELP" ||
	die "build/cosmiv has no 'seed --posts' yet ($("$BIN" seed --help 2>&1 | head -n 1)); rebuild it"

CORES=$(nproc 2>/dev/null || echo 1)
loadavg() { cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "?"; }
LOAD_START=$(loadavg)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/cosmiv-bench-feed.XXXXXX")
COSMIV_PID=""
PEER_PID=""
NGINX_PID=""

stop_pid() { # pid name [group]: SIGTERM, wait up to 25 s, then SIGKILL (the whole group with "group")
	local pid=$1 target=$1 i
	[[ -n $pid ]] || return 0
	kill -0 "$pid" 2>/dev/null || return 0
	[[ ${3:-} != group ]] || target=-$pid
	kill -TERM -- "$target" 2>/dev/null || true
	for ((i = 0; i < 250; i++)); do
		kill -0 -- "$target" 2>/dev/null || return 0
		sleep 0.1
	done
	note "$2 (pid $pid) ignored SIGTERM; killing it"
	kill -KILL -- "$target" 2>/dev/null || true
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	stop_pid "$NGINX_PID" nginx
	stop_pid "$PEER_PID" "FastAPI reference" group
	stop_pid "${S_PID:-}" cosmiv
	stop_pid "${NOCACHE_PID:-}" "cosmiv (cache off)"
	stop_pid "$COSMIV_PID" cosmiv
	wait 2>/dev/null || true
	if ((rc != 0)); then
		for f in "$TMP/seed.log" "$TMP/cosmiv.log" "$TMP/cosmiv-nocache.log" "$TMP/peer.log" "$TMP/nginx.stderr" "$TMP/nginx-error.log"; do
			[[ -s $f ]] || continue
			note "last lines of ${f##*/}:"
			tail -n 15 "$f" >&2 || true
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

# Run a copy: a rebuild of build/cosmiv during the run (which takes minutes)
# must not mix two binaries in one report. Copied again if it changed under cp.
for attempt in 1 2 3 4 5; do
	BIN_DATE=$(date -u -r "$BIN" +%Y-%m-%dT%H:%M:%SZ)
	cp "$BIN" "$TMP/cosmiv"
	cmp -s "$BIN" "$TMP/cosmiv" && VERSION=$("$TMP/cosmiv" version 2>/dev/null) && break
	((attempt < 5)) || die "could not take a stable copy of build/cosmiv (is it being rebuilt?)"
	sleep 3
done
BIN_SHA=$(sha256sum "$TMP/cosmiv" | cut -c1-12)
BIN=$TMP/cosmiv

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

# wait_http PID URL [tries]: wait until URL answers 2xx while PID stays alive
wait_http() {
	local i
	for ((i = 0; i < ${3:-150}; i++)); do
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
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b > 0) ? a / b : 0 }'; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
json_field() { "$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$@"; }

DATA=$TMP/data
DB=$DATA/cosmiv.db
NOW_MS=$(date +%s%3N)
COSMIV_ENV=(
	COSMIV_DATA_DIR="$DATA"
	COSMIV_JWT_SECRET="bench-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
	COSMIV_RATE_AUTH_PER_MIN=1000000
	COSMIV_RATE_AUTH_BURST=1000000
	COSMIV_LOG_LEVEL=warn
	# one access token serves the whole run (default 15 min; 86400 is the maximum)
	COSMIV_ACCESS_TTL_S=86400
	# Argon2id at its minimum: only logins hash (the seed's one shared hash,
	# the ~3000 logins of the many-user For you runs); no measured request does
	COSMIV_ARGON2_MEMLIMIT=65536
	COSMIV_ARGON2_OPSLIMIT=1
)
# BENCH_COSMIV_THREADS: HTTP threads of every cosmiv server in the run (unset: cosmiv's default, 4 per core)
[[ -z ${BENCH_COSMIV_THREADS:-} ]] || COSMIV_ENV+=(COSMIV_THREADS="$BENCH_COSMIV_THREADS")
cosmiv() { env "${COSMIV_ENV[@]}" "$BIN" "$@"; }
sql() { sqlite3 -batch -noheader "file:$DB?mode=ro" "$@"; }
((ROUNDS * 4 * (SECONDS_PER_RUN + WARMUP) < 80000)) || die "the run would outlive one access token (24 h)"

# ---- 1. seed, cosmiv, the bench user -------------------------------------------

mkdir -p "$DATA"
cosmiv migrate >"$TMP/seed.log" 2>&1 || die "cosmiv migrate failed"
[[ -f $DB ]] || die "no $DB after 'cosmiv migrate' (is COSMIV_DATA_DIR honoured?)"
# Real posts carry a clip: its object plus two signed URLs is a third of a
# post's JSON. BENCH_CLIPS ready clips (one owner, one source video; rows only,
# no media files) are made before seeding, and `seed --reuse-clips` attaches
# them to the posts in turn. BENCH_CLIPS=0: posts without clips ("clip": null).
SEED_FLAGS=()
if ((CLIPS > 0)); then
	sqlite3 -batch "$DB" <<EOF || die "could not insert the $CLIPS demo clips"
PRAGMA foreign_keys = ON;
BEGIN;
INSERT INTO users (id, username, email, password_hash, created_at, updated_at)
VALUES ((($NOW_MS - 1704067200000) << 22) | 1, 'bench_clip_maker', 'bench_clip_maker@example.com', '!', $NOW_MS, $NOW_MS);
INSERT INTO videos (id, user_id, title, status, sha256, size_bytes, duration_ms, width, height, fps_milli,
                    source_key, web_key, thumb_key, created_at, updated_at)
VALUES ((($NOW_MS - 1704067200000) << 22) | 2, (($NOW_MS - 1704067200000) << 22) | 1, 'bench source', 'ready',
        '$(printf '%064d' 0)', 1000000000, 3600000, 1920, 1080, 60000,
        'videos/bench/source.mp4', 'videos/bench/web.mp4', 'videos/bench/thumb.jpg', $NOW_MS, $NOW_MS);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $CLIPS)
INSERT INTO clips (id, user_id, video_id, title, status, aspect, fill, start_ms, end_ms, duration_ms,
                   width, height, copied, object_key, thumb_key, created_at, updated_at)
SELECT (($NOW_MS - 1704067200000) << 22) | (1000 + i), (($NOW_MS - 1704067200000) << 22) | 1,
       (($NOW_MS - 1704067200000) << 22) | 2, 'bench clip ' || i, 'ready', '9:16', 'crop',
       i * 60000, i * 60000 + 8000 + (i * 7919) % 52000, 8000 + (i * 7919) % 52000, 1080, 1920, 0,
       'clips/bench/' || i || '.mp4', 'clips/bench/' || i || '.jpg', $NOW_MS, $NOW_MS
FROM n;
COMMIT;
EOF
	SEED_FLAGS=(--reuse-clips)
fi
note "seeding $USERS users, $POSTS posts, $FOLLOWS_PER_USER follows per user${SEED_FLAGS:+, $CLIPS clips reused} (this takes a while)"
t0=$(now)
cosmiv seed --users "$USERS" --posts "$POSTS" --follows-per-user "$FOLLOWS_PER_USER" "${SEED_FLAGS[@]}" \
	>"$TMP/seed.out" 2>>"$TMP/seed.log" || die "cosmiv seed failed"
t1=$(now)
SEED_S=$(elapsed "$t0" "$t1")
SEED_MSG=$(tr '\n' ' ' <"$TMP/seed.out" | sed 's/ *$//')
[[ -f $DB ]] || die "no $DB after seeding (is COSMIV_DATA_DIR honoured?)"
DB_USERS=$(sql "SELECT count(*) FROM users")
DB_POSTS=$(sql "SELECT count(*) FROM posts")
DB_PUBLIC=$(sql "SELECT count(*) FROM posts WHERE visibility = 'public'")
DB_FOLLOWS=$(sql "SELECT count(*) FROM follows")
DB_CLIPS=$(sql "SELECT count(*) FROM posts WHERE clip_id IS NOT NULL")
DB_BYTES=$(cat "$DB" "$DB-wal" 2>/dev/null | wc -c)
DB_MB=$(awk -v b="$DB_BYTES" 'BEGIN { printf "%.0f", b / 1e6 }')
note "seeded in $SEED_S s: $DB_USERS users, $DB_POSTS posts ($DB_PUBLIC public), $DB_FOLLOWS follows, $DB_MB MB; cosmiv said: $SEED_MSG"
((DB_USERS >= USERS)) || die "the seed made $DB_USERS users, asked for $USERS"
((DB_POSTS == POSTS)) || die "the seed made $DB_POSTS posts, asked for $POSTS"
((DB_PUBLIC >= LIMIT)) || die "only $DB_PUBLIC public posts: not one full page"

# start_cosmiv NAME LOG [VAR=VALUE...]: `cosmiv serve` on a free port; sets S_PID S_PORT
start_cosmiv() {
	local name=$1 log=$2 attempt
	shift 2
	for attempt in 1 2 3 4 5; do
		S_PORT=$(pick_port)
		env "${COSMIV_ENV[@]}" "$@" "$BIN" serve --data-dir "$DATA" --listen "127.0.0.1:$S_PORT" 2>>"$log" &
		S_PID=$!
		if wait_http "$S_PID" "http://127.0.0.1:$S_PORT/readyz" 600 && owns_port "$S_PID" "$S_PORT"; then
			return 0
		fi
		stop_pid "$S_PID" "$name"
		wait "$S_PID" 2>/dev/null || true
		S_PID=""
		((attempt < 5)) || die "$name did not start"
		note "$name did not come up on port $S_PORT; retrying"
	done
}
start_cosmiv cosmiv "$TMP/cosmiv.log"
COSMIV_PID=$S_PID COSMIV=http://127.0.0.1:$S_PORT S_PID=""
note "cosmiv pid $COSMIV_PID on $COSMIV"

USER_NAME=bench_$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')
USER_PASS=bench-pass-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')
status=$(curl -sS -o "$TMP/register.json" -w '%{http_code}' --max-time 30 \
	-H 'Content-Type: application/json' \
	-d "{\"username\":\"$USER_NAME\",\"email\":\"$USER_NAME@example.com\",\"password\":\"$USER_PASS\"}" \
	"$COSMIV/api/v2/auth/register")
[[ $status == 201 ]] || { cat "$TMP/register.json" >&2; echo >&2; die "register returned $status, expected 201"; }
status=$(curl -sS -o "$TMP/login.json" -w '%{http_code}' --max-time 30 -H 'Content-Type: application/json' \
	-d "{\"login\":\"$USER_NAME\",\"password\":\"$USER_PASS\"}" "$COSMIV/api/v2/auth/login")
[[ $status == 200 ]] || { cat "$TMP/login.json" >&2; echo >&2; die "login returned $status, expected 200"; }
TOKEN=$(json_field "$TMP/login.json" access_token) || die "no access_token in the login answer"
[[ -n $TOKEN ]] || die "empty access_token"
AUTH=(-H "Authorization: Bearer $TOKEN")

# Follow FOLLOW seeded users spread evenly over the table (ordered by id), so
# the bench user looks like the seeded ones and For you has a graph to rank.
FOLLOWED=0
if ((FOLLOW > 0)); then
	sql "SELECT username FROM users WHERE username <> '$USER_NAME' ORDER BY id" |
		awk -v n="$FOLLOW" -v total="$DB_USERS" 'BEGIN { step = (total - 1) / n }
			(NR - 1) >= next_at && picked < n { print; picked++; next_at = picked * step }' >"$TMP/follow.txt"
	while read -r name; do
		status=$(curl -sS -o "$TMP/follow.json" -w '%{http_code}' --max-time 10 -X PUT "${AUTH[@]}" \
			"$COSMIV/api/v2/users/$name/follow")
		[[ $status == 200 ]] || { cat "$TMP/follow.json" >&2; echo >&2; die "PUT /users/$name/follow returned $status"; }
		FOLLOWED=$((FOLLOWED + 1))
	done <"$TMP/follow.txt"
	((FOLLOWED == FOLLOW)) || die "followed $FOLLOWED users, wanted $FOLLOW"
fi
note "registered $USER_NAME, following $FOLLOWED seeded users"

# Many-user For you: each run (the alone probe, the warm-up, every round) gets
# its own seeded users, logged in now; a user's first request in a run is then
# a cold ranking, never a reuse of one made earlier (cosmiv reuses a viewer's
# ranking for 30 s).
ALONE_N=5
FY_RUNS=$ROUNDS
((WARMUP == 0)) || FY_RUNS=$((ROUNDS + 1))
if ((FY_USERS > 0)); then
	avail=$((DB_USERS - 1)) # the clip maker aside
	if ((FY_RUNS * FY_USERS + ALONE_N + 1 > avail)); then
		FY_USERS=$(((avail - ALONE_N - 1) / FY_RUNS))
		note "only $avail seeded users: $FY_USERS per many-user For you run"
	fi
	((FY_USERS > 0)) || die "too few seeded users for the many-user For you runs (BENCH_FORYOU_USERS=0 skips them)"
fi
if ((FY_USERS > 0)); then
	sql "SELECT username FROM users WHERE username NOT IN ('bench_clip_maker', '$USER_NAME') ORDER BY username
		LIMIT $((FY_RUNS * FY_USERS + ALONE_N + 1))" >"$TMP/fy-users.txt"
	t0=$(now)
	"$PY" "$TOKENS" "$COSMIV" cosmiv-demo-pass <"$TMP/fy-users.txt" >"$TMP/fy-tokens.txt" ||
		die "could not log the seeded users in"
	FY_LOGIN_S=$(elapsed "$t0" "$(now)")
	# slices: alone, then warmup (if any), then rounds 1..ROUNDS
	sed -n "1,$((ALONE_N + 1))p" "$TMP/fy-tokens.txt" >"$TMP/tokens-alone.txt"
	k=$((ALONE_N + 1))
	labels=()
	((WARMUP == 0)) || labels+=(warmup)
	for ((r = 1; r <= ROUNDS; r++)); do labels+=("$r"); done
	for l in "${labels[@]}"; do
		sed -n "$((k + 1)),$((k + FY_USERS))p" "$TMP/fy-tokens.txt" >"$TMP/tokens-$l.txt"
		k=$((k + FY_USERS))
	done
	note "logged $(wc -l <"$TMP/fy-tokens.txt") seeded users in for the many-user For you runs in $FY_LOGIN_S s"
fi

NEW_PATH="/api/v2/feed/new?limit=$LIMIT"
FORYOU_PATH="/api/v2/feed/for-you?limit=$LIMIT"
status=$(curl -sS -o "$TMP/new.json" -D "$TMP/new.headers" -w '%{http_code}' --max-time 30 "$COSMIV$NEW_PATH")
[[ $status == 200 ]] || { head -c 600 "$TMP/new.json" >&2; echo >&2; die "GET $NEW_PATH returned $status"; }
NEW_DESC=$("$PY" "$CHECK" page "$TMP/new.json" "$LIMIT") || die "cosmiv's $NEW_PATH is not a full page"
status=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 30 "$COSMIV$FORYOU_PATH")
[[ $status == 401 ]] || die "GET $FORYOU_PATH without a token returned $status, expected 401"
status=$(curl -sS -o "$TMP/foryou.json" -w '%{http_code}' --max-time 30 "${AUTH[@]}" "$COSMIV$FORYOU_PATH")
[[ $status == 200 ]] || { head -c 600 "$TMP/foryou.json" >&2; echo >&2; die "GET $FORYOU_PATH returned $status"; }
FORYOU_DESC=$("$PY" "$CHECK" page "$TMP/foryou.json" "$LIMIT" --reasons) ||
	die "cosmiv's $FORYOU_PATH is not a full page with reasons"
NEW_BYTES=$(wc -c <"$TMP/new.json")
FORYOU_BYTES=$(wc -c <"$TMP/foryou.json")
note "cosmiv /feed/new: $NEW_DESC; /feed/for-you: $FORYOU_DESC"

# Signed-out New pages may be served from a short per-node cache
# (COSMIV_FEED_CACHE_MS): then the default server mostly measures a cache hit.
# A second cosmiv on the same data dir with the cache off measures the query,
# the JSON and the signing on every request, as the FastAPI reference does.
CFG=$(cosmiv config) || die "cosmiv config failed"
FEED_CACHE_MS=$(awk '$1 == "COSMIV_FEED_CACHE_MS" {print $2}' <<<"$CFG")
NOCACHE_PID="" HAVE_NOCACHE=false
if [[ -n $FEED_CACHE_MS && $FEED_CACHE_MS != 0 ]]; then
	HAVE_NOCACHE=true
	start_cosmiv "cosmiv (cache off)" "$TMP/cosmiv-nocache.log" COSMIV_FEED_CACHE_MS=0
	NOCACHE_PID=$S_PID NOCACHE=http://127.0.0.1:$S_PORT S_PID=""
	curl -sS --max-time 30 -o "$TMP/new-nocache.json" "$NOCACHE$NEW_PATH"
	"$PY" "$CHECK" compare "$TMP/new.json" "$TMP/new-nocache.json" >/dev/null ||
		die "cosmiv with COSMIV_FEED_CACHE_MS=0 answers another /feed/new page"
	note "cosmiv (cache off) pid $NOCACHE_PID on $NOCACHE"
fi

# ---- 2. the FastAPI reference ------------------------------------------------------

# Its own session (setsid, no fork here: $! is uvicorn's supervisor and the
# group id), so that stopping the group stops the two worker processes too.
for attempt in 1 2 3 4 5; do
	PEER_PORT=$(pick_port)
	COSMIV_PEER_DB=$DB setsid "$PY" -m uvicorn --app-dir "$PEER_DIR" feed_fastapi:app \
		--host 127.0.0.1 --port "$PEER_PORT" --workers "$PEER_WORKERS" "${PEER_LOOP[@]}" \
		--log-level warning --no-access-log >>"$TMP/peer.log" 2>&1 &
	PEER_PID=$!
	if wait_http "$PEER_PID" "http://127.0.0.1:$PEER_PORT/readyz" 300 && owns_port "$PEER_PID" "$PEER_PORT"; then
		break
	fi
	stop_pid "$PEER_PID" "FastAPI reference" group
	wait "$PEER_PID" 2>/dev/null || true
	PEER_PID=""
	((attempt < 5)) || die "the FastAPI reference did not start"
	note "the FastAPI reference did not come up on port $PEER_PORT; retrying"
done
[[ $(ps -o pgid= -p "$PEER_PID" | tr -d ' ') == "$PEER_PID" ]] ||
	die "uvicorn (pid $PEER_PID) is not its own process group; cannot stop its workers safely"
PEER=http://127.0.0.1:$PEER_PORT
status=$(curl -sS -o "$TMP/peer.json" -w '%{http_code}' --max-time 30 "$PEER$NEW_PATH")
[[ $status == 200 ]] || { head -c 600 "$TMP/peer.json" >&2; echo >&2; die "FastAPI $NEW_PATH returned $status"; }
"$PY" "$CHECK" page "$TMP/peer.json" "$LIMIT" >/dev/null || die "the FastAPI reference's page is not a full page"
SHAPE=$("$PY" "$CHECK" compare "$TMP/new.json" "$TMP/peer.json") ||
	die "the FastAPI reference and cosmiv do not answer the same /feed/new page"
PEER_BYTES=$(wc -c <"$TMP/peer.json")
note "FastAPI reference pid $PEER_PID on $PEER ($PEER_WORKERS workers): $PEER_BYTES bytes; $SHAPE"

# ---- 3. nginx serving cosmiv's exact /feed/new bytes --------------------------------

STATIC=/api/v2/feed/new
mkdir -p "$TMP/www${STATIC%/*}" "$TMP/nginx-temp"
cp "$TMP/new.json" "$TMP/www$STATIC"
# nginx workers drop to "nobody" when started as root: they must be able to read the file.
chmod 755 "$TMP" "$TMP/www"
find "$TMP/www" -type d -exec chmod 755 {} + && chmod 644 "$TMP/www$STATIC"

write_nginx_conf() {
	cat >"$TMP/nginx.conf" <<EOF
# generated by bench/feed/run.sh
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
    keepalive_requests 1000000;   # wrk keeps its connections; so do cosmiv and uvicorn
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
	if wait_http "$NGINX_PID" "http://127.0.0.1:$NGINX_PORT$NEW_PATH" && owns_port "$NGINX_PID" "$NGINX_PORT"; then
		break
	fi
	stop_pid "$NGINX_PID" nginx
	wait "$NGINX_PID" 2>/dev/null || true
	NGINX_PID=""
	((attempt < 5)) || die "nginx did not start"
	note "nginx did not come up on port $NGINX_PORT; retrying"
done
NGINX_URL=http://127.0.0.1:$NGINX_PORT
curl -sS --max-time 10 -o "$TMP/new-nginx.json" -D "$TMP/new-nginx.headers" "$NGINX_URL$NEW_PATH"
cmp -s "$TMP/new.json" "$TMP/new-nginx.json" || die "nginx does not serve the same bytes as cosmiv"
grep -qi '^content-type: application/json' "$TMP/new-nginx.headers" || die "nginx Content-Type is not application/json"
note "nginx pid $NGINX_PID on $NGINX_URL ($NEW_BYTES byte body)"

# ---- 4. the runs, alternated --------------------------------------------------------

NEW_SERVERS=(cosmiv peer nginx)
$HAVE_NOCACHE && NEW_SERVERS=(cosmiv nocache peer nginx)
FY_SERVERS=(foryou)
((FY_USERS == 0)) || FY_SERVERS=(foryou foryou_many)
SERVERS=("${NEW_SERVERS[@]}" "${FY_SERVERS[@]}")
declare -A TITLE=([cosmiv]="cosmiv" [nocache]="cosmiv, cache off" [peer]="FastAPI" [nginx]="nginx (static)"
	[foryou]="cosmiv, 1 user" [foryou_many]="cosmiv, $FY_USERS users")
declare -A URL=([cosmiv]="$COSMIV$NEW_PATH" [peer]="$PEER$NEW_PATH" [nginx]="$NGINX_URL$NEW_PATH"
	[foryou]="$COSMIV$FORYOU_PATH" [foryou_many]="$COSMIV$FORYOU_PATH" [nocache]="${NOCACHE:-}$NEW_PATH")
declare -A BEST_RPS BEST_P50 BEST_P99 BEST_REQS RUNS P99S REQS MAX_P99 TIMEOUTS ALONE
for s in "${SERVERS[@]}"; do
	BEST_RPS[$s]=0 BEST_P50[$s]=nan BEST_P99[$s]=nan BEST_REQS[$s]=0 RUNS[$s]="" P99S[$s]="" REQS[$s]=0 MAX_P99[$s]=0
	TIMEOUTS[$s]=0
done
sock_notes=""
problems="" # what went wrong under load; reported with the table, then exit 1

# One connection, one request at a time: the service time without queueing.
# ALONE[server] = median of ALONE_N requests (after one not counted), in ms.
# For the many-user row, each request is another user's first (a cold ranking).
alone() {
	local s=$1 hdr=() codes times i tok
	[[ $s != foryou ]] || hdr=("${AUTH[@]}")
	local urls=()
	if [[ $s == foryou_many ]]; then
		while read -r tok; do
			urls+=(${urls[0]:+--next} -sS -w '%{http_code} %{time_total}\n' -H "Authorization: Bearer $tok"
				-o /dev/null "${URL[$s]}")
		done <"$TMP/tokens-alone.txt"
	else
		for ((i = 0; i <= ALONE_N; i++)); do urls+=(-o /dev/null "${URL[$s]}"); done
	fi
	# one curl, one kept-alive connection, one line per request
	curl -sS --max-time 300 "${hdr[@]}" -w '%{http_code} %{time_total}\n' "${urls[@]}" \
		>"$TMP/alone-$s.txt" 2>&1 || { cat "$TMP/alone-$s.txt" >&2; die "sequential requests to $s failed"; }
	codes=$(awk '{print $1}' "$TMP/alone-$s.txt" | sort -u | tr '\n' ' ')
	[[ $codes == "200 " ]] || die "sequential requests to $s answered: $codes"
	times=$(awk 'NR > 1 {print $2 * 1000}' "$TMP/alone-$s.txt" | sort -g)
	ALONE[$s]=$(awk -v n="$ALONE_N" '{ v[NR] = $1 } END { printf "%.2f", (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2 }' <<<"$times")
	note "$s alone (1 connection, median of $ALONE_N): ${ALONE[$s]} ms"
}

# run_wrk SERVER ROUND SECONDS -> parses into W_* (and W_TIMEOUTS)
run_wrk() {
	local f=$TMP/wrk-$1-$2.txt
	local args=(-t"$THREADS" -c"$CONNS" -d"${3}s" --timeout "$WRK_TIMEOUT" --latency)
	if [[ $1 == foryou ]]; then
		args+=(-s "$LUA" "${URL[$1]}" -- "$TOKEN")
	elif [[ $1 == foryou_many ]]; then
		args+=(-s "$LUA_USERS" "${URL[$1]}" -- "$TMP/tokens-$2.txt" "$THREADS")
	else
		args+=("${URL[$1]}")
	fi
	wrk "${args[@]}" >"$f" 2>&1 || { cat "$f" >&2; die "wrk against $1 failed"; }
	parse_wrk "$f"
	if [[ $W_NON2XX != 0 ]]; then
		cat "$f" >&2
		die "$1 answered $W_NON2XX non-2xx responses (round $2)"
	fi
	W_TIMEOUTS=$(sed -n 's/.*timeout \([0-9]*\).*/\1/p' <<<"$W_SOCKERR")
	W_TIMEOUTS=${W_TIMEOUTS:-0}
	# wrk's latency figures leave out the requests that timed out, and are
	# all zero when none completed: neither is a latency to report as such
	if ((W_REQS == 0)); then W_P50=nan W_P99=nan; fi
}

# cpu_ticks PID...: user+system clock ticks used so far by these processes
cpu_ticks() {
	local p t=0 f
	for p in "$@"; do
		f=$(cut -d')' -f2- "/proc/$p/stat" 2>/dev/null) || continue
		t=$((t + $(awk '{print $12 + $13}' <<<"$f")))
	done
	echo "$t"
}
# wait_idle SERVER: wait (at most 120 s) until the server under test is idle
# again: requests wrk gave up on (timeouts) may still be running in it, and
# must not be billed to the next run
wait_idle() {
	local pids i a b hz
	hz=$(getconf CLK_TCK 2>/dev/null || echo 100)
	case $1 in
	peer) mapfile -t pids < <(ps -o pid= -g "$PEER_PID" | tr -d ' ') ;;
	nginx) return 0 ;;
	nocache) pids=("$NOCACHE_PID") ;;
	*) pids=("$COSMIV_PID") ;;
	esac
	for ((i = 0; i < 240; i++)); do
		a=$(cpu_ticks "${pids[@]}")
		sleep 0.5
		b=$(cpu_ticks "${pids[@]}")
		((b - a > hz / 20)) || return 0 # under 10 % of a core over half a second
	done
	note "$1 still busy 120 s after its run"
}

# one_round SERVER ROUND SECONDS: one wrk run, its figures kept
one_round() {
	local s=$1 round=$2
	run_wrk "$s" "$round" "$3"
	wait_idle "$s"
	[[ -z $W_SOCKERR ]] || sock_notes+="  $s round $round: socket errors: $W_SOCKERR"$'\n'
	note "round $round $s: $W_RPS req/s ($W_REQS requests), p50 ${W_P50} ms, p99 ${W_P99} ms${W_SOCKERR:+, socket errors: $W_SOCKERR}"
	RUNS[$s]+="${RUNS[$s]:+,}$W_RPS" P99S[$s]+="${P99S[$s]:+,}$W_P99" REQS[$s]=$((REQS[$s] + W_REQS))
	TIMEOUTS[$s]=$((TIMEOUTS[$s] + W_TIMEOUTS))
	if ((W_REQS > 0)) && gt "$W_RPS" "${BEST_RPS[$s]}"; then
		BEST_RPS[$s]=$W_RPS BEST_P50[$s]=$W_P50 BEST_P99[$s]=$W_P99 BEST_REQS[$s]=$W_REQS
	fi
	if ((W_REQS > 0)) && gt "$W_P99" "${MAX_P99[$s]}"; then MAX_P99[$s]=$W_P99; fi
	kill -0 "$COSMIV_PID" 2>/dev/null || die "cosmiv died during round $round ($s)"
	kill -0 "$PEER_PID" 2>/dev/null || die "the FastAPI reference died during round $round ($s)"
	[[ -z $NOCACHE_PID ]] || kill -0 "$NOCACHE_PID" 2>/dev/null || die "cosmiv (cache off) died during round $round ($s)"
}

# warm_up SERVER
warm_up() {
	((WARMUP > 0)) || return 0
	run_wrk "$1" warmup "$WARMUP"
	wait_idle "$1"
	note "warm-up $1: $W_RPS req/s${W_SOCKERR:+, socket errors: $W_SOCKERR}"
}

for s in "${SERVERS[@]}"; do alone "$s"; done
# /feed/new: cosmiv, FastAPI and nginx alternated, so that they share the
# background noise; then For you on its own, so that a slow For you (and
# whatever it leaves running) cannot weigh on the /feed/new figures.
for s in "${NEW_SERVERS[@]}"; do warm_up "$s"; done
for ((round = 1; round <= ROUNDS; round++)); do
	for s in "${NEW_SERVERS[@]}"; do one_round "$s" "$round" "$SECONDS_PER_RUN"; done
done
for s in "${FY_SERVERS[@]}"; do
	warm_up "$s"
	for ((round = 1; round <= ROUNDS; round++)); do one_round "$s" "$round" "$SECONDS_PER_RUN"; done
done
for s in "${SERVERS[@]}"; do
	((REQS[$s] > 0)) || problems+="  ${TITLE[$s]} /${URL[$s]#http://*/}: no request completed within $WRK_TIMEOUT at -c$CONNS"$'\n'
	((TIMEOUTS[$s] == 0)) ||
		problems+="  ${TITLE[$s]} /${URL[$s]#http://*/}: ${TIMEOUTS[$s]} requests timed out (> $WRK_TIMEOUT) at -c$CONNS"$'\n'
done

# the page has not changed under the load (nothing wrote to the feed)
curl -sS --max-time 10 -o "$TMP/new-after.json" "$COSMIV$NEW_PATH"
"$PY" "$CHECK" compare "$TMP/new.json" "$TMP/new-after.json" >/dev/null ||
	die "cosmiv's /feed/new page changed during the run"

# ratios of best req/s: RATIO_PEER[x] = x / FastAPI, RATIO_NGINX[x] = x / nginx
declare -A RATIO_PEER RATIO_NGINX
for s in "${SERVERS[@]}"; do
	RATIO_PEER[$s]=$(ratio "${BEST_RPS[$s]}" "${BEST_RPS[peer]}")
	RATIO_NGINX[$s]=$(ratio "${BEST_RPS[$s]}" "${BEST_RPS[nginx]}")
done
at_least() { awk -v r="$1" -v t="$2" 'BEGIN { exit !(r >= t) }'; }
MET_RATIO=false MET_RATIO_NOCACHE=null MET_P99=false
if at_least "${RATIO_PEER[cosmiv]}" "$TARGET_RATIO"; then MET_RATIO=true; fi
if $HAVE_NOCACHE; then
	MET_RATIO_NOCACHE=false
	if at_least "${RATIO_PEER[nocache]}" "$TARGET_RATIO"; then MET_RATIO_NOCACHE=true; fi
fi
# judged on the worst round; a timed-out or missing request fails it outright
declare -A MET_P99_OF WORST_P99
for s in "${FY_SERVERS[@]}"; do
	MET_P99_OF[$s]=false WORST_P99[$s]=${MAX_P99[$s]}
	if ((REQS[$s] > 0 && TIMEOUTS[$s] == 0)); then
		if gt "$TARGET_P99_MS" "${MAX_P99[$s]}"; then MET_P99_OF[$s]=true; fi
	else
		WORST_P99[$s]=">${WRK_TIMEOUT%s}000"
	fi
done
MET_P99=${MET_P99_OF[foryou]}
MET_P99_MANY=${MET_P99_OF[foryou_many]:-null}
# the many-user run: share of its requests that were a user's first (a cold ranking)
COLD_PCT=""
if ((FY_USERS > 0 && BEST_REQS[foryou_many] > 0)); then
	COLD_PCT=$(awk -v u="$FY_USERS" -v n="${BEST_REQS[foryou_many]}" 'BEGIN { printf "%.0f", 100 * (u < n ? u : n) / n }')
fi
for s in "${SERVERS[@]}"; do ((REQS[$s] > 0)) || MAX_P99[$s]=nan; done
verdict() { [[ $1 == true ]] && echo "met" || echo "NOT MET"; }

# ---- 5. stop everything, look at cosmiv's log -----------------------------------------

stop_pid "$NGINX_PID" nginx
wait "$NGINX_PID" 2>/dev/null || true
NGINX_PID=""
stop_pid "$PEER_PID" "FastAPI reference" group
wait "$PEER_PID" 2>/dev/null || true
PEER_PID=""
PEER_ERRORS=$(grep -c -E 'Traceback|ERROR' "$TMP/peer.log" || true)
if [[ -n $NOCACHE_PID ]]; then
	stop_pid "$NOCACHE_PID" "cosmiv (cache off)"
	wait "$NOCACHE_PID" 2>/dev/null || true
	NOCACHE_PID=""
fi
stop_pid "$COSMIV_PID" cosmiv
set +e
wait "$COSMIV_PID" 2>/dev/null
COSMIV_RC=$?
set -e
COSMIV_PID=""
LOG_ERRORS=$(cat "$TMP"/cosmiv*.log | grep -c '"level":"error"' || true)
LOG_WARNS=$(cat "$TMP"/cosmiv*.log | grep -c '"level":"warn"' || true)

# ---- 6. report ---------------------------------------------------------------------

NGINX_VERSION=$("$NGINX" -v 2>&1 | sed 's/^nginx version: //')
WRK_VERSION=$( (wrk -v 2>&1 || true) | awk 'NR == 1 {print $2}')
PEER_VERSION=$("$PY" - "$PEER_STACK" <<'PYEOF'
import sys, fastapi, uvicorn, pydantic, starlette
if sys.argv[1] == "fast":
    import uvloop, httptools
    loop = "uvloop %s + httptools %s" % (uvloop.__version__, getattr(httptools, "__version__", "?"))
else:
    import h11
    loop = "asyncio + h11 %s" % h11.__version__
print("FastAPI %s (Starlette %s, pydantic %s) on uvicorn %s, %s, Python %s" % (fastapi.__version__,
      starlette.__version__, pydantic.VERSION, uvicorn.__version__, loop, sys.version.split()[0]))
PYEOF
)
SQLITE_VERSION=$(sqlite3 --version | awk '{print $1}')
PY_SQLITE=$("$PY" -c 'import sqlite3; print(sqlite3.sqlite_version)')
DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)
CPU=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || true)
LOAD_END=$(loadavg)
fmt_rps() { printf '%.0f' "$1"; }

{
	echo
	echo "Cosmiv feed benchmark — $DATE"
	echo "$VERSION (build/cosmiv of $BIN_DATE, sha256 $BIN_SHA…), $NGINX_VERSION, wrk $WRK_VERSION; $CORES cores${CPU:+ ($CPU)};" \
		"database: sqlite $SQLITE_VERSION"
	echo "reference: $PEER_VERSION (sqlite $PY_SQLITE), $PEER_WORKERS workers"
	echo "data: $DB_USERS users, $DB_POSTS posts ($DB_PUBLIC public, $DB_CLIPS with a clip), $DB_FOLLOWS follows; $DB_MB MB"
	echo "cosmiv HTTP threads: ${BENCH_COSMIV_THREADS:-default (4 per core)}"
	echo "seed: $USERS users + $POSTS posts + $FOLLOWS_PER_USER follows/user in $SEED_S s (cosmiv seed: $SEED_MSG)"
	echo "wrk -t$THREADS -c$CONNS -d${SECONDS_PER_RUN}s --latency --timeout $WRK_TIMEOUT, every server alike; /feed/new: best of $ROUNDS" \
		"alternated rounds, then For you: best of $ROUNDS; ${WARMUP} s warm-up each; bench user follows $FOLLOWED"
	echo "load average before: $LOAD_START, after: $LOAD_END (other work on the machine shares the cores)"
	echo
	row() { printf '%-28s %-17s %9s %8s %8s %10s %9s %7s %9s\n' "$@"; }
	row endpoint server req/s "p50 ms" "p99 ms" "vs FastAPI" "vs nginx" bytes "alone ms"
	for s in "${SERVERS[@]}"; do
		case $s in
		foryou | foryou_many) ep="GET /feed/for-you?limit=$LIMIT" vs_peer="-" bytes=$FORYOU_BYTES ;;
		peer) ep="GET /feed/new?limit=$LIMIT" vs_peer="1.0x" bytes=$PEER_BYTES ;;
		*) ep="GET /feed/new?limit=$LIMIT" vs_peer=$(printf '%.1fx' "${RATIO_PEER[$s]}") bytes=$NEW_BYTES ;;
		esac
		row "$ep" "${TITLE[$s]}" "$(fmt_rps "${BEST_RPS[$s]}")" "${BEST_P50[$s]}" "${BEST_P99[$s]}" "$vs_peer" \
			"${RATIO_NGINX[$s]}" "$bytes" "${ALONE[$s]}"
	done
	echo "  vs FastAPI / vs nginx: req/s over the FastAPI reference's / nginx's /feed/new req/s (nginx: the"
	echo "  static-file ceiling for this machine and client; the FastAPI reference has no For you);"
	echo "  alone: one connection, one request at a time (median of $ALONE_N): the service time without load"
	echo "  for-you, 1 user: the bench user, following $FOLLOWED; after its first request cosmiv reuses its ranking"
	echo "  (30 s), so this row is mostly the reuse path: snapshot, hides, batch load. alone: the same"
	if ((FY_USERS > 0)); then
		echo "  for-you, $FY_USERS users: seeded users round-robin, fresh ones for every run (logged in beforehand in" \
			"${FY_LOGIN_S} s);"
		echo "  a user's first request in a run is a cold ranking: ${COLD_PCT:-?} % of the requests of the best round;" \
			"alone: $ALONE_N users' first"
	fi
	if $HAVE_NOCACHE; then
		echo "  cosmiv: COSMIV_FEED_CACHE_MS=$FEED_CACHE_MS (the default server: signed-out New pages from a"
		echo "  ${FEED_CACHE_MS} ms cache); cosmiv, cache off: a second server on the same data, COSMIV_FEED_CACHE_MS=0"
	fi
	for s in "${SERVERS[@]}"; do rr+="${rr:+; }${TITLE[$s]} ${RUNS[$s]}"; done
	for s in "${SERVERS[@]}"; do rp+="${rp:+; }${TITLE[$s]} ${P99S[$s]}"; done
	echo "  rounds, req/s: $rr"
	echo "  rounds, p99 ms: $rp"
	echo
	if $HAVE_NOCACHE; then
		echo "targets: /feed/new >= ${TARGET_RATIO}x FastAPI: $(printf '%.1fx' "${RATIO_PEER[cosmiv]}") with the page cache —" \
			"$(verdict $MET_RATIO); $(printf '%.1fx' "${RATIO_PEER[nocache]}") with it off — $(verdict $MET_RATIO_NOCACHE)"
	else
		echo "targets: /feed/new >= ${TARGET_RATIO}x FastAPI: $(printf '%.1fx' "${RATIO_PEER[cosmiv]}") — $(verdict $MET_RATIO)"
	fi
	for s in "${FY_SERVERS[@]}"; do
		echo "         /for-you p99 < $TARGET_P99_MS ms at -c$CONNS, ${TITLE[$s]#cosmiv, }: ${WORST_P99[$s]} ms (worst round) —" \
			"$(verdict "${MET_P99_OF[$s]}")"
	done
	echo "same page: FastAPI vs cosmiv: $SHAPE; nginx serves cosmiv's exact $NEW_BYTES bytes"
	echo "non-2xx responses: 0; cosmiv log: $LOG_ERRORS error / $LOG_WARNS warn lines; cosmiv exit status $COSMIV_RC after SIGTERM;" \
		"FastAPI log: $PEER_ERRORS error lines"
	[[ -z $sock_notes ]] || printf 'wrk reported:\n%s' "$sock_notes"
	[[ -z $problems ]] || printf 'PROBLEMS (the run fails):\n%s' "$problems"
} | tee "$TMP/table.txt"

json_str() { printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"; }
num() { [[ $1 =~ ^[0-9]+(\.[0-9]+)?$ ]] && printf '%s' "$1" || printf 'null'; }
srv_json() { # server endpoint bytes
	printf '{"endpoint": %s, "server": %s, "rps": %s, "p50_ms": %s, "p99_ms": %s, "worst_p99_ms": %s, "rounds_rps": [%s], "rounds_p99_ms": [%s], "requests": %s, "timeouts": %s, "non_2xx": 0, "body_bytes": %s, "alone_ms": %s}' \
		"$(json_str "$2")" "$(json_str "${TITLE[$1]}")" "$(num "${BEST_RPS[$1]}")" "$(num "${BEST_P50[$1]}")" \
		"$(num "${BEST_P99[$1]}")" "$(num "${MAX_P99[$1]}")" "${RUNS[$1]}" "${P99S[$1]//nan/null}" "${REQS[$1]}" \
		"${TIMEOUTS[$1]}" "$3" "$(num "${ALONE[$1]}")"
}
mkdir -p "$(dirname "$OUT_JSON")"
cat >"$OUT_JSON.tmp" <<EOF
{
  "date": $(json_str "$DATE"),
  "machine": {"cores": $CORES, "cpu": $(json_str "$CPU"), "loadavg_start": $(json_str "$LOAD_START"), "loadavg_end": $(json_str "$LOAD_END")},
  "versions": {"cosmiv": $(json_str "$VERSION"), "cosmiv_binary": {"mtime": $(json_str "$BIN_DATE"), "sha256_prefix": $(json_str "$BIN_SHA")}, "nginx": $(json_str "$NGINX_VERSION"), "wrk": $(json_str "$WRK_VERSION"), "reference": $(json_str "$PEER_VERSION"), "sqlite": $(json_str "$SQLITE_VERSION"), "reference_sqlite": $(json_str "$PY_SQLITE")},
  "database": "sqlite",
  "data": {"users": $DB_USERS, "posts": $DB_POSTS, "public_posts": $DB_PUBLIC, "posts_with_clip": $DB_CLIPS, "follows": $DB_FOLLOWS, "db_bytes": $DB_BYTES, "bench_user_follows": $FOLLOWED},
  "seed": {"users": $USERS, "posts": $POSTS, "follows_per_user": $FOLLOWS_PER_USER, "seconds": $(num "$SEED_S"), "output": $(json_str "$SEED_MSG")},
  "settings": {"reference_stack": $(json_str "$PEER_STACK"), "seconds": $SECONDS_PER_RUN, "alone_requests": $ALONE_N, "timeout": $(json_str "$WRK_TIMEOUT"), "rounds": $ROUNDS, "warmup_seconds": $WARMUP, "threads": $THREADS, "connections": $CONNS, "limit": $LIMIT, "reference_workers": $PEER_WORKERS},
  "results": {
    "feed_new_cosmiv": $(srv_json cosmiv "GET /api/v2/feed/new?limit=$LIMIT" "$NEW_BYTES"),
    "feed_new_cosmiv_cache_off": $($HAVE_NOCACHE && srv_json nocache "GET /api/v2/feed/new?limit=$LIMIT" "$NEW_BYTES" || echo null),
    "feed_new_fastapi": $(srv_json peer "GET /api/v2/feed/new?limit=$LIMIT" "$PEER_BYTES"),
    "feed_new_nginx": $(srv_json nginx "GET /api/v2/feed/new?limit=$LIMIT" "$NEW_BYTES"),
    "for_you_cosmiv": $(srv_json foryou "GET /api/v2/feed/for-you?limit=$LIMIT" "$FORYOU_BYTES"),
    "for_you_cosmiv_many_users": $( ((FY_USERS > 0)) && srv_json foryou_many "GET /api/v2/feed/for-you?limit=$LIMIT" "$FORYOU_BYTES" || echo null)
  },
  "feed_cache_ms": $(num "${FEED_CACHE_MS:-}"),
  "ratios": {"feed_new_cosmiv_fastapi": $(num "${RATIO_PEER[cosmiv]}"), "feed_new_cosmiv_cache_off_fastapi": $(num "${RATIO_PEER[nocache]:-}"), "feed_new_cosmiv_nginx": $(num "${RATIO_NGINX[cosmiv]}"), "feed_new_cosmiv_cache_off_nginx": $(num "${RATIO_NGINX[nocache]:-}"), "feed_new_fastapi_nginx": $(num "${RATIO_NGINX[peer]}"), "for_you_cosmiv_nginx_new": $(num "${RATIO_NGINX[foryou]}"), "for_you_many_users_cosmiv_nginx_new": $(num "${RATIO_NGINX[foryou_many]:-}")},
  "targets": {"feed_new_ratio_min": $TARGET_RATIO, "feed_new_ratio_met": $MET_RATIO, "feed_new_ratio_cache_off_met": $MET_RATIO_NOCACHE, "for_you_p99_ms_max": $TARGET_P99_MS, "for_you_worst_p99_ms": $(num "${MAX_P99[foryou]}"), "for_you_p99_met": $MET_P99, "for_you_many_users_worst_p99_ms": $(num "${MAX_P99[foryou_many]:-}"), "for_you_many_users_p99_met": $MET_P99_MANY},
  "for_you_many_users": {"users_per_run": $FY_USERS, "cold_share_pct_best_round": $(num "$COLD_PCT"), "login_seconds": $(num "${FY_LOGIN_S:-}")},
  "same_page": $(json_str "$SHAPE"),
  "cosmiv_log": {"error_lines": $LOG_ERRORS, "warn_lines": $LOG_WARNS, "exit_status": $COSMIV_RC},
  "reference_log_error_lines": $PEER_ERRORS,
  "socket_errors": $(json_str "$(printf '%s' "$sock_notes" | sed 's/^  //' | tr '\n' ';')"),
  "problems": $(json_str "$(printf '%s' "$problems" | sed 's/^  //' | tr '\n' ';')"),
  "ok": $([[ -z $problems ]] && echo true || echo false)
}
EOF
mv "$OUT_JSON.tmp" "$OUT_JSON"
echo "wrote ${OUT_JSON#"$ROOT"/}"
[[ -z $problems ]] || die "the run had problems under load (listed above)"
if [[ $STRICT == 1 ]] && [[ $MET_RATIO != true || $MET_P99 != true || $MET_P99_MANY == false ]]; then
	note "BENCH_STRICT=1: a target was not met"
	exit 3
fi
