"""`tlschan send` against aiosmtpd as none, may, must, implicit-TLS and broken-TLS server, for every
client policy (semantics.md sections 4 and 5): exit status, per-recipient outcome, what aiosmtpd
received (dot-unstuffed data with CRLF line ends, over TLS or not), the may fallback on a second
connection, and that a must client never sends MAIL in plaintext (from the --json transcript).

usage: send_aiosmtpd.py TLSCHAN"""

import json
import sys

import harness

tlschan = sys.argv[1]
checks = harness.Checks("send_aiosmtpd")
scratch = harness.Scratch("aiosmtpd")
config = scratch.config("channels", harness.CHANNELS_IMTA)
MESSAGE = "Subject: interop\n\n.leading dot\nline two\n"
WIRE = "Subject: interop\r\n\r\n.leading dot\r\nline two\r\n"

# server mode -> client channel -> (exit status, disposition, tls, connections)
PLAIN = (0, "delivered", False, 1)
TLS = (0, "delivered", True, 1)
DEFERRED = (75, "deferred", False, 1)
expected = {
    "none": {"c_no": PLAIN, "c_may": PLAIN, "c_must": DEFERRED},
    "may": {"c_no": PLAIN, "c_may": TLS, "c_must": TLS},
    "must": {"c_no": (69, "bounced", False, 1), "c_may": TLS, "c_must": TLS},
    "implicit": {"c_no": (64, None, None, 0), "c_may": TLS, "c_must": TLS},
    "broken": {"c_no": PLAIN, "c_may": (0, "delivered", False, 2), "c_must": DEFERRED},
}

try:
    for mode, clients in expected.items():
        server = harness.Aiosmtpd(mode, scratch, mode)
        try:
            for channel, (want_rc, want_disp, want_tls, want_conns) in clients.items():
                what = f"{channel} -> aiosmtpd {mode}"
                before = len(server.messages())
                cmd = [tlschan, "send", "--config", config, "--channel", channel, "--server",
                       f"127.0.0.1:{server.port}", "--from", "alice@client.tlschan.test", "--to",
                       "bob@aiosmtpd.tlschan.test", "--helo", "client.tlschan.test", "--timeout", "10", "--json"]
                if mode == "implicit":
                    cmd.append("--implicit-tls")
                rc, out, err = harness.run(cmd, timeout=60, input=MESSAGE.encode())
                checks.equal(rc, want_rc, f"{what}: exit status")
                checks.check(harness.SANITIZER_REPORT.search(err) is None, f"{what}: no sanitizer report", err[-2000:])
                received = server.messages()[before:]
                if want_disp is None:
                    checks.check(not received and out == "", f"{what}: usage error, nothing sent", out + err)
                    continue
                try:
                    result = json.loads(out)
                except ValueError:
                    checks.check(False, f"{what}: --json output parses", out[-2000:] + err[-2000:])
                    continue
                outcome = result["outcomes"][0]
                checks.equal((outcome["disposition"], outcome["tls"]), (want_disp, want_tls), f"{what}: outcome")
                checks.equal(result["connections"], want_conns, f"{what}: connections")
                checks.equal(result["tls_fallback"], want_conns == 2, f"{what}: tls_fallback")
                if want_disp == "delivered":
                    ok = checks.equal(len(received), 1, f"{what}: aiosmtpd received one message")
                    if ok:
                        checks.equal(received[0]["tls"], want_tls, f"{what}: aiosmtpd saw TLS as the outcome says")
                        checks.check(received[0]["data"].startswith(WIRE), f"{what}: data dot-unstuffed, CRLF",
                                     repr(received[0]["data"]))
                else:
                    checks.equal(len(received), 0, f"{what}: aiosmtpd received nothing")
                if want_disp == "bounced":
                    checks.equal(outcome["code"], 530, f"{what}: bounced on the 530")
                plaintext = "".join(t.get("text", "") for t in result["transcript"] if t.get("direction") == "c>s")
                if channel == "c_must":
                    checks.check("MAIL FROM" not in plaintext and "RCPT TO" not in plaintext,
                                 f"{what}: a must client sends no MAIL or RCPT in plaintext", plaintext)
                if want_tls:
                    checks.check(any("tls_bytes" in t for t in result["transcript"]) and "MAIL FROM" not in plaintext,
                                 f"{what}: transcript shows TLS records, MAIL only inside TLS", plaintext)
                if mode == "broken" and channel == "c_may":
                    second = "".join(t.get("text", "") for t in result["transcript"]
                                     if t.get("direction") == "c>s" and t["connection"] == 2)
                    checks.check("STARTTLS" not in second and "MAIL FROM:<alice@client.tlschan.test>" in second,
                                 f"{what}: the fallback connection is plaintext without STARTTLS", second)
        finally:
            server.stop()

    # Text output and a refused connection (nothing listens): deferred, exit 75.
    port = harness.free_port()
    rc, out, err = harness.run([tlschan, "send", "--config", config, "--channel", "c_may", "--server",
                                f"127.0.0.1:{port}", "--from", "a@client.tlschan.test", "--to", "b@x.test", "c@x.test"],
                               timeout=30, input=b"hi\n")
    checks.check(rc == 75 and out.count(": deferred: cannot connect") == 2, "connection refused: both recipients deferred, exit 75",
                 out + err)
    # Usage and configuration errors.
    rc, out, err = harness.run([tlschan, "send", "--config", config, "--channel", "nosuch", "--server", "127.0.0.1:1",
                                "--from", "a@b.test", "--to", "c@d.test"], timeout=30, input=b"")
    checks.check(rc == 64 and "--channel: found 'nosuch'" in err, "unknown channel: exit 64", err)
    bad = scratch.config("bad", "$*  $U%$D@a-daemon\n\na tlsswitchchannel nowhere\na-daemon\n")
    rc, out, err = harness.run([tlschan, "send", "--config", bad, "--channel", "a", "--server", "127.0.0.1:1",
                                "--from", "a@b.test", "--to", "c@d.test"], timeout=30, input=b"")
    checks.check(rc == 78 and "imta.cnf:3:" in err and "error:" in err, "configuration error: exit 78 with FILE:LINE:COL", err)
    rc, out, err = harness.run([tlschan, "send", "--config", config, "--channel", "c_may", "--server", "127.0.0.1:1"],
                               timeout=30, input=b"")
    checks.equal(rc, 64, "missing --from/--to: exit 64")
finally:
    scratch.remove()
checks.finish()
