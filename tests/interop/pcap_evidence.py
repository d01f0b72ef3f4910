"""The pcapng of real connections, read by Wireshark's tshark with no key option: `tlschan probe
--evidence DIR` against `tlschan serve` (beside each check's transcript, DIR/CHECK.pcapng, on the
STARTTLS port and on the TLS port), `tlschan send --pcap --keylog` against `tlschan serve`, and
`tlschan client-check --evidence DIR` with `tlschan send` as the client under test. In each file the
SMTP after STARTTLS (EHLO, MAIL) is decrypted from the file's own secrets, the server is on port 25
(465 for implicit TLS) whatever port serve used, and TCP shows no malformed packet, retransmission
or lost segment.

usage: pcap_evidence.py TLSCHAN"""

import os
import re
import subprocess
import sys
import time

import harness

tlschan = sys.argv[1]
checks = harness.Checks("pcap_evidence", deadline=150)
scratch = harness.Scratch("pcap-evidence")
config = scratch.config("channels", harness.CHANNELS_IMTA)


def smtp_commands(pcap):
    """(frame, is_tls, command) for each SMTP request tshark sees, in order."""
    out = harness.tshark("-r", pcap, "-Y", "smtp.req", "-T", "fields", "-E", "separator=|", "-E", "occurrence=a",
                 "-E", "aggregator=;", "-e", "frame.number", "-e", "tls.record.content_type", "-e",
                 "smtp.req.command")
    rows = []
    for line in out.splitlines():
        frame, tls, commands = (line.split("|") + ["", ""])[:3]
        for command in commands.split(";"):
            command = command.upper()  # tshark 4.0 names STARTTLS by its first four letters
            rows.append((int(frame), tls != "", "STARTTLS" if command == "STAR" else command))
    return rows


def tls_after_starttls(rows):
    """The commands tshark read inside TLS after the first STARTTLS (all inside TLS when there is none)."""
    first = next((f for f, _, c in rows if c == "STARTTLS"), 0)
    return [c for f, tls, c in rows if f > first and tls]


def server_ports(pcap):
    """The destination port of each SYN (the server's port)."""
    out = harness.tshark("-r", pcap, "-Y", "tcp.flags.syn == 1 && tcp.flags.ack == 0", "-T", "fields", "-e", "tcp.dstport")
    return sorted(set(out.split()))


def read(path, mode="r"):
    with open(path, mode) as f:
        return f.read()


