"""The verdict of every probe check, against the small server of fake_smtp_server.py: correct, each
check passes (or says INFO/SKIP as documented); with the bug a check exists to find, that check
fails (or warns). A verdict that flips fails here.

usage: probe_checks.py TLSCHAN GROUP   (GROUP: greeting, injection, state, must, replies, smuggling,
                                         lines, stopped)"""

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))
import harness  # noqa: E402
from probe_checks_fake import Fake as FakeServer  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
tlschan, group = sys.argv[1], sys.argv[2]
checks = harness.Checks(f"probe_checks {group}", deadline=100)
scratch = harness.Scratch(f"probe-{group}")


def Fake(policy, *bugs):
    return FakeServer(scratch, policy, *bugs)


def probe(port, only, *extra, mailbox=True):
    args = [tlschan, "probe", f"127.0.0.1:{port}", "--json", "--timeout", "3", "--only", ",".join(only), *extra]
    if mailbox:
        args += ["--from", "probe@client.tlschan.test", "--to", "postmaster@fake.tlschan.test"]
    rc, out, err = harness.run(args, timeout=90)
    try:
        report = json.loads(out)
    except json.JSONDecodeError:
        checks.check(False, f"probe {' '.join(only)}: stdout is one JSON object", out[-2000:] + err[-2000:])
        return rc, {}
    return rc, {c["id"]: c for c in report["checks"]}


def expect(policy, bugs, extra, cases, want_rc):
    """cases: {check id: verdict}; the run's exit status must be want_rc."""
    fake = Fake(policy, *bugs)
    try:
        rc, found = probe(fake.port, list(cases), *extra)
        label = f"{policy} server{' with ' + ', '.join(bugs) if bugs else ''}"
        checks.equal(rc, want_rc, f"{label}: exit status")
        for cid, verdict in cases.items():
            got = found.get(cid, {})
            checks.check(got.get("verdict") == verdict, f"{label}: {cid} is {verdict}",
                         f"got {got.get('verdict')}: {got.get('reason')} [{got.get('decided_by')}]")
    finally:
        fake.stop()


INJECTION = [f"injection-{p}-{m}" for m in ("same-segment", "second-segment", "before-clienthello")
             for p in ("noop", "ehlo", "rset", "mail", "helo")]
SEQUENCES = ["lf-dot-lf", "lf-dot-crlf", "cr-dot-lf", "cr-dot-cr", "lf-dot-cr", "crlf-dot-lf", "cr-dot-crlf",
             "crlf-dot-cr", "crlf-nul-dot-crlf", "crlf-dot-nul-crlf", "crlf-dot-cr-crlf", "cr-crlf-dot-cr-crlf"]

