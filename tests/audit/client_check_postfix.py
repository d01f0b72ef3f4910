"""Postfix's SMTP client (the Debian package, a private instance: its own config, queue and log
folders, loopback only) against `tlschan client-check`: one message to check.test, routed to the
check by a transport map; every attempt is answered 451 (or fails on the case), so the message stays
deferred and `postqueue -f` makes Postfix retry it for the next case. Run with
smtp_tls_security_level = encrypt (graded as must) and = may (graded as may). The table must show
every case run, the verdicts below, and agree with Postfix's own log: one deferral per case, the
cases whose table shows the message sent carry the check's 451 in the log, and a fallback in the
table shows Postfix's own plaintext retry.

What Postfix 3.7 does (and the table must say): under encrypt every case passes (the certificate
cases are INFO: encrypt verifies nothing); a 502 or a 3xx to STARTTLS makes it bounce the message
(the test then queues a new one). Under may it takes a 354 to STARTTLS as a refusal and delivers in
plaintext on the same connection: a FAIL of starttls-odd-reply (semantics.md section 4 makes that
reply a protocol error); after a failed handshake it defers without plaintext on that connection.

Skipped (exit 0 with a note) when Postfix is not installed or the test is not root.

usage: client_check_postfix.py TLSCHAN LEVEL   (LEVEL: encrypt or may)"""

import os
import re
import sys
import time

import client_check_common as cc
import harness
import postfix_instance  # (client_check_common puts tests/interop on the path)
from postfix_instance import greets

tlschan, level = sys.argv[1], sys.argv[2]
checks = harness.Checks(f"client_check_postfix_{level}", deadline=160)
if not postfix_instance.available():
    print(f"client_check_postfix_{level}: Postfix not installed or not root; skipped (0 passed, 0 failed)")
    sys.exit(0)

CASES = ["no-starttls", "ehlo-refused", "starttls-454", "starttls-502", "starttls-odd-reply", "handshake-broken",
         "handshake-eof", "response-injection", "starttls-relisted", "cert-self-signed", "cert-expired",
         "cert-wrong-name", "clean"]
CERT = {"cert-self-signed", "cert-expired", "cert-wrong-name"}
policy = "must" if level == "encrypt" else "may"

scratch = harness.Scratch("client-check-postfix")
pf = scratch.path("postfix")
config = scratch.config("channels", harness.CHANNELS_IMTA)

ATTEMPT = re.compile(r"postfix/smtp\[\d+\]: \w+: to=<bob@check\.test>.*status=(deferred|bounced) \((.*)\)$", re.M)


def attempts():
    """(status, reason) of every delivery attempt Postfix logged, in order."""
    return ATTEMPT.findall(log_text())


def enqueue():
    rc, out, _ = harness.run([tlschan, "send", "--config", config, "--channel", "c_no", "--server",
                              f"127.0.0.1:{p_in}", "--from", "alice@client.tlschan.test", "--to", "bob@check.test",
                              "--timeout", "10"], timeout=60, input=b"Subject: client-check\n\nvia postfix\n")
    return rc


check = cc.ClientCheck(tlschan, policy, max_seconds="140", timeout="5")
p_in = harness.free_port()
instance = postfix_instance.Postfix(scratch, f"""\
smtpd_tls_security_level = none
smtp_tls_security_level = {level}
smtp_tls_loglevel = 1
transport_maps = texthash:{pf}/transport
default_transport = discard:unrouted
queue_run_delay = 300s
minimal_backoff_time = 300s
maximal_backoff_time = 300s
smtp_connect_timeout = 5s
smtp_helo_timeout = 10s
smtp_starttls_timeout = 10s
smtp_connection_cache_on_demand = no
smtp_tls_connection_reuse = no
""", [f"127.0.0.1:{p_in} inet n - n - - smtpd"])
log_text = instance.log_text
with open(os.path.join(pf, "transport"), "w") as f:
    f.write(f"check.test  smtp:[127.0.0.1]:{check.port}\n")

rc = report = None
err = ""
try:
    _, out = instance.start()
    if not checks.check(instance.started and greets(p_in), "a private Postfix instance starts and greets",
                        out + log_text()[-2000:]):
        raise SystemExit
    checks.equal(enqueue(), 0, "the message goes into Postfix's queue")
    for i, case in enumerate(CASES):
        end = time.monotonic() + 30
        while len(attempts()) <= i and time.monotonic() < end:
            time.sleep(0.2)
        if not checks.check(len(attempts()) > i, f"{case}: Postfix logs its attempt", log_text()[-2000:]):
            break
        if case in ("handshake-broken", "handshake-eof"):
            time.sleep(float(cc.WINDOW) + 0.3)  # the fallback window passes before the next attempt
        if i + 1 < len(CASES):
            if attempts()[i][0] == "bounced":
                # Postfix returns the message on a 5xx to STARTTLS under encrypt: queue a new one.
                checks.equal(enqueue(), 0, f"after {case}: a new message goes into Postfix's queue")
            else:
                harness.run(["/usr/sbin/postqueue", "-c", pf, "-f"], timeout=30)
    rc, report, err = check.finish(timeout=20 if len(attempts()) == len(CASES) else 1)
finally:
    check.kill()
    instance.stop()

checks.check(report is not None, "client-check prints one JSON object", err[-2000:])
checks.check(harness.SANITIZER_REPORT.search(err) is None, "client-check without a sanitizer report", err[-3000:])
found = cc.by_case(report)
logged = attempts()
reasons = [f"{status}: {reason}" for status, reason in logged]
print("Postfix's attempts:\n  " + "\n  ".join(reasons), flush=True)
checks.equal(len(reasons), len(CASES), "Postfix logs one attempt per case")
fails = {"starttls-odd-reply"} if level == "may" else set()
checks.equal(rc, 1 if fails else 0, f"client-check exits {1 if fails else 0}")
for i, case in enumerate(CASES):
    row = found.get(case)
    if not checks.check(row is not None, f"{case}: a row"):
        continue
    want = "FAIL" if case in fails else "INFO" if case in CERT else "PASS"
    checks.equal(row["verdict"], want, f"Postfix {level} as a {policy} client, {case}: {row['reason']} [{row['decided_by']}]")
    conns = row["connections"]
    sent = any(c["data_sent"] for c in conns)
    if i < len(reasons):
        checks.equal("451 4.3.0" in reasons[i], sent,
                     f"{case}: Postfix's log shows the check's 451 iff the table shows the message sent ({reasons[i]})")
    if policy == "must":
        checks.check(all(not c["plain_mail"] for c in conns), f"{case}: no MAIL in plaintext from Postfix encrypt")
    if case in ("clean", "starttls-relisted") or case in CERT:
        checks.check(conns[0]["tls_established"] and conns[0]["data_inside_tls"], f"{case}: the message inside TLS",
                     repr(conns[0]))
if level == "may" and "starttls-odd-reply" in found:
    checks.check(found["starttls-odd-reply"]["decided_by"].startswith("MAIL FROM:<alice@client.tlschan.test>"),
                 "starttls-odd-reply: decided by Postfix's plaintext MAIL", found["starttls-odd-reply"]["decided_by"])
if level == "encrypt" and len(reasons) == len(CASES):
    checks.check("TLS is required, but was not offered" in reasons[0], "no-starttls: Postfix says TLS was not offered",
                 reasons[0])
scratch.remove()
checks.finish()
