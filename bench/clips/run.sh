#!/usr/bin/env bash
# bench/clips/run.sh — clip export of Cosmiv against the ffmpeg command line (see bench/clips/README.md).
#
#   nice -n 10 bash bench/clips/run.sh
#   BENCH_ROUNDS=3 bash bench/clips/run.sh
#
# 1. makes (once; cached in build/bench/clips/) a 60 s 1920x1080 30 fps
#    H.264/AAC test file with ffmpeg's testsrc2 + sine sources;
# 2. for each task, alternates `cosmiv media-tool clip` (the code the clip
#    workers run) and the equivalent ffmpeg command BENCH_ROUNDS times,
#    keeps the best wall time of each:
#      (a) 16:9, 30 s from t=10 (a keyframe): stream copy, no re-encode;
#      (b) 9:16 centre crop, 30 s: decode, crop + scale, libx264 + AAC;
#      (c) 9:16 blurred fill, 30 s: the same with a blurred background;
# 3. checks every output with ffprobe (codecs, size, duration ±0.1 s);
# 4. prints a table and writes build/bench/clips.json.
# Works in a temp dir, removed on exit (BENCH_KEEP_TMP=1 keeps it). Nothing
# touches the network; no server is started.
set -euo pipefail

ROUNDS=${BENCH_ROUNDS:-2}
START=10
END=40
LEN=$((END - START))

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
BIN=$ROOT/build/cosmiv
CACHE=$ROOT/build/bench/clips
OUT_JSON=$ROOT/build/bench/clips.json
SRC=$CACHE/src-1080p30-60s.mp4

die() { echo "bench: $*" >&2; exit 1; }
note() { echo "bench: $*" >&2; }

[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "BENCH_ROUNDS must be a positive integer"
for tool in ffmpeg ffprobe; do
	command -v "$tool" >/dev/null || die "$tool is not installed (apt-get install ffmpeg)"
done
FF_ENCODERS=$(ffmpeg -hide_banner -encoders 2>/dev/null) || die "ffmpeg -encoders failed"
grep -q libx264 <<<"$FF_ENCODERS" || die "this ffmpeg has no libx264"
if [[ ! -x $BIN ]]; then
	note "building build/cosmiv"
	make -C "$ROOT" build/cosmiv >&2
fi

CORES=$(nproc 2>/dev/null || echo 1)
loadavg() { cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "?"; }
LOAD_START=$(loadavg)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/cosmiv-bench-clips.XXXXXX")

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if ((rc != 0)); then
		for f in "$TMP"/*.log; do
			[[ -s $f ]] || continue
			note "last lines of ${f##*/}:"
			tail -n 8 "$f" >&2 || true
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

gt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a > b) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b > 0) ? a / b : 0 }'; }
absdiff_le() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= t + 1e-6) }'; }

# ---- 1. the source (cached) --------------------------------------------------------

# -pix_fmt yuv420p: testsrc2 is RGB; cosmiv copies only yuv420p H.264.
# -sc_threshold 0: no scene-cut keyframes, so the GOP stays exactly 60 frames
# (2 s) and t=10 is frame 300, a keyframe — the copy case depends on it.
SRC_CMD=(ffmpeg -hide_banner -nostdin -loglevel error -y
	-f lavfi -i "testsrc2=size=1920x1080:rate=30" -f lavfi -i "sine=f=440"
	-t 60 -c:v libx264 -preset veryfast -g 60 -sc_threshold 0 -pix_fmt yuv420p -c:a aac)

# src_ok: the cached file is what this script would make
src_ok() {
	[[ -s $SRC ]] || return 1
	local p
	p=$(ffprobe -v error -show_entries stream=codec_type,codec_name,width,height,pix_fmt,avg_frame_rate \
		-show_entries format=duration -of compact=p=0:nk=1 "$SRC" 2>/dev/null) || return 1
	grep -q '^h264|video|1920|1080|yuv420p|30/1$' <<<"$p" || return 1
	grep -q '^aac|audio|' <<<"$p" || return 1
	local d
	d=$(tail -n 1 <<<"$p")
	absdiff_le "$d" 60 0.1
}

mkdir -p "$CACHE"
if ! src_ok; then
	note "generating $SRC (60 s 1080p30 H.264/AAC, once; ~1-3 min)"
	rm -f "$SRC"
	"${SRC_CMD[@]}" "$CACHE/.src.tmp.mp4" 2>"$TMP/src.log" || die "ffmpeg could not make the test file"
	mv "$CACHE/.src.tmp.mp4" "$SRC"
	src_ok || die "the generated test file does not look right: $(ffprobe -v error -show_streams "$SRC" | head -20)"
