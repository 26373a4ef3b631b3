#!/usr/bin/env bash
# bench/gateway/run.sh — the gateway benchmark: Cosmiv's WebSocket gateway vs a
# Socket.IO server doing the same (see bench/gateway/README.md).
#
#   bash bench/gateway/run.sh                          # 10k members, 19 500 idle connections
#   BENCH_GW_IDLE_N=12000 BENCH_GW_MESSAGES=20 bash bench/gateway/run.sh
#
# 1. a fresh SQLite data dir: `cosmiv seed` makes BENCH_GW_IDLE_N users; sqlite3
#    adds two communities (the first BENCH_GW_MEMBERS users in "bench", with one
#    text channel; the rest in "lobby") and one session per user; access JWTs
#    for those sessions are minted with the server's secret (tokens.mjs);
# 2. for each server (cosmiv, then socket.io on the same users and tokens):
#    a. start it; read its VmRSS; connect BENCH_GW_MEMBERS members with wsload
#       (C, epoll), all identified/connected -> VmRSS: RSS per connection at 10k;
#    b. connect the other users (more wsload processes, one source address each)
#       up to BENCH_GW_IDLE_N -> VmRSS: RSS per connection at N; close them;
#    c. burst: BENCH_GW_MESSAGES messages posted back to back by ceil(M/4)
#       senders (Cosmiv allows 5 per 5 s per user per channel), each delivered to
#       every member: deliveries/s = deliveries / (last receive - first send);
#    d. paced: BENCH_GW_PACED messages, BENCH_GW_RATE per second: the
#       send-to-receive latency of one broadcast to 10k members, p50/p99;
# 3. prints the table (metric | cosmiv | socket.io | ratio | target) and writes
#    build/bench/gateway.json.
# Only 127.0.0.x is contacted. Everything lives in a temp dir, removed on exit
# (BENCH_KEEP_TMP=1 keeps it); servers and load generators are stopped by a trap.
set -euo pipefail

IDLE_N=${BENCH_GW_IDLE_N:-19500}
MEMBERS=${BENCH_GW_MEMBERS:-10000}
MESSAGES=${BENCH_GW_MESSAGES:-50}
PACED=${BENCH_GW_PACED:-20}
RATE=${BENCH_GW_RATE:-1}
CONTENT_BYTES=${BENCH_GW_CONTENT_BYTES:-100}
PER_PROC=${BENCH_GW_PER_CLIENT:-10000} # connections per wsload process (< 20 000 open files)
ONLY=${BENCH_GW_ONLY:-}               # cosmiv | socketio: run one side only
COSMIV_SEND=${BENCH_GW_COSMIV_SEND:-auto} # http | redis | auto (http when POST /channels/{id}/messages exists)
SETTLE=${BENCH_GW_SETTLE_S:-3}        # seconds between the last connection ready and reading VmRSS
WAIT_S=${BENCH_GW_WAIT_S:-180}        # how long deliveries may take before the run gives up on them
TARGET_RATIO=5      # cosmiv deliveries/s >= 5 x socket.io's
TARGET_KIB=10       # <= 10 KiB RSS per idle connection
TARGET_P99_MS=100   # p99 send-to-receive < 100 ms at 10k members

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
BIN=$ROOT/build/cosmiv
DIR=$ROOT/bench/gateway
PEER=$ROOT/bench/peers/socketio_server.mjs
OUT_JSON=$ROOT/build/bench/gateway.json

die() { echo "bench: $*" >&2; exit 1; }
note() { echo "bench: $*" >&2; }
isnum() { [[ $1 =~ ^[1-9][0-9]*$ ]]; }

for v in IDLE_N MEMBERS MESSAGES PACED RATE CONTENT_BYTES PER_PROC; do
	isnum "${!v}" || die "BENCH_GW_$v must be a positive integer (is '${!v}')"
done
((IDLE_N >= MEMBERS)) || die "BENCH_GW_IDLE_N ($IDLE_N) must be at least BENCH_GW_MEMBERS ($MEMBERS)"
((PER_PROC <= 19900)) || die "BENCH_GW_PER_CLIENT must stay under the 20 000 open files of a process"
((CONTENT_BYTES >= 40 && CONTENT_BYTES <= 4000)) || die "BENCH_GW_CONTENT_BYTES must be 40..4000"
case $ONLY in "" | cosmiv | socketio) ;; *) die "BENCH_GW_ONLY must be cosmiv or socketio" ;; esac
case $COSMIV_SEND in auto | http | redis) ;; *) die "BENCH_GW_COSMIV_SEND must be auto, http or redis" ;; esac
for tool in node npm curl sqlite3 cc; do
	command -v "$tool" >/dev/null || die "$tool is not installed (scripts/install-deps.sh bench)"
