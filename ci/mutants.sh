#!/usr/bin/env bash
# Proof that the properties bite: applies each deliberate engine bug of ci/mutants/*.patch, one at a
# time, to a scratch copy of the committed tree (HEAD), rebuilds incrementally in one build folder, runs the property
# suite and reports which properties caught it. Exits 1 if any mutant survives.
# Usage: ci/mutants.sh [CASES]   (rapidcheck cases per property, default 400)
set -uo pipefail
cd "$(dirname "$0")/.."
cases=${1:-400}
scratch=${TLSCHAN_MUTANTS_DIR:-$(mktemp -d)}
echo "mutants: scratch copy in $scratch"
mkdir -p "$scratch/tree"
git archive HEAD | tar -x -C "$scratch/tree"
cd "$scratch/tree"
cmake -S . -B "$scratch/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null || exit 2
cmake --build "$scratch/build" -j2 --target props_tests >/dev/null || exit 2

survived=0
for patch in "$OLDPWD"/ci/mutants/*.patch; do
  name=$(basename "$patch" .patch)
  if ! patch -s -p1 <"$patch"; then
    echo "$name: the patch no longer applies"
    survived=1
    continue
  fi
  if ! cmake --build "$scratch/build" -j2 --target props_tests >"$scratch/$name.build.log" 2>&1; then
    echo "$name: does not build (see $scratch/$name.build.log)"
    survived=1
  else
    RC_PARAMS="max_success=$cases" TLSCHAN_FAILURES="$scratch/failures/$name" \
      "$scratch/build/bin/props_tests" >"$scratch/$name.log" 2>&1
    caught=$(grep -E '^\[  FAILED  \] [A-Za-z0-9_]+\.[A-Za-z0-9_]+ \(' "$scratch/$name.log" | sed -E 's/^\[  FAILED  \] ([^ ]+) .*/\1/' | sort -u | paste -sd, -)
    if [ -n "$caught" ]; then
      echo "$name: caught by $caught"
    else
      echo "$name: SURVIVED (log: $scratch/$name.log)"
      survived=1
    fi
  fi
  patch -s -R -p1 <"$patch"
done
cmake --build "$scratch/build" -j2 --target props_tests >/dev/null
exit $survived
