"""`tlschan probe` against `tlschan serve` on loopback: under each server policy, with TLS
unavailable, and on its TLS port. No check fails, nothing warns except the 454 of TLS unavailable,
and the spool holds no message from a check whose message the contract refuses (every smuggling
and long-line message).

usage: probe_serve.py TLSCHAN"""

import os
import sys

import probe_common
from probe_common import harness

tlschan = sys.argv[1]
checks = harness.Checks("probe_serve", deadline=160)
scratch = harness.Scratch("probe-serve")
config = scratch.config("channels", harness.CHANNELS_IMTA)
TO = "bob@serve.tlschan.test"

# (channel, TLS available, probe arguments, the only WARNs allowed)
cases = [
    ("s_no", True, ["--expect", "no"], []),
    ("s_may", True, ["--expect", "may"], []),
    ("s_must", True, ["--expect", "must"], []),
    ("s_may", False, ["--expect", "may"], ["handshake"]),
    ("s_must", False, ["--expect", "must"], ["handshake"]),
]
try:
    for channel, tls, extra, allowed_warn in cases:
        what = f"serve {channel}{'' if tls else ' (TLS unavailable)'}"
        serve = harness.Serve(tlschan, config, scratch.path(f"spool-{channel}-{tls}"), args=["--channel", channel],
                              tls=scratch if tls else None)
        try:
            ports = [(serve.port, [])]
            if tls and channel != "s_no":
                ports.append((serve.tls_port, ["--implicit-tls"]))
            for port, implicit in ports:
                label = what + (" TLS port" if implicit else "")
                rc, found = probe_common.probe(tlschan, checks, port, label, TO, *extra, *implicit)
                if found is None:
                    continue
                checks.equal(rc, 0, f"{label}: exit 0")
                fails = probe_common.verdicts(found, "FAIL")
                checks.check(not fails, f"{label}: no FAIL", probe_common.show(found, fails))
                warns = probe_common.verdicts(found, "WARN")
                checks.equal(warns, allowed_warn, f"{label}: WARN only where TLS is unavailable")
                if allowed_warn:
                    checks.check("454" in found["handshake"]["reason"], f"{label}: the WARN names the 454",
                                 found["handshake"]["reason"])
                ran = [c for c in found if c.startswith("smuggling-") and found[c]["verdict"] == "PASS"]
                if (channel, tls) != ("s_must", False):  # must without TLS: no message can be sent at all
                    checks.check(len(ran) > 0, f"{label}: the smuggling checks ran", probe_common.show(found, found))
            # The contract refuses every probe message (bare CR/LF, NUL, a line over 1000 octets).
            probe_messages = []
            for ident in serve.spool_ids():
                meta, data = serve.spool_entry(ident)
                if b"X-Tlschan-Probe:" in data:
                    probe_messages.append(data[:200])
            checks.equal(probe_messages, [], f"{what}: the spool holds no message of a check")
        finally:
            serve.clean_exit(checks, what)
finally:
    scratch.remove()
checks.finish()