try:
    if group == "greeting":
        expect("may", [], ["--expect", "may"], {"greeting-ehlo": "PASS", "starttls-advertised": "PASS", "handshake": "INFO"}, 0)
        expect("no", [], ["--expect", "must"], {"starttls-advertised": "FAIL", "handshake": "SKIP"}, 1)
        expect("no", [], [], {"starttls-advertised": "INFO", "starttls-on-no-server": "PASS"}, 0)
        expect("may", [], ["--expect", "no"], {"starttls-advertised": "WARN"}, 0)
        expect("may", ["no-ehlo"], [], {"greeting-ehlo": "FAIL", "handshake": "SKIP"}, 1)
        expect("may", ["broken-tls"], [], {"handshake": "FAIL"}, 1)
        expect("may", ["tls-unavailable"], [], {"handshake": "WARN", "second-starttls": "SKIP"}, 0)
        expect("implicit", [], ["--implicit-tls"], {"greeting-ehlo": "PASS", "handshake": "INFO", "starttls-advertised": "PASS"}, 0)
        # Nothing listens: 69, unreachable.
        port = harness.free_port()
        rc, out, err = harness.run([tlschan, "probe", f"127.0.0.1:{port}", "--timeout", "3"], timeout=30)
        checks.equal(rc, 69, "no server: exit 69")
        rc, out, err = harness.run([tlschan, "probe", "127.0.0.1:25", "--only", "nosuch-check"], timeout=30)
        checks.equal(rc, 64, "an unknown check id: exit 64")
    elif group == "injection":
        expect("may", [], [], {c: "PASS" for c in INJECTION}, 0)
        expect("may", ["no-purge"], [], {c: "FAIL" for c in INJECTION if "clienthello" not in c}, 1)
        expect("may", ["plaintext-after-220"], [], {"injection-noop-before-clienthello": "FAIL",
                                                   "injection-mail-before-clienthello": "FAIL"}, 1)
    elif group == "state":
        expect("may", [], [], {"second-starttls": "PASS", "starttls-relisted": "PASS",
                               "mail-without-ehlo-after-tls": "INFO"}, 0)
        expect("may", ["relist-starttls"], [], {"starttls-relisted": "FAIL", "second-starttls": "PASS"}, 1)
        expect("may", ["accept-second-starttls"], [], {"second-starttls": "FAIL", "starttls-relisted": "PASS"}, 1)
    elif group == "must":
        gated = ["must-530-mail", "must-530-rcpt", "must-530-data", "must-530-vrfy"]
        expect("must", [], ["--expect", "must"], {c: "PASS" for c in gated}, 0)
        expect("must", ["no-must-gate"], ["--expect", "must"], {c: "FAIL" for c in gated}, 1)
        expect("must", ["must-other-text"], ["--expect", "must"], {c: "WARN" for c in gated}, 0)
        expect("may", [], [], {c: "SKIP" for c in gated}, 0)
    elif group == "replies":
        expect("may", [], [], {"starttls-argument": "PASS", "starttls-on-no-server": "SKIP"}, 0)
        expect("may", ["starttls-argument"], [], {"starttls-argument": "FAIL"}, 1)
        expect("no", [], ["--expect", "no"], {"starttls-argument": "PASS", "starttls-on-no-server": "PASS"}, 0)
        expect("no", ["starttls-on-no"], ["--expect", "no"], {"starttls-on-no-server": "FAIL"}, 1)
    elif group == "smuggling":
        every = [f"smuggling-{s}" for s in SEQUENCES] + [f"smuggling-{s}-tls" for s in SEQUENCES] + ["smuggling-pipelined"]
        expect("may", [], [], {c: "PASS" for c in every}, 0)
        bad = {c: ("FAIL" if c.replace("-tls", "") in ("smuggling-lf-dot-lf", "smuggling-crlf-dot-lf", "smuggling-pipelined")
                   else "PASS") for c in every}
        expect("may", ["lf-dot-lf"], [], bad, 1)
        # A parser that ends data at any CR/LF, dot, CR/LF and ignores NULs: every sequence ends it.
        expect("may", ["lenient-data-end"], [], {c: "FAIL" for c in every}, 1)
        # Without a mailbox, nothing is sent.
        fake = Fake("may", "lf-dot-lf")
        try:
            rc, found = probe(fake.port, ["smuggling-lf-dot-lf"], mailbox=False)
            checks.equal(found.get("smuggling-lf-dot-lf", {}).get("verdict"), "SKIP", "without --from/--to: SKIP")
        finally:
            fake.stop()
    elif group == "lines":
        lines = {"line-bare-lf": "INFO", "line-bare-cr": "INFO", "line-nul": "INFO", "line-512-octets": "INFO",
                 "line-very-long": "INFO", "data-line-over-1000": "INFO", "error-limit": "INFO"}
        expect("may", [], [], lines, 0)
        expect("may", ["exec-bare-lf"], [], {"line-bare-lf": "WARN"}, 0)
        expect("may", ["lenient-lines"], [], {"line-bare-lf": "WARN", "line-bare-cr": "WARN", "line-nul": "WARN"}, 0)
        expect("may", ["short-lines"], [], {"line-512-octets": "WARN", "line-very-long": "INFO"}, 0)
        expect("may", ["drop-long-line"], [], {"line-very-long": "FAIL", "line-512-octets": "INFO"}, 1)
    elif group == "stopped":
        # A server that dies on a NUL: the check that sent it fails, the rest are not run.
        expect("may", ["die-on-nul"], [], {"line-nul": "FAIL", "line-512-octets": "SKIP", "error-limit": "SKIP"}, 1)
        # One that exits after a clean session with a message: the next check cannot connect, and the
        # check that sent the message is the one that fails.
        expect("may", ["exit-after-message"], [], {"data-line-over-1000": "FAIL", "error-limit": "SKIP"}, 1)
    else:
        sys.exit(f"unknown group {group}")
finally:
    scratch.remove()
checks.finish()
