"""`tlschan probe` against deliberately broken servers (fake_smtp_server.py with one bug each), the
whole battery every time: each bug is reported as a FAIL of the check that exists to find it, and
no other check fails.

usage: probe_broken.py TLSCHAN"""

import sys

import probe_common
from probe_common import harness
from probe_checks_fake import Fake

tlschan = sys.argv[1]
checks = harness.Checks("probe_broken", deadline=120)
scratch = harness.Scratch("probe-broken")

# bug: (the checks that must fail, exactly)
cases = {
    "no-purge": [f"injection-{p}-{m}" for m in ("same-segment", "second-segment")
                 for p in ("noop", "ehlo", "rset", "mail", "helo")],
    "lf-dot-lf": ["smuggling-crlf-dot-lf", "smuggling-crlf-dot-lf-tls", "smuggling-lf-dot-lf", "smuggling-lf-dot-lf-tls",
                  "smuggling-pipelined"],
    "relist-starttls": ["starttls-relisted"],
}
try:
    for bug, want in cases.items():
        fake = Fake(scratch, "may", bug)
        try:
            rc, found = probe_common.probe(tlschan, checks, fake.port, f"server with {bug}", "postmaster@fake.tlschan.test",
                                           "--expect", "may")
            if found:
                checks.equal(rc, 1, f"{bug}: exit 1")
                checks.equal(probe_common.verdicts(found, "FAIL"), sorted(want), f"{bug}: exactly the right checks fail")
        finally:
            fake.stop()
finally:
    scratch.remove()
checks.finish()
