"""The pages people look at, rendered by headless Chromium and checked as rendered (--dump-dom), with
a screenshot of each:

- `tlschan matrix --html`: the DOM holds the 126 marked cells, each with the outcome and the
  agreement that `matrix --json` of the same run reports, the expected outcome shown exactly where a
  cell disagrees, each cell's link opening a section that holds its own run (the sequence diagram
  and the transcript of that cell's seed); the TLS-port, tlsswitchchannel and configuration rows;
  no script, nothing fetched.
- `tlschan show --html` of a STARTTLS run under the inject-command meddler: the injected commands
  are arrows marked as the meddler's, the TLS band starts below them, the engine's notes and the
  verdict are there.

Each screenshot must be a PNG of the window's size that inflates to its whole picture and is not
blank. With TLSCHAN_SCREENSHOTS=DIR the screenshots are kept there (the docs' pictures are made so).

Chromium is Debian's package `chromium` (ci/deps.sh installs it); without it the test exits 77,
which ctest reports as skipped. As root Chromium needs --no-sandbox.

usage: chromium_views.py TLSCHAN SCENARIOS_DIR"""

import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib
from html.parser import HTMLParser

import harness

SKIP = 77
tlschan, scenarios = sys.argv[1], sys.argv[2]
chromium = shutil.which("chromium") or shutil.which("chromium-browser")
if not chromium:
    print("SKIP: chromium is not installed (Debian package chromium; ci/deps.sh installs it)", flush=True)
    sys.exit(SKIP)

checks = harness.Checks("chromium_views", deadline=100)
scratch = tempfile.mkdtemp(prefix="tlschan-chromium-")
keep = os.environ.get("TLSCHAN_SCREENSHOTS")


def path(name):
    return os.path.join(scratch, name)


def tlschan_run(*args):
    r = subprocess.run([tlschan, *args], capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError(f"tlschan {' '.join(args)}: exit {r.returncode}\n{r.stdout}{r.stderr}")
    return r.stdout


def start_chromium(page, screenshot, width, height):
    """Chromium renders `page` once: its DOM on stdout, a screenshot of a width x height window."""
    profile = tempfile.mkdtemp(prefix="profile-", dir=scratch)
    command = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={profile}", f"--window-size={width},{height}", f"--screenshot={screenshot}",
               "--dump-dom", "file://" + os.path.abspath(page)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish_chromium(process, what):
    out, err = process.communicate(timeout=60)
    if process.returncode != 0 or not out:
        raise RuntimeError(f"chromium rendering {what}: exit {process.returncode}\n{err.decode(errors='replace')}")
    return out.decode("utf-8")


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag = tag
        self.attrs = dict(attrs)
        self.parent = parent
        self.children = []

    @property
    def classes(self):
        return set((self.attrs.get("class") or "").split())

    def walk(self):
        yield self
        for c in self.children:
            if isinstance(c, Node):
                yield from c.walk()

    def text(self):
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def find(self, tag=None, cls=None):
        return [n for n in self.walk() if (tag is None or n.tag == tag) and (cls is None or cls in n.classes)]


class Tree(HTMLParser):
    """The dumped DOM as a tree of Nodes."""
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", [], None)
        self.stack = [self.root]
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        node = Node(tag, attrs, self.stack[-1])
        self.stack[-1].children.append(node)
        if tag not in self.VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag, attrs):
        self.stack[-1].children.append(Node(tag, attrs, self.stack[-1]))

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data):
        self.stack[-1].children.append(data)


