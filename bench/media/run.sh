#!/usr/bin/env bash
# Highlight detection benchmark (README.md next to this file), in one run:
#   speed    `cosmiv highlights` wall time against a full decode (`ffmpeg -i FILE -f null -`)
#            on generated 1080p60 H.264 gameplay, 1 min and 10 min (cached in build/bench/media/);
#   peers    Debian's auto-editor (a loudness-based cutter), when installable: its time and the F1
#            of the segments it keeps;
#   quality  F1 of each method against the generated ground truth, and precision / recall / F1 on
#            real labelled footage next to random 10 s windows: the shared sample
#            (../shared/media/real-gameplay) and any set recorded with its make_gameplay.sh.
# Table on stdout, progress on stderr, figures in build/bench/media.json.
#
#   bash bench/media/run.sh                 env: COSMIV_BIN (build/cosmiv),
#                                                REAL_DIR (directories with a labels.json, ':' between),
#                                                BENCH_MEDIA_ONLY=real (skip the generated videos),
#                                                BENCH_MEDIA_LONG_S (600), BENCH_MEDIA_RUNS (1)
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${COSMIV_BIN:-build/cosmiv}
REAL=${REAL_DIR:-../shared/media/real-gameplay}
LONG_S=${BENCH_MEDIA_LONG_S:-600}
RUNS=${BENCH_MEDIA_RUNS:-1}
[ -x "$BIN" ] || { echo "bench/media: $BIN is not built (make build)" >&2; exit 1; }
command -v ffmpeg >/dev/null || { echo "bench/media: ffmpeg is missing" >&2; exit 1; }

# The cache key is the generator's hash: a changed generator means new videos and ground truth.
key=$(sha1sum tests/media/gen_gameplay.mjs | cut -c1-10)
CACHE=build/bench/media/$key
WORK=$(mktemp -d /tmp/cosmiv-bench-media.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$CACHE"
ONLY=${BENCH_MEDIA_ONLY:-}

log() { echo "bench/media: $*" >&2; }

# ---- 1. videos (generated once, then cached) ----
short=gameplay_1080p60_60s long=gameplay_1080p60_${LONG_S}s
gen() { nice -n 10 node tests/media/gen_gameplay.mjs --out "$CACHE" --keep --size 1920x1080 --fps 60 \
  --vcodec h264 --acodec aac --preset superfast "$@" >&2; }
if [ "$ONLY" != real ]; then
  log "generating the 1080p60 videos if not cached (the 10-minute one takes a while, once)"
  gen --name "$short" --duration 60 --seed 7
  gen --name "$long" --duration "$LONG_S" --seed 8
fi

# ---- 2. the peer ----
ae=""
if [ "$ONLY" = real ]; then
  :
elif command -v auto-editor >/dev/null; then
  ae=$(command -v auto-editor)
elif apt-cache policy auto-editor 2>/dev/null | grep -q 'Candidate: [0-9]'; then
  if [ "$(id -u)" -eq 0 ]; then
    log "installing Debian's auto-editor"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q auto-editor >/dev/null 2>&1 || true
  fi
  command -v auto-editor >/dev/null && ae=$(command -v auto-editor)
fi
[ -n "$ae" ] || log "auto-editor is not available (not installable here): its columns are empty"

# seconds of wall time of a command; its stdout goes to $1
timed() {
  local out=$1; shift
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >"$out" 2>>"$WORK/stderr.log"
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'
}

best() { # best of RUNS runs: prints seconds; the last stdout stays in $1
  local out=$1; shift
  local b=""
  for _ in $(seq "$RUNS"); do
    local s
    s=$(timed "$out" "$@")
    if [ -z "$b" ] || awk -v s="$s" -v b="$b" 'BEGIN { exit !(s < b) }'; then b=$s; fi
  done
  echo "$b"
}

# ---- 3. measure ----
meas="$WORK/measure.tsv"
: >"$meas"
synthetic=("$short" "$long")
[ "$ONLY" = real ] && synthetic=()
for name in "${synthetic[@]}"; do
  f="$CACHE/$name.mp4"
  log "$name: cosmiv highlights"
  t_c=$(best "$WORK/$name.cosmiv.json" "$BIN" highlights "$f")
  log "$name: ffmpeg full decode"
  t_f=$(best /dev/null ffmpeg -nostdin -hide_banner -loglevel error -i "$f" -f null -)
  t_a="" t_a2=""
  if [ -n "$ae" ]; then
    log "$name: auto-editor (default, and --edit audio:threshold=0.2 --margin 1.5sec)"
    t_a=$(best "$WORK/$name.ae.json" "$ae" "$f" --export timeline:api=3 --no-open --progress none) || t_a=""
    t_a2=$(best "$WORK/$name.ae2.json" "$ae" "$f" --edit audio:threshold=0.2 --margin 1.5sec \
      --export timeline:api=3 --no-open --progress none) || t_a2=""
  fi
  printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$t_c" "$t_f" "$t_a" "$t_a2" >>"$meas"
done

real_labels="" real_evals="" game_evals="" i=0
IFS=: read -r -a real_dirs <<<"$REAL"
for dir in "${real_dirs[@]}"; do
  if [ ! -f "$dir/labels.json" ]; then
    log "no labelled footage at $dir: skipped"
    continue
  fi
  log "real footage: cosmiv eval $dir/labels.json"
  t_r=$(best "$WORK/real$i.eval.json" "$BIN" eval "$dir/labels.json" --json)
  # the recordings are OpenArena matches: the model compiled in for that game too (it reads the kill
  # messages on screen, so it decodes the reference frames: timed as well)
  log "real footage: cosmiv eval $dir/labels.json --game OpenArena"
  t_g=$(best "$WORK/real$i.game.eval.json" "$BIN" eval "$dir/labels.json" --json --game OpenArena)
  log "real footage: full decode of its videos"
  mapfile -t vids < <(node -e 'for (const l of JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")))
    console.log(require("path").resolve(process.argv[2], l.video))' "$dir/labels.json" "$dir")
  t_rf=$(best /dev/null bash -c 'for v; do ffmpeg -nostdin -hide_banner -loglevel error -i "$v" -f null - || exit 1; done' _ "${vids[@]}")
  printf 'real%s\t%s\t%s\t%s\t\n' "$i" "$t_r" "$t_rf" "$t_g" >>"$meas"
  real_labels+="${real_labels:+,}$dir/labels.json" real_evals+="${real_evals:+,}$WORK/real$i.eval.json"
  game_evals+="${game_evals:+,}$WORK/real$i.game.eval.json"
  i=$((i + 1))
done

# ---- 4. report ----
node bench/media/report.mjs --measure "$meas" --work "$WORK" --manifest "$CACHE/manifest.json" \
  --real-labels "$real_labels" --real-eval "$real_evals" --real-game-eval "$game_evals" --out build/bench/media.json \
  --ffmpeg "$(ffmpeg -version | head -1 | cut -d' ' -f3)" --auto-editor "${ae:+$("$ae" --version 2>/dev/null | head -1)}"
