#!/usr/bin/env bash
# Records, and compares, what the simulator writes, so that a change meant to keep behaviour can be
# shown to keep it byte for byte (docs/simulator.md, "Proving a change keeps behaviour").
#
# Usage: ci/transcripts.sh record DIR [BUILD]   (BUILD: a build folder with bin/tlschan and the
#                                                standalone fuzz targets; default: build)
#        ci/transcripts.sh compare OLD NEW       (exit 0 iff every file is the same in both)
#
# record writes to DIR:
#   scenarios/NAME.seedS.transcript   every corpus/scenarios/*.toml under seeds 1, 7 and 1000
#   scenarios/status.txt              each of those runs' exit status
#   matrix.json, matrix-seed5.json    tlschan matrix --json, under the default seeds and under --seed 5
#   explore/explore-seed-N.transcript 500 random scenarios of tlschan explore, every run's transcript
#   explore.list                      their seeds and outcomes
#   status.txt                        the exit status of the matrix and explore runs
#   regressions.txt                   tlschan replay of each corpus/regressions/transcripts/ file
#   fuzz/TARGET/INPUT.transcript      each seed input of the session fuzz targets, run as a scenario
#                                     by TLSCHAN_TRANSCRIPT
set -euo pipefail
cd "$(dirname "$0")/.."
usage() { sed -n '5,7p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 64; }
[ $# -ge 2 ] || usage

case "$1" in
  record)
    out=$2
    build=${3:-build}
    bin=$build/bin
    [ -x "$bin/tlschan" ] || { echo "transcripts: $bin/tlschan is not built" >&2; exit 2; }
    rm -rf "$out"
    mkdir -p "$out/scenarios" "$out/explore" "$out/fuzz"
    for scenario in corpus/scenarios/*.toml; do
      name=$(basename "$scenario" .toml)
      for seed in 1 7 1000; do
        rc=0
        "$bin/tlschan" run "$scenario" --seed "$seed" --transcript "$out/scenarios/$name.seed$seed.transcript" >/dev/null 2>&1 || rc=$?
        echo "$name seed $seed: exit $rc" >>"$out/scenarios/status.txt"
      done
    done
    echo "transcripts: $(ls "$out/scenarios" | grep -c transcript) scenario runs" >&2
    # A disagreeing cell or a failing explore run is part of what is recorded (the exit status too),
    # not a reason to stop recording: the comparison shows it.
    rc=0; "$bin/tlschan" matrix --json >"$out/matrix.json" || rc=$?
    echo "matrix: exit $rc" >>"$out/status.txt"
    rc=0; "$bin/tlschan" matrix --json --seed 5 >"$out/matrix-seed5.json" || rc=$?
    echo "matrix --seed 5: exit $rc" >>"$out/status.txt"
    rc=0; "$bin/tlschan" explore --seeds 500 --jobs 2 --out "$out/explore-failures" --transcripts "$out/explore" \
      --list "$out/explore.list" >/dev/null 2>&1 || rc=$?
    echo "explore: exit $rc" >>"$out/status.txt"
    echo "transcripts: matrix and $(ls "$out/explore" | wc -l) explore runs" >&2
    for t in corpus/regressions/transcripts/*.transcript; do
      printf '%s: ' "$(basename "$t")" >>"$out/regressions.txt"
      "$bin/tlschan" replay "$t" >>"$out/regressions.txt" 2>&1 || echo "(exit $?)" >>"$out/regressions.txt"
    done
    n=0
    for target in server_session_fuzzer client_session_fuzzer starttls_transition_fuzzer; do
      [ -x "$bin/$target" ] || { echo "transcripts: $bin/$target is not built" >&2; exit 2; }
      mkdir -p "$out/fuzz/$target"
      for d in "corpus/$target" "corpus/${target}_starttls" "corpus/regressions/$target"; do
        [ -d "$d" ] || continue
        for input in "$d"/*; do
          [ -f "$input" ] || continue
          TLSCHAN_TRANSCRIPT="$out/fuzz/$target/$(basename "$d")-$(basename "$input").transcript" \
            "$bin/$target" "$input" >/dev/null 2>&1 || echo "$input: exit $?" >>"$out/fuzz/status.txt"
          n=$((n + 1))
        done
      done
    done
    echo "transcripts: $n fuzz inputs; recorded $(find "$out" -type f | wc -l) files in $out" >&2
    ;;
  compare)
    old=$2 new=$3
    [ -d "$old" ] && [ -d "$new" ] || usage
    total=$( (cd "$old" && find . -type f) | wc -l)
    if diff -rq "$old" "$new" >/dev/null; then
      echo "transcripts: all $total files identical"
    else
      diff -rq "$old" "$new" | head -n 50
      echo "transcripts: $(diff -rq "$old" "$new" | wc -l) of $total files differ"
      exit 1
    fi
    ;;
  -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//' ;;
  *) usage ;;
esac
