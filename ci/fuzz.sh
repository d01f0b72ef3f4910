#!/usr/bin/env bash
# ci/fuzz.sh [SECONDS]: builds the `fuzz` preset (clang 16, libFuzzer, ASan+UBSan) and runs every
# fuzz target for SECONDS (default 60) on one core, one after the other, from its seed corpus with
# its dictionary and .options; prints one table (target, exec/s, coverage, features, corpus size,
# crashes) and exits non-zero on any crash. server_session_fuzzer runs twice: on all its seeds
# (STARTTLS included), and on its plaintext seeds alone, kept on plaintext sessions (a dictionary
# without STARTTLS, no comparison-guided mutations, which would soon spell it), so that its figure
# is the speed of plaintext sessions.
#
# A crash leaves, in build-fuzz/crashes/<target>/ (server_session_fuzzer-plaintext for that row): the input, report.txt (libFuzzer's and the
# sanitizer's report), and reproduce.sh (the command that reproduces it; for the session targets
# also the TLSCHAN_TRANSCRIPT command, whose transcript is there too when it could be written, for
# `tlschan replay`). New corpus entries go to build-fuzz/fuzz-corpus/<target>/, never to corpus/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
case "$seconds" in '' | *[!0-9]*) echo "usage: ci/fuzz.sh [SECONDS]" >&2; exit 64 ;; esac

bash ci/deps.sh
cmake --preset fuzz >/dev/null
# The fuzz targets only: the tlschan program that replays a crash's transcript is built by its
# reproduce.sh, when there is one.
cmake --build --preset fuzz --target tlschan_fuzzers

bin=build-fuzz/bin
work=build-fuzz/fuzz-corpus
crashes=build-fuzz/crashes
logs=build-fuzz/fuzz-logs
mkdir -p "$work" "$crashes" "$logs"

# Readable sanitizer reports: a symbolizer of this clang if there is one.
for s in llvm-symbolizer-16 /usr/lib/llvm-16/bin/llvm-symbolizer llvm-symbolizer; do
  if command -v "$s" >/dev/null 2>&1; then export ASAN_SYMBOLIZER_PATH; ASAN_SYMBOLIZER_PATH=$(command -v "$s"); break; fi
done
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# A dictionary without STARTTLS, for the plaintext row.
grep -vi starttls fuzz/dicts/server_session_fuzzer.dict >"$logs/server_session_fuzzer_plaintext.dict"

# row name, target, seed folders (then "--" and extra libFuzzer flags)
rows=(
  "smtp_command_fuzzer smtp_command_fuzzer corpus/smtp_command_fuzzer"
  "smtp_reply_fuzzer smtp_reply_fuzzer corpus/smtp_reply_fuzzer"
  "smtp_data_fuzzer smtp_data_fuzzer corpus/smtp_data_fuzzer"
  "imta_cnf_fuzzer imta_cnf_fuzzer corpus/imta_cnf_fuzzer"
  "dispatcher_cnf_fuzzer dispatcher_cnf_fuzzer corpus/dispatcher_cnf_fuzzer"
  "transcript_fuzzer transcript_fuzzer corpus/transcript_fuzzer"
  "server_session_fuzzer:plaintext server_session_fuzzer corpus/server_session_fuzzer -- -use_cmp=0 -dict=$logs/server_session_fuzzer_plaintext.dict"
  "server_session_fuzzer server_session_fuzzer corpus/server_session_fuzzer corpus/server_session_fuzzer_starttls"
  "client_session_fuzzer client_session_fuzzer corpus/client_session_fuzzer"
  "starttls_transition_fuzzer starttls_transition_fuzzer corpus/starttls_transition_fuzzer"
)
session_targets=" server_session_fuzzer client_session_fuzzer starttls_transition_fuzzer "

# The [libfuzzer] options of fuzz/<target>.options as command-line flags.
options_of() {
  sed -n 's/^[[:space:]]*\([a-z_]*\)[[:space:]]*=[[:space:]]*\(.*[^[:space:]]\)[[:space:]]*$/\1 \2/p' "fuzz/$1.options" |
    while read -r key value; do
      if [ "$key" = dict ]; then echo "-dict=fuzz/dicts/$value"; else echo "-$key=$value"; fi
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
        echo "cmake --build --preset fuzz --target tlschan"
        echo "$bin/tlschan replay $transcript"
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
# is built when missing): the target is at least half of that rate.
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
    line += f"; starttls_transition_fuzzer {execs} exec/s = {execs / rate:.2f} of it (target 0.50)"
print(line)
PY
  ) || handshake_line="bare handshake: the benchmark's output could not be read"
fi

# The table also goes to build-fuzz/fuzz-table.txt, headed by when and where it was measured, for
# bench/report.sh (which shows the latest run's table without fuzzing again).
cpu=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo | head -n 1)
heading="fuzzing, ${seconds}s per target, one core, ASan+UBSan; $(date -u +%Y-%m-%d), ${cpu:-unknown CPU}, $(nproc) cores"
printf '%s\n%s\n%s\n' "$heading" "$table" "$handshake_line" >build-fuzz/fuzz-table.txt
echo
echo "$heading (logs in $logs/)"
echo "$table"
echo "$handshake_line"
if [ "$failed" -ne 0 ]; then
  echo "crashes found: see $crashes/<target>/reproduce.sh"
  exit 1
fi
