"""Hostile bytes over real sockets against `tlschan serve` (semantics.md sections 3.2 and 7):
random bytes on both ports and inside a TLS handshake, over-long lines, command injection after
STARTTLS, SMTP smuggling sequences in DATA, bare LF, NUL and bare CR, the error limit, the idle
timeout. serve must never crash, and a refused message must never reach the spool.

usage: hostile_serve.py TLSCHAN"""

import random
import socket
import ssl
import sys
import time

import harness

tlschan = sys.argv[1]
checks = harness.Checks("hostile_serve")
scratch = harness.Scratch("hostile")
config = scratch.config("channels", harness.CHANNELS_IMTA)
rng = random.Random(20240607)
client_tls = ssl.create_default_context()
client_tls.check_hostname = False
client_tls.verify_mode = ssl.CERT_NONE


def connect(port):
    s = harness.SmtpSocket(port)
    greeting = s.reply()
    return s, greeting


def transaction(s, rcpt=b"bob@serve.tlschan.test", body=b"Subject: ok\r\n\r\nfine\r\n"):
    """MAIL, RCPT, DATA, body, dot; returns the code of the reply to the dot."""
    s.send(b"MAIL FROM:<alice@client.tlschan.test>\r\n")
    if s.code() != 250:
        return None
    s.send(b"RCPT TO:<" + rcpt + b">\r\n")
    if s.code() != 250:
        return None
    s.send(b"DATA\r\n")
    if s.code() != 354:
        return None
    s.send(body + b".\r\n")
    return s.code()


def starttls(s):
    """Wraps the socket in TLS after a 220 to STARTTLS."""
    s.sock = client_tls.wrap_socket(s.sock, server_hostname="localhost")
    s.buf = b""


def random_bytes(port, n_connections, what):
    for _ in range(n_connections):
        try:
            s = harness.SmtpSocket(port, timeout=3)
            for _ in range(rng.randint(1, 8)):
                s.send(bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 8192))))
            s.sock.shutdown(socket.SHUT_WR)
            s.read_until_closed(timeout=2)
            s.close()
        except OSError:
            pass  # the server may close first: that is fine
    checks.check(serve.alive(), f"{what}: serve survives random bytes")


