"""What the client-check tests share: `tlschan client-check --json` started on a free loopback port
(port 0, read from its progress output), and its JSON table read when it ends."""

import json
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))
import harness  # noqa: E402

WINDOW = "0.3"  # --fallback-window in the tests: a client's retry comes at once


class ClientCheck:
    def __init__(self, tlschan, expect, *extra, max_seconds="60", timeout="3"):
        # The child writes in append mode to its own descriptor; the test reads the file by name, so
        # that reading never moves the child's write offset.
        fd, self.err_path = tempfile.mkstemp(prefix="tlschan-client-check-", suffix=".err")
        os.close(fd)
        with open(self.err_path, "a") as child_err:
            self.proc = subprocess.Popen(
                [tlschan, "client-check", "--listen", "127.0.0.1:0", "--expect", expect, "--json", "--timeout", timeout,
                 "--fallback-window", WINDOW, "--max-seconds", max_seconds, *extra],
                stdout=subprocess.PIPE, stderr=child_err, stdin=subprocess.DEVNULL, text=True)
        self.port = None
        end = time.monotonic() + 20
        while time.monotonic() < end and self.proc.poll() is None:
            m = re.search(r"^listening 127\.0\.0\.1:(\d+)", self.errors(), re.M)
            if m:
                self.port = int(m.group(1))
                return
            time.sleep(0.02)
        raise RuntimeError("client-check did not start: " + self.errors())

    def errors(self):
        with open(self.err_path, errors="replace") as f:
            return f.read()

    def finish(self, timeout=90):
        """(exit status, report or None, stderr)"""
        try:
            out, _ = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
        try:
            report = json.loads(out)
        except json.JSONDecodeError:
            report = None
        return self.proc.returncode, report, self.errors()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        try:
            os.remove(self.err_path)
        except OSError:
            pass


def by_case(report):
    return {c["id"]: c for c in report["cases"]} if report else {}
