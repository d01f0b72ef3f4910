"""Shared pieces of the interop tests: a scratch folder with a generated certificate, channel
configurations, `tlschan serve` and SMTP peers started on loopback and stopped again, and a small
check list that prints `N passed, N failed` and sets the exit status.

Every process started here is bounded in time and stopped by the test that started it. Only
127.0.0.1 is ever used."""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SANITIZER_REPORT = re.compile(r"AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:")


class Checks:
    """Named checks; a failure prints what was expected and what happened, the run goes on. After
    `deadline` seconds the script raises TimeoutError, so that its `finally` blocks stop what it
    started before ctest's own timeout would kill it."""

    def __init__(self, name, deadline=100):
        self.name = name
        self.passed = 0
        self.failed = []

        def expire(signum, frame):
            raise TimeoutError(f"{name}: still running after {deadline} s")

        signal.signal(signal.SIGALRM, expire)
        signal.alarm(deadline)

    def check(self, ok, what, detail=""):
        if ok:
            self.passed += 1
            print(f"ok   {what}", flush=True)
        else:
            self.failed.append(what)
            print(f"FAIL {what}" + (f"\n     {detail}" if detail else ""), flush=True)
        return ok

    def equal(self, got, want, what):
        return self.check(got == want, what, f"got {got!r}, expected {want!r}")

    def finish(self):
        signal.alarm(0)
        print(f"{self.name}: {self.passed} passed, {len(self.failed)} failed", flush=True)
        for f in self.failed:
            print(f"  failed: {f}", flush=True)
        sys.exit(0 if not self.failed else 1)


class Scratch:
    """A temporary folder with cert.pem and key.pem for CN=localhost."""

    def __init__(self, prefix):
        self.dir = tempfile.mkdtemp(prefix=f"tlschan-{prefix}-")
        self.cert = os.path.join(self.dir, "cert.pem")
        self.key = os.path.join(self.dir, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", self.key, "-out",
                        self.cert, "-days", "2", "-subj", "/CN=localhost"],
                       check=True, capture_output=True, timeout=60)

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def config(self, name, imta, dispatcher=None):
        d = self.path(name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "imta.cnf"), "w") as f:
            f.write(imta)
        if dispatcher is not None:
            with open(os.path.join(d, "dispatcher.cnf"), "w") as f:
                f.write(dispatcher)
        return d

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)


# Channels for every server and client policy. s_may switches to s_switched once TLS is up.
CHANNELS_IMTA = """! interop test channels
$*  $U%$D@no-daemon

s_no notls
no-daemon

s_may maytls tlsswitchchannel s_switched
may-daemon

s_must musttls
must-daemon

s_switched maytlsclient
switched-daemon

c_no notlsclient
c-no-daemon

c_may maytlsclient
c-may-daemon

c_must musttlsclient
c-must-daemon
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


class Serve:
    """`tlschan serve` on loopback: started with port 0 listeners, the bound ports read from its
    output, stopped with SIGTERM (it must exit 0 without a sanitizer report)."""

    def __init__(self, tlschan, config, spool, args=(), tls=None, listen=True, tls_listen=True, timeout=10, env=None):
        self.spool = spool
        cmd = [tlschan, "serve", "--config", config, "--spool", spool, "--hostname", "serve.tlschan.test"]
        if listen:
            cmd += ["--listen", "127.0.0.1:0"]
        if tls_listen:
            cmd += ["--tls-listen", "127.0.0.1:0"]
        if tls:
            cmd += ["--cert", tls.cert, "--key", tls.key]
        cmd += list(args)
        self.cmd = cmd
        self.out_path = spool.rstrip("/") + ".out"
        self.err_path = spool.rstrip("/") + ".err"
        self.out = open(self.out_path, "w+")
        self.err = open(self.err_path, "w+")
        self.proc = subprocess.Popen(cmd, stdout=self.out, stderr=self.err, stdin=subprocess.DEVNULL, env=env)
        self.port = None
        self.tls_port = None
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            text = self.output()
            if "ready:" in text:
                m = re.search(r"^listening regular \S+:(\d+)", text, re.M)
                self.port = int(m.group(1)) if m else None
                m = re.search(r"^listening tls-port \S+:(\d+)", text, re.M)
                self.tls_port = int(m.group(1)) if m else None
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        self.kill()
        raise RuntimeError(f"serve did not start: {' '.join(cmd)}\n{self.output()}\n{self.errors()}")

    def output(self):
        with open(self.out_path) as f:
            return f.read()

    def errors(self):
        with open(self.err_path) as f:
            return f.read()

    def alive(self):
        return self.proc.poll() is None

    def pid(self):
        return self.proc.pid

    def spool_ids(self):
        return sorted(n[:-5] for n in os.listdir(self.spool) if n.endswith(".json") and not n.startswith("."))

    def spool_entry(self, ident):
        with open(os.path.join(self.spool, ident + ".json")) as f:
            meta = json.load(f)
        with open(os.path.join(self.spool, ident + ".eml"), "rb") as f:
            data = f.read()
        return meta, data

    def stop(self, timeout=30):
        """SIGTERM, then the exit status (None if it had to be killed)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                return None
        self.out.close()
        self.err.close()
        return self.proc.returncode

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def clean_exit(self, checks, what="serve"):
        rc = self.stop()
        checks.equal(rc, 0, f"{what} exits 0 on SIGTERM")
        report = SANITIZER_REPORT.search(self.errors())
        checks.check(report is None, f"{what} has no sanitizer report", self.errors()[-3000:])