done
SENDERS=$(((MESSAGES + 3) / 4))
((SENDERS <= MEMBERS)) || die "BENCH_GW_MESSAGES needs $SENDERS senders, more than the $MEMBERS members"

# npm packages: ws, socket.io, socket.io-client (bench/gateway/package-lock.json)
stamp=$DIR/node_modules/.cosmiv-lock
if [[ ! -f $stamp ]] || ! cmp -s "$DIR/package-lock.json" "$stamp"; then
	note "installing npm packages in bench/gateway"
	(cd "$DIR" && npm ci --no-audit --no-fund --loglevel=error) >&2 || die "npm ci failed in bench/gateway"
	cp "$DIR/package-lock.json" "$stamp"
fi

if [[ $ONLY != socketio ]]; then
	[[ -x $BIN ]] || { note "building build/cosmiv"; make -C "$ROOT" -j1 build/cosmiv >&2; }
fi

CORES=$(nproc 2>/dev/null || echo 1)
loadavg() { cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "?"; }
LOAD_START=$(loadavg)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/cosmiv-bench-gateway.XXXXXX")
SERVER_PID=""
REDIS_PID=""
CLIENT_PIDS=()

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

stop_clients() {
	local p
	for p in "${CLIENT_PIDS[@]}"; do stop_pid "$p" wsload; done
	for p in "${CLIENT_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	CLIENT_PIDS=()
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	stop_clients
	stop_pid "$SERVER_PID" server
	stop_pid "$REDIS_PID" redis-server
	wait 2>/dev/null || true
	if ((rc != 0)); then
		for f in "$TMP/seed.log" "$TMP"/server-*.log; do
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

cc -O2 -Wall -o "$TMP/wsload" "$DIR/wsload.c" || die "cannot compile bench/gateway/wsload.c"
cc -O2 -Wall -o "$TMP/sendfloor" "$DIR/sendfloor.c" -lpthread || die "cannot compile bench/gateway/sendfloor.c"

VERSION="-"
if [[ $ONLY != socketio ]]; then
	# a copy: a rebuild of build/cosmiv during the run must not mix two binaries
	cp "$BIN" "$TMP/cosmiv"
	BIN_DATE=$(date -u -r "$BIN" +%Y-%m-%dT%H:%M:%SZ)
	BIN_SHA=$(sha256sum "$TMP/cosmiv" | cut -c1-12)
	BIN=$TMP/cosmiv
	VERSION=$("$BIN" version 2>/dev/null) || die "build/cosmiv does not run"
fi

# ---- helpers ----------------------------------------------------------------

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick_port() {
	local p i
	for ((i = 0; i < 200; i++)); do
		p=$((20000 + RANDOM % 12000)) # below the ephemeral range (32768-)
		port_in_use "$p" || port_in_use "$((p + 1))" || { echo "$p"; return 0; }
	done
	die "no free port found"
}
wait_http() { # PID URL: until URL answers 2xx while PID lives
	local i
	for ((i = 0; i < 600; i++)); do
		kill -0 "$1" 2>/dev/null || return 1
		curl -fsS -o /dev/null --max-time 2 "$2" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)
cpu_s() { # PIDS...: their user + system CPU time so far, in seconds (exited ones count 0)
	local p t=0
	for p in "$@"; do
		t=$((t + $(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$p/stat" 2>/dev/null || echo 0)))
	done
	awk -v t="$t" -v k="$TCK" 'BEGIN { printf "%.2f", t / k }'
}
sub_s() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
now_s() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
sumkey() { # KEY FILES...: sum of "KEY value" over .sum files
	local k=$1
	shift
	awk -v k="$k" '$1 == k { s += $2 } END { printf "%.0f", s }' "$@"
}
maxkey() {
	local k=$1
	shift
	awk -v k="$k" '$1 == k && $2 > m { m = $2 } END { printf "%.0f", m }' "$@"
}
pct() { # FILE P: the P-th percentile (0..100) of a sorted list of numbers, in ms
	awk -v p="$2" '{ a[NR] = $1 } END { if (!NR) { print "nan"; exit } i = int(NR * p / 100 + 0.5); if (i < 1) i = 1; if (i > NR) i = NR; printf "%.1f", a[i] / 1000 }' "$1"
}

SRC_NEXT=2 # load generators bind 127.0.0.2, 127.0.0.3, …: each its own ephemeral ports

# clients LABEL FROM COUNT EXPECT_B EXPECT_P: start ceil(COUNT/PER_PROC) wsload
# processes for tokens [FROM, FROM+COUNT); sets GROUP (their output prefixes)
GROUP=()
clients() {
	local label=$1 from=$2 count=$3 eb=$4 ep=$5 k=0 n
	GROUP=()
	while ((count > 0)); do
		n=$((count < PER_PROC ? count : PER_PROC))
		local out=$TMP/$SIDE-$label-$k
		"$TMP/wsload" --proto "$PROTO" --port "$GW_PORT" --path "$GW_PATH" --tokens "$TMP/tokens" \
			--from "$from" --count "$n" --src "127.0.0.$SRC_NEXT" --expect-b "$eb" --expect-p "$ep" \
			--out "$out" >"$out.out" 2>"$out.err" &
		CLIENT_PIDS+=($!)
		GROUP+=("$out")
		SRC_NEXT=$((SRC_NEXT >= 250 ? 2 : SRC_NEXT + 1))
		from=$((from + n)) count=$((count - n)) k=$((k + 1))
	done
}
# wait_line WORD PREFIXES...: until every PREFIX.out has a line starting with WORD
wait_line() {
	local word=$1 i p all
	shift
	for ((i = 0; i < WAIT_S * 10; i++)); do
		all=1
		for p in "$@"; do grep -q "^$word" "$p.out" 2>/dev/null || { all=0; break; }; done
		((all)) && return 0
		kill -0 "$SERVER_PID" 2>/dev/null || die "$SIDE exited during the run"
		sleep 0.1
	done
	return 1
}
ready_count() { # PREFIXES...: sum of the OK counts on their "ready OK FAILED" lines
	local p s=0 f=0 line
	for p in "$@"; do
		line=$(grep '^ready ' "$p.out")
		s=$((s + $(awk '{print $2}' <<<"$line"))) f=$((f + $(awk '{print $3}' <<<"$line")))
	done
	echo "$s $f"
}

# ---- 1. data: users, two communities, sessions, tokens -------------------------

DATA=$TMP/data
DB=$DATA/cosmiv.db
SECRET="bench-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
mkdir -p "$DATA"
COSMIV_ENV=(
	COSMIV_DATA_DIR="$DATA"
	COSMIV_JWT_SECRET="$SECRET"
	COSMIV_LOG_LEVEL=warn
	COSMIV_WORKERS=0
	COSMIV_ARGON2_MEMLIMIT=65536
	COSMIV_ARGON2_OPSLIMIT=1
)
if [[ $ONLY != socketio ]]; then
	env "${COSMIV_ENV[@]}" "$BIN" migrate >"$TMP/seed.log" 2>&1 || die "cosmiv migrate failed"
	t0=$(now_s)
	# random names can collide (the seed skips those): ask for 1 % more, use the first IDLE_N
	env "${COSMIV_ENV[@]}" "$BIN" seed --users "$((IDLE_N + IDLE_N / 100 + 10))" --posts 0 --follows-per-user 0 >>"$TMP/seed.log" 2>&1 ||
		die "cosmiv seed failed"
	note "seeded $IDLE_N users in $(elapsed "$t0" "$(now_s)") s"
	NOW_MS=$(date +%s%3N)
	BASE_ID=$(((NOW_MS - 1704067200000) << 22))
	sqlite3 -batch "$DB" <<EOF || die "could not insert the communities, members and sessions"
PRAGMA foreign_keys = ON;
BEGIN;
CREATE TEMP TABLE u AS SELECT id, row_number() OVER (ORDER BY id) AS n FROM users ORDER BY id LIMIT $IDLE_N;
INSERT INTO communities (id, owner_id, name, name_lc, public, member_count, created_at)
  SELECT $BASE_ID + 1, (SELECT id FROM u WHERE n = 1), 'bench', 'bench', 0, $MEMBERS, $NOW_MS;
INSERT INTO communities (id, owner_id, name, name_lc, public, member_count, created_at)
  SELECT $BASE_ID + 2, (SELECT id FROM u WHERE n = $MEMBERS + 1), 'lobby', 'lobby', 0, $((IDLE_N - MEMBERS)), $NOW_MS
  WHERE $IDLE_N > $MEMBERS;
-- @everyone: id = the community id; VIEW | SEND | ADD_REACTIONS | ATTACH_CLIPS | CREATE_INVITE (perms.h)
INSERT INTO roles (id, community_id, name, position, permissions, is_everyone, created_at)
  SELECT id, id, '@everyone', 0, 2819, 1, $NOW_MS FROM communities;
INSERT INTO channels (id, community_id, name, type, position, created_at)
  SELECT id + 100, id, 'general', 'text', 0, $NOW_MS FROM communities;
INSERT INTO members (community_id, user_id, joined_at)
  SELECT CASE WHEN n <= $MEMBERS THEN $BASE_ID + 1 ELSE $BASE_ID + 2 END, id, $NOW_MS FROM u;
INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at)
  SELECT id, id, $NOW_MS, $NOW_MS, $NOW_MS + 86400000 FROM u;
COMMIT;
EOF
	COMMUNITY_ID=$((BASE_ID + 1)) CHANNEL_ID=$((BASE_ID + 101))
	sqlite3 -batch -noheader -separator ' ' "$DB" \
		"SELECT id, username, CASE WHEN rn <= $MEMBERS THEN 'channel' ELSE 'lobby' END
		 FROM (SELECT id, username, row_number() OVER (ORDER BY id) AS rn FROM users) ORDER BY id LIMIT $IDLE_N" >"$TMP/users"
else
	# no cosmiv: the same shape of users for the Socket.IO server alone
	awk -v n="$IDLE_N" -v m="$MEMBERS" 'BEGIN { for (i = 1; i <= n; i++) printf "%d swift_fox_%d%03d %s\n", 1000000 + i, i, i % 1000, (i <= m ? "channel" : "lobby") }' >"$TMP/users"
	COMMUNITY_ID=1 CHANNEL_ID=1
fi
(($(wc -l <"$TMP/users") == IDLE_N)) || die "expected $IDLE_N users, have $(wc -l <"$TMP/users")"
awk '{print $1, $1}' "$TMP/users" | BENCH_JWT_SECRET=$SECRET node "$DIR/tokens.mjs" 86400 >"$TMP/tokens" ||
	die "could not mint the tokens"
note "$IDLE_N users ($MEMBERS in the benchmarked channel), one session and one access token each"

# ---- 2. the scenario, on one server ---------------------------------------------

declare -A R # results: R[side.metric]

# scenario SIDE: runs a-d against the server on $GW_PORT/$GW_PATH (pid SERVER_PID)
scenario() {
	local rss0 rss1 rss2 t0 t1 ok fail members extras p
	members=() extras=()
	sleep 1
	rss0=$(rss_kib "$SERVER_PID")
	t0=$(now_s)
	clients m 0 "$MEMBERS" "$MESSAGES" "$PACED"
	members=("${GROUP[@]}")
	wait_line ready "${members[@]}" || die "$SIDE: the members did not connect within ${WAIT_S} s"
	t1=$(now_s)
	read -r ok fail <<<"$(ready_count "${members[@]}")"
	((fail == 0 && ok == MEMBERS)) ||
		die "$SIDE: $fail of $MEMBERS member connections failed: $(cat "${members[@]/%/.err}" | head -n 3)"
	R[$SIDE.connect_s]=$(elapsed "$t0" "$t1")
	sleep "$SETTLE"
	rss1=$(rss_kib "$SERVER_PID")
	R[$SIDE.rss0]=$rss0 R[$SIDE.rss10k]=$rss1
	R[$SIDE.kib10k]=$(awk -v a="$rss0" -v b="$rss1" -v n="$MEMBERS" 'BEGIN { printf "%.2f", (b - a) / n }')
	note "$SIDE: $MEMBERS members ready in ${R[$SIDE.connect_s]} s; VmRSS $rss0 -> $rss1 KiB (${R[$SIDE.kib10k]} KiB each)"

	R[$SIDE.kibN]=${R[$SIDE.kib10k]} R[$SIDE.n]=$MEMBERS
	if ((IDLE_N > MEMBERS)); then
		clients x "$MEMBERS" "$((IDLE_N - MEMBERS))" 0 0
		extras=("${GROUP[@]}")
		wait_line ready "${extras[@]}" || die "$SIDE: the idle connections did not connect within ${WAIT_S} s"
		read -r ok fail <<<"$(ready_count "${extras[@]}")"
		((fail == 0)) || note "$SIDE: $fail of $((IDLE_N - MEMBERS)) idle connections failed: $(cat "${extras[@]/%/.err}" | head -n 3)"
		sleep "$SETTLE"
		rss2=$(rss_kib "$SERVER_PID")
		R[$SIDE.n]=$((MEMBERS + ok)) R[$SIDE.rssN]=$rss2
		R[$SIDE.kibN]=$(awk -v a="$rss0" -v b="$rss2" -v n="${R[$SIDE.n]}" 'BEGIN { printf "%.2f", (b - a) / n }')
		note "$SIDE: ${R[$SIDE.n]} connections: VmRSS $rss2 KiB (${R[$SIDE.kibN]} KiB each)"
		# close the idle ones; the members stay for the broadcast
		local pid
		for pid in "${CLIENT_PIDS[@]:${#members[@]}}"; do stop_pid "$pid" wsload; wait "$pid" 2>/dev/null || true; done
		for p in "${extras[@]}"; do
			R[$SIDE.idle_closed]=$((${R[$SIDE.idle_closed]:-0} + $(awk '$1 == "closed_after_ready" {print $2}' "$p.sum")))
		done
		CLIENT_PIDS=("${CLIENT_PIDS[@]:0:${#members[@]}}")
		sleep 2
	fi

	local srv_cpu0 cli_cpu0 t_b0
	srv_cpu0=$(cpu_s "$SERVER_PID") cli_cpu0=$(cpu_s "${CLIENT_PIDS[@]}") t_b0=$(now_s)
	BENCH_GW_USERS=$TMP/users node "$DIR/send.mjs" "$SEND_BASE" "$CHANNEL_ID" "$TMP/tokens" "$SENDERS" b "$MESSAGES" 0 "$CONTENT_BYTES" \
		>"$TMP/$SIDE-send-b.json" || die "$SIDE: the burst sender failed"
	grep -q '"failed":0' "$TMP/$SIDE-send-b.json" || die "$SIDE: burst posts failed: $(cat "$TMP/$SIDE-send-b.json")"
	wait_line burst-done "${members[@]}" || note "$SIDE: not every burst delivery arrived within ${WAIT_S} s"
	R[$SIDE.b_wall]=$(elapsed "$t_b0" "$(now_s)")
	R[$SIDE.b_srv_cpu]=$(sub_s "$srv_cpu0" "$(cpu_s "$SERVER_PID")")
	R[$SIDE.b_cli_cpu]=$(sub_s "$cli_cpu0" "$(cpu_s "${CLIENT_PIDS[@]}")")
	sleep 6 # past the 5 s window of the message rate limit
	BENCH_GW_USERS=$TMP/users node "$DIR/send.mjs" "$SEND_BASE" "$CHANNEL_ID" "$TMP/tokens" "$SENDERS" p "$PACED" "$RATE" "$CONTENT_BYTES" \
		>"$TMP/$SIDE-send-p.json" || die "$SIDE: the paced sender failed"
	grep -q '"failed":0' "$TMP/$SIDE-send-p.json" || die "$SIDE: paced posts failed: $(cat "$TMP/$SIDE-send-p.json")"
	local i alive
	for ((i = 0; i < WAIT_S * 10; i++)); do
		alive=0
		for pid in "${CLIENT_PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
		((alive)) || break
		sleep 0.1
	done
	((alive == 0)) || note "$SIDE: not every paced delivery arrived within ${WAIT_S} s"
	stop_clients
	R[$SIDE.rss_end]=$(rss_kib "$SERVER_PID")

	local sums=("${members[@]/%/.sum}") first_b
	R[$SIDE.closed]=$(sumkey closed_after_ready "${sums[@]}")
	R[$SIDE.b_n]=$(sumkey b_deliveries "${sums[@]}")
	R[$SIDE.p_n]=$(sumkey p_deliveries "${sums[@]}")
	R[$SIDE.b_bytes]=$(sumkey b_bytes "${sums[@]}")
	R[$SIDE.other]=$(sumkey other_frames "${sums[@]}")
	R[$SIDE.close_codes]=$(awk '$1 == "close_codes" { $1 = ""; printf "%s", $0 }' "${sums[@]}")
	first_b=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).first_send_us)' "$TMP/$SIDE-send-b.json")
	local last_b
	last_b=$(maxkey b_last_us "${sums[@]}")
	R[$SIDE.b_span_s]=$(awk -v a="$first_b" -v b="$last_b" 'BEGIN { printf "%.3f", (b - a) / 1e6 }')
	R[$SIDE.dps]=$(awk -v n="${R[$SIDE.b_n]}" -v s="${R[$SIDE.b_span_s]}" 'BEGIN { printf "%.0f", (s > 0) ? n / s : 0 }')
	R[$SIDE.frame]=$(awk -v n="${R[$SIDE.b_n]}" -v b="${R[$SIDE.b_bytes]}" 'BEGIN { printf "%.0f", n ? b / n : 0 }')
	cat "${members[@]/%/.lat}" | awk '$1 == "b" {print $2}' | sort -n >"$TMP/$SIDE-lat-b"
	cat "${members[@]/%/.lat}" | awk '$1 == "p" {print $2}' | sort -n >"$TMP/$SIDE-lat-p"
	for p in b p; do
		R[$SIDE.${p}_p50]=$(pct "$TMP/$SIDE-lat-$p" 50)
		R[$SIDE.${p}_p99]=$(pct "$TMP/$SIDE-lat-$p" 99)
		R[$SIDE.${p}_max]=$(pct "$TMP/$SIDE-lat-$p" 100)
	done
	note "$SIDE: burst ${R[$SIDE.b_n]}/$((MEMBERS * MESSAGES)) deliveries in ${R[$SIDE.b_span_s]} s = ${R[$SIDE.dps]}/s;" \
		"paced ${R[$SIDE.p_n]}/$((MEMBERS * PACED)), p50 ${R[$SIDE.p_p50]} ms, p99 ${R[$SIDE.p_p99]} ms"
}

SIDES=()
# start_cosmiv [VAR=VALUE...]: `cosmiv serve` on a free port, its gateway on the next one
start_cosmiv() {
	local attempt
	for attempt in 1 2 3 4 5; do
		PORT=$(pick_port)
		GW_PORT=$((PORT + 1))
		env "${COSMIV_ENV[@]}" "$@" COSMIV_GATEWAY_LISTEN="127.0.0.1:$GW_PORT" \
			"$BIN" serve --data-dir "$DATA" --listen "127.0.0.1:$PORT" 2>>"$TMP/server-cosmiv.log" &
		SERVER_PID=$!
		wait_http "$SERVER_PID" "http://127.0.0.1:$PORT/readyz" && return 0
		stop_pid "$SERVER_PID" cosmiv
		wait "$SERVER_PID" 2>/dev/null || true
		SERVER_PID=""
	done
	die "cosmiv did not start"
}
SEND_VIA="POST /api/v2/channels/{id}/messages"
if [[ $ONLY != socketio ]]; then
	SIDE=cosmiv PROTO=cosmiv
	start_cosmiv
	HTTP=http://127.0.0.1:$PORT SEND_BASE=$HTTP
	if [[ $COSMIV_SEND != redis ]]; then
		status=$(curl -sS -o "$TMP/probe.json" -w '%{http_code}' --max-time 10 -H 'Content-Type: application/json' \
			-H "Authorization: Bearer $(head -n 1 "$TMP/tokens")" -d '{"content":"gwbench probe"}' \
			"$HTTP/api/v2/channels/$CHANNEL_ID/messages")
		if [[ $status != 201 ]]; then
			[[ $COSMIV_SEND == auto ]] ||
				die "POST /api/v2/channels/$CHANNEL_ID/messages returned $status: $(head -c 300 "$TMP/probe.json")"
			note "POST /api/v2/channels/{id}/messages returned $status: this build has no messages API;" \
				"publishing MESSAGE_CREATE events through Redis instead"
			COSMIV_SEND=redis
		fi
	fi
	if [[ $COSMIV_SEND == redis ]]; then
		command -v redis-server >/dev/null || die "the Redis path needs redis-server (apt-get install redis-server)"
		stop_pid "$SERVER_PID" cosmiv
		wait "$SERVER_PID" 2>/dev/null || true
		RPORT=$(pick_port)
		redis-server --bind 127.0.0.1 --port "$RPORT" --save '' --appendonly no --daemonize no \
			>"$TMP/redis.log" 2>&1 &
		REDIS_PID=$!
		for ((i = 0; i < 50; i++)); do redis-cli -p "$RPORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
		start_cosmiv COSMIV_REDIS_URL="redis://127.0.0.1:$RPORT/0"
		HTTP=http://127.0.0.1:$PORT SEND_BASE=redis://127.0.0.1:$RPORT/$COMMUNITY_ID
		SEND_VIA="PUBLISH on Redis cosmiv:events (no messages API in this build)"
	fi
	curl -fsS --max-time 5 -o "$TMP/gateway.json" "$HTTP/api/v2/gateway" ||
		die "GET /api/v2/gateway failed: this build of cosmiv has no gateway (BENCH_GW_ONLY=socketio runs the peer alone)"
	GW_URL=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).url)' "$TMP/gateway.json")
	[[ $GW_URL == "ws://127.0.0.1:$GW_PORT/"* ]] || die "cosmiv's gateway is at $GW_URL, expected port $GW_PORT"
	GW_PATH=/${GW_URL#ws://*/}
	note "cosmiv pid $SERVER_PID: HTTP on $HTTP, gateway $GW_URL; messages sent by $SEND_VIA"
	scenario
	stop_pid "$SERVER_PID" cosmiv
	stop_pid "$REDIS_PID" redis-server
	set +e
	wait "$SERVER_PID" 2>/dev/null
	R[cosmiv.exit]=$?
	set -e
	SERVER_PID=""
	R[cosmiv.log_errors]=$(grep -c '"level":"error"' "$TMP/server-cosmiv.log" || true)
	R[cosmiv.log_warns]=$(grep -c '"level":"warn"' "$TMP/server-cosmiv.log" || true)
	SIDES+=(cosmiv)
fi

if [[ $ONLY != cosmiv ]]; then
	SIDE=socketio PROTO=sio
	for attempt in 1 2 3 4 5; do
		PORT=$(pick_port)
		BENCH_JWT_SECRET=$SECRET node "$PEER" "$PORT" "$TMP/users" 2>>"$TMP/server-socketio.log" &
		SERVER_PID=$!
		wait_http "$SERVER_PID" "http://127.0.0.1:$PORT/readyz" && break
		stop_pid "$SERVER_PID" socket.io
		wait "$SERVER_PID" 2>/dev/null || true
		SERVER_PID=""
		((attempt < 5)) || die "the Socket.IO server did not start"
	done
	HTTP=http://127.0.0.1:$PORT GW_PORT=$PORT GW_PATH='/socket.io/?EIO=4&transport=websocket' SEND_BASE=$HTTP
	note "socket.io pid $SERVER_PID on $HTTP"
	scenario
	stop_pid "$SERVER_PID" socket.io
	wait "$SERVER_PID" 2>/dev/null || true
	SERVER_PID=""
	SIDES+=(socketio)
fi

# ---- 3. report -----------------------------------------------------------------

SIO_VERSION=$(node -e 'console.log(require(process.argv[1]).version)' "$DIR/node_modules/socket.io/package.json")
DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)
CPU=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || true)
LOAD_END=$(loadavg)
get() { echo "${R[$1]:--}"; }
# What the machine's loopback charges for one frame-sized send(), with nothing else around it.
# One thread, and two threads splitting the connections (what cosmiv's gateway does for a large fan-out).
SEND_FLOOR_MS=$("$TMP/sendfloor" "$MEMBERS" "$(get cosmiv.frame | sed 's/^-$/560/')" 1 2>/dev/null || echo -)
SEND_FLOOR2_MS=$("$TMP/sendfloor" "$MEMBERS" "$(get cosmiv.frame | sed 's/^-$/560/')" 2 2>/dev/null || echo -)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b + 0 == 0) print "-"; else printf "%.2fx", a / b }'; }
verdict() { # VALUE OP LIMIT
	[[ $1 == - || $1 == nan ]] && { echo "-"; return; }
	awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN { ok = (op == "<=") ? v <= l : (op == "<") ? v < l : v >= l; print ok ? "met" : "NOT MET" }'
}
DPS_RATIO=$(ratio "$(get cosmiv.dps)" "$(get socketio.dps)")

