#!/usr/bin/python3
"""aiosmtpd with require_starttls on 127.0.0.1:PORT for bench/load_bench.py: the certificate and key
given, a Sink handler (keeps nothing). Prints `ready` once it answers; stops when stdin closes.

usage: aiosmtpd_load_server.py PORT CERT KEY"""
import ssl
import sys
import warnings

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Sink

warnings.filterwarnings("ignore", category=DeprecationWarning)

if len(sys.argv) != 4:
    print(__doc__)
    sys.exit(0 if len(sys.argv) > 1 and sys.argv[1] in ("-h", "--help") else 64)
port, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
ctx.load_cert_chain(cert, key)
controller = Controller(Sink(), hostname="127.0.0.1", port=port, server_hostname="mx.tlschan.test",
                        tls_context=ctx, require_starttls=True)
controller.start()
print("ready", flush=True)
sys.stdin.read()
controller.stop()
