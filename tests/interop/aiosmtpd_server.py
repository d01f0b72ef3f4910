"""aiosmtpd on 127.0.0.1 for the interop tests (run with /usr/bin/python3, which sees Debian's
python3-aiosmtpd). Modes: none, may, must (STARTTLS required), implicit (TLS on connect), broken
(STARTTLS listed, but the handshake always fails: the server speaks TLS 1.0 only, which no client
here offers). Each message received is saved as JSON in MAILDIR. Stops when stdin closes."""

import json
import warnings
import os
import ssl
import sys
import threading

from aiosmtpd.controller import Controller

warnings.filterwarnings("ignore", category=DeprecationWarning)

mode, port, cert, key, maildir = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]


class Save:
    def __init__(self):
        self.n = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.n += 1
            n = self.n
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "data": envelope.original_content.decode("latin-1"),
            # session.ssl is set by STARTTLS; on connect TLS only the transport knows.
            "tls": session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None,
        }
        with open(os.path.join(maildir, f"{n:04d}.json"), "w") as f:
            json.dump(record, f)
        return "250 2.0.0 Message accepted for delivery"


ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
ctx.load_cert_chain(cert, key)
if mode == "broken":
    ctx.minimum_version = ssl.TLSVersion.TLSv1
    ctx.maximum_version = ssl.TLSVersion.TLSv1

kwargs = {"hostname": "127.0.0.1", "port": port, "server_hostname": "aiosmtpd.tlschan.test"}
if mode in ("may", "broken"):
    kwargs.update(tls_context=ctx, require_starttls=False)
elif mode == "must":
    kwargs.update(tls_context=ctx, require_starttls=True)
elif mode == "implicit":
    kwargs.update(ssl_context=ctx)
elif mode != "none":
    sys.exit(f"unknown mode {mode}")

controller = Controller(Save(), **kwargs)
if mode == "implicit":
    # The controller's own readiness probe does not speak TLS; start the server without it.
    controller.ready_timeout = 5
try:
    controller.start()
except Exception as e:  # noqa: BLE001 -- the readiness probe of implicit TLS may time out harmlessly
    if mode != "implicit":
        raise
    print(f"start: {e}", flush=True)
print("ready", flush=True)
sys.stdin.read()
controller.stop()
