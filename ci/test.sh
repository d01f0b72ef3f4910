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
ci/mutants.sh

step "bench/report.sh --json --quick prints every key (figures are for bench/report.sh, not for tests)"
bench/report.sh --json --quick >"$scratch/bench.json"
/usr/bin/python3 - "$scratch/bench.json" <<'PY'
import json, sys
keys = ["sim_starttls_session_vs_raw_handshake", "sim_plain_vs_starttls_session", "sim_vs_asio_loopback",
        "sim_plain_vs_asio_loopback_plain", "sim_vs_aiosmtpd", "sim_plain_vs_aiosmtpd_plain",
        "command_parser_vs_memchr", "sim_conn_overhead_kib"]
report = json.load(open(sys.argv[1]))
missing = [k for k in keys if k not in report]
if missing:
    sys.exit("bench/report.sh --json lacks " + ", ".join(missing))
print("bench report: all %d keys present" % len(keys))
PY

step "install and build the example against the installed package"
prefix="$scratch/prefix"
cmake --install build --prefix "$prefix/usr" >/dev/null
cmake -S examples -B "$prefix/example-build" -G Ninja -DCMAKE_PREFIX_PATH="$prefix/usr" >/dev/null
cmake --build "$prefix/example-build" -j2
"$prefix/example-build/session_pair"

step "fuzz: every fuzz target for 5 seconds (the fuzz preset: clang 16, libFuzzer, ASan+UBSan)"
ci/fuzz.sh 5

step "done"
