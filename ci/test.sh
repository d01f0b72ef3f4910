#!/usr/bin/env bash
# Installs what is missing, builds both presets (gcc RelWithDebInfo; clang with ASan+UBSan), runs
# every test in both, then builds the library in Release (static and shared), installs it and builds
# the example against the installed tree, and checks the .deb in a fresh chroot where it can.
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
  if [ "$preset" = default ]; then
    # Not fuzz_oss_fuzz_build_sh: the fuzz step at the end (ci/fuzz.sh --oss-fuzz) runs the same
    # OSS-Fuzz build and the same checks of its $OUT (fuzz/oss-fuzz/check_out.sh), then fuzzes.
    # Not the interop tests (label interop, real peers on loopback, mostly waiting on them): they
    # run in the asan preset, against the sanitized build, where they check more.
    ctest --preset "$preset" -LE interop -E '^fuzz_oss_fuzz_build_sh$'
  else
    ctest --preset "$preset"
  fi
done

step "same seed, same transcript under the gcc and the clang builds"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for scenario in corpus/scenarios/*.toml; do
  name=$(basename "$scenario" .toml)
  ./build/bin/tlschan run "$scenario" --seed 7 --transcript "$scratch/$name.gcc" >/dev/null
  ./build-asan/bin/tlschan run "$scenario" --seed 7 --transcript "$scratch/$name.clang" >/dev/null
  cmp "$scratch/$name.gcc" "$scratch/$name.clang"
  ./build-asan/bin/tlschan replay "$scratch/$name.gcc" >/dev/null
done
echo "transcripts identical across compilers for $(ls corpus/scenarios/*.toml | wc -l) scenarios"

step "explore: random scenarios, faults and meddlers against the oracle (bounded)"
./build/bin/tlschan explore --seeds 5000 --jobs 2 --out build/explore-failures

step "mutants: every patch of ci/mutants/ applies and every mutant is caught by a property (docs/mutants.md)"
# The mutants keep about one core busy (one source and the link per mutant, then the suite on one
# thread): the OSS-Fuzz build of the fuzz step builds beside them, and that step's build is then
# incremental. Its log is printed if it fails. The mutants patch this checkout in place and rebuild
# props_tests in the default build (--in-place: no second build of the engine and the simulator);
# the bench step's build then recompiles the sources they patched, reversed.
mkdir -p build-ossfuzz
setsid ci/fuzz.sh --oss-fuzz --build-only >build-ossfuzz/ci-build.log 2>&1 &
fuzz_build=$!
trap 'kill -- -"$fuzz_build" 2>/dev/null; rm -rf "$scratch"' EXIT
ci/mutants.sh --in-place build
if ! wait "$fuzz_build"; then
  cat build-ossfuzz/ci-build.log
  echo "the OSS-Fuzz build failed (above)"
  exit 1
fi
tail -n 1 build-ossfuzz/ci-build.log
trap 'rm -rf "$scratch"' EXIT

step "bench/report.sh --json --quick prints every key (figures are for bench/report.sh, not for tests)"
bench/report.sh --json --quick >"$scratch/bench.json"
/usr/bin/python3 - "$scratch/bench.json" <<'PY'
import json, sys
keys = ["sim_starttls_session_vs_raw_handshake", "sim_plain_vs_starttls_session", "sim_vs_asio_loopback",
        "sim_plain_vs_asio_loopback_plain", "sim_vs_aiosmtpd", "sim_plain_vs_aiosmtpd_plain",
        "command_parser_vs_memchr", "sim_conn_overhead_kib", "serve_vs_postfix_msgs", "serve_vs_smtp_sink", "serve_starttls_vs_aiosmtpd", "serve_conn_kib"]
report = json.load(open(sys.argv[1]))
missing = [k for k in keys if k not in report]
if missing:
    sys.exit("bench/report.sh --json lacks " + ", ".join(missing))
print("bench report: all %d keys present" % len(keys))
PY

step "as users build it: the library in Release, warnings as errors, static and shared; installed; the example against it by find_package and by pkg-config"
version=$(sed -n 's/^project(tlschan VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
[ "$(./build/bin/tlschan --version)" = "tlschan $version" ] || { echo "tlschan --version is not $version"; exit 1; }
for kind in static shared; do
  prefix="$scratch/release-$kind"
  shared=OFF; if [ "$kind" = shared ]; then shared=ON; fi
  cmake -S . -B "$prefix/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTLSCHAN_WERROR=ON -DBUILD_SHARED_LIBS=$shared \
    -DTLSCHAN_BUILD_TESTS=OFF -DTLSCHAN_BUILD_CLI=OFF -DCMAKE_SKIP_INSTALL_ALL_DEPENDENCY=ON >/dev/null
  cmake --build "$prefix/build" -j2 --target tlschan_engine
  cmake --install "$prefix/build" --prefix "$prefix/usr" >/dev/null
  cmake -S examples -B "$prefix/example-build" -G Ninja -DCMAKE_PREFIX_PATH="$prefix/usr" >/dev/null
  cmake --build "$prefix/example-build" -j2 >/dev/null
  "$prefix/example-build/session_pair"
  libdir=$(cd "$(dirname "$(find "$prefix/usr" -name tlschan.pc)")/.." && pwd)
  g++ -std=c++20 -o "$prefix/session_pair_pc" examples/session_pair.cpp $(PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --cflags --libs tlschan)
  LD_LIBRARY_PATH="$libdir" "$prefix/session_pair_pc"
  if [ "$kind" = shared ]; then
    soname=$(readelf -d "$libdir"/libtlschan_engine.so | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
    echo "shared engine: SONAME $soname"
    loaded=$(ldd "$prefix/example-build/session_pair")
    if [ -z "$soname" ] || [ ! -e "$libdir/$soname" ] || [[ "$loaded" != *"$soname => $libdir/$soname"* ]]; then
      echo "the shared engine's SONAME '$soname' is not installed or not what the example loads"; exit 1
    fi
  fi
done

step "the Debian package in a fresh Debian 12 chroot (ci/deb-check.sh; docs/building.md says when it runs)"
# Making the base system with debootstrap, and the Release build of the program the package holds,
# take more than this script's time budget has on a fresh machine: the check runs where a base
# system is already made (or TLSCHAN_DEB_CHECK=1 asks for one).
if [ "${TLSCHAN_DEB_CHECK:-}" = 1 ] || [ -x "${TLSCHAN_DEB_ROOT:-/var/tmp/tlschan-deb-check}.base/usr/bin/apt-get" ]; then
  deb_rc=0; ci/deb-check.sh || deb_rc=$?
  if [ "$deb_rc" -ne 0 ] && [ "$deb_rc" -ne 3 ]; then exit "$deb_rc"; fi
else
  echo "deb-check: skipped: no Debian 12 base system on this machine yet (TLSCHAN_DEB_CHECK=1 ci/test.sh, or ci/deb-check.sh alone, makes one)"
fi

step "fuzz: the OSS-Fuzz build (.clusterfuzzlite/build.sh, its checks), every fuzz target from it for 3 seconds"
ci/fuzz.sh --oss-fuzz 3

step "done"
