"""A small SMTP server for the probe tests, correct by default (the contract of semantics.md, in
short) and broken on demand, one bug per flag, so that each probe check can be shown to PASS against
the correct server and to FAIL (or WARN) against the bug it exists to find.

usage: fake_smtp_server.py CERT KEY POLICY [BUG...]
  POLICY: no | may | must | implicit (TLS on connect, may)
  BUG:    no-purge                 answers commands pipelined after STARTTLS (inside TLS)
          plaintext-after-220      answers a command sent after the 220, before the handshake
          lf-dot-lf                ends DATA at LF.LF too
          relist-starttls          lists STARTTLS again after TLS
          accept-second-starttls   answers a STARTTLS inside TLS with 220, then drops the connection
          no-must-gate             a must server that accepts MAIL, RCPT, DATA, VRFY before TLS
          starttls-argument        accepts STARTTLS with an argument
          exec-bare-lf             executes commands ended by a bare LF
          drop-long-line           closes the connection without a reply on a line over 1000 octets
          die-on-nul               the whole server stops listening on a NUL in a command
          exit-after-message       the whole server exits after a session that sent a message
          no-ehlo                  answers EHLO with 502
          broken-tls               answers STARTTLS with 220, then sends plaintext instead of TLS
          tls-unavailable          lists STARTTLS and answers it with 454
          must-other-text          a must server whose 530 has another text
          starttls-on-no           a no server that accepts STARTTLS all the same
          lenient-data-end         strips NULs and ends DATA at any CR or LF, a dot, any CR or LF
          lenient-lines            executes command lines with a bare LF, a bare CR or a NUL
          short-lines              refuses command lines over 256 octets
Prints "ready PORT" once listening on 127.0.0.1 (a free port); stops when stdin closes."""

import os
import re
import socket
import ssl
import sys
import threading
import time

cert, key, policy = sys.argv[1], sys.argv[2], sys.argv[3]
bugs = set(sys.argv[4:])
ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
ctx.load_cert_chain(cert, key)
MUST_530 = (b"530 5.7.0 Must issue a STARTTLS command first\r\n" if "must-other-text" in bugs
            else b"530 5.7.0 No STARTTLS command has been given.\r\n")