serve = harness.Serve(tlschan, config, scratch.path("spool"), args=["--channel", "s_may"], tls=scratch)
try:
    checks.check(serve.port not in (25, 465, 587) and serve.tls_port not in (25, 465, 587),
                 "serve listens on ports that are not the well-known ones", f"{serve.port} {serve.tls_port}")

    # probe --evidence on the STARTTLS port: each check's pcapng beside its transcript.
    evidence = scratch.path("probe-evidence")
    only = "handshake,second-starttls,smuggling-lf-dot-lf-tls"
    rc, out, err = harness.run([tlschan, "probe", f"127.0.0.1:{serve.port}", "--expect", "may", "--from",
                                "alice@client.tlschan.test", "--to", "bob@serve.tlschan.test", "--only", only,
                                "--timeout", "5", "--evidence", evidence], timeout=90)
    checks.check(rc in (0, 1), "probe ran against serve", out + err)
    for check in only.split(","):
        pcap = os.path.join(evidence, check + ".pcapng")
        if not checks.check(os.path.exists(os.path.join(evidence, check + ".txt")) and os.path.exists(pcap),
                            f"probe --evidence: {check}.pcapng beside {check}.txt", str(os.listdir(evidence))):
            continue
        rows = smtp_commands(pcap)
        first_starttls = next(((f, tls) for f, tls, c in rows if c == "STARTTLS"), None)
        checks.check(first_starttls is not None and not first_starttls[1],
                     f"probe {check}: the first STARTTLS shows in plaintext", f"{rows}")
        # The handshake check says QUIT inside TLS; the others EHLO first.
        wanted = "QUIT" if check == "handshake" else "EHLO"
        checks.check(wanted in tls_after_starttls(rows), f"probe {check}: the {wanted} after STARTTLS is decrypted",
                     f"{rows}")
        checks.equal(server_ports(pcap), ["25"], f"probe {check}: the server is on port 25")
        checks.equal(harness.tcp_warnings(pcap), "", f"probe {check}: no TCP or malformed warnings")
    second = smtp_commands(os.path.join(evidence, "second-starttls.pcapng"))
    checks.check(tls_after_starttls(second)[:2] == ["EHLO", "STARTTLS"],
                 "probe second-starttls: the EHLO and the second STARTTLS are decrypted inside TLS", f"{second}")
    smuggling = smtp_commands(os.path.join(evidence, "smuggling-lf-dot-lf-tls.pcapng"))
    inside = tls_after_starttls(smuggling)
    checks.check("MAIL" in inside and "RCPT" in inside and "DATA" in inside,
                 "probe smuggling-lf-dot-lf-tls: MAIL, RCPT and DATA after STARTTLS are decrypted", f"{smuggling}")
    comment = harness.tshark("-r", os.path.join(evidence, "handshake.pcapng"), "-Y", "frame.comment", "-T", "fields", "-e",
                     "frame.comment")
    checks.check(f"server 127.0.0.1:{serve.port}" in comment and "198.51.100.1:25" in comment,
                 "the SYN's comment gives the real server address and the one shown", comment)

    # probe --implicit-tls on the TLS port: shown on 465, decrypted from the first octet.
    evidence_tls = scratch.path("probe-evidence-tls")
    rc, out, err = harness.run([tlschan, "probe", f"127.0.0.1:{serve.tls_port}", "--implicit-tls", "--expect", "may",
                                "--only", "handshake,second-starttls", "--timeout", "5", "--evidence", evidence_tls],
                               timeout=60)
    pcap = os.path.join(evidence_tls, "second-starttls.pcapng")
    if checks.check(os.path.exists(pcap), "probe --implicit-tls --evidence writes the pcapng", out + err):
        rows = smtp_commands(pcap)
        checks.check(rows and all(tls for _, tls, _ in rows) and "EHLO" in [c for _, _, c in rows],
                     "implicit TLS: every command, the EHLO among them, is decrypted", f"{rows}")
        checks.equal(server_ports(pcap), ["465"], "implicit TLS: the server is on port 465")
        checks.equal(harness.tcp_warnings(pcap), "", "implicit TLS: no TCP or malformed warnings")

    # send --pcap --keylog against serve.
    sent, keys = scratch.path("send.pcapng"), scratch.path("send.keys")
    rc, out, err = harness.run([tlschan, "send", "--server", f"127.0.0.1:{serve.port}", "--policy", "must",
                                "--from", "alice@client.tlschan.test", "--to", "bob@serve.tlschan.test",
                                "--helo", "client.tlschan.test", "--timeout", "10", "--pcap", sent, "--keylog", keys],
                               timeout=60, input=b"Subject: pcap\n\nhello\n")
    checks.equal(rc, 0, "send --pcap delivers over STARTTLS")
    if checks.check(os.path.exists(sent) and os.path.exists(keys), "send writes --pcap and --keylog", out + err):
        rows = smtp_commands(sent)
        inside = tls_after_starttls(rows)
        checks.check([c for _, _, c in rows][:2] == ["EHLO", "STARTTLS"], "send: EHLO and STARTTLS in plaintext",
                     f"{rows}")
        checks.check(all(c in inside for c in ("EHLO", "MAIL", "RCPT", "DATA", "QUIT")),
                     "send: EHLO, MAIL, RCPT, DATA and QUIT after STARTTLS are decrypted", f"{rows}")
        checks.equal(server_ports(sent), ["25"], "send: the server is on port 25")
        checks.equal(harness.tcp_warnings(sent), "", "send: no TCP or malformed warnings")
        lines = read(keys).splitlines()
        checks.check(len(lines) == 5 and all(re.match(r"^[A-Z_0-9]+ [0-9a-f]{64} [0-9a-f]+$", l) for l in lines),
                     "send --keylog: the five TLS 1.3 secrets of the one handshake", read(keys))
        checks.check(read(keys, "rb") in read(sent, "rb"), "the --keylog lines are the secrets block's")
        data = harness.tshark("-r", sent, "-Y", "smtp.data.fragment || imf", "-T", "fields", "-e", "imf.subject")
        checks.check("pcap" in data, "send: the message itself is decrypted (Subject: pcap)", data)

    # A --pcap that cannot be written: the delivery is made, the error names the file, exit 73.
    unwritable = scratch.path("no-such-folder", "send.pcapng")
    before = len(serve.spool_ids())
    rc, out, err = harness.run([tlschan, "send", "--server", f"127.0.0.1:{serve.port}", "--policy", "must",
                                "--from", "alice@client.tlschan.test", "--to", "bob@serve.tlschan.test",
                                "--timeout", "10", "--pcap", unwritable], timeout=60, input=b"hello\n")
    checks.check(rc == 73 and unwritable in err and len(serve.spool_ids()) == before + 1,
                 "send --pcap to a missing folder: delivered, then exit 73 naming the file", f"{rc} {err}")

    # send --implicit-tls to the TLS port: shown on 465.
    sent_tls = scratch.path("send-tls.pcapng")
    rc, out, err = harness.run([tlschan, "send", "--server", f"127.0.0.1:{serve.tls_port}", "--implicit-tls",
                                "--policy", "must", "--from", "alice@client.tlschan.test", "--to",
                                "bob@serve.tlschan.test", "--timeout", "10", "--pcap", sent_tls],
                               timeout=60, input=b"hello\n")
    checks.equal(rc, 0, "send --implicit-tls --pcap delivers")
    if os.path.exists(sent_tls):
        rows = smtp_commands(sent_tls)
        checks.check("MAIL" in [c for _, tls, c in rows if tls], "send --implicit-tls: the MAIL is decrypted",
                     f"{rows}")
        checks.equal(server_ports(sent_tls), ["465"], "send --implicit-tls: the server is on port 465")
        checks.equal(harness.tcp_warnings(sent_tls), "", "send --implicit-tls: no TCP or malformed warnings")
