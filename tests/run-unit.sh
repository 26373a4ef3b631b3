#!/usr/bin/env bash
# Runs cmocka unit-test executables, each in its own process with a 60 s
# timeout, under ASan/UBSan (they are built with build/cov flags), prints each
# result and ends with one line "N passed, M failed" counting test cases.
# Exits non-zero when a case failed or an executable crashed, timed out or
# reported a leak at exit.
#
#   tests/run-unit.sh build/cov/unit/core/test_util build/cov/unit/db/test_db ...
set -uo pipefail

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
TIMEOUT_S=${UNIT_TIMEOUT_S:-60}

if [ $# -eq 0 ]; then
	echo "usage: $0 TEST_BINARY..." >&2
	exit 2
fi

passed=0
failed=0
skipped=0
bad_bins=()
log=$(mktemp /tmp/cosmiv-unit-log.XXXXXX)
trap 'rm -f "$log"' EXIT

for bin in "$@"; do
	name=${bin#build/cov/unit/}
	if [ ! -x "$bin" ]; then
		echo "FAIL  $name: not built"
		failed=$((failed + 1))
		bad_bins+=("$name")
		continue
	fi
	# In a subshell, so a crash's "Aborted" notice lands in the log, not on the terminal.
	(
		timeout --kill-after=5 "$TIMEOUT_S" "$bin"
		exit $?
	) >"$log" 2>&1
	rc=$?
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]\+\) test(s)\..*/\1/p' "$log" | tail -1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]\+\) test(s).*/\1/p' "$log" | tail -1)
	s=$(sed -n 's/^\[  SKIPPED \] \([0-9]\+\) test(s).*/\1/p' "$log" | tail -1)
	p=${p:-0}
	f=${f:-0}
	s=${s:-0}
	why=
	if ! grep -aq '^\[  PASSED  \]' "$log"; then
		# No summary: the executable died mid-run (sanitizer abort, signal, timeout).
		# Count the cases that passed before and the one that was running.
		p=$(grep -ac '^\[       OK \]' "$log")
		f=1
		if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then why="timed out after ${TIMEOUT_S}s"; else why="crashed (exit $rc)"; fi
	elif [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
		# All cases passed but the process failed afterwards (LeakSanitizer at exit).
		f=1
		why="exit $rc after the tests (leak or sanitizer report at exit)"
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
	if [ "$f" -eq 0 ] && [ $rc -eq 0 ]; then
		printf 'ok    %-28s %3d passed' "$name" "$p"
		[ "$s" -gt 0 ] && printf ', %d skipped' "$s"
		printf '\n'
	else
		printf 'FAIL  %-28s %3d passed, %d failed%s\n' "$name" "$p" "$f" "${why:+ ($why)}"
		bad_bins+=("$name")
		# Show what went wrong: failed assertions and sanitizer reports.
		grep -aE '^\[  (FAILED|ERROR)|ERROR:|error:|runtime error|Sanitizer|^    #[0-9]+ ' "$log" | head -40 | sed 's/^/      /'
	fi
done

[ "$skipped" -gt 0 ] && echo "($skipped skipped)"
[ ${#bad_bins[@]} -gt 0 ] && echo "failing: ${bad_bins[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