fi
# A keyframe exactly at t=START, else "copy from a keyframe" is not what we measure.
KEY_AT_START=$(ffprobe -v error -select_streams v:0 -read_intervals "$((START - 1))%$((START + 1))" \
	-show_entries packet=pts_time,flags -of csv=p=0 "$SRC" |
	awk -F, -v s="$START" '$2 ~ /K/ && $1 + 0 == s + 0 { k = 1 } END { print k ? "yes" : "no" }')
[[ $KEY_AT_START == yes ]] || die "$SRC has no keyframe at t=$START s; delete it to regenerate"
SRC_DESC="$(ffprobe -v error -show_entries format=duration,size,bit_rate -of compact=p=0 "$SRC")"
note "source: $SRC ($SRC_DESC)"

# ---- 2. the commands ---------------------------------------------------------------

# The numbers render.c derives for a 1920x1080 source and a 1080x1920 target:
#   crop: the largest centred 9:16 window with even sides, 606x1080, then bicubic scale;
#   blur: background scaled to cover W/4 x H/4 = 270x480 (fast_bilinear), boxblur
#         luma_radius=min(270/4-1, 10)=10, luma_power=2, bilinear scale back up;
#         foreground scaled to fit 1080x1920 (bicubic), overlay centred.
# Encoders as in render.c: libx264 preset veryfast, CRF 23, profile high, yuv420p,
# keyframe every 2 s (-g 60 at 30 fps), thread_count 2; AAC 128 kb/s stereo 48 kHz;
# decoder threads 2, filter graph threads 2; MP4 with the index in front (faststart).
VF_CROP="crop=606:1080,scale=1080:1920:flags=bicubic,setsar=1,format=yuv420p"
VF_BLUR="split=2[bg0][fg0];\
[bg0]scale=270:480:force_original_aspect_ratio=increase:flags=fast_bilinear,crop=270:480,\
boxblur=luma_radius=10:luma_power=2,scale=1080:1920:flags=bilinear,setsar=1[bg1];\
[fg0]scale=1080:1920:force_original_aspect_ratio=decrease:force_divisible_by=2:flags=bicubic,setsar=1[fg1];\
[bg1][fg1]overlay=x=(W-w)/2:y=(H-h)/2:shortest=1,format=yuv420p"

FF=(ffmpeg -hide_banner -nostdin -loglevel error -y)
FF_ENC=(-c:v libx264 -preset veryfast -crf 23 -profile:v high -g 60 -threads 2
	-c:a aac -b:a 128k -ar 48000 -ac 2 -movflags +faststart)

# cmd_cosmiv TASK OUT / cmd_ffmpeg TASK OUT: fill CMD
cmd_cosmiv() {
	case $1 in
	copy) CMD=("$BIN" media-tool clip "$SRC" "$2" "$START" "$END" 16:9 crop 0) ;;
	crop) CMD=("$BIN" media-tool clip "$SRC" "$2" "$START" "$END" 9:16 crop 0) ;;
	blur) CMD=("$BIN" media-tool clip "$SRC" "$2" "$START" "$END" 9:16 blur 0) ;;
	esac
}
cmd_ffmpeg() {
	case $1 in
	copy) CMD=("${FF[@]}" -ss "$START" -i "$SRC" -t "$LEN" -c copy -movflags +faststart "$2") ;;
	crop) CMD=("${FF[@]}" -threads 2 -ss "$START" -i "$SRC" -t "$LEN" -filter_threads 2
		-vf "$VF_CROP" "${FF_ENC[@]}" "$2") ;;
	blur) CMD=("${FF[@]}" -threads 2 -ss "$START" -i "$SRC" -t "$LEN" -filter_threads 2
		-vf "$VF_BLUR" "${FF_ENC[@]}" "$2") ;;
	esac
}

# timed NAME CMD...: runs CMD (stdout to NAME.out, stderr to NAME.log);
# sets T_REAL T_CPU (user+sys of the process and its threads)
timed() {
	local name=$1 tf=$TMP/$1.time rc u s
	shift
	local TIMEFORMAT='%R %U %S'
	set +e
	{ time "$@" >"$TMP/$name.out" 2>"$TMP/$name.log"; } 2>"$tf"
	rc=$?
	set -e
	((rc == 0)) || { cat "$TMP/$name.out" >&2; die "$name failed (exit $rc): ${*}"; }
	read -r T_REAL u s <"$tf"
	T_CPU=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
}

