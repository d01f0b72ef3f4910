#!/usr/bin/env bash
# ci/fuzz.sh [--oss-fuzz] [--build-only] [--fresh] [SECONDS]: builds the fuzz targets and runs every one for SECONDS (default
# 60) on one core, one after the other, from its seed corpus with its dictionary and .options;
# prints one table (target, exec/s, coverage, features, corpus size, crashes), headed by the build
# it comes from, and exits non-zero on any crash. server_session_fuzzer runs twice: on all its seeds
# (STARTTLS included), and on its plaintext seeds alone, kept on plaintext sessions (a dictionary
# without STARTTLS, no comparison-guided mutations, which would soon spell it), so that its figure
# is the speed of plaintext sessions.
#
# The build:
#   (default)   the `fuzz` preset (clang 16, -O2, libFuzzer, ASan+UBSan), in build-fuzz/.
#   --oss-fuzz  the build OSS-Fuzz and ClusterFuzzLite run: .clusterfuzzlite/build.sh (which runs
#               fuzz/oss-fuzz/build.sh) with OSS-Fuzz's flags (fuzz/oss-fuzz/env.sh: clang 16, -O1,
#               ASan+UBSan, libFuzzer), OUT and WORK in build-ossfuzz/ (kept: a rerun is
#               incremental); then fuzz/oss-fuzz/check_out.sh's checks of $OUT (the checks of the
#               ctest fuzz_oss_fuzz_build_sh); each target runs from $OUT with $OUT's .options and
#               its whole seed zip, unzipped.
#   --build-only  builds (and for --oss-fuzz checks $OUT), fuzzes nothing. ci/test.sh builds this way
#               beside the mutants, and its later fuzz step's build is then incremental.
#   --fresh     every target starts from its seeds alone: the run's corpus goes to
#               <build>/fuzz-corpus-fresh/ (emptied first), and the corpus earlier runs grew in
#               <build>/fuzz-corpus/ is left as it is. Without it a target starts from its seeds and
#               that kept corpus, whose heavier inputs lower its exec/s: compare tables made alike.
#
# A crash leaves, in <build>/crashes/<target>/ (server_session_fuzzer-plaintext for that row): the
# input, report.txt (libFuzzer's and the sanitizer's report), and reproduce.sh (the command that
# reproduces it; for the session targets also the TLSCHAN_TRANSCRIPT command, whose transcript is
# there too when it could be written, for `tlschan replay`). New corpus entries go to
# <build>/fuzz-corpus/<target>/ (with --fresh <build>/fuzz-corpus-fresh/<target>/), never to corpus/.
set -euo pipefail
cd "$(dirname "$0")/.."
usage() { echo "usage: ci/fuzz.sh [--oss-fuzz] [--build-only] [--fresh] [SECONDS]" >&2; exit 64; }
oss_fuzz=0
build_only=0
fresh=0
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) sed -n '2,29p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    --oss-fuzz) oss_fuzz=1; shift ;;
    --build-only) build_only=1; shift ;;
    --fresh) fresh=1; shift ;;
    -*) usage ;;
    *) break ;;
  esac
done
[ $# -le 1 ] || usage
seconds=${1:-60}
case "$seconds" in '' | *[!0-9]*) usage ;; esac

bash ci/deps.sh
targets=(smtp_command_fuzzer smtp_reply_fuzzer smtp_data_fuzzer imta_cnf_fuzzer dispatcher_cnf_fuzzer
  transcript_fuzzer server_session_fuzzer client_session_fuzzer starttls_transition_fuzzer)
if [ $oss_fuzz = 1 ]; then
  top=build-ossfuzz
  build_name="the OSS-Fuzz build (.clusterfuzzlite/build.sh, OSS-Fuzz's flags: clang 16, -O1, libFuzzer, ASan+UBSan)"
  mkdir -p "$top/out" "$top/work"
  (
    # shellcheck source=../fuzz/oss-fuzz/env.sh
    . fuzz/oss-fuzz/env.sh
    export OUT=$PWD/$top/out WORK=$PWD/$top/work
    bash .clusterfuzzlite/build.sh
  )
  bin=$top/out
  bash fuzz/oss-fuzz/check_out.sh "$bin" "$top/check" "${targets[@]}"
  if [ $build_only = 1 ]; then echo "fuzz: built and checked $bin (--build-only: no fuzzing)"; exit 0; fi
  # The whole seed corpus of each target, as OSS-Fuzz unpacks it.
  seed_dir=$top/seeds
  rm -rf "$seed_dir"
  for target in "${targets[@]}"; do
    mkdir -p "$seed_dir/$target"
    # (Python's zipfile: no unzip package needed; ci/deps.sh installs python3 already.)
    /usr/bin/python3 -m zipfile -e "$bin/${target}_seed_corpus.zip" "$seed_dir/$target"
  done
  options_dir=$bin
  dict_dir=$bin
