#!/usr/bin/python3
"""What a user would pick instead to test TLS behaviour: Python's smtplib against aiosmtpd (with
require_starttls) over loopback. Runs the benchmark session (EHLO, STARTTLS, handshake, EHLO, MAIL,
RCPT, 1 KiB DATA, QUIT) and its plaintext twin, sessions one after another; the client and the
server run in this one process, so process CPU time covers both sides.

Usage: aiosmtpd_bench.py CERT KEY SESSIONS   -> prints JSON with CPU seconds per session."""
import json
import smtplib
import socket
import ssl
import sys
import time

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Sink


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def measure(controller, starttls, sessions, body):
    client_ctx = ssl._create_unverified_context()
    start = time.process_time()
    for _ in range(sessions):
        s = smtplib.SMTP("127.0.0.1", controller.port)
        s.ehlo("client.tlschan.test")
        if starttls:
            s.starttls(context=client_ctx)
            s.ehlo("client.tlschan.test")
        s.sendmail("alice@client.tlschan.test", ["bob@mx.tlschan.test"], body)
        s.quit()
    return (time.process_time() - start) / sessions


def main():
    cert, key, sessions = sys.argv[1], sys.argv[2], int(sys.argv[3])
    body = "Subject: bench\r\n\r\n" + ("x" * 98 + "\r\n") * 10
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    result = {}
    for name, starttls in (("starttls", True), ("plain", False)):
        kwargs = {"tls_context": server_ctx, "require_starttls": True} if starttls else {}
        controller = Controller(Sink(), hostname="127.0.0.1", port=free_port(), **kwargs)
        controller.start()
        try:
            measure(controller, starttls, max(1, sessions // 10), body)  # warm-up
            result[name + "_cpu_s_per_session"] = measure(controller, starttls, sessions, body)
        finally:
            controller.stop()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
