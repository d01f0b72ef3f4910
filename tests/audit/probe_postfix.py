"""`tlschan probe` against Debian's Postfix on a private loopback instance:

- with its defaults as a may server (smtpd_tls_security_level = may): the smuggling it accepts is
  reported (FAIL), injection and the second STARTTLS pass;
- as an encrypt server (--expect must): the 530 checks do not fail, injection and the second
  STARTTLS pass, the smuggling inside TLS is reported;
- with smtpd_forbid_bare_newline = yes and its exclusions emptied (loopback is in its default
  $mynetworks): every smuggling check passes.

Skipped (exit 0 with a note) when Postfix is not installed or not root.

usage: probe_postfix.py TLSCHAN"""

import os
import re
import sys

import probe_common
from probe_common import harness

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))
import postfix_instance  # noqa: E402

tlschan = sys.argv[1]
checks = harness.Checks("probe_postfix", deadline=160)
if not postfix_instance.available():
    print("probe_postfix: Postfix not installed or not root; skipped (0 passed, 0 failed)")
    sys.exit(0)

scratch = harness.Scratch("probe-postfix")
p_may, p_enc, p_forbid = (harness.free_port() for _ in range(3))
pf = postfix_instance.Postfix(scratch, f"transport_maps = texthash:{scratch.path('transport')}\nsmtpd_tls_security_level = may\n", [
    f"127.0.0.1:{p_may} inet n - n - - smtpd -o smtpd_tls_security_level=may",
    f"127.0.0.1:{p_enc} inet n - n - - smtpd -o smtpd_tls_security_level=encrypt",
    f"127.0.0.1:{p_forbid} inet n - n - - smtpd -o smtpd_tls_security_level=may -o smtpd_forbid_bare_newline=yes"
    " -o smtpd_forbid_bare_newline_exclusions=",
])
with open(scratch.path("transport"), "w") as f:
    f.write("postfix.test  discard:\n")
TO = "bob@postfix.test"

SMUGGLING_DEFAULT_FAILS = ["smuggling-lf-dot-lf", "smuggling-crlf-dot-lf"]
try:
    rc, out = pf.start()
    if not checks.check(rc == 0 and all(postfix_instance.greets(p) for p in (p_may, p_enc, p_forbid)),
                        "a private Postfix instance starts and greets on three listeners", out + pf.log_text()[-2000:]):
        raise SystemExit

    # Defaults, may. error-limit is left out: Postfix's 1 s sleep per error after the tenth makes it
    # take about 10 s, and it is an INFO that the scripted server's tests cover.
    rc, ids, err = harness.run([tlschan, "probe", "--help"])
    listed = ids.split("Checks (ids for --only")[1]
    every_but_error_limit = ",".join(c for c in re.findall(r"^  ([a-z0-9-]+)  ", listed, re.M) if c != "error-limit")
    rc, found = probe_common.probe(tlschan, checks, p_may, "Postfix may", TO, "--expect", "may",
                                   "--only", every_but_error_limit)
    if found:
        checks.equal(rc, 1, "Postfix may: exit 1 (a FAIL)")
        fails = probe_common.verdicts(found, "FAIL")
        for cid in SMUGGLING_DEFAULT_FAILS + [c + "-tls" for c in SMUGGLING_DEFAULT_FAILS]:
            checks.check(cid in fails, f"Postfix may: {cid} is reported (FAIL)", probe_common.show(found, [cid]))
        checks.check("250" in found["smuggling-lf-dot-lf"]["decided_by"], "Postfix may: the smuggled MAIL was answered 250",
                     found["smuggling-lf-dot-lf"]["decided_by"])
        others = [c for c in fails if not c.startswith("smuggling-")]
        checks.check(not others, "Postfix may: every FAIL is a smuggling check", probe_common.show(found, others))
        injection = [c for c in found if c.startswith("injection-")]
        checks.equal(len(injection), 15, "Postfix may: 15 injection checks ran")
        checks.equal([c for c in injection if found[c]["verdict"] != "PASS"], [], "Postfix may: every injection check passes")
        for cid in ("second-starttls", "starttls-relisted", "starttls-argument"):
            checks.equal(found[cid]["verdict"], "PASS", f"Postfix may: {cid} passes")

    # encrypt, graded as must.
    rc, found = probe_common.probe(tlschan, checks, p_enc, "Postfix encrypt", TO, "--expect", "must",
                                   "--only", every_but_error_limit)
    if found:
        fails = probe_common.verdicts(found, "FAIL")
        for cid in ("must-530-mail", "must-530-rcpt", "must-530-data", "must-530-vrfy"):
            checks.check(found[cid]["verdict"] in ("PASS", "WARN"), f"Postfix encrypt: {cid} does not fail",
                         probe_common.show(found, [cid]))
        checks.check("smuggling-lf-dot-lf-tls" in fails, "Postfix encrypt: the smuggling inside TLS is reported",
                     probe_common.show(found, ["smuggling-lf-dot-lf-tls"]))
        checks.equal(found["smuggling-lf-dot-lf"]["verdict"], "SKIP", "Postfix encrypt: no plaintext message (530)")
        others = [c for c in fails if not c.startswith("smuggling-")]
        checks.check(not others, "Postfix encrypt: every FAIL is a smuggling check", probe_common.show(found, others))
        injection = [c for c in found if c.startswith("injection-")]
        checks.equal([c for c in injection if found[c]["verdict"] != "PASS"], [], "Postfix encrypt: every injection check passes")
        checks.equal(found["second-starttls"]["verdict"], "PASS", "Postfix encrypt: second-starttls passes")

    # forbid_bare_newline = yes, no exclusions: the smuggling checks only.
    smuggling = [c for c in found or {} if c.startswith("smuggling-")]
    rc, found = probe_common.probe(tlschan, checks, p_forbid, "Postfix forbid_bare_newline", TO, "--expect", "may",
                                   "--only", ",".join(smuggling))
    if found:
        checks.equal(rc, 0, "Postfix forbid_bare_newline: exit 0")
        checks.equal(len(found), 25, "Postfix forbid_bare_newline: 25 smuggling checks ran")
        bad = [c for c in found if found[c]["verdict"] != "PASS"]
        checks.check(not bad, "Postfix forbid_bare_newline: every smuggling check passes", probe_common.show(found, bad))
finally:
    pf.stop()
    if os.environ.get("TLSCHAN_KEEP"):
        print(f"kept {scratch.dir}")
    else:
        scratch.remove()
checks.finish()
