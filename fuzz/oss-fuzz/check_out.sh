#!/usr/bin/env bash
# The checks of an OSS-Fuzz/ClusterFuzzLite build's output folder (shared by check_build.sh and
# `ci/fuzz.sh --oss-fuzz`): $OUT holds every target with its seed zip, dictionary and options, each
# target links OpenSSL statically and runs from $OUT alone (a few inputs from nothing).
# Usage: check_out.sh OUT SCRATCH TARGET...   (SCRATCH: a folder for the runs' logs)
set -euo pipefail
out=$1
scratch=$2
shift 2
mkdir -p "$scratch"
out=$(cd "$out" && pwd)
scratch=$(cd "$scratch" && pwd)
missing=0
for target in "$@"; do
  for f in "$target" "${target}_seed_corpus.zip" "$target.dict" "$target.options"; do
    if [ ! -s "$out/$f" ]; then
      echo "missing from \$OUT: $f"
      missing=1
    fi
  done
  [ -x "$out/$target" ] || { echo "not executable: $target"; missing=1; continue; }
  if ldd "$out/$target" | grep -qE 'libssl|libcrypto'; then
    echo "$target links OpenSSL dynamically"
    missing=1
  fi
  # Only $OUT reaches the runner. (The seeds and regression inputs run in `ctest -L fuzz` through
  # the standalone targets.)
  empty=$(mktemp -d -p "$scratch")
  if ! (cd "$out" && "./$target" -runs=50 -artifact_prefix="$empty/" "$empty" >"$empty.log" 2>&1); then
    echo "$target does not run from \$OUT:"
    tail -n 20 "$empty.log"
    missing=1
  fi
  rm -rf "$empty" "$empty.log"
done
[ "$missing" -eq 0 ] || exit 1
echo "\$OUT held $# targets, each with its seed corpus, dictionary and options; OpenSSL linked statically"
