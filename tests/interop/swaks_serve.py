"""swaks against `tlschan serve` for every server policy, with TLS available and unavailable, on the
regular port (plain, --tls, --tls-optional-strict, --pipeline) and on the TLS port
(--tls-on-connect). Expected outcomes from semantics.md sections 3 and 5; each delivered message
must be in the spool (tls as a JSON boolean, channel after tlsswitchchannel), each refused one must
not.

usage: swaks_serve.py TLSCHAN"""

import sys

import harness

tlschan = sys.argv[1]
checks = harness.Checks("swaks_serve")
scratch = harness.Scratch("swaks")
config = scratch.config("channels", harness.CHANNELS_IMTA)

# swaks exit codes: 0 delivered, 23 MAIL refused, 29 TLS could not start; a TLS port closed
# without a byte ends it with any non-zero status.
PLAIN = ("delivered", False)
REFUSED_530 = ("exit", 23)
NO_TLS = ("exit", 29)
CLOSED = ("closed", None)


def tls_to(channel):
    return ("delivered", True, channel)


# (channel, TLS health) -> swaks mode -> expected
cases = {
    ("s_no", "ok"): {"plain": PLAIN, "--tls": NO_TLS, "--tls-optional-strict": PLAIN, "--pipeline": PLAIN,
                     "--tls-on-connect": CLOSED},
    ("s_may", "ok"): {"plain": PLAIN, "--tls": tls_to("s_switched"), "--tls-optional-strict": tls_to("s_switched"),
                      "--pipeline": PLAIN, "--tls-on-connect": tls_to("s_switched")},
    ("s_may", "unavailable"): {"plain": PLAIN, "--tls": NO_TLS, "--tls-optional-strict": NO_TLS, "--pipeline": PLAIN,
                               "--tls-on-connect": CLOSED},
    ("s_must", "ok"): {"plain": REFUSED_530, "--tls": tls_to("s_must"), "--tls-optional-strict": tls_to("s_must"),
                       "--pipeline": REFUSED_530, "--tls-on-connect": tls_to("s_must")},
    ("s_must", "unavailable"): {"plain": REFUSED_530, "--tls": NO_TLS, "--tls-optional-strict": NO_TLS,
                                "--pipeline": REFUSED_530, "--tls-on-connect": CLOSED},
}

try:
    for (channel, health), modes in cases.items():
        name = f"{channel}/{health}"
        serve = harness.Serve(tlschan, config, scratch.path(f"spool-{channel}-{health}"), args=["--channel", channel],
                              tls=scratch if health == "ok" else None)
        try:
            unavailable_lines = serve.output().count("tls: unavailable")
            checks.equal(unavailable_lines, 0 if health == "ok" else 1, f"{name}: 'tls: unavailable' logged once iff no cert")
            for mode, expected in modes.items():
                before = serve.spool_ids()
                port = serve.tls_port if mode == "--tls-on-connect" else serve.port
                sender = f"alice+{channel}@client.tlschan.test"
                cmd = ["swaks", "--server", f"127.0.0.1:{port}", "--from", sender, "--to", "bob@serve.tlschan.test",
                       "--ehlo", "client.tlschan.test", "--timeout", "15", "--body", "Hello from swaks.\n.leading dot\n"]
                if mode != "plain":
                    cmd.append(mode)
                rc, out, err = harness.run(cmd, timeout=30)
                after = serve.spool_ids()
                new = [i for i in after if i not in before]
                what = f"{name} swaks {mode}"
                if expected[0] == "delivered":
                    ok = checks.check(rc == 0 and len(new) == 1, f"{what}: delivered, one spool entry",
                                      f"exit {rc}, new entries {new}\n{out[-1500:]}")
                    if ok:
                        meta, data = serve.spool_entry(new[0])
                        want_tls = expected[1]
                        want_channel = expected[2] if want_tls else channel
                        checks.check(meta["tls"] is want_tls, f"{what}: spool tls is JSON {str(want_tls).lower()}",
                                     repr(meta))
                        checks.equal(meta["channel"], want_channel, f"{what}: spool channel")
                        checks.equal((meta["mail_from"], meta["rcpt_to"]), (sender, ["bob@serve.tlschan.test"]),
                                     f"{what}: spool envelope")
                        checks.check(b"Hello from swaks.\r\n.leading dot\r\n" in data,
                                     f"{what}: .eml holds the data dot-unstuffed", repr(data[-200:]))
                        if want_tls:
                            checks.check(meta["tls_version"].startswith("TLSv1.") and meta["cipher"],
                                         f"{what}: spool tls_version and cipher", repr(meta))
                elif expected[0] == "exit":
                    checks.check(rc == expected[1] and not new, f"{what}: swaks exits {expected[1]}, nothing spooled",
                                 f"exit {rc}, new entries {new}\n{out[-1500:]}")
                else:
                    checks.check(rc != 0 and not new, f"{what}: refused, nothing spooled",
                                 f"exit {rc}, new entries {new}")
                    # 3.5: closed at once without a byte sent.
                    s = harness.SmtpSocket(serve.tls_port)
                    data, closed = s.read_until_closed(timeout=5)
                    s.close()
                    checks.check(closed and data == b"", f"{name} TLS port: closed at once without a byte",
                                 f"closed={closed} data={data[:100]!r}")
            checks.check(serve.alive(), f"{name}: serve still running")
        finally:
            serve.clean_exit(checks, f"{name} serve")
finally:
    scratch.remove()
checks.finish()