else
  top=build-fuzz
  build_name="the fuzz preset (clang 16, -O2, libFuzzer, ASan+UBSan)"
  cmake --preset fuzz >/dev/null
  # The fuzz targets only: the tlschan program that replays a crash's transcript is built by its
  # reproduce.sh, when there is one.
  cmake --build --preset fuzz --target tlschan_fuzzers
  if [ $build_only = 1 ]; then echo "fuzz: built $top/bin (--build-only: no fuzzing)"; exit 0; fi
  bin=$top/bin
  options_dir=fuzz
  dict_dir=fuzz/dicts
fi

work=$top/fuzz-corpus
corpus_words="its seeds and the corpus of earlier runs ($work/)"
if [ $fresh = 1 ]; then
  work=$top/fuzz-corpus-fresh
  rm -rf "$work"
  corpus_words="its seeds alone (--fresh)"
fi
crashes=$top/crashes
logs=$top/fuzz-logs
mkdir -p "$work" "$crashes" "$logs"

# Readable sanitizer reports: a symbolizer of this clang if there is one.
for s in llvm-symbolizer-16 /usr/lib/llvm-16/bin/llvm-symbolizer llvm-symbolizer; do
  if command -v "$s" >/dev/null 2>&1; then export ASAN_SYMBOLIZER_PATH; ASAN_SYMBOLIZER_PATH=$(command -v "$s"); break; fi
done
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# A dictionary without STARTTLS, for the plaintext row.
grep -vi starttls fuzz/dicts/server_session_fuzzer.dict >"$logs/server_session_fuzzer_plaintext.dict"

# row name, target, seed folders (then "--" and extra libFuzzer flags)
if [ $oss_fuzz = 1 ]; then
  seeds_of() { echo "$seed_dir/$1"; }
else
  seeds_of() {
    echo "corpus/$1"
    if [ -d "corpus/${1}_starttls" ]; then echo "corpus/${1}_starttls"; fi
  }
fi
rows=()
for target in "${targets[@]}"; do
  if [ "$target" = server_session_fuzzer ]; then
    rows+=("server_session_fuzzer:plaintext server_session_fuzzer corpus/server_session_fuzzer -- -use_cmp=0 -dict=$logs/server_session_fuzzer_plaintext.dict")
  fi
  rows+=("$target $target $(seeds_of "$target" | tr '\n' ' ')")
done
session_targets=" server_session_fuzzer client_session_fuzzer starttls_transition_fuzzer "

# The [libfuzzer] options of <target>.options (fuzz/, or $OUT's copy) as command-line flags.
options_of() {
  sed -n 's/^[[:space:]]*\([a-z_]*\)[[:space:]]*=[[:space:]]*\(.*[^[:space:]]\)[[:space:]]*$/\1 \2/p' "$options_dir/$1.options" |
    while read -r key value; do
      if [ "$key" = dict ]; then echo "-dict=$dict_dir/$value"; else echo "-$key=$value"; fi
    done
}

