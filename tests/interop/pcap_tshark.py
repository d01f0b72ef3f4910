"""The pcapng of a simulator run, read by Wireshark's tshark with no key option: `tlschan run
SCENARIO --pcap F` for a STARTTLS scenario and for the same under the inject-command meddler. The
SMTP inside TLS (the EHLO and MAIL after STARTTLS) is decrypted from the file's own Decryption
Secrets Block, the injected commands show as plaintext after STARTTLS with the meddler's comment,
TCP has no expert warning, `replay --pcap` writes the same file, and the file agrees with tshark's
reading of it after editcap --inject-secrets of the --keylog file.

usage: pcap_tshark.py TLSCHAN SCENARIOS_DIR"""

import os
import shutil
import subprocess
import sys
import tempfile

import harness

tlschan, scenarios = sys.argv[1], sys.argv[2]
checks = harness.Checks("pcap_tshark", deadline=60)
scratch = tempfile.mkdtemp(prefix="tlschan-pcap-")


def path(name):
    return os.path.join(scratch, name)


def smtp_commands(pcap):
    """(frame, is_tls, command line) for each SMTP request line tshark sees, in order."""
    out = harness.tshark("-r", pcap, "-Y", "smtp.req", "-T", "fields", "-E", "separator=|", "-E", "occurrence=a",
                 "-E", "aggregator=;", "-e", "frame.number", "-e", "tls.record.content_type", "-e", "smtp.req.command",
                 "-e", "smtp.req.parameter")
    rows = []
    for line in out.splitlines():
        frame, tls, commands, _ = (line.split("|") + ["", "", ""])[:4]
        for command in commands.split(";"):
            # tshark 4.0 names a command by its first four letters: STARTTLS is STAR.
            command = command.upper()
            rows.append((int(frame), tls != "", "STARTTLS" if command == "STAR" else command))
    return rows


def run(scenario, name, *extra):
    r = subprocess.run([tlschan, "run", os.path.join(scenarios, scenario), "--seed", "5", "--pcap", path(name), *extra],
                       capture_output=True, text=True, timeout=30)
    checks.equal(r.returncode, 0, f"tlschan run {scenario} --pcap exits 0")
    return path(name)


try:
    plain = run("starttls-may-to-must.toml", "starttls.pcapng", "--keylog", path("starttls.keys"),
                "--transcript", path("starttls.transcript"))
    rows = smtp_commands(plain)
    commands = [c for _, _, c in rows]
    checks.check("STARTTLS" in commands, "the STARTTLS command shows", f"{rows}")
    after = [(tls, c) for f, tls, c in rows if f > next(f for f, _, c in rows if c == "STARTTLS")]
    checks.check((True, "EHLO") in after, "the EHLO after STARTTLS is decrypted", f"{after}")
    checks.check((True, "MAIL") in after, "the MAIL after STARTTLS is decrypted", f"{after}")
    checks.check(all(tls for tls, _ in after), "every command after STARTTLS rode in TLS", f"{after}")
    checks.equal(harness.tcp_warnings(plain), "", "no TCP or malformed warnings (STARTTLS)")

    # replay --pcap re-creates the keys and the file from the transcript's seed.
    r = subprocess.run([tlschan, "replay", path("starttls.transcript"), "--pcap", path("replayed.pcapng")],
                       capture_output=True, text=True, timeout=30)
    checks.equal(r.returncode, 0, "tlschan replay --pcap exits 0")
    with open(plain, "rb") as a, open(path("replayed.pcapng"), "rb") as b:
        checks.check(a.read() == b.read(), "replay --pcap writes the same pcapng byte for byte")

    # The key log on its own, injected by Wireshark's editcap into a copy without our block,
    # decrypts the same: strip our secrets with editcap --discard-all-secrets, then inject.
    if shutil.which("editcap"):
        subprocess.run(["editcap", "--discard-all-secrets", plain, path("bare.pcapng")], check=True,
                       capture_output=True, timeout=30)
        bare_rows = smtp_commands(path("bare.pcapng"))
        checks.check(not any(tls and c == "MAIL" for _, tls, c in bare_rows),
                     "without the secrets block, the MAIL is not readable", f"{bare_rows}")
        subprocess.run(["editcap", "--inject-secrets", "tls," + path("starttls.keys"), path("bare.pcapng"),
                        path("injected.pcapng")], check=True, capture_output=True, timeout=30)
        checks.equal(smtp_commands(path("injected.pcapng")), rows,
                     "editcap --inject-secrets of the --keylog file decrypts the same commands")

    meddled = run("inject-command.toml", "inject.pcapng")
    rows = smtp_commands(meddled)
    starttls = [f for f, _, c in rows if c == "STARTTLS"]
    checks.equal(len(starttls), 1, "one STARTTLS in the injected run")
    injected = [(f, tls, c) for f, tls, c in rows if starttls and f >= starttls[0] and c in ("NOOP", "MAIL", "RCPT")
                and not tls]
    checks.check([c for _, _, c in injected] == ["NOOP", "MAIL", "RCPT"],
                 "the injected NOOP, MAIL and RCPT show as plaintext after STARTTLS", f"{rows}")
    after_tls = [c for f, tls, c in rows if tls]
    checks.check("EHLO" in after_tls and "MAIL" in after_tls, "the client's own EHLO and MAIL are decrypted",
                 f"{rows}")
    comments = harness.tshark("-r", meddled, "-Y", "frame.comment", "-T", "fields", "-e", "frame.number", "-e",
                      "frame.comment").splitlines()
    checks.check(len(comments) == 1 and "meddler inject-command" in comments[0]
                 and starttls and comments[0].startswith(f"{starttls[0]}\t"),
                 "the packet with the injection carries the meddler's comment", f"{comments}")
    streams = harness.tshark("-r", meddled, "-T", "fields", "-e", "tcp.stream").split()
    checks.equal(sorted(set(streams)), ["0"], "the meddled connection is one TCP stream")
    checks.equal(harness.tcp_warnings(meddled), "", "no TCP or malformed warnings (inject-command)")
finally:
    shutil.rmtree(scratch, ignore_errors=True)
checks.finish()