class Session:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.tls = False
        self.errors = 0
        self.messages = 0
        self.reset()

    def reset(self):
        self.helo = False
        self.mail = False
        self.rcpt = False

    def send(self, data):
        self.sock.sendall(data)

    def fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError
        self.buf += chunk

    def line(self):
        """A command line: up to LF (CRLF strictly, unless exec-bare-lf)."""
        while b"\n" not in self.buf:
            if len(self.buf) > 1000 and "drop-long-line" in bugs:
                raise EOFError
            self.fill()
        i = self.buf.index(b"\n")
        line, self.buf = self.buf[: i + 1], self.buf[i + 1:]
        return line

    def start_tls(self):
        self.sock.settimeout(10)
        self.sock = ctx.wrap_socket(self.sock, server_side=True)
        self.tls = True
        self.reset()

    def run(self):
        if policy == "implicit":
            self.start_tls()
        self.send(b"220 fake.tlschan.test ESMTP\r\n")
        while True:
            raw = self.line()
            if len(raw) > (256 if "short-lines" in bugs else 512):
                if "drop-long-line" in bugs:
                    return
                self.error(b"500 5.5.2 Line too long\r\n")
                continue
            if b"\x00" in raw and "die-on-nul" in bugs:
                os._exit(3)
            bare_lf = not raw.endswith(b"\r\n")
            body = raw[:-2] if raw.endswith(b"\r\n") else raw[:-1]
            if "lenient-lines" in bugs:
                body = body.replace(b"\r", b"").replace(b"\x00", b"")
            if (bare_lf and "exec-bare-lf" not in bugs and "lenient-lines" not in bugs) or b"\r" in body or b"\x00" in body:
                self.error(b"500 5.5.2 Bad line end or character\r\n")
                continue
            text = body.decode("latin-1")
            verb, _, arg = text.partition(" ")
            verb = verb.upper()
            if not self.command(verb, arg):
                return

    def error(self, reply):
        self.errors += 1
        if self.errors >= 20:
            self.send(b"421 4.7.0 Too many errors\r\n")
            raise EOFError
        self.send(reply)

    def command(self, verb, arg):
        gated = policy == "must" and not self.tls and "no-must-gate" not in bugs
        if verb == "EHLO" and "no-ehlo" in bugs:
            self.error(b"502 5.5.1 Not implemented\r\n")
        elif verb in ("EHLO", "HELO"):
            self.reset()
            self.helo = True
            lines = [b"fake.tlschan.test", b"PIPELINING", b"8BITMIME"]
            if verb == "EHLO" and policy in ("may", "must", "implicit") and (not self.tls or "relist-starttls" in bugs):
                lines.append(b"STARTTLS")
            if verb == "HELO":
                lines = lines[:1]
            out = b"".join(b"250-" + l + b"\r\n" for l in lines[:-1]) + b"250 " + lines[-1] + b"\r\n"
            self.send(out)
        elif verb == "STARTTLS":
            if policy == "no" and "starttls-on-no" not in bugs:
                self.error(b"502 5.5.1 Not implemented\r\n")
            elif "tls-unavailable" in bugs:
                self.send(b"454 4.7.1 TLS not available\r\n")
                self.buf = b""
            elif "broken-tls" in bugs and not arg:
                self.send(b"220 2.0.0 Ready to start TLS\r\nthis is not TLS\r\n")
                return False
            elif arg and "starttls-argument" not in bugs:
                self.error(b"501 5.5.4 Syntax: STARTTLS\r\n")
            elif self.tls:
                if "accept-second-starttls" in bugs:
                    self.send(b"220 2.0.0 Ready to start TLS\r\n")
                    return False
                self.error(b"554 5.5.1 TLS already active\r\n")
            else:
                if "no-purge" in bugs:
                    time.sleep(0.1)  # let a second segment arrive too, as a slower server would
                    self.sock.setblocking(False)
                    try:
                        self.buf += self.sock.recv(65536)
                    except BlockingIOError:
                        pass
                    self.sock.setblocking(True)
                    kept = self.buf
                else:
                    kept = b""
                self.buf = b""
                self.send(b"220 2.0.0 Ready to start TLS\r\n")
                if "plaintext-after-220" in bugs:
                    time.sleep(0.1)
                    peek = self.sock.recv(1, socket.MSG_PEEK)
                    if peek[:1].isalpha():
                        self.line()
                        self.send(b"250 2.0.0 Ok\r\n")
                        self.buf = b""
                try:
                    self.start_tls()
                except (ssl.SSLError, OSError):
                    return False
                self.buf = kept
        elif verb == "NOOP":
            self.send(b"250 2.0.0 Ok\r\n")
        elif verb == "RSET":
            self.mail = self.rcpt = False
            self.send(b"250 2.0.0 Ok\r\n")
        elif verb == "QUIT":
            if self.messages and "exit-after-message" in bugs:
                # Stop listening before the 221, so that no connection made after it is greeted.
                listener.shutdown(socket.SHUT_RDWR)
                self.send(b"221 2.0.0 Bye\r\n")
                self.sock.close()
                os._exit(3)
            self.send(b"221 2.0.0 Bye\r\n")
            return False
        elif verb in ("MAIL", "RCPT", "DATA", "VRFY") and gated:
            self.send(MUST_530)
        elif verb == "MAIL":
            if not self.helo:
                self.error(b"503 5.5.1 EHLO first\r\n")
            else:
                self.mail = True
                self.send(b"250 2.1.0 Ok\r\n")
        elif verb == "RCPT":
            if not self.mail:
                self.error(b"503 5.5.1 MAIL first\r\n")
            else:
                self.rcpt = True
                self.send(b"250 2.1.5 Ok\r\n")
        elif verb == "VRFY":
            self.send(b"252 2.5.2 Cannot verify\r\n")
        elif verb == "DATA":
            if not self.rcpt:
                self.error(b"503 5.5.1 RCPT first\r\n")
            else:
                self.send(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                self.data()
                self.mail = self.rcpt = False
                self.messages += 1
                self.send(b"250 2.0.0 Accepted\r\n")
        else:
            self.error(b"500 5.5.1 Unknown command\r\n")
        return True

    def data(self):
        if "lenient-data-end" in bugs:
            while True:
                m = re.search(rb"[\r\n]\.[\r\n]", self.buf.replace(b"\x00", b""))
                if m:
                    self.buf = self.buf.replace(b"\x00", b"")[m.end():]
                    return
                self.fill()
        ends = [b"\r\n.\r\n"] + ([b"\n.\n"] if "lf-dot-lf" in bugs else [])
        at = 0
        while True:
            found = [self.buf.find(e, max(0, at - 5)) for e in ends]
            hits = [(f, len(e)) for f, e in zip(found, ends) if f >= 0]
            if hits:
                f, n = min(hits)
                self.buf = self.buf[f + n:]
                return
            at = len(self.buf)
            self.fill()


def serve(conn):
    conn.settimeout(30)
    s = Session(conn)
    try:
        s.run()
    except (EOFError, OSError, ssl.SSLError):
        pass
    finally:
        try:
            s.sock.close()
        except OSError:
            pass


listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", 0))
listener.listen(16)


def accept():
    while True:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


threading.Thread(target=accept, daemon=True).start()
print(f"ready {listener.getsockname()[1]}", flush=True)
sys.stdin.read()
listener.close()