try:
    serve = harness.Serve(tlschan, config, scratch.path("spool"), args=["--channel", "s_may", "--idle-timeout", "3"],
                          tls=scratch)
    legit = 0
    try:
        random_bytes(serve.port, 40, "regular port")
        random_bytes(serve.tls_port, 20, "TLS port")

        # Random bytes where the handshake should be, after a real 220 to STARTTLS.
        s, _ = connect(serve.port)
        s.send(b"EHLO x.test\r\n")
        s.reply()
        s.send(b"STARTTLS\r\n")
        checks.equal(s.code(), 220, "STARTTLS: 220")
        s.send(bytes(rng.getrandbits(8) for _ in range(4000)))
        data, closed = s.read_until_closed(timeout=5)
        checks.check(closed, "garbage instead of a ClientHello: connection closed", repr(data[:200]))
        s.close()

        # Over-long command line: 500 5.5.2, the rest of the line skipped, the session goes on.
        s, _ = connect(serve.port)
        s.send(b"EHLO " + b"x" * 100000 + b"\r\nNOOP\r\n")
        r = s.reply()
        checks.check(r.startswith(b"500 5.5.2"), "100 kB command line: 500 5.5.2", repr(r[:200]))
        checks.equal(s.code(), 250, "the session goes on after an over-long line (NOOP 250)")
        # Over-long text line in DATA: the message is refused whole.
        s.send(b"EHLO x.test\r\n")
        s.reply()
        checks.equal(transaction(s, body=b"Subject: long\r\n\r\n" + b"y" * 5000 + b"\r\n"), 550,
                     "a 5000-octet text line: 550 5.6.0")
        s.send(b"MAIL FROM:<a@b.test> SIZE=99999999999\r\n")
        checks.equal(s.code(), 552, "MAIL SIZE over the limit: 552")
        s.close()

        # Command injection after STARTTLS (CVE-2011-0411): only the 220 comes back, and nothing
        # injected takes effect inside TLS.
        s, _ = connect(serve.port)
        s.send(b"EHLO x.test\r\n")
        s.reply()
        s.send(b"STARTTLS\r\nMAIL FROM:<evil@attacker.test>\r\nRCPT TO:<victim@serve.tlschan.test>\r\n")
        r = s.reply()
        checks.check(r == b"220 2.0.0 Ready to start TLS\r\n", "injection: only the 220 answers", repr(r))
        starttls(s)
        s.send(b"RCPT TO:<victim@serve.tlschan.test>\r\n")
        checks.equal(s.code(), 503, "injection: inside TLS the injected MAIL never happened (RCPT 503)")
        s.send(b"EHLO x.test\r\n")
        ehlo = s.reply()
        checks.check(b"STARTTLS" not in ehlo, "after TLS, EHLO does not list STARTTLS", repr(ehlo))
        checks.equal(transaction(s, rcpt=b"legit@serve.tlschan.test"), 250, "a legit message over TLS after the injection")
        legit += 1
        s.send(b"QUIT\r\n")
        s.close()
        # The same on a 501 (STARTTLS with an argument): the pipelined NOOP is never answered.
        s, _ = connect(serve.port)
        s.send(b"STARTTLS now\r\nNOOP\r\n")
        checks.check(s.reply().startswith(b"501 5.5.4"), "STARTTLS with an argument: 501 5.5.4")
        s.sock.settimeout(1)
        try:
            extra = s.sock.recv(100)
        except (socket.timeout, TimeoutError):
            extra = b""
        checks.equal(extra, b"", "the NOOP pipelined after a refused STARTTLS is discarded unanswered")
        s.close()

        # SMTP smuggling: only CRLF.CRLF ends DATA; a message holding another end-of-data sequence
        # (with a bare LF or bare CR) is refused whole, and the smuggled transaction never happens.
        for seq in (b"\n.\n", b"\r\n.\n", b"\n.\r\n", b"\r.\r", b"\r\n.\r", b"\r.\r\n"):
            s, _ = connect(serve.port)
            s.send(b"EHLO x.test\r\n")
            s.reply()
            smuggled = (b"Subject: smuggle\r\n\r\nbody" + seq + b"MAIL FROM:<smuggled@attacker.test>\r\n"
                        b"RCPT TO:<victim@serve.tlschan.test>\r\nDATA\r\nsmuggled\r\n")
            code = transaction(s, rcpt=b"bob@serve.tlschan.test", body=smuggled)
            s.send(b"NOOP\r\n")
            after = s.code()
            checks.check(code == 550 and after == 250, f"smuggling {seq!r}: one 550 5.6.0, no smuggled replies",
                         f"{code} then {after}")
            s.close()
        # NUL, bare LF, bare CR in DATA: refused whole.
        for bad, name in ((b"a\x00b\r\n", "NUL"), (b"a\nb\r\n", "bare LF"), (b"a\rb\r\n", "bare CR")):
            s, _ = connect(serve.port)
            s.send(b"EHLO x.test\r\n")
            s.reply()
            checks.equal(transaction(s, body=b"Subject: bad\r\n\r\n" + bad), 550, f"{name} in DATA: 550 5.6.0")
            s.close()
        # Bare LF, NUL and bare CR in command lines: 500 5.5.2, not executed.
        s, _ = connect(serve.port)
        for line, name in ((b"NOOP\n", "bare LF"), (b"NO\x00OP\r\n", "NUL"), (b"NO\rOP\r\n", "bare CR")):
            s.send(line)
            r = s.reply()
            checks.check(r.startswith(b"500 5.5.2"), f"{name} in a command line: 500 5.5.2", repr(r))
        s.close()

        # The error limit: the 20th error reply is followed by 421 4.7.0 and the close.
        s, _ = connect(serve.port)
        s.send(b"BOGUS\r\n" * 25)
        data, closed = s.read_until_closed(timeout=5)
        checks.check(closed and data.count(b"500 5.5.1") == 20 and b"421 4.7.0" in data,
                     "20 errors: 421 4.7.0 and close", repr(data[-200:]))
        s.close()

        # Idle: 421 4.4.2 at the deadline, then close.
        s, _ = connect(serve.port)
        start = time.monotonic()
        data, closed = s.read_until_closed(timeout=10)
        elapsed = time.monotonic() - start
        checks.check(closed and data.startswith(b"421 4.4.2") and 2.5 <= elapsed <= 6,
                     "idle connection: 421 4.4.2 at the 3 s deadline", f"{data!r} after {elapsed:.1f} s")
        s.close()

        # A client killed mid-DATA leaves nothing in the spool.
        s, _ = connect(serve.port)
        s.send(b"EHLO x.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nDATA\r\n")
        for _ in range(4):
            s.reply()
        s.send(b"Subject: cut\r\n\r\nhalf a mess")
        s.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()  # linger 0: a reset, as a killed client's kernel would send

        time.sleep(0.5)
        # Still serving, and the spool holds exactly the legit messages.
        s, greeting = connect(serve.port)
        s.send(b"EHLO x.test\r\n")
        s.reply()
        checks.equal(transaction(s), 250, "after all that, a plain message is still accepted")
        legit += 1
        s.close()
        time.sleep(0.2)
        ids = serve.spool_ids()
        checks.equal(len(ids), legit, "the spool holds only the accepted messages")
        rcpts = sorted(r for i in ids for r in serve.spool_entry(i)[0]["rcpt_to"])
        checks.equal(rcpts, ["bob@serve.tlschan.test", "legit@serve.tlschan.test"], "no injected or smuggled recipient")
        checks.check(serve.alive(), "serve is alive")
    finally:
        serve.clean_exit(checks)
finally:
    scratch.remove()
checks.finish()
