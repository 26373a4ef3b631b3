#!/usr/bin/env bash
# Runs each libFuzzer binary for FUZZ_SECONDS (default 30) on a working copy
# of its seed corpus (tests/fuzz/corpus/<name> → build/fuzz/corpus-<name>, so
# the repository stays clean; new inputs accumulate there between runs).
# Fails when a target finds a crash, leak, timeout or sanitizer report; the
# reproducer is left in build/fuzz/artifacts-<name>/.
#
#   tests/fuzz/run.sh build/fuzz/fuzz_json_validate build/fuzz/fuzz_jwt_verify
set -uo pipefail
cd "$(dirname "$0")/../.."

FUZZ_SECONDS=${FUZZ_SECONDS:-30}
# The fuzz build has recoverable UBSan checks: make any report fatal, so it is a finding.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
if [ $# -eq 0 ]; then
	set -- build/fuzz/fuzz_*
fi

failed=()
for bin in "$@"; do
	name=$(basename "$bin")
	if [ ! -x "$bin" ]; then
		echo "FAIL  $name: not built"
		failed+=("$name")
		continue
	fi
	corpus=build/fuzz/corpus-$name
	artifacts=build/fuzz/artifacts-$name
	mkdir -p "$corpus" "$artifacts"
	if [ -d "tests/fuzz/corpus/$name" ]; then
		cp -n tests/fuzz/corpus/"$name"/* "$corpus"/ 2>/dev/null || true
	fi
	log=build/fuzz/$name.log
	echo "== fuzz $name: ${FUZZ_SECONDS}s on $corpus =="
	"$bin" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
		-print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus" >"$log" 2>&1
	rc=$?
	grep -E '^stat::number_of_executed_units|^#[0-9]+.*DONE' "$log" | tail -2 | sed 's/^/   /'
	if [ $rc -ne 0 ]; then
		echo "FAIL  $name (exit $rc); reproducer in $artifacts/:"
		grep -E 'ERROR|SUMMARY|runtime error|Test unit written|==[0-9]+==' "$log" | head -20 | sed 's/^/   /'
		echo "   full log: $log; rerun: $bin $artifacts/<crash-file>"
		failed+=("$name")
	else
		echo "ok    $name"
	fi
done

if [ ${#failed[@]} -gt 0 ]; then
	echo "fuzzing found problems in: ${failed[*]}"
	exit 1
fi
echo "fuzzing: $# target(s), no crash in ${FUZZ_SECONDS}s each"
