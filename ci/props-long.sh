#!/usr/bin/env bash
# Runs the property suite for a given number of minutes with fresh seeds (ci/test.sh runs a bounded
# number of cases instead). Usage: ci/props-long.sh [MINUTES] [CASES-PER-ROUND]
# Stops at the first failure and leaves its minimal case in build/failures/.
set -uo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-10}
cases=${2:-2000}
cmake --preset default >/dev/null && cmake --build --preset default --target props_tests >/dev/null || exit 2
end=$(( $(date +%s) + minutes * 60 ))
round=0
while [ "$(date +%s)" -lt "$end" ]; do
  round=$((round + 1))
  seed=$(od -An -N8 -tu8 /dev/urandom | tr -d ' ')
  echo "round $round: RC_PARAMS=\"seed=$seed max_success=$cases\""
  if ! RC_PARAMS="seed=$seed max_success=$cases" TLSCHAN_FAILURES=build/failures ./build/bin/props_tests --gtest_brief=1; then
    echo "a property failed in round $round; reproduce with RC_PARAMS=\"seed=$seed max_success=$cases\" ./build/bin/props_tests"
    exit 1
  fi
done
echo "props-long: $round rounds of $cases cases per property, all passed"
