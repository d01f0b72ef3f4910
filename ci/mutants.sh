#!/usr/bin/env bash
# Proof that the properties bite (docs/mutants.md): applies each deliberate engine bug of
# ci/mutants/*.patch, one at a time, to a scratch copy of the committed tree (HEAD), rebuilds
# props_tests incrementally (only the patched TU and the link), runs the whole property suite under
# one fresh rapidcheck seed and reports which property caught it.
# Exits 1 if any patch does not apply, any mutant does not build, or any mutant survives.
#
# Usage: ci/mutants.sh [--cases N] [--seed S] [--repeat R] [--all] [--worktree] [--dir DIR]
#                      [--in-place BUILD] [PATCH...]
#   --cases N   rapidcheck cases per property (default 400)
#   --seed S    rapidcheck seed (default: a fresh one from /dev/urandom, printed)
#   --repeat R  run the suite R times on each mutant, each time with another fresh seed; a mutant
#               counts as caught only if all R runs catch it (default 1)
#   --all       run every property on each mutant, and shrink (default: stop at the first failing
#               property, without shrinking its case)
#   --worktree  copy the working tree's files (tracked and untracked, not ignored) instead of HEAD
#   --dir DIR   scratch folder, kept and reused for an incremental build (default: a temporary one)
#   --in-place BUILD  no scratch copy and no build of its own: patches this checkout's files in place,
#               one at a time, and rebuilds props_tests in BUILD, an existing build folder of this
#               checkout (ci/test.sh: the default preset's, already built). Each patch is reversed
#               after its run, and on any exit; at the end props_tests is rebuilt unmutated (after an
#               interrupted run, the reversed sources are newer than their objects, so BUILD's next
#               build recompiles them). Refuses to start if a patched file has uncommitted changes.
#   PATCH...    only these patches (default: ci/mutants/*.patch)
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
cases=400
seed=""
all=0
repeat=1
worktree=0
dir=""
scratch_is_temp=0
in_place=""
patches=()
while [ $# -gt 0 ]; do
  case "$1" in
    --cases) cases=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --all) all=1; shift ;;
    --repeat) repeat=$2; shift 2 ;;
    --worktree) worktree=1; shift ;;
    --dir) dir=$2; shift 2 ;;
    --in-place) in_place=$(realpath "$2"); shift 2 ;;
    -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "mutants: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) patches+=("$(realpath "$1")"); shift ;;
  esac
