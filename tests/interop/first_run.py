"""A first run with no files: `tlschan serve` without --config serves the built-in default
configuration with a throw-away certificate made in memory (said in its first lines, and the one
a TLS client is shown) and a new spool folder it names; `tlschan send` without --config uses the
built-in default and --policy wins over the channel's policy (said in its output). With --config
and no --cert, TLS stays unavailable (semantics.md 3.3): the throw-away certificate is for the
no-file start only. The ports are free ones (--listen/--tls-listen 127.0.0.1:0); the fallback from
the configuration's own ports to free ones is tests/net/first_run_test.cpp's.

usage: first_run.py TLSCHAN"""

import os
import re
import signal
import subprocess
import sys
import time

import harness

tlschan = sys.argv[1]
checks = harness.Checks("first_run")
scratch = harness.Scratch("first-run")


class Started:
    """`tlschan serve ARGS` with its output in files; waits for its `ready:` line."""

    def __init__(self, args, env=None):
        self.out_path = scratch.path(f"serve-{len(os.listdir(scratch.dir))}.out")
        self.out = open(self.out_path, "w+")
        self.err = open(self.out_path + ".err", "w+")
        self.proc = subprocess.Popen([tlschan, "serve", *args], stdout=self.out, stderr=self.err,
                                     stdin=subprocess.DEVNULL, env=env)
        end = time.monotonic() + 20
        while time.monotonic() < end and "ready:" not in self.output() and self.proc.poll() is None:
            time.sleep(0.02)
        if "ready:" not in self.output():
            self.stop()
            raise RuntimeError(f"serve did not start:\n{self.output()}\n{self.errors()}")
        self.port = int(re.search(r"^listening regular \S+:(\d+)", self.output(), re.M).group(1))
        self.tls_port = int(re.search(r"^listening tls-port \S+:(\d+)", self.output(), re.M).group(1))

    def output(self):
        with open(self.out_path) as f:
            return f.read()

    def errors(self):
        with open(self.out_path + ".err") as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def send(port, *extra):
    return harness.run([tlschan, "send", "--server", f"127.0.0.1:{port}", "--from", "alice@client.tlschan.test",
                        "--to", "bob@serve.tlschan.test", "--timeout", "10", *extra], timeout=60, input=b"hi\n")


try:
    env = dict(os.environ, TMPDIR=scratch.dir)
    serve = Started(["--hostname", "serve.tlschan.test", "--listen", "127.0.0.1:0", "--tls-listen", "127.0.0.1:0"],
                    env=env)
    try:
        lines = serve.output().splitlines()
        checks.check(lines[0].startswith("config: the built-in default configuration (default/imta.cnf, "
                                          "default/dispatcher.cnf)"), "first line: the built-in configuration",
                     lines[0])
        m = re.match(r"tls: a throw-away self-signed certificate made in memory for this run "
                     r"\(CN=serve\.tlschan\.test, SHA-256 ([0-9A-F:]{95})\)", lines[1])
        checks.check(m is not None, "second line: the throw-away certificate and its fingerprint", lines[1])
        printed_fingerprint = m.group(1) if m else None
        m = re.match(r"spool: (\S+) \(a new folder", lines[2])
        spool = m.group(1) if m else ""
        checks.check(m is not None and spool.startswith(scratch.dir + "/tlschan-spool-") and os.path.isdir(spool),
                     "third line: a new spool folder under $TMPDIR, named", lines[2])
        checks.check("tls: unavailable" not in serve.output() and not os.listdir(spool),
                     "TLS available, spool empty", serve.output())
        checks.check(not [n for n in os.listdir(scratch.dir) if n.endswith(".pem") and n not in ("cert.pem", "key.pem")],
                     "no certificate file written", str(os.listdir(scratch.dir)))

        # The certificate a TLS client is shown is the one printed.
        p = subprocess.run(f"openssl s_client -connect 127.0.0.1:{serve.tls_port} -servername serve.tlschan.test "
                           "</dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256 -subject",
                           shell=True, capture_output=True, text=True, timeout=30)
        checks.check(printed_fingerprint is not None and f"={printed_fingerprint}" in p.stdout
                     and "CN = serve.tlschan.test" in p.stdout,
                     "the TLS port presents the printed certificate", p.stdout + p.stderr)

        rc, out, err = send(serve.port)
        checks.check(rc == 0 and "client policy: may (channel tcp_local of default/imta.cnf)" in out
                     and "delivered over TLS" in out, "send without --config: tcp_local's may, over TLS", out + err)
        rc, out, err = send(serve.port, "--policy", "no")
        checks.check(rc == 0 and "client policy: no (--policy, over channel tcp_local's may)" in out
                     and "delivered in plaintext" in out, "--policy no wins over may: plaintext", out + err)
        rc, out, err = send(serve.port, "--policy", "must", "--channel", "tcp_intranet")
        checks.check(rc == 0 and "client policy: must (--policy, over channel tcp_intranet's no)" in out
                     and "delivered over TLS" in out, "--policy must wins over no: TLS", out + err)
        rc, out, err = send(serve.port, "--policy", "maybe")
        checks.check(rc == 64 and "--policy" in err, "--policy maybe: usage error", out + err)
        rc, out, err = send(serve.port, "--json", "--policy", "must")
        checks.check(rc == 0 and '"client_policy": "must"' in out and '"policy_source": "--policy' in out,
                     "--json names the policy and where it came from", out)
        ids = sorted(n for n in os.listdir(spool) if n.endswith(".eml"))
        checks.equal(len(ids), 4, "four messages in the named spool")
    finally:
        checks.equal(serve.stop(), 0, "serve exits 0 on SIGTERM")
        checks.check(not harness.SANITIZER_REPORT.search(serve.errors()), "no sanitizer report", serve.errors())

    # With --config and no --cert: TLS unavailable, as the contract says; no throw-away certificate.
    config = scratch.config("channels", harness.CHANNELS_IMTA)
    serve = Started(["--config", config, "--spool", scratch.path("spool"), "--channel", "s_may", "--listen",
                     "127.0.0.1:0", "--tls-listen", "127.0.0.1:0"])
    try:
        text = serve.output()
        checks.check(text.startswith("tls: unavailable (no --cert and --key given)") and "throw-away" not in text
                     and "config:" not in text and "spool:" not in text,
                     "--config without --cert: TLS unavailable, no throw-away certificate", text)
        rc, out, err = send(serve.port, "--policy", "must")
        checks.check(rc == 75 and "deferred" in out, "a must client is deferred by it", out + err)
    finally:
        checks.equal(serve.stop(), 0, "serve with --config exits 0 on SIGTERM")
finally:
    scratch.remove()
checks.finish()
