"""Each client-check case against small scripted clients, one correct and one with the bug the case
exists to find, so that every verdict would be caught if it flipped; the deliberately broken
clients (plaintext after a 454 under must, reading injected responses) each fail the right case;
and the exit statuses (0, 1, 2, 64, 69, a port check ignored).

usage: client_check_scripted.py TLSCHAN GROUP"""

import shutil
import socket
import ssl
import sys
import time

import client_check_common as cc
import harness

tlschan, group = sys.argv[1], sys.argv[2]
checks = harness.Checks(f"client_check_{group}", deadline=110)


class Client:
    """A line-buffered SMTP client; `buf` keeps what arrived beyond the reply read."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.buf = b""
        self.tls = False

    def reply(self):
        lines = []
        while True:
            while b"\r\n" not in self.buf:
                data = self.sock.recv(4096)
                if not data:
                    return lines
                self.buf += data
            line, self.buf = self.buf.split(b"\r\n", 1)
            lines.append(line.decode())
            if len(line) < 4 or line[3:4] != b"-":
                return lines

    def cmd(self, text):
        self.sock.sendall(text.encode() + b"\r\n")
        return self.reply()

    def starttls(self, keep_buffer=False, verify=False):
        r = self.cmd("STARTTLS")
        if not r or not r[-1].startswith("220"):
            return r
        if not keep_buffer:
            self.buf = b""
        ctx = ssl.create_default_context() if verify else ssl._create_unverified_context()
        self.sock = ctx.wrap_socket(self.sock, server_hostname="client-check.tlschan.invalid")
        self.tls = True
        return r

    def deliver(self):
        self.cmd("MAIL FROM:<alice@client.tlschan.test>")
        self.cmd("RCPT TO:<bob@check.tlschan.test>")
        self.cmd("DATA")
        return self.cmd("Subject: x\r\n\r\nhi\r\n.")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def one(expect, case, client, *extra, max_seconds="60"):
    """Runs client-check on one case with `client(port)`; returns (exit status, row)."""
    check = cc.ClientCheck(tlschan, expect, "--cases", case, *extra, max_seconds=max_seconds)
    try:
        try:
            client(check.port)
        except (OSError, ssl.SSLError):
            pass
        rc, report, err = check.finish()
    finally:
        check.kill()
    checks.check(harness.SANITIZER_REPORT.search(err) is None, f"{case}: no sanitizer report", err[-3000:])
    rows = cc.by_case(report)
    return rc, rows.get(case), err


def expect_verdict(expect, case, client, want, decided, what, *extra):
    rc, row, err = one(expect, case, client, *extra)
    if not checks.check(row is not None, f"{what}: a row for {case}", err[-2000:]):
        return
    checks.equal(row["verdict"], want, f"{what}: {case} under --expect {expect} ({row['reason']})")
    checks.check(decided in row["decided_by"], f"{what}: decided by {decided!r}", repr(row["decided_by"]))
    checks.equal(rc, 1 if want == "FAIL" else 0, f"{what}: exit status")


def ehlo(c):
    c.reply()
    return c.cmd("EHLO scripted.tlschan.test")


# --- clients -------------------------------------------------------------------------------------
def plaintext_after_refusal(port):  # the deliberately broken must client
    c = Client(port)
    ehlo(c)
    c.starttls()
    c.deliver()
    c.cmd("QUIT")
    c.close()


def quit_after_refusal(port):
    c = Client(port)
    ehlo(c)
    c.starttls()
    c.cmd("QUIT")
    c.close()


def reads_injected(port):  # the deliberately broken client: takes the injected 250s as replies
    c = Client(port)
    ehlo(c)
    c.starttls(keep_buffer=True)
    c.cmd("EHLO scripted.tlschan.test")  # answered by the injected 250 EHLO reply
    c.deliver()
    c.close()


def discards_injected(port):
    c = Client(port)
    ehlo(c)
    c.starttls()
    c.cmd("EHLO scripted.tlschan.test")
    c.deliver()
    c.cmd("QUIT")
    c.close()


def mail_first_in_tls(port):
    c = Client(port)
    ehlo(c)
    c.starttls()
    c.deliver()
    c.close()


def second_starttls(port):
    c = Client(port)
    ehlo(c)
    c.starttls()
    c.cmd("EHLO scripted.tlschan.test")
    c.cmd("STARTTLS")
    c.close()


def tls_after_odd(port):
    c = Client(port)
    ehlo(c)
    c.cmd("STARTTLS")
    ctx = ssl._create_unverified_context()
    try:
        ctx.wrap_socket(c.sock, server_hostname="x")
    except (OSError, ssl.SSLError):
        pass
    c.close()


def mail_after_odd(port):
    c = Client(port)
    ehlo(c)
    c.cmd("STARTTLS")
    c.deliver()
    c.close()


def plaintext_after_failed_handshake(port):
    c = Client(port)
    ehlo(c)
    c.cmd("STARTTLS")
    c.sock.sendall(b"\x15\x03\x03\x00\x02\x02\x28")  # one whole record where the ClientHello goes
    time.sleep(0.4)  # the server's bad record or its close
    c.sock.sendall(b"MAIL FROM:<alice@client.tlschan.test>\r\n")
    time.sleep(0.3)
    c.close()


def gives_up_after_failed_handshake(port):
    c = Client(port)
    ehlo(c)
    try:
        c.starttls()
    except (OSError, ssl.SSLError):
        pass
    c.close()


def plaintext_ignoring_starttls(port):
    c = Client(port)
    ehlo(c)
    c.deliver()
    c.cmd("QUIT")
    c.close()


def verifying(port):
    c = Client(port)
    ehlo(c)
    try:
        c.starttls(verify=True)
        c.cmd("EHLO scripted.tlschan.test")
    except (OSError, ssl.SSLError):
        pass
    c.close()


def port_check(port):
    socket.create_connection(("127.0.0.1", port), timeout=5).close()
    time.sleep(0.2)
    plaintext_ignoring_starttls(port)


# --- groups ---------------------------------------------------------------------------------------
if group == "refusals":
    for case in ("starttls-454", "starttls-502"):
        expect_verdict("must", case, plaintext_after_refusal, "FAIL", "MAIL FROM:<alice@client.tlschan.test>",
                       "plaintext after the refusal under must")
        expect_verdict("must", case, quit_after_refusal, "PASS", "QUIT", "QUIT after the refusal under must")
        expect_verdict("may", case, plaintext_after_refusal, "PASS", "MAIL FROM", "plaintext after the refusal under may")
        expect_verdict("no", case, quit_after_refusal, "FAIL", "STARTTLS", "STARTTLS from a no client")
    expect_verdict("must", "no-starttls", plaintext_ignoring_starttls, "FAIL", "MAIL FROM", "plaintext without STARTTLS under must")
    expect_verdict("may", "no-starttls", plaintext_ignoring_starttls, "PASS", "MAIL FROM", "plaintext without STARTTLS under may")
    expect_verdict("must", "ehlo-refused", plaintext_ignoring_starttls, "FAIL", "MAIL FROM", "plaintext after 500 to EHLO under must")
    expect_verdict("no", "ehlo-refused", plaintext_ignoring_starttls, "PASS", "MAIL FROM", "plaintext after 500 to EHLO under no")
    expect_verdict("must", "starttls-odd-reply", tls_after_odd, "FAIL", "TLS record", "a handshake after 354")
    expect_verdict("may", "starttls-odd-reply", mail_after_odd, "FAIL", "MAIL FROM", "MAIL after 354 under may")
    expect_verdict("may", "starttls-odd-reply", quit_after_refusal, "PASS", "QUIT", "QUIT after 354 under may")
elif group == "tls":
    expect_verdict("may", "response-injection", reads_injected, "FAIL", "MAIL FROM", "the client reading injected replies")
    expect_verdict("must", "response-injection", discards_injected, "PASS", "EHLO", "the client discarding them")
    expect_verdict("may", "response-injection", mail_first_in_tls, "FAIL", "MAIL FROM", "MAIL first inside TLS")
    expect_verdict("may", "starttls-relisted", second_starttls, "FAIL", "STARTTLS", "a second STARTTLS")
    expect_verdict("may", "starttls-relisted", discards_injected, "PASS", "EHLO", "no second STARTTLS")
    expect_verdict("may", "handshake-broken", plaintext_after_failed_handshake, "FAIL", "MAIL FROM",
                   "plaintext on the connection whose handshake failed")
    expect_verdict("may", "handshake-eof", gives_up_after_failed_handshake, "PASS", "client closed",
                   "a client giving up after the handshake failed")
    expect_verdict("must", "handshake-eof", plaintext_after_failed_handshake, "FAIL", "MAIL FROM",
                   "plaintext after the handshake failed under must")
    expect_verdict("may", "clean", plaintext_ignoring_starttls, "FAIL", "MAIL FROM", "a may client ignoring STARTTLS")
    expect_verdict("no", "clean", plaintext_ignoring_starttls, "PASS", "EHLO", "a no client in plaintext")
    expect_verdict("may", "clean", discards_injected, "PASS", "MAIL FROM", "a may client using TLS")
    expect_verdict("may", "cert-expired", discards_injected, "INFO", "EHLO", "going on with an expired certificate")
    expect_verdict("may", "cert-expired", discards_injected, "FAIL", "EHLO", "going on under --expect-verified",
                   "--expect-verified")
    expect_verdict("may", "cert-wrong-name", verifying, "PASS", "client closed", "a verifying client", "--expect-verified")
    expect_verdict("may", "cert-self-signed", verifying, "INFO", "client closed", "a verifying client without the option")
elif group == "exits":
    rc, row, err = one("may", "clean", lambda port: None, max_seconds="1")
    checks.equal((rc, row and row["verdict"]), (2, "NOT RUN"), "a case no client reached: NOT RUN, exit 2")
    import os
    import tempfile
    evidence = tempfile.mkdtemp(prefix="tlschan-client-check-evidence-")
    rc, row, err = one("must", "starttls-454", plaintext_after_refusal, "--evidence", evidence)
    path = os.path.join(evidence, "starttls-454.txt")
    text = open(path).read() if os.path.exists(path) else ""
    checks.check(text.startswith("tlschan client-check evidence v1\n") and "verdict FAIL\n" in text
                 and "decided-by MAIL FROM:<alice@client.tlschan.test>" in text
                 and " c1 c>s MAIL FROM:<alice@client.tlschan.test>" in text and text.endswith("end\n"),
                 "--evidence: the case's transcript, header, verdict and the deciding line", text[:1500])
    shutil.rmtree(evidence, ignore_errors=True)
    rc, row, err = one("may", "no-starttls", port_check)
    checks.equal((rc, row and row["verdict"]), (0, "PASS"), "a port check is not a case")
    checks.check("1 connection(s) without a byte ignored" in err, "the port check is counted as ignored", err[-500:])
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        p = busy.getsockname()[1]
        rc, out, err = harness.run([tlschan, "client-check", "--listen", f"127.0.0.1:{p}", "--expect", "may"], timeout=30)
        checks.equal(rc, 69, "cannot listen: exit 69")
    rc, out, err = harness.run([tlschan, "client-check", "--listen", "127.0.0.1:0", "--expect", "may", "--cases", "nope"])
    checks.equal(rc, 64, "an unknown case: exit 64")
    rc, out, err = harness.run([tlschan, "client-check", "--listen", "127.0.0.1:0", "--expect", "maybe"])
    checks.equal(rc, 64, "a bad --expect: exit 64")
    rc, out, err = harness.run([tlschan, "client-check", "--help"])
    checks.check(rc == 0 and "handshake-broken" in out, "--help lists the cases")
checks.finish()
