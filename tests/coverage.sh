#!/usr/bin/env bash
# Line and branch coverage of src/ per module from the instrumented test runs
# (build/cov). Fails when line coverage drops below COVERAGE_MIN (80 %).
set -euo pipefail
cd "$(dirname "$0")/.."
min=${COVERAGE_MIN:-80}
mkdir -p build/coverage
echo "== coverage (src/) =="
gcovr --root . --filter 'src/' --object-directory build/cov \
  --gcov-ignore-parse-errors \
  --txt build/coverage/summary.txt --print-summary \
  --json-summary build/coverage/summary.json --fail-under-line "$min" >build/coverage/gcovr.log 2>&1 || status=$?
# Per module: sum the file rows of each src/<module>/ directory.
python3 - <<'PY'
import json, collections
d = json.load(open('build/coverage/summary.json'))
mods = collections.OrderedDict()
for f in sorted(d['files'], key=lambda f: f['filename']):
    parts = f['filename'].split('/')
    mod = parts[1] if len(parts) > 2 else parts[1].rsplit('.', 1)[0]
    m = mods.setdefault(mod, [0, 0, 0, 0])
    m[0] += f['line_covered']; m[1] += f['line_total']
    m[2] += f['branch_covered']; m[3] += f['branch_total']
print(f"{'module':<10} {'lines':>16} {'branches':>16}")
for mod, (lc, lt, bc, bt) in mods.items():
    pl = 100.0 * lc / lt if lt else 100.0
    pb = 100.0 * bc / bt if bt else 100.0
    print(f"{mod:<10} {lc:>5}/{lt:<5} {pl:5.1f}% {bc:>5}/{bt:<5} {pb:5.1f}%")
print(f"{'total':<10} {d['line_covered']:>5}/{d['line_total']:<5} {d['line_percent']:5.1f}% "
      f"{d['branch_covered']:>5}/{d['branch_total']:<5} {d['branch_percent']:5.1f}%")
PY
if [ "${status:-0}" -ne 0 ]; then
  echo "coverage: line coverage of src/ is below ${min}%" >&2
  cat build/coverage/gcovr.log >&2
  exit 1
fi
echo "coverage: line coverage of src/ is at least ${min}%"
