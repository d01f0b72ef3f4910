"""`openssl s_client -starttls smtp` (and plain s_client on the TLS port) against `tlschan serve`:
a whole transaction over TLS lands in the spool with tls true and the channel after the switch;
after TLS, EHLO does not list STARTTLS and STARTTLS gets 554 5.5.1; a notls server never starts TLS.

usage: openssl_serve.py TLSCHAN"""

import re
import sys

import harness

tlschan = sys.argv[1]
checks = harness.Checks("openssl_serve")
scratch = harness.Scratch("openssl")
config = scratch.config("channels", harness.CHANNELS_IMTA)

TRANSACTION = ("EHLO client.tlschan.test\nMAIL FROM:<alice@client.tlschan.test>\n"
               "RCPT TO:<bob@serve.tlschan.test>\nDATA\nSubject: s_client\n\nHello over TLS.\n.\nQUIT\n")
# STARTTLS inside TLS: 554 5.5.1, and what was pipelined after it is discarded unanswered (3.2.1),
# so the NOOP gets no reply and the session ends at the idle timeout (421 4.4.2).
AGAIN = "EHLO client.tlschan.test\nSTARTTLS\nNOOP\n"


def s_client(port, starttls, text=TRANSACTION):
    cmd = ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-crlf", "-quiet", "-servername", "localhost"]
    if starttls:
        cmd += ["-starttls", "smtp"]
    return harness.run(cmd, timeout=30, input=text.encode())


try:
    for channel, want_channel in (("s_may", "s_switched"), ("s_must", "s_must")):
        serve = harness.Serve(tlschan, config, scratch.path(f"spool-{channel}"), args=["--channel", channel, "--idle-timeout", "2"], tls=scratch)
        try:
            for port, starttls, how in ((serve.port, True, "-starttls smtp"), (serve.tls_port, False, "TLS port")):
                before = serve.spool_ids()
                rc, out, err = s_client(port, starttls)
                new = [i for i in serve.spool_ids() if i not in before]
                what = f"{channel} s_client {how}"
                checks.check(re.search(r"^250 2\.0\.0 Ok: queued", out, re.M) is not None and len(new) == 1,
                             f"{what}: message queued and spooled", f"exit {rc}\n{out[-2000:]}\n{err[-1000:]}")
                checks.check(re.search(r"^250-STARTTLS", out, re.M) is None, f"{what}: EHLO after TLS does not list STARTTLS",
                             out[-2000:])
                checks.check(re.search(r"^221 ", out, re.M) is not None, f"{what}: QUIT answered", out[-1000:])
                if len(new) == 1:
                    meta, data = serve.spool_entry(new[0])
                    checks.check(meta["tls"] is True, f"{what}: spool tls true", repr(meta))
                    checks.equal(meta["channel"], want_channel, f"{what}: spool channel")
                    checks.check(data.endswith(b"Hello over TLS.\r\n"), f"{what}: .eml content", repr(data))
                rc, out, err = s_client(port, starttls, AGAIN)
                checks.check(re.search(r"^554 5\.5\.1 TLS already active\r?\n421 4\.4\.2 ", out, re.M) is not None,
                             f"{what}: STARTTLS inside TLS gets 554 5.5.1, the NOOP after it is discarded, idle 421",
                             out[-2000:])
        finally:
            serve.clean_exit(checks, f"{channel} serve")

    serve = harness.Serve(tlschan, config, scratch.path("spool-s_no"), args=["--channel", "s_no"], tls=scratch)
    try:
        rc, out, err = s_client(serve.port, True)
        checks.check(rc != 0 and not serve.spool_ids() and "Ok: queued" not in out,
                     "s_no s_client -starttls smtp: no TLS, nothing spooled", f"exit {rc}\n{out[-1000:]}\n{err[-1000:]}")
    finally:
        serve.clean_exit(checks, "s_no serve")
finally:
    scratch.remove()
checks.finish()