{
	echo
	echo "Cosmiv gateway benchmark — $DATE"
	echo "${VERSION}${BIN_SHA:+ (build/cosmiv of $BIN_DATE, sha256 $BIN_SHA…)}, socket.io $SIO_VERSION on node $(node --version);" \
		"$CORES cores${CPU:+ ($CPU)}"
	echo "$MEMBERS members in one channel; idle connections up to $IDLE_N; burst: $MESSAGES messages from $SENDERS senders;" \
		"paced: $PACED messages at $RATE/s; content $CONTENT_BYTES bytes"
	[[ $ONLY == socketio ]] || echo "cosmiv's messages: $SEND_VIA"
	echo "load generator: wsload (C, epoll), $PER_PROC connections per process, one source address each; the servers, the"
	echo "load generator and the sender share the cores. load average before: $LOAD_START, after: $LOAD_END"
	echo
	row() { printf '%-44s %14s %14s %9s  %s\n' "$@"; }
	row metric cosmiv socket.io ratio target
	k10c=$(get cosmiv.kib10k) k10s=$(get socketio.kib10k)
	row "RSS per idle connection, $MEMBERS conns (KiB)" "$k10c" "$k10s" "$(ratio "$k10c" "$k10s")" \
		"<= $TARGET_KIB KiB: $(verdict "$k10c" "<=" $TARGET_KIB)"
	row "RSS per idle connection, N conns (KiB)" "$(get cosmiv.kibN)" "$(get socketio.kibN)" \
		"$(ratio "$(get cosmiv.kibN)" "$(get socketio.kibN)")" "<= $TARGET_KIB KiB: $(verdict "$(get cosmiv.kibN)" "<=" $TARGET_KIB)"
	row "  N (connections held at once)" "$(get cosmiv.n)" "$(get socketio.n)" "" ""
	row "  server VmRSS: start / $MEMBERS / N (MiB)" \
		"$(awk -v a="$(get cosmiv.rss0)" -v b="$(get cosmiv.rss10k)" -v c="$(get cosmiv.rssN)" 'BEGIN { if (a == "-") print "-"; else printf "%d/%d/%s", a/1024, b/1024, (c == "-") ? "-" : int(c/1024) }')" \
		"$(awk -v a="$(get socketio.rss0)" -v b="$(get socketio.rss10k)" -v c="$(get socketio.rssN)" 'BEGIN { if (a == "-") print "-"; else printf "%d/%d/%s", a/1024, b/1024, (c == "-") ? "-" : int(c/1024) }')" "" ""
	row "$MEMBERS members connected + identified (s)" "$(get cosmiv.connect_s)" "$(get socketio.connect_s)" "" ""
	row "broadcast deliveries/s (burst)" "$(get cosmiv.dps)" "$(get socketio.dps)" "$DPS_RATIO" \
		">= ${TARGET_RATIO}x socket.io: $(verdict "${DPS_RATIO%x}" ">=" $TARGET_RATIO)"
	row "  deliveries received / expected" "$(get cosmiv.b_n)/$((MEMBERS * MESSAGES))" \
		"$(get socketio.b_n)/$((MEMBERS * MESSAGES))" "" ""
	row "  first send -> last receive (s)" "$(get cosmiv.b_span_s)" "$(get socketio.b_span_s)" "" ""
	row "  CPU s during the burst: server / load gen" "$(get cosmiv.b_srv_cpu)/$(get cosmiv.b_cli_cpu)" \
		"$(get socketio.b_srv_cpu)/$(get socketio.b_cli_cpu)" "" "(wall: $(get cosmiv.b_wall) / $(get socketio.b_wall) s)"
	row "  burst send-to-receive p50 / p99 (ms)" "$(get cosmiv.b_p50)/$(get cosmiv.b_p99)" \
		"$(get socketio.b_p50)/$(get socketio.b_p99)" "" ""
	row "latency p50, paced, $MEMBERS members (ms)" "$(get cosmiv.p_p50)" "$(get socketio.p_p50)" \
		"$(ratio "$(get cosmiv.p_p50)" "$(get socketio.p_p50)")" ""
	row "latency p99, paced, $MEMBERS members (ms)" "$(get cosmiv.p_p99)" "$(get socketio.p_p99)" \
		"$(ratio "$(get cosmiv.p_p99)" "$(get socketio.p_p99)")" "< $TARGET_P99_MS ms: $(verdict "$(get cosmiv.p_p99)" "<" $TARGET_P99_MS)"
	row "  paced deliveries received / expected" "$(get cosmiv.p_n)/$((MEMBERS * PACED))" \
		"$(get socketio.p_n)/$((MEMBERS * PACED))" "" ""
	row "  max (ms)" "$(get cosmiv.p_max)" "$(get socketio.p_max)" "" ""
	row "bytes per delivered frame" "$(get cosmiv.frame)" "$(get socketio.frame)" "" ""
	row "floor: $MEMBERS bare send() calls, one thread (ms)" "$SEND_FLOOR_MS" "$SEND_FLOOR_MS" "" "(bench/gateway/sendfloor.c)"
	row "floor: $MEMBERS bare send() calls, two threads (ms)" "$SEND_FLOOR2_MS" "$SEND_FLOOR2_MS" "" "(the last delivery of a bare fan-out)"
	echo "  ratio: cosmiv / socket.io. RSS per connection: (VmRSS with the connections - VmRSS before) / connections."
	echo "  deliveries/s: burst deliveries / (first send -> last receive). latency: receive time - send time"
	echo "  (taken before the POST), over every delivery of the paced messages."
	for s in "${SIDES[@]}"; do
		echo "$s: member connections closed during the run: $(get "$s.closed")${R[$s.close_codes]:+ (close codes:${R[$s.close_codes]})};" \
			"other frames received by members: $(get "$s.other")"
	done
	[[ -z ${R[cosmiv.exit]:-} ]] ||
		echo "cosmiv log: $(get cosmiv.log_errors) error / $(get cosmiv.log_warns) warn lines; exit status $(get cosmiv.exit) after SIGTERM"
	if [[ -n $ONLY ]]; then echo "BENCH_GW_ONLY=$ONLY: the other side was not run"; fi
} | tee "$TMP/table.txt"

