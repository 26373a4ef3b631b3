#!/usr/bin/env bash
# Installs what Cosmiv needs to build, run and test, and nothing twice.
#   scripts/install-deps.sh          everything (build, run, test, bench)
#   scripts/install-deps.sh run      only what `make run` needs
# Debian packages via apt-get (needs root, as on the build machines); front-end
# and test packages via `npm ci` from the committed lockfiles.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-all}

run_pkgs=(build-essential pkg-config libmicrohttpd-dev libjansson-dev libsqlite3-dev libpq-dev
  libsodium-dev libhiredis-dev libcurl4-openssl-dev libseccomp-dev libavformat-dev libavcodec-dev
  libavfilter-dev libswscale-dev libswresample-dev libavutil-dev libwslay-dev nettle-dev
  fonts-dejavu-core nodejs)
test_pkgs=(libcmocka-dev postgresql redis-server chromium gcovr clang libclang-rt-14-dev
  cppcheck clang-format nginx-light wrk curl ffmpeg)
# the peers of the benchmarks (bench/peers): only `install-deps.sh bench` installs them
bench_pkgs=(python3-fastapi python3-uvicorn python3-uvloop python3-httptools sqlite3)

want=("${run_pkgs[@]}")
[ "$mode" = run ] || want+=("${test_pkgs[@]}")
if [ "$mode" = bench ]; then want+=("${bench_pkgs[@]}"); fi

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ! command -v npm >/dev/null 2>&1; then missing+=(npm); fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The packaged services must not run on their own: the tests start private instances.
  for svc in postgresql redis-server nginx; do
    $SUDO systemctl disable --now "$svc" >/dev/null 2>&1 || $SUDO service "$svc" stop >/dev/null 2>&1 || true
  done
fi

# npm packages: reinstall only when the lockfile changed.
npm_ci() {
  local dir=$1
  [ -f "$dir/package-lock.json" ] || return 0
  local stamp="$dir/node_modules/.cosmiv-lock"
  if [ ! -f "$stamp" ] || ! cmp -s "$dir/package-lock.json" "$stamp"; then
    echo "installing npm packages in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    cp "$dir/package-lock.json" "$stamp"
  fi
}
npm_ci web
[ "$mode" = run ] || npm_ci tests
