#!/usr/bin/env bash
# `tlschan show --svg/--html` and `tlschan replay --html` on a run with an injection: the files are
# well-formed, self-contained, hold the injected commands as meddler elements and the TLS band, are
# the same bytes twice; a replay that differs marks its first differing line.
# Usage: show_outputs.sh TLSCHAN SCENARIO_DIR WORKDIR
set -euo pipefail
tlschan=$1
scenarios=$2
work=$3
rm -rf "$work" && mkdir -p "$work"
fail() { echo "show outputs: $*"; exit 1; }
"$tlschan" run "$scenarios/inject-command.toml" --seed 7 --transcript "$work/run.transcript" >/dev/null
"$tlschan" show "$work/run.transcript" --svg "$work/a.svg" --html "$work/a.html" >/dev/null
"$tlschan" show "$work/run.transcript" --svg "$work/b.svg" --html "$work/b.html" >/dev/null
cmp -s "$work/a.svg" "$work/b.svg" || fail "two SVGs of one transcript differ"
cmp -s "$work/a.html" "$work/b.html" || fail "two pages of one transcript differ"
/usr/bin/python3 - "$work/a.svg" "$work/a.html" <<'PY'
import sys, xml.etree.ElementTree as ET
svg, html = sys.argv[1], sys.argv[2]
ns = "{http://www.w3.org/2000/svg}"
root = ET.parse(svg).getroot()
def cls(e): return e.get("class", "").split()
def text(e): return "".join(e.itertext())
bands = [e for e in root.iter(ns + "rect") if "tls-band" in cls(e)]
assert len(bands) == 1, "one TLS band: %d" % len(bands)
arrows = [e for e in root.iter(ns + "g") if "arrow" in cls(e)]
assert len(arrows) > 10 and all(a.find(ns + "text") is not None for a in arrows), "arrows with labels"
meddler = [e for e in root.iter(ns + "g") if "meddler" in cls(e)]
assert any("MAIL FROM:<injected@meddler.test>" in text(e) for e in meddler if "note" in cls(e)), "meddler note"
assert any("RCPT TO:<victim@meddler.test>" in text(e) for e in meddler if "arrow" in cls(e)), "meddler arrow"
assert [e for e in root.iter(ns + "g") if "verdict" in cls(e)], "verdict"
page = open(html, encoding="utf-8").read()
assert page.startswith("<!DOCTYPE html>"), "an HTML page"
for fetch in ("<script", "src=", "url(", "@import", "<link", "http://", "https://"):
    if fetch in page.replace('xmlns="http://www.w3.org/2000/svg"', ""):
        raise SystemExit("the page fetches or runs something: " + fetch)
PY
# The text diagram of the same run, whole: the injection as a meddler note and on its arrow, TLS
# arrows inside the band ('#' lifelines), the verdict last.
"$tlschan" show "$work/run.transcript" >"$work/run.txt"
/usr/bin/python3 - "$work/run.txt" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
for pattern in [r"!! meddler inject-command injected \(client to server\)\n[ |]+NOOP\n[ |]+MAIL FROM:<injected@meddler\.test>\n",
                r"c1  \|!+>\|  \[meddler\] STARTTLS\n[ |]+NOOP\n",
                r"c1  #=+>#  TLS \d+ bytes\n",
                r"server: plaintext-discarded 72\n",
                r"VERDICT: outcome msg1 delivered-tls[^\n]*\n$"]:
    if not re.search(pattern, text):
        raise SystemExit("the text diagram lacks " + pattern + "\n" + text)
PY
# A replay that matches: no divergence; an edited recording: the first differing line marked.
"$tlschan" replay "$work/run.transcript" --html "$work/same.html" >/dev/null || fail "the run does not replay"
! grep -q 'divergence"' "$work/same.html" || fail "an identical replay marks a divergence"
sed 's/ c1 c>s EHLO client.tlschan.test/ c1 c>s HELO client.tlschan.test/' "$work/run.transcript" >"$work/edited.transcript"
rc=0; "$tlschan" replay "$work/edited.transcript" --html "$work/edited.html" >"$work/edited.out" || rc=$?
[ "$rc" = 1 ] || fail "replay of an edited transcript exits $rc"
line=$(sed -n 's/^replay: differs at run line \([0-9]*\)$/\1/p' "$work/edited.out")
[ -n "$line" ] || fail "no divergence line in: $(cat "$work/edited.out")"
grep -q "divergence\" data-line=\"$line\"" "$work/edited.html" || fail "line $line is not marked in the page"
grep -q 'EHLO client.tlschan.test' "$work/edited.html" || fail "the page does not draw the replayed run"
echo "show outputs: SVG and page well-formed and self-contained, meddler and TLS band drawn, same bytes twice, divergence marked"