done
[ ${#patches[@]} -gt 0 ] || patches=("$root"/ci/mutants/*.patch)
fresh_seed() { od -An -N8 -tu8 /dev/urandom | tr -d ' '; }
[ -n "$seed" ] || seed=$(fresh_seed)
start=$(date +%s)

if [ -z "$dir" ]; then
  dir=$(mktemp -d)
  scratch_is_temp=1
  trap 'rm -rf "$dir"' EXIT
fi
mkdir -p "$dir/logs"
dir=$(realpath "$dir")
echo "mutants: ${#patches[@]} patches, RC_PARAMS=\"seed=$seed max_success=$cases\"$([ "$repeat" -gt 1 ] && echo " then $((repeat - 1)) more fresh seeds each"), scratch $dir"

if [ -z "$in_place" ]; then
  # The tree to mutate: a fresh export, copied over the kept one only where a file changed, so that
  # the kept build stays incremental and never mistakes an old object for a new source.
  rm -rf "$dir/export" && mkdir -p "$dir/export" "$dir/tree"
  if [ $worktree = 1 ]; then
    git ls-files -z -co --exclude-standard | tar --null -T - -c | tar -x -C "$dir/export"
  else
    git archive HEAD | tar -x -C "$dir/export"
  fi || { echo "mutants: cannot export the tree (is $root a git checkout?)"; exit 2; }
  (cd "$dir/export" && find . -type f -print0) | while IFS= read -r -d '' f; do
    cmp -s "$dir/export/$f" "$dir/tree/$f" || { mkdir -p "$(dirname "$dir/tree/$f")"; cp "$dir/export/$f" "$dir/tree/$f"; }
  done
  (cd "$dir/tree" && find . -type f -print0) | while IFS= read -r -d '' f; do
    [ -e "$dir/export/$f" ] || rm -f "$dir/tree/$f"
  done
  rm -rf "$dir/export"
  cd "$dir/tree"
else
  [ -f "$in_place/CMakeCache.txt" ] || { echo "mutants: --in-place $in_place is not a configured build folder"; exit 2; }
  touched=$(sed -n 's|^+++ b/\([^[:space:]]*\).*|\1|p' "${patches[@]}" | sort -u)
  # shellcheck disable=SC2086
  if ! git diff --quiet HEAD -- $touched; then
    echo "mutants: --in-place: uncommitted changes in a file the patches touch"; exit 2
  fi
  applied=""  # the patch applied now, reversed on any exit
  trap 'if [ -n "$applied" ]; then patch -p1 -R -s -f --no-backup-if-mismatch <"$applied" >/dev/null; fi; [ $scratch_is_temp = 0 ] || rm -rf "$dir"' EXIT
fi

# Every patch must apply to the tree as it is: a patch that no longer applies tries nothing.
failed=0
for p in "${patches[@]}"; do
  if ! patch -p1 -N -s -f --dry-run <"$p" >"$dir/logs/$(basename "$p" .patch).apply.log" 2>&1; then
    echo "$(basename "$p" .patch): the patch no longer applies to the tree (move it with the code it mutates)"
    failed=1
  fi
done
[ $failed = 0 ] || exit 1

build="$dir/build"
if [ -n "$in_place" ]; then
  build=$in_place
else
  # Only what the property suite needs, with light optimization and no debug info, linked by gold
  # (binutils'; each mutant relinks props_tests). (A compiler cache was tried and dropped: a mutant's
  # time is mostly the link and the suite, and a cold cache made the first build slower.)
  cmake -S . -B "$dir/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O1 -g0" -DCMAKE_EXE_LINKER_FLAGS=-fuse-ld=gold \
    -DTLSCHAN_BUILD_CLI=OFF >"$dir/logs/configure.log" 2>&1 || { echo "mutants: configure failed (see $dir/logs/configure.log)"; exit 2; }
fi
cmake --build "$build" -j2 --target props_tests >"$dir/logs/build.log" 2>&1 || { echo "mutants: the unmutated tree does not build (see $dir/logs/build.log)"; exit 2; }
echo "mutants: unmutated props_tests built ($(( $(date +%s) - start ))s)"
# A mutant is caught only where the unmutated tree passes: the suite runs on it first, same seed.
if ! RC_PARAMS="seed=$seed max_success=$cases" TLSCHAN_FAILURES="$dir/failures/unmutated" \
    "$build/bin/props_tests" --gtest_brief=1 >"$dir/logs/unmutated.log" 2>&1; then
  echo "mutants: the unmutated tree fails a property (see $dir/logs/unmutated.log)"
  exit 1
fi
echo "mutants: the unmutated tree passes every property ($(( $(date +%s) - start ))s)"

fast=--gtest_fail_fast
shrink=" noshrink=1"
[ $all = 1 ] && fast="" && shrink=""
caught_n=0
for p in "${patches[@]}"; do
  name=$(basename "$p" .patch)
  t0=$(date +%s)
  patch -p1 -N -s -f --no-backup-if-mismatch <"$p" >/dev/null
  applied=$p
  if ! cmake --build "$build" -j2 --target props_tests >"$dir/logs/$name.build.log" 2>&1; then
    echo "$name: does not build (see $dir/logs/$name.build.log)"
    failed=1
  else
    by=()
    survived_seed=""
    for ((k = 1; k <= repeat; k++)); do
      s=$seed
      [ $k -gt 1 ] && s=$(fresh_seed)
      RC_PARAMS="seed=$s max_success=$cases$shrink" TLSCHAN_FAILURES="$dir/failures/$name" \
        timeout 600 "$build/bin/props_tests" --gtest_brief=1 $fast >"$dir/logs/$name.log" 2>&1
      rc=$?
      caught=$(grep -E '^\[  FAILED  \] [A-Za-z0-9_]+\.[A-Za-z0-9_]+ \(' "$dir/logs/$name.log" |
               sed -E 's/^\[  FAILED  \] ([^ ]+) .*/\1/' | sort -u | paste -sd, -)
      if [ -z "$caught" ] && [ $rc -ne 0 ]; then
        # A crash (an assertion, a signal) or a hang inside a property: caught by the property it was in.
        running=$(grep -E '^\[ RUN      \]' "$dir/logs/$name.log" | tail -1 | sed -E 's/^\[ RUN      \] //')
        [ -n "$running" ] && caught="$running (exit status $rc)"
      fi
      if [ -z "$caught" ]; then
        survived_seed=$s
        break
      fi
      by+=("$caught")
    done
    if [ -z "$survived_seed" ]; then
      summary=$(printf '%s\n' "${by[@]}" | tr ',' '\n' | sort | uniq -c | sed -E 's/^ *([0-9]+) (.*)/\2/' | paste -sd, -)
      echo "$name: caught by $summary$([ "$repeat" -gt 1 ] && echo " ($repeat of $repeat seeds)") ($(( $(date +%s) - t0 ))s)"
      caught_n=$((caught_n + 1))
    else
      echo "$name: SURVIVED seed $survived_seed after $((k - 1)) catches (log: $dir/logs/$name.log; reproduce: ci/mutants.sh --all --seed $survived_seed --cases $cases ${p#"$root"/})"
      failed=1
    fi
  fi
  patch -p1 -R -s -f --no-backup-if-mismatch <"$p" >/dev/null
  applied=""
done
if [ -n "$in_place" ]; then
  # props_tests holds the last mutant: rebuilt from the reversed sources, so BUILD holds no mutant.
  cmake --build "$build" -j2 --target props_tests >"$dir/logs/rebuild.log" 2>&1 ||
    { echo "mutants: props_tests does not build again from the reversed sources (see $dir/logs/rebuild.log)"; failed=1; }
fi
echo "mutants: $caught_n of ${#patches[@]} caught, RC_PARAMS=\"seed=$seed max_success=$cases\", $(( $(date +%s) - start ))s"
exit $failed
