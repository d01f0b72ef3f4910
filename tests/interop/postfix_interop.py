"""Postfix 3.7 both ways, on a private instance (its own config, queue and log folders, loopback
listeners only), checked against semantics.md section 5 and against Postfix's own log and queue:

- Postfix as server at TLS levels none, may and encrypt (smtpd_tls_security_level), `tlschan
  send` with client policy no, may and must;
- Postfix as client at levels none, may and encrypt (smtp_tls_security_level), delivering to
  `tlschan serve` with server policy no, may (TLS available and unavailable) and must.

Skipped (exit 0 with a note) when Postfix is not installed. Needs root (Postfix drops to the
postfix user).

usage: postfix_interop.py TLSCHAN"""

import glob
import os
import re
import sys

import harness
import postfix_instance
from postfix_instance import greets

tlschan = sys.argv[1]
checks = harness.Checks("postfix_interop", deadline=150)
if not os.path.exists("/usr/sbin/postfix") or os.geteuid() != 0:
    print("postfix_interop: Postfix not installed or not root; skipped (0 passed, 0 failed)")
    sys.exit(0)

scratch = harness.Scratch("postfix")
pf = scratch.path("postfix")


def queue_files(which):
    return [p for p in glob.glob(os.path.join(pf, "queue", which, "**"), recursive=True) if os.path.isfile(p)]


config = scratch.config("channels", harness.CHANNELS_IMTA)
# serve with TLS: one service per server policy; serve without a certificate: may, TLS unavailable.
s_no, s_may, s_must, s_unav = (harness.free_port() for _ in range(4))
served = scratch.config("served", harness.CHANNELS_IMTA,
                        f"[SERVICE=NO]\nPORT={s_no}\nPARAMETER=CHANNEL=s_no\n"
                        f"[SERVICE=MAY]\nPORT={s_may}\nPARAMETER=CHANNEL=s_may\n"
                        f"[SERVICE=MUST]\nPORT={s_must}\nPARAMETER=CHANNEL=s_must\n")
unav = scratch.config("unav", harness.CHANNELS_IMTA, f"[SERVICE=MAY]\nPORT={s_unav}\nPARAMETER=CHANNEL=s_may\n")
p_none, p_may, p_enc = (harness.free_port() for _ in range(3))

transport = ""
for level, service in (("none", "smtp_none"), ("may", "smtp"), ("enc", "smtp_encrypt")):
    for server, port in (("no", s_no), ("may", s_may), ("must", s_must), ("unav", s_unav)):
        transport += f"{level}-{server}.test  {service}:[127.0.0.1]:{port}\n"
transport += "postfix.test  discard:\n"
instance = postfix_instance.Postfix(scratch, f"""\
smtpd_tls_security_level = may
smtpd_tls_loglevel = 1
smtp_tls_security_level = may
smtp_tls_loglevel = 1
transport_maps = texthash:{pf}/transport
default_transport = discard:unrouted
queue_run_delay = 300s
minimal_backoff_time = 300s
smtp_connect_timeout = 10s
""", [f"127.0.0.1:{p_none} inet n - n - - smtpd -o smtpd_tls_security_level=none",
      f"127.0.0.1:{p_may} inet n - n - - smtpd -o smtpd_tls_security_level=may",
      f"127.0.0.1:{p_enc} inet n - n - - smtpd -o smtpd_tls_security_level=encrypt"])
log_text, wait_log = instance.log_text, instance.wait_log
with open(os.path.join(pf, "transport"), "w") as f:
    f.write(transport)