# check_output FILE W H: sets O_DESC; dies unless H.264 WxH + AAC, duration LEN ±0.1 s
check_output() {
	local f=$1 w=$2 h=$3 v a d sz n
	[[ -s $f ]] || die "$f is missing or empty"
	v=$(ffprobe -v error -select_streams v:0 -show_entries stream=codec_name,width,height,pix_fmt \
		-of csv=p=0 "$f")
	n=$(ffprobe -v error -select_streams v:0 -show_entries stream=nb_frames -of csv=p=0 "$f")
	a=$(ffprobe -v error -select_streams a:0 -show_entries stream=codec_name,sample_rate,channels \
		-of csv=p=0 "$f")
	d=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$f")
	sz=$(stat -c %s "$f")
	[[ $v == "h264,$w,$h,yuv420p" ]] || die "$f: video is '$v', expected h264,$w,$h,yuv420p"
	[[ $a == aac,* ]] || die "$f: audio is '$a', expected aac"
	absdiff_le "$d" "$LEN" 0.1 || die "$f: duration $d s, expected $LEN ±0.1 s"
	O_DESC="${w}x${h} h264+aac $(printf '%.3f' "$d") s, $n frames, $(awk -v b="$sz" 'BEGIN { printf "%.1f", b / 1e6 }') MB"
	O_DUR=$d O_BYTES=$sz O_AUDIO=$a O_FRAMES=$n
}

# ---- 3. the rounds -----------------------------------------------------------------

TASKS=(copy crop blur)
declare -A TITLE=([copy]="(a) 16:9 copy, 30 s from t=10 (keyframe)"
	[crop]="(b) 9:16 centre crop, re-encode" [blur]="(c) 9:16 blurred fill, re-encode")
declare -A OW=([copy]=1920 [crop]=1080 [blur]=1080) OH=([copy]=1080 [crop]=1920 [blur]=1920)
declare -A BEST BEST_CPU RUNS DESC DUR BYTES AUDIO FRAMES MS_TOOL

for task in "${TASKS[@]}"; do
	for who in cosmiv ffmpeg; do BEST[$task.$who]=0; done
	for ((round = 1; round <= ROUNDS; round++)); do
		for who in cosmiv ffmpeg; do
			out=$TMP/$task-$who-$round.mp4
			"cmd_$who" "$task" "$out"
			timed "$task-$who-$round" "${CMD[@]}"
			check_output "$out" "${OW[$task]}" "${OH[$task]}"
			if [[ $who == cosmiv ]]; then
				j=$(cat "$TMP/$task-$who-$round.out")
				copied=$(sed -n 's/.*"copied":\(true\|false\).*/\1/p' <<<"$j")
				want=false
				[[ $task == copy ]] && want=true
				[[ $copied == "$want" ]] || die "media-tool clip ($task) said copied=$copied, expected $want: $j"
				ms=$(sed -n 's/.*"ms":\([0-9]*\).*/\1/p' <<<"$j")
			fi
			RUNS[$task.$who]+="${RUNS[$task.$who]:+,}$T_REAL"
			if [[ ${BEST[$task.$who]} == 0 ]] || gt "${BEST[$task.$who]}" "$T_REAL"; then
				BEST[$task.$who]=$T_REAL BEST_CPU[$task.$who]=$T_CPU
				[[ $who == ffmpeg ]] || MS_TOOL[$task]=$ms # media-tool's own timer, same round
			fi
			DESC[$task.$who]=$O_DESC DUR[$task.$who]=$O_DUR BYTES[$task.$who]=$O_BYTES AUDIO[$task.$who]=$O_AUDIO
			FRAMES[$task.$who]=$O_FRAMES
			note "$task round $round $who: ${T_REAL} s (CPU ${T_CPU} s) — $O_DESC"
			rm -f "$out"
		done
	done
done

# ---- 4. report ---------------------------------------------------------------------

VERSION=$("$BIN" version 2>/dev/null || echo "cosmiv ?")
FF_VERSION=$(ffmpeg -hide_banner -version | awk 'NR == 1 { print $1 " " $3 }')
LAV_VERSION=$(ffmpeg -hide_banner -version | awk '$1 == "libavcodec" && !v { v = "libavcodec " $2 $3 } END { print v }')
DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)
CPU=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || true)
LOAD_END=$(loadavg)