table=$(printf '%-34s %10s %8s %9s %18s %8s' target exec/s cov ft corpus crashes)
failed=0
transition_execs=""
for row in "${rows[@]}"; do
  read -r name target rest <<<"$row"
  seeds=${rest%% -- *}
  extra=""
  if [[ "$rest" == *" -- "* ]]; then extra=${rest#* -- }; fi
  dir=$(printf '%s' "$name" | tr ':' '-')
  log="$logs/$dir.log"
  mkdir -p "$work/$dir" "$crashes/$dir"
  echo "== fuzzing $name for ${seconds}s"
  status=0
  # shellcheck disable=SC2046,SC2086
  "$bin/$target" "$work/$dir" $seeds $(options_of "$target") $extra -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix="$crashes/$dir/" >"$log" 2>&1 || status=$?
  execs=$(sed -n 's/^stat::average_exec_per_sec:[[:space:]]*\([0-9]*\).*/\1/p' "$log" | tail -n 1)
  status_line=$(grep -aE '^#[0-9]+.*cov: ' "$log" | tail -n 1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$status_line")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$status_line")
  corp=$(sed -n 's/.* corp: \([0-9]*\/[0-9]*[a-zA-Z]*\).*/\1/p' <<<"$status_line")
  crash_count=0
  if [ "$status" -ne 0 ]; then
    crash_count=1
    failed=1
    artifact=$(sed -n "s/.*Test unit written to \(.*\)$/\1/p" "$log" | tail -n 1)
    cp "$log" "$crashes/$dir/report.txt"
    {
      echo "#!/usr/bin/env bash"
      echo "# $name crashed after fuzzing from $seeds (exit status $status); report: report.txt"
      echo "cd \"\$(dirname \"\$0\")/../../..\""
      echo "$bin/$target ${artifact:-<the input>}"
    } >"$crashes/$dir/reproduce.sh"
    if [ -n "$artifact" ] && [[ "$session_targets" == *" $target "* ]]; then
      transcript="$artifact.transcript"
      {
        echo "# the run as a transcript, then its replay:"
        echo "TLSCHAN_TRANSCRIPT=$transcript $bin/$target $artifact"
        if [ $oss_fuzz = 1 ]; then
          echo "cmake --preset default && cmake --build --preset default --target tlschan"
          echo "build/bin/tlschan replay $transcript"
        else
          echo "cmake --build --preset fuzz --target tlschan"
          echo "$bin/tlschan replay $transcript"
        fi
      } >>"$crashes/$dir/reproduce.sh"
      TLSCHAN_TRANSCRIPT="$transcript" "$bin/$target" "$artifact" >/dev/null 2>&1 || true
    fi
    chmod +x "$crashes/$dir/reproduce.sh"
    echo "   CRASH: $crashes/$dir/ (input ${artifact:-not written}, report.txt, reproduce.sh)"
    grep -a -m 1 -E 'ERROR: |==tlschan fuzz check failed==|runtime error' "$log" | sed 's/^/   /' || true
  fi
  table+=$'\n'$(printf '%-34s %10s %8s %9s %18s %8s' "$name" "${execs:--}" "${cov:--}" "${ft:--}" "${corp:--}" "$crash_count")
  if [ "$name" = starttls_transition_fuzzer ]; then transition_execs=$execs; fi
done

# starttls_transition_fuzzer against the bare OpenSSL handshake rate of this machine, measured here
# in the same run by the benchmark (BM_BareHandshake of the default gcc build, whose tlschan_bench
# is built when missing): the target is at least 0.8 of that rate.
handshake_line="bare handshake: not measured"
echo "== the bare OpenSSL handshake rate (bench, default gcc build)"
if { [ -x build/bin/tlschan_bench ] || { cmake --preset default >/dev/null && cmake --build --preset default --target tlschan_bench; }; } &&
  hs_json=$(./build/bin/tlschan_bench --benchmark_filter='^BM_BareHandshake' --benchmark_min_time=3 --benchmark_format=json 2>/dev/null); then
  handshake_line=$(/usr/bin/python3 - "$hs_json" "${transition_execs:-}" <<'PY'
import json, sys
b = json.loads(sys.argv[1])["benchmarks"][0]
scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[b.get("time_unit", "ns")]
rate = 1.0 / (b["real_time"] * scale)
line = f"bare handshake (bench BM_BareHandshake, gcc, same run): {rate:.0f}/s"
if sys.argv[2]:
    execs = int(sys.argv[2])
    line += f"; starttls_transition_fuzzer {execs} exec/s = {execs / rate:.2f} of it (target 0.80)"
print(line)
PY
  ) || handshake_line="bare handshake: the benchmark's output could not be read"
fi

# The table also goes to <build>/fuzz-table.txt (build-fuzz/ or build-ossfuzz/), headed by the build
# and when and where it was measured, for bench/report.sh (which shows the latest run's table of
# build-fuzz/ without fuzzing again).
cpu=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo | head -n 1)
heading="fuzzing $build_name, ${seconds}s per target from $corpus_words, one core; $(date -u +%Y-%m-%d), ${cpu:-unknown CPU}, $(nproc) cores"
printf '%s\n%s\n%s\n' "$heading" "$table" "$handshake_line" >"$top/fuzz-table.txt"
echo
echo "$heading (logs in $logs/)"
echo "$table"
echo "$handshake_line"
if [ "$failed" -ne 0 ]; then
  echo "crashes found: see $crashes/<target>/reproduce.sh"
  exit 1
fi
