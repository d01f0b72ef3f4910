"""swaks against `tlschan client-check`, once per case: --tls graded as a must client, --tls-optional
as a may client. The expected table follows swaks' documentation: --tls never goes on without TLS;
--tls-optional "continue[s] with normal transaction if TLS was unable to be negotiated for any
reason", so it sends MAIL in plaintext on the very connection whose STARTTLS got a 3xx or whose
handshake failed (FAIL of starttls-odd-reply, handshake-broken and handshake-eof under may). Both
modes act on replies injected after the 220 to STARTTLS (swaks 20201014.0 sends EHLO, MAIL, RCPT,
DATA and the message in one go inside TLS): a FAIL of response-injection. Neither verifies the
certificate (INFO).

usage: client_check_swaks.py TLSCHAN MODE   (MODE: tls or tls-optional)"""

import shutil
import sys
import time

import client_check_common as cc
import harness

tlschan, mode = sys.argv[1], sys.argv[2]
checks = harness.Checks(f"client_check_swaks_{mode}", deadline=150)
if shutil.which("swaks") is None:
    print(f"client_check_swaks_{mode}: swaks not installed; skipped (0 passed, 0 failed)")
    sys.exit(0)

CASES = ["no-starttls", "ehlo-refused", "starttls-454", "starttls-502", "starttls-odd-reply", "handshake-broken",
         "handshake-eof", "response-injection", "starttls-relisted", "cert-self-signed", "cert-expired",
         "cert-wrong-name", "clean"]
CERT = {"cert-self-signed", "cert-expired", "cert-wrong-name"}
if mode == "tls":
    policy = "must"
    fails = {"response-injection"}
else:
    policy = "may"
    fails = {"starttls-odd-reply", "handshake-broken", "handshake-eof", "response-injection"}

check = cc.ClientCheck(tlschan, policy)
try:
    for case in CASES:
        rc, out, err = harness.run(["swaks", "--server", f"127.0.0.1:{check.port}", "--from", "alice@client.tlschan.test",
                                    "--to", "bob@check.tlschan.test", "--ehlo", "swaks.tlschan.test", "--timeout", "5",
                                    f"--{mode}"], timeout=30)
        if case == "response-injection":
            # swaks took the injected 250s and 354 for replies, and the real EHLO reply for the end of data.
            checks.equal(rc, 0, f"{case}: swaks believes the injected replies delivered its message")
        else:
            checks.check(rc != 0, f"{case}: swaks delivers nothing (exit {rc})", out[-800:])
        if case in ("handshake-broken", "handshake-eof"):
            time.sleep(float(cc.WINDOW) + 0.2)
    rc, report, err = check.finish()
finally:
    check.kill()
checks.check(report is not None, "client-check prints one JSON object", err[-2000:])
checks.check(harness.SANITIZER_REPORT.search(err) is None, "client-check without a sanitizer report", err[-3000:])
checks.equal(rc, 1, "client-check exits 1 (a case failed)")
found = cc.by_case(report)
checks.equal(list(found), CASES, "one row per case, in order")
for case, row in found.items():
    want = "FAIL" if case in fails else "INFO" if case in CERT else "PASS"
    checks.equal(row["verdict"], want, f"swaks --{mode} as a {policy} client, {case}: {row['reason']} [{row['decided_by']}]")
    conns = row["connections"]
    checks.equal(len(conns), 1, f"{case}: swaks uses one connection")
    if mode == "tls":
        checks.check(not conns[0]["plain_mail"], f"{case}: swaks --tls sends no MAIL in plaintext", repr(conns[0]))
    if case in fails and case != "response-injection":
        checks.check(row["decided_by"].startswith("MAIL FROM:<alice@client.tlschan.test>"),
                     f"{case}: decided by swaks' plaintext MAIL on the same connection", row["decided_by"])
if "response-injection" in found:
    row = found["response-injection"]
    checks.check(row["decided_by"].startswith("MAIL FROM:"), "response-injection: decided by the MAIL sent before the real EHLO reply",
                 row["decided_by"])
checks.finish()
