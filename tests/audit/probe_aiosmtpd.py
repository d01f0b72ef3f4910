"""`tlschan probe` against Debian's aiosmtpd (python3-aiosmtpd, through /usr/bin/python3) as a may
server: it accepts a second STARTTLS inside TLS and drops the connection (second-starttls FAIL),
and it takes a bare LF as a line end (reported).

usage: probe_aiosmtpd.py TLSCHAN"""

import sys

import probe_common
from probe_common import harness

tlschan = sys.argv[1]
checks = harness.Checks("probe_aiosmtpd", deadline=120)
scratch = harness.Scratch("probe-aiosmtpd")
server = None
try:
    server = harness.Aiosmtpd("may", scratch, "probe")
    rc, found = probe_common.probe(tlschan, checks, server.port, "aiosmtpd may", "bob@aiosmtpd.tlschan.test",
                                   "--expect", "may")
    if found:
        checks.equal(rc, 1, "aiosmtpd may: exit 1 (a FAIL)")
        checks.equal(found["second-starttls"]["verdict"], "FAIL", "aiosmtpd may: second-starttls fails")
        checks.check("220" in found["second-starttls"]["decided_by"], "aiosmtpd may: it answered the second STARTTLS 220",
                     probe_common.show(found, ["second-starttls"]))
        checks.equal(found["line-bare-lf"]["verdict"], "WARN", "aiosmtpd may: the bare-LF command line is reported")
        injection = [c for c in found if c.startswith("injection-")]
        checks.equal([c for c in injection if found[c]["verdict"] == "FAIL"], [], "aiosmtpd may: no injection check fails")
    checks.check(server.proc.poll() is None, "aiosmtpd may: still running after the probe")
    stray = [m["rcpt_tos"] for m in server.messages() if m["rcpt_tos"] != ["bob@aiosmtpd.tlschan.test"]]
    checks.equal(stray, [], "aiosmtpd may: every message went to --to only")
    checks.check(len(server.messages()) > 0, "aiosmtpd may: the smuggling checks sent their messages")
finally:
    if server:
        server.stop()
    scratch.remove()
checks.finish()