class Aiosmtpd:
    """aiosmtpd (Debian's, through /usr/bin/python3) as none, may, must, implicit or broken server,
    saving each message it receives."""

    def __init__(self, mode, scratch, name):
        self.port = free_port()
        self.maildir = scratch.path(f"aiosmtpd-{name}")
        os.makedirs(self.maildir, exist_ok=True)
        self.log_path = scratch.path(f"aiosmtpd-{name}.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(["/usr/bin/python3", os.path.join(HERE, "aiosmtpd_server.py"), mode,
                                      str(self.port), scratch.cert, scratch.key, self.maildir],
                                     stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.PIPE)
        end = time.monotonic() + 15
        while time.monotonic() < end:
            with open(self.log_path) as f:
                if "ready" in f.read():
                    return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        with open(self.log_path) as f:
            raise RuntimeError(f"aiosmtpd {mode} did not start:\n{f.read()}")

    def messages(self):
        out = []
        for n in sorted(os.listdir(self.maildir)):
            with open(os.path.join(self.maildir, n)) as f:
                out.append(json.load(f))
        return out

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()  # the server stops when its stdin closes
                self.proc.wait(timeout=10)
            except (subprocess.TimeoutExpired, BrokenPipeError):
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.log.close()


def run(cmd, timeout=30, input=None):
    """Runs a command; returns (exit status, stdout, stderr) as text."""
    p = subprocess.run(cmd, capture_output=True, timeout=timeout, input=input)
    dec = lambda b: b.decode("utf-8", "replace")
    return p.returncode, dec(p.stdout), dec(p.stderr)


def tshark(*args):
    """Runs tshark with these arguments; returns its stdout, raises with its stderr if it fails."""
    r = subprocess.run(["tshark", *args], capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise RuntimeError(f"tshark {' '.join(args)}: {r.stderr}")
    return r.stdout


def tcp_warnings(pcap):
    """tshark's malformed-packet, TCP analysis and warning-or-worse expert lines of a pcap ("" if none)."""
    out = tshark("-r", pcap, "-Y", "_ws.malformed || tcp.analysis.flags || _ws.expert.severity >= 6291456",
                 "-T", "fields", "-e", "frame.number", "-e", "_ws.expert.message")
    return out.strip()


class SmtpSocket:
    """A raw SMTP client socket for hostile and low-level tests: send bytes, read replies."""

    def __init__(self, port, timeout=10):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def reply(self):
        """One whole (possibly multiline) reply as bytes, or b'' if the server closed first."""
        while True:
            lines = self.buf.split(b"\r\n")
            for i, line in enumerate(lines[:-1]):
                if len(line) >= 4 and line[3:4] == b" " or len(line) == 3:
                    end = sum(len(x) + 2 for x in lines[: i + 1])
                    r, self.buf = self.buf[:end], self.buf[end:]
                    return r
            chunk = self.sock.recv(65536)
            if not chunk:
                r, self.buf = self.buf, b""
                return r
            self.buf += chunk

    def code(self):
        r = self.reply()
        return int(r[:3]) if len(r) >= 3 and r[:3].isdigit() else None

    def read_until_closed(self, timeout=10):
        self.sock.settimeout(timeout)
        data = self.buf
        self.buf = b""
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return data, True
                data += chunk
        except (socket.timeout, TimeoutError):
            return data, False
        except ConnectionResetError:
            return data, True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
