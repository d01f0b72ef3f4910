#!/usr/bin/env bash
# The ctest check of the OSS-Fuzz/ClusterFuzzLite build: runs .clusterfuzzlite/build.sh (which runs
# fuzz/oss-fuzz/build.sh) from the source tree with the OSS-Fuzz environment set by hand (clang 16,
# ASan, libFuzzer), then checks that $OUT holds every target with its seed zip, dictionary and
# options, that each target links OpenSSL statically and runs from $OUT.
# Usage: check_build.sh SOURCE_DIR SCRATCH_PARENT TARGET...
# Each run builds in a folder of its own under SCRATCH_PARENT (two test runs may overlap), removed
# when the check passes and kept for a look when it fails.
set -euo pipefail
src=$1
mkdir -p "$2"
scratch=$(mktemp -d "$2/run.XXXXXX")
shift 2
mkdir -p "$scratch/out" "$scratch/work" "$scratch/src"
export CC=clang-16 CXX=clang++-16
export CFLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only -fsanitize=address -fsanitize-address-use-after-scope -fsanitize=fuzzer-no-link"
export CXXFLAGS="$CFLAGS"
export LIB_FUZZING_ENGINE=-fsanitize=fuzzer
export OUT=$scratch/out WORK=$scratch/work SRC=$scratch/src
cd "$src"
bash .clusterfuzzlite/build.sh

missing=0
for target in "$@"; do
  for f in "$target" "${target}_seed_corpus.zip" "$target.dict" "$target.options"; do
    if [ ! -s "$OUT/$f" ]; then
      echo "missing from \$OUT: $f"
      missing=1
    fi
  done
  [ -x "$OUT/$target" ] || { echo "not executable: $target"; missing=1; continue; }
  if ldd "$OUT/$target" | grep -qE 'libssl|libcrypto'; then
    echo "$target links OpenSSL dynamically"
    missing=1
  fi
  # The target runs from $OUT alone (only $OUT reaches the runner): a few inputs from nothing. (The
  # seeds and regression inputs run in `ctest -L fuzz` through the standalone targets.)
  empty=$(mktemp -d -p "$scratch")
  if ! (cd "$OUT" && "./$target" -runs=50 -artifact_prefix="$empty/" "$empty" >"$empty.log" 2>&1); then
    echo "$target does not run from \$OUT:"
    tail -n 20 "$empty.log"
    missing=1
  fi
done
if [ "$missing" -ne 0 ]; then
  echo "the build is kept in $scratch"
  exit 1
fi
rm -rf "$scratch"
echo "\$OUT held $# targets, each with its seed corpus, dictionary and options; OpenSSL linked statically"
