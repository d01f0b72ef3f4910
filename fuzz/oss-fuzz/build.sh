#!/bin/bash -eu
# Builds tlschan's fuzz targets for OSS-Fuzz and ClusterFuzzLite. OSS-Fuzz runs it with the source
# tree as the working folder (the Dockerfile's WORKDIR) and sets CC, CXX, CFLAGS, CXXFLAGS,
# LIB_FUZZING_ENGINE, OUT and WORK. It writes to $OUT every target, <target>_seed_corpus.zip (the
# seeds and the regression inputs), <target>.dict and <target>.options. OpenSSL is linked
# statically: only $OUT reaches the machines that run the fuzzers.

# The source tree: the folder this runs in, or else the tree this script belongs to.
src=$PWD
if [ ! -f "$src/fuzz/CMakeLists.txt" ]; then
  src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
fi
if [ ! -f "$src/fuzz/CMakeLists.txt" ]; then
  echo "build.sh: run it from the tlschan source tree (found no fuzz/CMakeLists.txt in $PWD)" >&2
  exit 1
fi
: "${OUT:?OUT must name the output folder}" "${LIB_FUZZING_ENGINE:?LIB_FUZZING_ENGINE must be set}"
work=${WORK:-$(mktemp -d)}/tlschan-build

generator=()
if command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi
# The build type OssFuzz adds no flags of its own: CXXFLAGS decide optimization and sanitizers.
cmake -S "$src" -B "$work" "${generator[@]}" \
  -DCMAKE_BUILD_TYPE=OssFuzz \
  -DCMAKE_CXX_COMPILER="${CXX:-clang++}" \
  -DCMAKE_CXX_FLAGS="${CXXFLAGS:-}" \
  -DTLSCHAN_FUZZ_ENGINE="$LIB_FUZZING_ENGINE" \
  -DTLSCHAN_BUILD_TESTS=OFF \
  -DTLSCHAN_BUILD_CLI=OFF \
  -DOPENSSL_USE_STATIC_LIBS=TRUE
cmake --build "$work" --parallel "$(nproc)" --target tlschan_fuzzers

mkdir -p "$OUT"
count=0
for binary in "$work"/bin/*_fuzzer; do
  target=$(basename "$binary")
  count=$((count + 1))
  cp "$binary" "$OUT/"
  cp "$src/fuzz/dicts/$target.dict" "$OUT/"
  cp "$src/fuzz/$target.options" "$OUT/"
  rm -f "$OUT/${target}_seed_corpus.zip"
  seeds=()
  for d in "$src/corpus/$target" "$src/corpus/${target}_starttls" "$src/corpus/regressions/$target"; do
    if [ -d "$d" ]; then seeds+=("$d"); fi
  done
  # Seed files of different folders may share a name: each is stored under a name of its folder.
  staging=$(mktemp -d)
  for d in "${seeds[@]}"; do
    prefix=$(basename "$d")
    if [ "$d" = "$src/corpus/regressions/$target" ]; then prefix=regression; fi
    find "$d" -maxdepth 1 -type f ! -name '.*' -exec sh -c 'cp "$1" "$2/$3-$(basename "$1")"' _ {} "$staging" "$prefix" \;
  done
  (cd "$staging" && zip -q -r "$OUT/${target}_seed_corpus.zip" .)
  rm -rf "$staging"
done
echo "build.sh: $count targets in $OUT"
