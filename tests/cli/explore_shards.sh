#!/usr/bin/env bash
# Sharding of `tlschan explore`: the shards of a seed range together run exactly the seeds one run
# of the whole range runs, each once, with the same outcomes. Usage: explore_shards.sh TLSCHAN WORKDIR
set -euo pipefail
tlschan=$1
work=$2
rm -rf "$work" && mkdir -p "$work"
"$tlschan" explore --first-seed 1000 --seeds 37 --jobs 2 --out "$work/f" --list "$work/whole" >/dev/null
for n in 2 3; do
  : >"$work/joined"
  for ((i = 0; i < n; i++)); do
    "$tlschan" explore --first-seed 1000 --seeds 37 --jobs 2 --shard "$i/$n" --out "$work/f" --list "$work/shard$i" >/dev/null
    [ -s "$work/shard$i" ] || { echo "shard $i/$n ran no seed"; exit 1; }
    cat "$work/shard$i" >>"$work/joined"
  done
  if ! cmp "$work/joined" "$work/whole"; then
    echo "the $n shards together do not run the seeds of one run:"; diff "$work/joined" "$work/whole" | head; exit 1
  fi
  echo "$n shards: $(wc -l <"$work/joined") runs, the same seeds and outcomes as one run"
done
[ "$(wc -l <"$work/whole")" = 37 ] && [ "$(head -c 5 "$work/whole")" = "1000 " ] && [ "$(tail -1 "$work/whole" | cut -d' ' -f1)" = 1036 ]
if "$tlschan" explore --seeds 5 --shard 2/2 >/dev/null 2>&1; then echo "--shard 2/2 was accepted"; exit 1; fi
echo "explore shards: ok"
