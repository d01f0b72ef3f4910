"""A private Postfix instance for the interop tests: its own config, queue, data and log folders in
a scratch folder, loopback listeners only. Needs root (Postfix drops to the postfix user)."""

import os
import re
import shutil
import subprocess
import time

import harness

MASTER = """\
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
smtp_none unix  -       -       n       -       -       smtp -o smtp_tls_security_level=none
smtp_encrypt unix -     -       n       -       -       smtp -o smtp_tls_security_level=encrypt
"""


def available():
    return os.path.exists("/usr/sbin/postfix") and os.geteuid() == 0


class Postfix:
    """Postfix in scratch.path("postfix"): `main` is appended to a loopback main.cf, `listeners` are
    master.cf lines (smtpd services on 127.0.0.1 ports)."""

    def __init__(self, scratch, main, listeners):
        os.chmod(scratch.dir, 0o755)  # Postfix's daemons run as the postfix user
        self.dir = scratch.path("postfix")
        os.makedirs(os.path.join(self.dir, "queue"))
        os.makedirs(os.path.join(self.dir, "data"))
        shutil.chown(os.path.join(self.dir, "data"), "postfix", "postfix")
        self.log = os.path.join(self.dir, "maillog")
        with open(os.path.join(self.dir, "main.cf"), "w") as f:
            f.write(f"""\
compatibility_level = 3.6
myhostname = postfix.tlschan.test
mydestination =
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
queue_directory = {self.dir}/queue
data_directory = {self.dir}/data
maillog_file = {self.log}
maillog_file_prefixes = {self.dir}
alias_maps =
alias_database =
smtpd_tls_cert_file = {scratch.cert}
smtpd_tls_key_file = {scratch.key}
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
notify_classes =
smtpd_banner = $myhostname ESMTP
""" + main)
        with open(os.path.join(self.dir, "master.cf"), "w") as f:
            f.write(MASTER)
            for line in listeners:
                f.write(line + "\n")
        self.started = False

    def postfix(self, *args, timeout=60):
        return harness.run(["/usr/sbin/postfix", "-c", self.dir, *args], timeout=timeout)

    def start(self):
        rc, out, err = self.postfix("start")
        self.started = rc == 0
        return rc, out + err

    def log_text(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def wait_log(self, pattern, timeout=30):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            m = re.search(pattern, self.log_text(), re.M)
            if m:
                return m
            time.sleep(0.2)
        return None

    def stop(self):
        if not self.started:
            return
        self.postfix("stop")
        end = time.monotonic() + 15
        while time.monotonic() < end and subprocess.run(["/usr/sbin/postfix", "-c", self.dir, "status"],
                                                         capture_output=True).returncode == 0:
            time.sleep(0.2)


def greets(port, timeout=15):
    """Postfix's master accepts even when smtpd cannot start: wait for a real 220."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            s = harness.SmtpSocket(port, timeout=3)
            r = s.reply()
            s.close()
            if r.startswith(b"220 "):
                return True
        except OSError:
            pass
        time.sleep(0.2)
    return False