serve = serve_unav = None
try:
    rc, out = instance.start()
    if not checks.check(instance.started and greets(p_may), "a private Postfix instance starts and greets",
                        out + log_text()[-2000:]):
        raise SystemExit
    serve = harness.Serve(tlschan, served, scratch.path("spool"), tls=scratch, listen=False, tls_listen=False)
    serve_unav = harness.Serve(tlschan, unav, scratch.path("spool-unav"), listen=False, tls_listen=False)

    # 1. tlschan send -> Postfix at none, may, encrypt.
    # (exit status, delivered over TLS); Postfix's encrypt level answers MAIL in plaintext with 530.
    expected = {
        ("none", "c_no"): (0, False), ("none", "c_may"): (0, False), ("none", "c_must"): (75, None),
        ("may", "c_no"): (0, False), ("may", "c_may"): (0, True), ("may", "c_must"): (0, True),
        ("encrypt", "c_no"): (69, None), ("encrypt", "c_may"): (0, True), ("encrypt", "c_must"): (0, True),
    }
    ports = {"none": p_none, "may": p_may, "encrypt": p_enc}
    for (level, channel), (want_rc, want_tls) in expected.items():
        what = f"send {channel} -> Postfix {level}"
        sender = f"{channel}.{level}@client.tlschan.test"
        tls_before = log_text().count("TLS connection established from")
        rc, out, err = harness.run([tlschan, "send", "--config", config, "--channel", channel, "--server",
                                    f"127.0.0.1:{ports[level]}", "--from", sender, "--to", "bob@postfix.test",
                                    "--helo", "client.tlschan.test", "--timeout", "10"],
                                   timeout=60, input=b"Subject: to postfix\n\nhello\n")
        checks.equal(rc, want_rc, f"{what}: exit status")
        if want_rc == 0:
            checks.check(("over TLS" if want_tls else "in plaintext") in out, f"{what}: delivered {'over TLS' if want_tls else 'in plaintext'}", out)
            m = wait_log(r"^.*postfix/qmgr\[\d+\]: (\w+): from=<" + re.escape(sender) + ">")
            sent = m and wait_log(r"^.*postfix/discard\[\d+\]: " + m.group(1) + r": to=<bob@postfix\.test>.*status=sent")
            checks.check(sent is not None, f"{what}: Postfix's log shows the message queued and sent on", log_text()[-1500:])
            tls_after = log_text().count("TLS connection established from")
            checks.equal(tls_after - tls_before, 1 if want_tls else 0, f"{what}: Postfix's log shows TLS as expected")
        elif want_rc == 69:
            checks.check("530 5.7.0 Must issue a STARTTLS command first" in out, f"{what}: bounced on Postfix's 530", out)
        else:
            checks.check("TLS required, but the server does not offer STARTTLS" in out, f"{what}: deferred, TLS not offered", out)
        if want_rc != 0:
            checks.check(re.search(r"from=<" + re.escape(sender) + ">", log_text()) is None,
                         f"{what}: nothing queued by Postfix")

    # 2. Postfix at none, may, encrypt -> tlschan serve. Mail goes in on Postfix's plaintext listener.
    # expected: (Postfix status, dsn prefix, serve's spool: tls, channel)
    cases = {
        ("none", "no"): ("sent", "2.", (False, "s_no")), ("may", "no"): ("sent", "2.", (False, "s_no")),
        ("enc", "no"): ("deferred", "4.7.4", None),
        ("none", "may"): ("sent", "2.", (False, "s_may")), ("may", "may"): ("sent", "2.", (True, "s_switched")),
        ("enc", "may"): ("sent", "2.", (True, "s_switched")),
        ("none", "must"): ("bounced", "5.7.0", None), ("may", "must"): ("sent", "2.", (True, "s_must")),
        ("enc", "must"): ("sent", "2.", (True, "s_must")),
        ("may", "unav"): ("sent", "2.", (False, "s_may")), ("enc", "unav"): ("deferred", "4.", None),
    }
    for (level, server), _ in cases.items():
        rc, out, err = harness.run([tlschan, "send", "--config", config, "--channel", "c_no", "--server",
                                    f"127.0.0.1:{p_none}", "--from", "alice@client.tlschan.test", "--to",
                                    f"bob@{level}-{server}.test", "--timeout", "10"],
                                   timeout=60, input=f"Subject: {level} to {server}\n\nvia postfix\n".encode())
        checks.equal(rc, 0, f"into Postfix for {level}-{server}.test")
    for (level, server), (status, dsn, spool) in cases.items():
        what = f"Postfix {level} -> serve {server}"
        rcpt = f"bob@{level}-{server}.test"
        m = wait_log(r"^.*postfix/(?:smtp|smtp_none|smtp_encrypt)\[\d+\]: (\w+): to=<" + re.escape(rcpt) +
                     r">.*dsn=([\d.]+), status=(\w+) (.*)$")
        if not checks.check(m is not None, f"{what}: Postfix logs a delivery attempt", log_text()[-2000:]):
            continue
        checks.check(m.group(3) == status and m.group(2).startswith(dsn), f"{what}: Postfix status={status} dsn={dsn}",
                     m.group(0))
        target = serve_unav if server == "unav" else serve
        entries = [target.spool_entry(i)[0] for i in target.spool_ids()]
        mine = [e for e in entries if e["rcpt_to"] == [rcpt]]
        if spool is None:
            checks.equal(len(mine), 0, f"{what}: nothing in serve's spool")
        elif checks.equal(len(mine), 1, f"{what}: one spool entry"):
            checks.equal((mine[0]["tls"], mine[0]["channel"]), spool, f"{what}: spool tls and channel")
        if status == "deferred":
            checks.check(len(queue_files("deferred")) > 0, f"{what}: the message waits in Postfix's deferred queue")
    m = wait_log(r"to=<bob@enc-no\.test>.*status=deferred \((.*)\)")
    checks.check(m is not None and "TLS is required, but was not offered" in m.group(1),
                 "Postfix encrypt facing a notls serve: 'TLS is required, but was not offered'", m.group(0) if m else "")
    checks.equal(len(queue_files("deferred")), 2, "exactly the two encrypt-to-no-TLS messages are deferred in Postfix")
finally:
    for s in (serve, serve_unav):
        if s:
            s.clean_exit(checks, "serve")
    instance.stop()
    if os.environ.get("TLSCHAN_KEEP"):
        print(f"kept {scratch.dir}")
    else:
        scratch.remove()
checks.finish()
