#!/usr/bin/env bash
# The ctest check of the OSS-Fuzz/ClusterFuzzLite build: runs .clusterfuzzlite/build.sh (which runs
# fuzz/oss-fuzz/build.sh) from the source tree with the OSS-Fuzz environment set by hand (env.sh:
# clang 16, ASan+UBSan, libFuzzer), then checks $OUT with check_out.sh (every target with its seed
# zip, dictionary and options; OpenSSL linked statically; each target runs from $OUT).
# `ci/fuzz.sh --oss-fuzz` runs the same build and checks, then fuzzes from $OUT.
# Usage: check_build.sh SOURCE_DIR SCRATCH_PARENT TARGET...
# Each run builds in a folder of its own under SCRATCH_PARENT (two test runs may overlap), removed
# when the check passes and kept for a look when it fails.
set -euo pipefail
src=$1
mkdir -p "$2"
scratch=$(mktemp -d "$2/run.XXXXXX")
shift 2
mkdir -p "$scratch/out" "$scratch/work" "$scratch/src"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=env.sh
. "$here/env.sh"
export OUT=$scratch/out WORK=$scratch/work SRC=$scratch/src
cd "$src"
bash .clusterfuzzlite/build.sh

if ! bash "$here/check_out.sh" "$OUT" "$scratch/runs" "$@"; then
  echo "the build is kept in $scratch"
  exit 1
fi
rm -rf "$scratch"