{
	echo
	echo "Cosmiv clip export benchmark — $DATE"
	echo "$VERSION (media-tool clip), $FF_VERSION ($LAV_VERSION); $CORES cores${CPU:+ ($CPU)}"
	echo "source: 60 s 1920x1080 30 fps H.264 (veryfast, GOP 60) + AAC, ${SRC#"$ROOT"/}"
	echo "clips: 30 s from t=$START s; best of $ROUNDS alternated rounds; wall time of the whole process"
	echo "load average before: $LOAD_START, after: $LOAD_END (other work on the machine shares the cores)"
	echo
	printf '%-42s %9s %9s %7s %13s %13s\n' task "cosmiv s" "ffmpeg s" ratio "cosmiv CPU s" "ffmpeg CPU s"
	for task in "${TASKS[@]}"; do
		printf '%-42s %9s %9s %7s %13s %13s\n' "${TITLE[$task]}" "${BEST[$task.cosmiv]}" "${BEST[$task.ffmpeg]}" \
			"$(ratio "${BEST[$task.cosmiv]}" "${BEST[$task.ffmpeg]}")" "${BEST_CPU[$task.cosmiv]}" \
			"${BEST_CPU[$task.ffmpeg]}"
	done
	echo "  ratio = cosmiv / ffmpeg wall time (below 1: cosmiv faster)"
	echo "  rounds, s: $(for task in "${TASKS[@]}"; do printf '%s cosmiv %s ffmpeg %s; ' "$task" \
		"${RUNS[$task.cosmiv]}" "${RUNS[$task.ffmpeg]}"; done | sed 's/; $//')"
	echo
	echo "outputs (ffprobe; last round):"
	for task in "${TASKS[@]}"; do
		printf '  %-5s cosmiv %s\n  %-5s ffmpeg %s\n' "$task" "${DESC[$task.cosmiv]}" "" "${DESC[$task.ffmpeg]}"
	done
	echo "encoders (as render.c): libx264 veryfast CRF 23 high, GOP 60, 2 threads; AAC 128k 48 kHz stereo;"
	echo "  decoder 2 threads, filter graph 2 threads; cosmiv copied the 16:9 clip (\"copied\":true), re-encoded 9:16"
} | tee "$TMP/table.txt"

json_str() { printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"; }
num() { [[ $1 =~ ^[0-9]+(\.[0-9]+)?$ ]] && printf '%s' "$1" || printf 'null'; }
task_json() {
	local t=$1
	printf '    "%s": {"title": %s, "width": %s, "height": %s,\n' "$t" "$(json_str "${TITLE[$t]}")" "${OW[$t]}" "${OH[$t]}"
	printf '      "cosmiv": {"seconds": %s, "cpu_s": %s, "rounds_s": [%s], "tool_ms": %s, "duration_s": %s, "video_frames": %s, "bytes": %s, "audio": %s},\n' \
		"$(num "${BEST[$t.cosmiv]}")" "$(num "${BEST_CPU[$t.cosmiv]}")" "${RUNS[$t.cosmiv]}" "$(num "${MS_TOOL[$t]}")" \
		"$(num "${DUR[$t.cosmiv]}")" "$(num "${FRAMES[$t.cosmiv]}")" "${BYTES[$t.cosmiv]}" "$(json_str "${AUDIO[$t.cosmiv]}")"
	printf '      "ffmpeg": {"seconds": %s, "cpu_s": %s, "rounds_s": [%s], "duration_s": %s, "video_frames": %s, "bytes": %s, "audio": %s},\n' \
		"$(num "${BEST[$t.ffmpeg]}")" "$(num "${BEST_CPU[$t.ffmpeg]}")" "${RUNS[$t.ffmpeg]}" \
		"$(num "${DUR[$t.ffmpeg]}")" "$(num "${FRAMES[$t.ffmpeg]}")" "${BYTES[$t.ffmpeg]}" "$(json_str "${AUDIO[$t.ffmpeg]}")"
	printf '      "ratio_cosmiv_ffmpeg": %s}' "$(num "$(ratio "${BEST[$t.cosmiv]}" "${BEST[$t.ffmpeg]}")")"
}
mkdir -p "$(dirname "$OUT_JSON")"
{
	cat <<EOF
{
  "date": $(json_str "$DATE"),
  "machine": {"cores": $CORES, "cpu": $(json_str "$CPU"), "loadavg_start": $(json_str "$LOAD_START"), "loadavg_end": $(json_str "$LOAD_END")},
  "versions": {"cosmiv": $(json_str "$VERSION"), "ffmpeg": $(json_str "$FF_VERSION"), "libavcodec": $(json_str "$LAV_VERSION")},
  "source": {"path": $(json_str "${SRC#"$ROOT"/}"), "probe": $(json_str "$SRC_DESC"), "make": $(json_str "${SRC_CMD[*]} OUT")},
  "settings": {"rounds": $ROUNDS, "start_s": $START, "end_s": $END, "best_of": "wall time"},
  "ffmpeg_commands": {
    "copy": $(json_str "$(cmd_ffmpeg copy OUT; echo "${CMD[*]//"$ROOT"\//}")"),
    "crop": $(json_str "$(cmd_ffmpeg crop OUT; echo "${CMD[*]//"$ROOT"\//}")"),
    "blur": $(json_str "$(cmd_ffmpeg blur OUT; echo "${CMD[*]//"$ROOT"\//}")")
  },
  "tasks": {
EOF
	task_json copy
	echo ","
	task_json crop
	echo ","
	task_json blur
	echo
	echo "  }"
	echo "}"
} >"$OUT_JSON.tmp"
mv "$OUT_JSON.tmp" "$OUT_JSON"
echo "wrote ${OUT_JSON#"$ROOT"/}"
