"""`tlschan send` under each client policy against `tlschan client-check` with every case, one send
per case, waiting out the fallback window after the cases whose handshake fails: a must and a may
client pass every case (the certificate cases are INFO: the contract verifies nothing), a no client
is plaintext everywhere, which is a PASS under --expect no.

usage: client_check_send.py TLSCHAN POLICY"""

import sys
import time

import client_check_common as cc
import harness

tlschan, policy = sys.argv[1], sys.argv[2]
checks = harness.Checks(f"client_check_send_{policy}", deadline=150)
scratch = harness.Scratch("client-check-send")
config = scratch.config("channels", harness.CHANNELS_IMTA)
CASES = ["no-starttls", "ehlo-refused", "starttls-454", "starttls-502", "starttls-odd-reply", "handshake-broken",
         "handshake-eof", "response-injection", "starttls-relisted", "cert-self-signed", "cert-expired",
         "cert-wrong-name", "clean"]
FAILED_HANDSHAKE = {"handshake-broken", "handshake-eof"}

check = cc.ClientCheck(tlschan, policy)
try:
    for case in CASES:
        rc, out, err = harness.run([tlschan, "send", "--config", config, "--channel", f"c_{policy}", "--server",
                                    f"127.0.0.1:{check.port}", "--from", "alice@client.tlschan.test", "--to",
                                    "bob@check.tlschan.test", "--timeout", "3"],
                                   input=b"Subject: client-check\n\nHello.\n", timeout=30)
        checks.check(harness.SANITIZER_REPORT.search(err) is None, f"{case}: send without a sanitizer report", err[-2000:])
        checks.check(rc != 0, f"{case}: nothing is delivered (451 or deferred), send exit {rc}", out[-500:])
        if case in FAILED_HANDSHAKE:
            time.sleep(float(cc.WINDOW) + 0.2)
    rc, report, err = check.finish()
finally:
    check.kill()
checks.check(report is not None, "client-check prints one JSON object", err[-2000:])
checks.check(harness.SANITIZER_REPORT.search(err) is None, "client-check without a sanitizer report", err[-3000:])
checks.equal(rc, 0, "client-check exits 0 (every case ran, none failed)")
found = cc.by_case(report)
checks.equal(list(found), CASES, "one row per case, in order")
for case, row in found.items():
    want = "INFO" if case.startswith("cert-") and policy != "no" else "PASS"
    checks.equal(row["verdict"], want, f"{case}: {row['reason']} [{row['decided_by']}]")
    conns = row["connections"]
    plain_mail = [c["plain_mail"] for c in conns if c["plain_mail"]]
    if policy == "no":
        checks.check(all(not c["starttls"] for c in conns), f"{case}: the no client never sent STARTTLS")
        checks.check(bool(plain_mail) and all(not c["tls_established"] for c in conns),
                     f"{case}: the no client delivered in plaintext", repr(conns))
    if policy == "must":
        checks.equal(plain_mail, [], f"{case}: the must client sent no MAIL in plaintext")
        checks.equal(len(conns), 1, f"{case}: the must client did not reconnect")
    if policy == "may" and case in FAILED_HANDSHAKE:
        checks.check(len(conns) == 2 and conns[1]["fallback"] and conns[1]["plain_mail"] and not conns[1]["starttls"],
                     f"{case}: the may client's fallback is matched, plaintext without STARTTLS", repr(conns))
    if policy != "no" and (case in ("clean", "starttls-relisted", "response-injection") or case.startswith("cert-")):
        checks.check(conns[0]["tls_established"] and conns[0]["tls_mail"] and conns[0]["data_inside_tls"],
                     f"{case}: MAIL and the message inside TLS", repr(conns[0]))
scratch.remove()
checks.finish()
