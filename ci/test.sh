#!/usr/bin/env bash
# Installs what is missing, builds both presets (gcc RelWithDebInfo; clang with ASan+UBSan), runs
# every test in both, then installs the library and builds the example against the installed tree.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)

bash ci/deps.sh

step() { printf '\n== %s (%ds)\n' "$1" $(( $(date +%s) - start )); }

for preset in default asan; do
  step "configure $preset"
  cmake --preset "$preset" >/dev/null
  step "build $preset"
  cmake --build --preset "$preset"
  step "test $preset"
  ctest --preset "$preset"
done

step "install and build the example against the installed package"
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install build --prefix "$prefix/usr" >/dev/null
cmake -S examples -B "$prefix/example-build" -G Ninja -DCMAKE_PREFIX_PATH="$prefix/usr" >/dev/null
cmake --build "$prefix/example-build" -j2
"$prefix/example-build/session_pair"

step "done"
