#!/usr/bin/env bash
# `make test`: the whole suite as two pytest processes side by side, so it fits in 15 minutes on
# two cores. Most tests wait on something (the sandbox's latency and rate limits, Airflow's
# processes, a browser), so two halves overlap well: measured 9.7 and 6.4 minutes side by side,
# 18.7 one after the other. The first half is the tests that run whole DAGs or processes (listed
# below); the second is everything else (the same folders ignored), so a new test folder can never
# fall between the two. The second half streams its progress; the first's is printed after it.
# Arguments (`make test PYTEST_ARGS=...`) run one pytest with them instead.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source scripts/env.sh
if [ "$#" -gt 0 ]; then
  exec python -m pytest "$@"
fi
first=(tests/deploy tests/simulation tests/dags tests/activity tests/hooks tests/notify tests/operators tests/reclaim)
ignored=()
for folder in "${first[@]}"; do ignored+=("--ignore=$folder"); done
log="$(mktemp "${TMPDIR:-/tmp}/zoom-sam-test-XXXXXX.log")"
python -m pytest -q "${first[@]}" >"$log" 2>&1 &
other=$!
trap 'kill "$other" 2>/dev/null' INT TERM
echo "make test: ${first[*]} run beside this half (their output follows it; live in $log)"
python -m pytest -q tests "${ignored[@]}"
second=$?
wait "$other"
first_status=$?
echo
echo "==================== ${first[*]} ===================="
cat "$log"
rm -f "$log"
if [ "$first_status" -ne 0 ] || [ "$second" -ne 0 ]; then
  echo "make test: FAILED (exit ${first_status} for ${first[*]}; ${second} for the rest)" >&2
  exit 1
fi
