#!/usr/bin/env bash
# Replays every transcript of corpus/regressions/transcripts/: each must replay identically.
set -u
tlschan=$1
dir=$2
count=0
for t in "$dir"/*.transcript; do
  [ -e "$t" ] || continue
  count=$((count + 1))
  if ! "$tlschan" replay "$t"; then
    echo "regression transcript diverged: $t"
    exit 1
  fi
done
echo "$count regression transcripts replayed identically"
[ "$count" -gt 0 ]
