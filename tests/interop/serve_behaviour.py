"""`tlschan serve` as a program: lint errors stop it with the message, warnings do not; the
dispatcher services' ports and channels; `tlschan send` into it with the spool checked byte for
byte; a spool that cannot be written gives 451 and no entry; the connection limit; SIGTERM stops
accepting and lets sessions in flight finish up to the grace deadline.

usage: serve_behaviour.py TLSCHAN"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

import harness

tlschan = sys.argv[1]
checks = harness.Checks("serve_behaviour")
scratch = harness.Scratch("behaviour")
config = scratch.config("channels", harness.CHANNELS_IMTA)


def send(port, channel, data, extra=()):
    return harness.run([tlschan, "send", "--config", config, "--channel", channel, "--server", f"127.0.0.1:{port}",
                        "--from", "alice@client.tlschan.test", "--to", "bob@serve.tlschan.test", "--timeout", "10",
                        *extra], timeout=60, input=data)


def refuses_connections(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        return False
    except OSError:
        return True


try:
    # A lint error stops serve with the message; nothing is started.
    bad = scratch.config("bad", "$*  $U%$D@a-daemon\n\na maytls tlsswitchchannel nowhere\na-daemon\n")
    rc, out, err = harness.run([tlschan, "serve", "--config", bad, "--spool", scratch.path("spool-bad"), "--listen",
                                "127.0.0.1:0"], timeout=30)
    checks.check(rc == 78 and "bad/imta.cnf:3:" in err and "error:" in err and "listening" not in out,
                 "lint error: serve exits 78 with FILE:LINE:COL: error", out + err)
    rc, out, err = harness.run([tlschan, "serve", "--config", config, "--spool", scratch.path("s")], timeout=30)
    checks.check(rc == 64 and "no port to listen on" in err, "no dispatcher.cnf and no --listen: exit 64", err)
    rc, out, err = harness.run([tlschan, "serve", "--config", config, "--spool", scratch.path("s"), "--listen",
                                "127.0.0.1:0", "--cert", scratch.cert], timeout=30)
    checks.equal(rc, 64, "--cert without --key: exit 64")

    # The services' own ports and channels; a lint warning (a TLS port on a notls channel) does not
    # stop it, and that TLS port closes connections at once.
    p_may, p_no, p_tls = harness.free_port(), harness.free_port(), harness.free_port()
    warn = scratch.config("warn", harness.CHANNELS_IMTA,
                          f"[SERVICE=SMTP]\nPORT={p_may}\nPARAMETER=CHANNEL=s_may\n"
                          f"[SERVICE=LEGACY]\nPORT={p_no}\nTLS_PORT={p_tls}\nPARAMETER=CHANNEL=s_no\n")
    serve = harness.Serve(tlschan, warn, scratch.path("spool-warn"), tls=scratch, listen=False, tls_listen=False)
    try:
        checks.check("warning:" in serve.errors(), "a lint warning is printed", serve.errors())
        text = serve.output()
        checks.check(f"listening regular 127.0.0.1:{p_may} service=SMTP channel=s_may" in text
                     and f"listening regular 127.0.0.1:{p_no} service=LEGACY channel=s_no" in text
                     and f"listening tls-port 127.0.0.1:{p_tls} service=LEGACY channel=s_no" in text,
                     "serve listens on the services' ports with their channels", text)
        rc, out, err = send(p_may, "c_may", b"hi\n")
        rc2, out2, err2 = send(p_no, "c_may", b"hi\n")
        checks.check(rc == 0 and "over TLS" in out and rc2 == 0 and "in plaintext" in out2,
                     "service SMTP offers STARTTLS, service LEGACY does not", out + out2)
        s = harness.SmtpSocket(p_tls)
        data, closed = s.read_until_closed(timeout=5)
        s.close()
        checks.check(closed and data == b"", "TLS port of a notls channel: closed without a byte", repr(data))
    finally:
        serve.clean_exit(checks, "services serve")

    serve = harness.Serve(tlschan, config, scratch.path("spool"), args=["--channel", "s_may", "--max-connections", "2"],
                          tls=scratch)
    try:
        # The default syncs a batch by file system where the kernel's syncfs reports every error.
        kernel = tuple(int(x) for x in re.match(r"(\d+)\.(\d+)", os.uname().release).groups())
        want = "(synced by file system)" if kernel >= (5, 17) else "(synced file by file)"
        checks.check(want in serve.output(), f"the default spool sync on Linux {kernel[0]}.{kernel[1]}: {want}",
                     serve.output())
        # send -> serve: the .eml is the data as given, LF turned into CRLF, dot-unstuffed.
        text = b"Subject: round trip\n\n.one leading dot\n..two leading dots\n.\nlast line without end"
        rc, out, err = send(serve.port, "c_may", text)
        ids = serve.spool_ids()
        if checks.check(rc == 0 and len(ids) == 1, "send -> serve (may/may): delivered", out + err):
            meta, data = serve.spool_entry(ids[0])
            checks.equal(data, text.replace(b"\n", b"\r\n") + b"\r\n", ".eml is the data exactly, dot-unstuffed")
            checks.check(meta["tls"] is True and meta["channel"] == "s_switched" and meta["rcpt_to"] == ["bob@serve.tlschan.test"],
                         ".json: tls true, channel after the switch, rcpt_to an array", repr(meta))
            checks.check(set(meta) >= {"mail_from", "rcpt_to", "channel", "tls", "tls_version", "cipher", "received_at"},
                         ".json has every field of the spool format", repr(meta))
        rc, out, err = send(serve.port, "c_no", b"plain\n")
        ids = serve.spool_ids()
        if checks.check(rc == 0 and len(ids) == 2, "send -> serve (no/may): delivered", out + err):
            meta, _ = serve.spool_entry(ids[-1])
            checks.check(meta["tls"] is False and meta["channel"] == "s_may" and meta["tls_version"] is None,
                         ".json: tls false, the incoming channel", repr(meta))

        # A spool that cannot be written: 451, deferred, nothing left behind; then it works again.
        shutil.rmtree(serve.spool)
        rc, out, err = send(serve.port, "c_may", b"lost?\n")
        checks.check(rc == 75 and "451 4.3.0" in out, "spool gone: 451 4.3.0, deferred (exit 75)", out + err)
        checks.check("not-stored reply=451" in serve.output(), "serve logs the message as not stored")
        os.makedirs(serve.spool)
        rc, out, err = send(serve.port, "c_may", b"again\n")
        checks.check(rc == 0 and len(serve.spool_ids()) == 1, "spool back: delivered again", out + err)

        # The connection limit: a third connection waits for its greeting until one closes.
        a, ga = harness.SmtpSocket(serve.port), None
        ga = a.reply()
        b = harness.SmtpSocket(serve.port)
        gb = b.reply()
        c = harness.SmtpSocket(serve.port)
        c.sock.settimeout(1)
        try:
            early = c.sock.recv(100)
        except (socket.timeout, TimeoutError):
            early = b""
        checks.check(ga.startswith(b"220") and gb.startswith(b"220") and early == b"",
                     "--max-connections 2: the third connection gets no greeting yet", repr(early))
        a.send(b"QUIT\r\n")
        a.reply()
        a.close()
        c.sock.settimeout(5)
        checks.check(c.reply().startswith(b"220 "), "once one closes, the third gets its greeting")
        b.close()

        # SIGTERM: no new connections; the session in flight finishes its message.
        c.send(b"EHLO x.test\r\nMAIL FROM:<late@client.tlschan.test>\r\n")
        c.reply()
        c.reply()
        serve.proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        checks.check(refuses_connections(serve.port), "after SIGTERM: new connections are refused")
        c.send(b"RCPT TO:<bob@serve.tlschan.test>\r\nDATA\r\n")
        c.reply()
        c.reply()
        c.send(b"Subject: in flight\r\n\r\nfinished after SIGTERM\r\n.\r\nQUIT\r\n")
        checks.equal(c.code(), 250, "the session in flight still gets its 250")
        checks.equal(c.code(), 221, "and its QUIT answered")
        c.close()
        try:
            rc = serve.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            rc = None
        checks.equal(rc, 0, "serve exits 0 once the session in flight is done")
        checks.equal(len(serve.spool_ids()), 2, "the in-flight message is in the spool")
    finally:
        serve.clean_exit(checks, "limit serve")

    # --spool-sync each-file (an fsync per file instead of one syncfs per batch): the same spool, the
    # same 451 when it cannot be written.
    serve = harness.Serve(tlschan, config, scratch.path("spool-each"), args=["--channel", "s_may", "--spool-sync", "each-file"],
                          tls=scratch)
    try:
        checks.check("(synced file by file)" in serve.output(), "each-file: serve says it syncs file by file",
                     serve.output())
        text = b"Subject: each file\n\n..synced file by file\n"
        rc, out, err = send(serve.port, "c_may", text)
        ids = serve.spool_ids()
        if checks.check(rc == 0 and len(ids) == 1, "send -> serve --spool-sync each-file: delivered", out + err):
            meta, data = serve.spool_entry(ids[0])
            checks.equal(data, text.replace(b"\n", b"\r\n"), "each-file: .eml is the data exactly")
            checks.check(meta["tls"] is True, "each-file: .json says TLS", repr(meta))
        shutil.rmtree(serve.spool)
        rc, out, err = send(serve.port, "c_may", b"lost?\n")
        checks.check(rc == 75 and "451 4.3.0" in out, "each-file, spool gone: 451 4.3.0, deferred (exit 75)", out + err)
    finally:
        serve.clean_exit(checks, "each-file serve")
    rc, out, err = harness.run([tlschan, "serve", "--spool-sync", "every-file"], timeout=30)
    checks.check(rc == 64 and "every-file" in err, "--spool-sync with an unknown value: usage error 64", out + err)

    # The grace deadline: an idle session gets 421 4.4.2 when it runs out, and serve exits.
    serve = harness.Serve(tlschan, config, scratch.path("spool-grace"), args=["--channel", "s_may", "--shutdown-grace", "2"])
    try:
        s = harness.SmtpSocket(serve.port)
        s.reply()
        s.send(b"EHLO x.test\r\n")
        s.reply()
        start = time.monotonic()
        serve.proc.send_signal(signal.SIGTERM)
        data, closed = s.read_until_closed(timeout=10)
        elapsed = time.monotonic() - start
        s.close()
        checks.check(closed and data.startswith(b"421 4.3.2 Service shutting down\r\n") and 1.5 <= elapsed <= 5,
                     "after the 2 s grace the idle session gets 421 4.3.2 and is closed", f"{data!r} after {elapsed:.1f} s")
        try:
            rc = serve.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            rc = None
        checks.equal(rc, 0, "serve exits 0 after the grace")
    finally:
        serve.clean_exit(checks, "grace serve")
finally:
    scratch.remove()
checks.finish()