def check_png(file, width, height, what):
    """A PNG of width x height whose chunks are whole (CRC), whose image data inflates to exactly the
    picture's size, and which is not one flat colour (its rows are not all alike)."""
    with open(file, "rb") as f:
        data = f.read()
    if not checks.check(data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", f"{what}: a PNG file"):
        return
    w, h, depth, colour = struct.unpack(">IIBB", data[16:26])
    checks.equal((w, h), (width, height), f"{what}: the window's size ({width}x{height})")
    at, idat, crc_ok = 8, b"", True
    while at + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        body = data[at + 8:at + 8 + length]
        crc_ok = crc_ok and struct.unpack(">I", data[at + 8 + length:at + 12 + length])[0] == zlib.crc32(kind + body)
        if kind == b"IDAT":
            idat += body
        at += 12 + length
        if kind == b"IEND":
            break
    checks.check(crc_ok and at == len(data), f"{what}: every chunk whole, IEND last")
    channels = {0: 1, 2: 3, 4: 2, 6: 4}.get(colour, 0)
    raw = zlib.decompress(idat)
    stride = 1 + w * channels * depth // 8
    checks.check(depth == 8 and channels and len(raw) == h * stride, f"{what}: the image data inflates to the picture",
                 f"depth {depth}, colour type {colour}, {len(raw)} octets for {w}x{h}")
    rows = {raw[i:i + stride] for i in range(0, len(raw), stride)}
    checks.check(len(rows) > h // 10, f"{what}: not blank ({len(rows)} distinct rows of {h})")


def check_matrix_page(dom, cells, extra):
    tree = Tree(dom).root
    by_id = {n.attrs["id"]: n for n in tree.walk() if "id" in n.attrs}
    marked = tree.find("td", "cell")
    checks.equal(len(marked), 126, "the matrix page has 126 marked cells")
    dom_cells = {n.attrs.get("data-cell"): n for n in marked}
    checks.equal(len(dom_cells), 126, "each cell is marked once")
    wrong, expected_wrong, links_wrong, runs_wrong, bands_missing = [], [], [], [], []
    for c in cells:
        key = f"meddler={c['meddler']} client={c['client']} server={c['server']} health={c['health']}"
        node = dom_cells.get(key)
        if node is None:
            wrong.append(f"{key}: no cell")
            continue
        agreement = "agrees" if c["agrees"] else "disagrees"
        if not {"outcome-" + c["outcome"], agreement} <= node.classes or node.attrs.get("data-outcome") != c["outcome"]:
            wrong.append(f"{key}: {sorted(node.classes)}, --json says {c['outcome']} {agreement}")
        shown = [e.text() for e in node.find("span", "expected")]
        want = [f"expected {c['expected']}"] if c["outcome"] != c["expected"] else []
        if shown != want:
            expected_wrong.append(f"{key}: shows {shown}, want {want}")
        links = node.find("a")
        target = links[0].attrs.get("href", "") if links else ""
        run = by_id.get(target[1:]) if target.startswith("#") else None
        if run is None or "run" not in run.classes:
            links_wrong.append(f"{key}: link {target!r}")
            continue
        transcript = "".join(p.text() for p in run.find("pre"))
        if f"seed {c['seed']}\n" not in transcript or not run.find("svg"):
            runs_wrong.append(f"{key}: the section {target} lacks its diagram or the transcript of seed {c['seed']}")
        if c["outcome"] == "delivered-tls" and not run.find(cls="tls-band"):
            bands_missing.append(key)
    checks.check(not wrong, "each cell's outcome and agreement are those of matrix --json", "\n     ".join(wrong[:5]))
    disagreeing = sum(1 for c in cells if not c["agrees"])
    checks.check(not expected_wrong, f"the expected outcome shows exactly on the disagreeing cells ({disagreeing} of 126)",
                 "\n     ".join(expected_wrong[:5]))
    checks.check(not links_wrong, "each cell links to a section of its own run", "\n     ".join(links_wrong[:5]))
    checks.check(not runs_wrong, "each cell's section holds its diagram and its transcript",
                 "\n     ".join(runs_wrong[:5]))
    checks.check(not bands_missing, "each delivered-tls cell's diagram has its TLS band", ", ".join(bands_missing[:5]))
    rows = tree.find("td", "row-outcome")
    checks.equal([n.attrs.get("data-row") for n in rows], [e["name"] for e in extra],
                 "the TLS-port, tlsswitchchannel and configuration rows, in order")
    checks.check(all(("outcome-" + e["outcome"].split()[0]) in n.classes for n, e in zip(rows, extra)),
                 "each row coloured by its outcome")
    checks.check(not tree.find("script") and not tree.find("link")
                 and not any("src" in n.attrs for n in tree.walk()),
                 "the page has no script and fetches nothing")


def arrow_y(node):
    lines = node.find("line")
    return float(lines[0].attrs.get("y1", "nan")) if lines else float("nan")


def check_diagram(dom):
    tree = Tree(dom).root
    svg = tree.find("svg")
    if not checks.check(len(svg) == 1, "the diagram page holds one diagram"):
        return
    svg = svg[0]
    bands = svg.find("rect", "tls-band")
    checks.equal(len(bands), 1, "one TLS band (one connection went to TLS)")
    arrows = svg.find("g", "arrow")
    checks.check(len(arrows) >= 10 and all(a.find("text") and a.text().strip() for a in arrows),
                 f"every arrow is labelled ({len(arrows)} arrows)")
    meddled = [a for a in arrows if "meddler" in a.classes]
    meddled_text = " ".join(a.text() for a in meddled)
    injected = ["NOOP", "MAIL FROM:<injected@meddler.test>", "RCPT TO:<victim@meddler.test>"]
    checks.check(all(i in meddled_text for i in injected),
                 "the injected NOOP, MAIL FROM and RCPT TO are arrows marked as the meddler's",
                 f"meddler arrows: {[a.text() for a in meddled]}")
    checks.check(not any(i in a.text() for a in arrows if "meddler" not in a.classes for i in injected[1:]),
                 "no unmarked arrow carries the injected commands")
    if bands:
        top = float(bands[0].attrs.get("y", "nan"))
        carrying = [arrow_y(a) for a in meddled if "NOOP" in a.text()]
        checks.check(carrying and all(y < top for y in carrying), "the injection is drawn above the TLS band",
                     f"band from y={top}, injection at {carrying}")
        tls = [arrow_y(a) for a in arrows if "tls" in a.classes]
        checks.check(tls and all(y >= top for y in tls), f"the {len(tls)} TLS arrows lie in the band")
    notes = [n.text() for n in svg.find("g", "note")]
    checks.check(any("plaintext-discarded 72" in n for n in notes),
                 "the server's discard of the 72 injected octets is a note", f"{notes}")
    verdicts = [v.text() for v in svg.find("g", "verdict")]
    checks.check(any("delivered-tls" in v for v in verdicts), "the verdict says delivered-tls", f"{verdicts}")
    checks.check(not tree.find("script") and not any("src" in n.attrs for n in tree.walk()),
                 "the diagram page has no script and fetches nothing")


def screenshot_path(name):
    return os.path.join(keep, name) if keep else path(name)


try:
    # One run gives both the JSON and the page.
    page = path("matrix.html")
    matrix = json.loads(tlschan_run("matrix", "--seed", "1", "--json", "--html", page))
    # A STARTTLS run under the inject-command meddler, drawn by tlschan show.
    transcript, diagram = path("inject.transcript"), path("inject.html")
    tlschan_run("run", os.path.join(scenarios, "inject-command.toml"), "--seed", "5", "--transcript", transcript)
    tlschan_run("show", transcript, "--html", diagram)
    # Chromium's start is most of the time: both pages render side by side.
    matrix_shot, diagram_shot = screenshot_path("matrix-page.png"), screenshot_path("diagram-inject.png")
    renderings = [start_chromium(page, matrix_shot, 1100, 1250), start_chromium(diagram, diagram_shot, 1000, 1200)]
    matrix_dom = finish_chromium(renderings[0], "the matrix page")
    diagram_dom = finish_chromium(renderings[1], "the diagram")
    check_matrix_page(matrix_dom, matrix["cells"], matrix["extra"])
    check_png(matrix_shot, 1100, 1250, "the matrix page's screenshot")
    check_diagram(diagram_dom)
    check_png(diagram_shot, 1000, 1200, "the diagram's screenshot")
finally:
    shutil.rmtree(scratch, ignore_errors=True)
checks.finish()
