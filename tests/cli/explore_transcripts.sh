#!/usr/bin/env bash
# `tlschan explore --transcripts DIR`: every run's transcript is written, one per seed, and each
# replays identically. Usage: explore_transcripts.sh TLSCHAN WORKDIR
set -euo pipefail
tlschan=$1
work=$2
rm -rf "$work" && mkdir -p "$work"
"$tlschan" explore --first-seed 40 --seeds 12 --jobs 2 --out "$work/f" --transcripts "$work/t" --list "$work/list" >/dev/null
n=$(ls "$work/t" | wc -l)
[ "$n" = 12 ] || { echo "expected 12 transcripts, found $n"; exit 1; }
for seed in $(seq 40 51); do
  t="$work/t/explore-seed-$seed.transcript"
  [ -s "$t" ] || { echo "no transcript for seed $seed"; exit 1; }
  out=$("$tlschan" replay "$t") || { echo "seed $seed does not replay: $out"; exit 1; }
done
# The same seeds again: the same bytes.
"$tlschan" explore --first-seed 40 --seeds 12 --jobs 1 --out "$work/f" --transcripts "$work/t2" >/dev/null
diff -r "$work/t" "$work/t2" >/dev/null || { echo "a second run wrote other transcripts"; exit 1; }
echo "explore transcripts: 12 runs, each replays, the same bytes twice"