jnum() { [[ ${1:-} =~ ^-?[0-9]+(\.[0-9]+)?$ ]] && printf '%s' "$1" || printf 'null'; }
side_json() {
	local s=$1 k first=1
	printf '{'
	for k in n rss0 rss10k rssN kib10k kibN connect_s dps b_n b_span_s b_wall b_srv_cpu b_cli_cpu b_p50 b_p99 p_n p_p50 p_p99 p_max frame closed other; do
		((first)) || printf ', '
		first=0
		printf '"%s": %s' "$k" "$(jnum "${R[$s.$k]:-}")"
	done
	printf '}'
}
mkdir -p "$(dirname "$OUT_JSON")"
cat >"$OUT_JSON.tmp" <<EOF
{
  "date": "$DATE",
  "machine": {"cores": $CORES, "cpu": "$CPU", "loadavg_start": "$LOAD_START", "loadavg_end": "$LOAD_END"},
  "versions": {"cosmiv": "$VERSION", "socket.io": "$SIO_VERSION", "node": "$(node --version)"},
  "settings": {"members": $MEMBERS, "idle_n": $IDLE_N, "messages": $MESSAGES, "senders": $SENDERS, "paced": $PACED, "rate": $RATE, "content_bytes": $CONTENT_BYTES, "per_client": $PER_PROC},
  "cosmiv": $([[ $ONLY != socketio ]] && side_json cosmiv || echo null),
  "socketio": $([[ $ONLY != cosmiv ]] && side_json socketio || echo null),
  "targets": {"deliveries_ratio_min": $TARGET_RATIO, "deliveries_ratio": $(jnum "${DPS_RATIO%x}"), "kib_per_conn_max": $TARGET_KIB, "p99_ms_max": $TARGET_P99_MS}
}
EOF
mv "$OUT_JSON.tmp" "$OUT_JSON"
echo "wrote ${OUT_JSON#"$ROOT"/}"
