"""What the probe interop tests share: running `tlschan probe --json` and reading its verdicts."""

import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))
import harness  # noqa: E402,F401

FROM = "probe@client.tlschan.test"


def probe(tlschan, checks, port, what, to, *extra, timeout="2"):
    """Runs probe on 127.0.0.1:PORT; returns (exit status, {id: check}) or (status, None)."""
    args = [tlschan, "probe", f"127.0.0.1:{port}", "--json", "--timeout", timeout, "--from", FROM, "--to", to, *extra]
    started = time.monotonic()
    rc, out, err = harness.run(args, timeout=170)
    print(f"{what}: probe exit {rc} in {time.monotonic() - started:.1f} s", flush=True)
    try:
        report = json.loads(out)
    except json.JSONDecodeError:
        checks.check(False, f"{what}: probe prints one JSON object", out[-1500:] + err[-1500:])
        return rc, None
    checks.check(harness.SANITIZER_REPORT.search(err) is None, f"{what}: no sanitizer report", err[-3000:])
    for c in report["checks"]:
        print(f"     {c['verdict']}  {c['id']}: {c['reason']}  [{c['decided_by']}]", flush=True)
    return rc, {c["id"]: c for c in report["checks"]}


def verdicts(found, verdict):
    return sorted(cid for cid, c in found.items() if c["verdict"] == verdict)


def show(found, ids):
    return "; ".join(f"{i}: {found[i]['reason']} [{found[i]['decided_by']}]" for i in ids if i in found)
