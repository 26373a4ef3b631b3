#!/usr/bin/env bash
# Browser tests: the release binary serving the built web app, driven by
# playwright-core in Debian's headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
export COSMIV_BIN=${COSMIV_BIN:-$PWD/build/cosmiv}
echo "== browser tests =="
node --test --test-reporter=spec tests/e2e/
