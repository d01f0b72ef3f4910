#!/usr/bin/env bash
# `tlschan matrix --html`: the same seed writes the same page byte for byte, the page holds a marked
# cell per matrix cell, asking for it leaves the JSON as it was, and another seed writes another page.
# Usage: matrix_html_twice.sh TLSCHAN WORKDIR
set -euo pipefail
tlschan=$1
work=$2
rm -rf "$work" && mkdir -p "$work"
"$tlschan" matrix --seed 9 --json --html "$work/a.html" >"$work/a.json"
"$tlschan" matrix --seed 9 --json --html "$work/b.html" >"$work/b.json"
"$tlschan" matrix --seed 9 --json >"$work/plain.json"
"$tlschan" matrix --seed 10 --json --html "$work/c.html" >/dev/null
cmp -s "$work/a.html" "$work/b.html" || { echo "seed 9 twice: the pages differ"; exit 1; }
cmp -s "$work/a.json" "$work/plain.json" || { echo "--html changed the JSON of seed 9"; exit 1; }
! cmp -s "$work/a.html" "$work/c.html" || { echo "seeds 9 and 10 wrote the same page"; exit 1; }
cells=$(grep -o '<td class="cell ' "$work/a.html" | wc -l)
[ "$cells" = 126 ] || { echo "expected 126 marked cells, found $cells"; exit 1; }
echo "matrix --html: the same page twice for seed 9 ($(wc -c <"$work/a.html") octets, 126 cells), the JSON unchanged, another page for seed 10"
