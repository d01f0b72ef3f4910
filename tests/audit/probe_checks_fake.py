"""fake_smtp_server.py started and stopped for a test."""

import os
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))


class Fake:
    def __init__(self, scratch, policy, *bugs):
        self.proc = subprocess.Popen(["/usr/bin/python3", os.path.join(HERE, "fake_smtp_server.py"), scratch.cert,
                                      scratch.key, policy, *bugs],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        line = self.proc.stdout.readline().decode()
        if not line.startswith("ready "):
            self.stop()
            raise RuntimeError(f"fake server did not start: {line}")
        self.port = int(line.split()[1])

    def stop(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
