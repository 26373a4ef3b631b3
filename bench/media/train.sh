#!/usr/bin/env bash
# Re-fits the detector's default model (src/media/model.json) on a fresh
# synthetic training set. The set uses seeds 1000+, so it never overlaps the
# test set of tests/media/detector.test.mjs (seeds 1-4) or the benchmark
# files (seeds 7-8); the real sample in ../shared/media/real-gameplay is not
# used for training at all, so its figures in the benchmark stay honest.
#
#   bash bench/media/train.sh [OUT_MODEL]      (default: print the model, write nothing)
#
# REAL_TRAIN_DIR=DIR adds real labelled matches to the set: a directory made by
# ../shared/media/real-gameplay/make_gameplay.sh (OUT=DIR; its labels.json and
# videos), which plays new matches on every run, so they are never the shared
# sample. Their windows are clusters of frags by the followed player.
#
# Takes ~5 minutes on 2 cores (rendering ~17 one-minute videos at 640x360,
# then decoding them once for `cosmiv fit`). Runs under nice.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${COSMIV_BIN:-build/cosmiv}
G=tests/media/gen_gameplay.mjs
D=${TRAIN_DIR:-build/bench/media/train}
out=${1:-}
mkdir -p "$D"
gen() { nice -n 10 node "$G" --out "$D" --keep --duration 60 --size 640x360 "$@"; }
gen --name h264 --count 4 --seed 1000
gen --name h264uf --count 4 --seed 1010 --preset ultrafast
gen --name hevc --count 2 --seed 1100 --vcodec hevc
gen --name vp9 --count 2 --seed 1200 --vcodec vp9 --acodec opus
gen --name fps60 --count 2 --seed 1300 --fps 60
gen --name vert --count 1 --seed 1400 --size 360x640
gen --name long --count 1 --seed 1500 --duration 120
gen --name hd --count 1 --seed 1600 --size 1280x720
version="synth-$(date -u +%Y%m%d)"
tmp=$(mktemp /tmp/cosmiv-model.XXXXXX.json)
start=$(mktemp /tmp/cosmiv-model-start.XXXXXX.json)
trap 'rm -f "$tmp" "$start"' EXIT
# From scratch, not from the current default: the result depends only on the data.
cat >"$start" <<'JSON'
{"version": "start", "bias": 0, "weights": {}, "threshold": 0.5, "region_drop": 2,
 "pre_roll_s": 4, "post_roll_s": 2, "min_len_s": 5, "max_len_s": 20, "merge_gap_s": 1, "max_highlights": 10}
JSON
manifest="$D/manifest.json"
set_desc="bench/media/train.sh: 17 synthetic videos, seeds 1000+"
if [ -n "${REAL_TRAIN_DIR:-}" ]; then
  manifest="$D/manifest+real.json"
  n_real=$(node -e '
    const fs = require("fs"), path = require("path");
    const [synth, realDir, out] = process.argv.slice(1);
    const items = JSON.parse(fs.readFileSync(synth, "utf8")).map((m) => ({ ...m, video: path.resolve(path.dirname(synth), m.video) }));
    const real = JSON.parse(fs.readFileSync(path.join(realDir, "labels.json"), "utf8"));
    for (const r of real) items.push({ video: path.resolve(realDir, r.video), highlights: r.highlights });
    fs.writeFileSync(out, JSON.stringify(items, null, 1));
    console.log(real.length);' "$D/manifest.json" "$REAL_TRAIN_DIR" "$manifest")
  set_desc="$set_desc, and $n_real real OpenArena matches recorded by make_gameplay.sh"
  version="synth+real-$(date -u +%Y%m%d)"
fi
nice -n 10 "$BIN" fit "$manifest" --from "$start" --out "$tmp" --version "$version"
node -e '
  const fs = require("fs"); const [f, desc] = process.argv.slice(1);
  const m = JSON.parse(fs.readFileSync(f, "utf8")); m.training = { ...(m.training || {}), set: desc };
  fs.writeFileSync(f, JSON.stringify(m, null, 2) + "\n");' "$tmp" "$set_desc"
if [ -n "$out" ]; then cp "$tmp" "$out"; echo "wrote $out"; else cat "$tmp"; fi