finally:
    serve.clean_exit(checks)

# client-check --evidence, the client under test being tlschan send.
evidence_cc = scratch.path("client-check-evidence")
out_path = scratch.path("client-check.out")
with open(out_path, "w") as out_file:
    cc = subprocess.Popen([tlschan, "client-check", "--listen", "127.0.0.1:0", "--expect", "may", "--cases",
                           "clean,starttls-454", "--timeout", "10", "--max-seconds", "60", "--evidence", evidence_cc],
                          stdout=out_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
try:
    address = None
    end = time.monotonic() + 20
    while address is None and time.monotonic() < end and cc.poll() is None:
        m = re.search(r"^listening (\S+)", read(out_path), re.M)
        address = m.group(1) if m else None
        time.sleep(0.05)
    if checks.check(address is not None, "client-check listens", read(out_path)):
        for _ in range(2):
            harness.run([tlschan, "send", "--server", address, "--policy", "may", "--from", "alice@client.tlschan.test",
                         "--to", "bob@client-check.tlschan.invalid", "--timeout", "10"], timeout=60, input=b"hi\n")
        cc.wait(timeout=60)
        pcap = os.path.join(evidence_cc, "clean.pcapng")
        if checks.check(os.path.exists(pcap) and os.path.exists(os.path.join(evidence_cc, "clean.txt")),
                        "client-check --evidence: clean.pcapng beside clean.txt", read(out_path)):
            rows = smtp_commands(pcap)
            inside = tls_after_starttls(rows)
            checks.check("EHLO" in inside and "MAIL" in inside,
                         "client-check clean: the client's EHLO and MAIL after STARTTLS are decrypted", f"{rows}")
            checks.equal(server_ports(pcap), ["25"], "client-check: the server is on port 25")
            checks.equal(harness.tcp_warnings(pcap), "", "client-check clean: no TCP or malformed warnings")
        pcap = os.path.join(evidence_cc, "starttls-454.pcapng")
        if checks.check(os.path.exists(pcap), "client-check --evidence: starttls-454.pcapng", str(os.listdir(evidence_cc))):
            rows = smtp_commands(pcap)
            checks.check("STARTTLS" in [c for _, _, c in rows] and "MAIL" in [c for _, tls, c in rows if not tls],
                         "client-check starttls-454: STARTTLS refused, the may client's MAIL in plaintext", f"{rows}")
            checks.equal(harness.tcp_warnings(pcap), "", "client-check starttls-454: no TCP or malformed warnings")
finally:
    if cc.poll() is None:
        cc.kill()
        cc.wait(timeout=10)
    checks.check(not harness.SANITIZER_REPORT.search(read(out_path)), "client-check has no sanitizer report")
    scratch.remove()
checks.finish()
