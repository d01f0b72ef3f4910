"""Bounded loopback load test of `tlschan serve`: CONNECTIONS (default 1000) concurrent connections
held at once and served (plaintext and STARTTLS transactions while the rest stay idle), idle ones
closed with 421 4.4.2 at the idle deadline, no file descriptor growth and no memory growth after
they close (two rounds compared), and a client killed mid-DATA leaves no spool entry. Prints what
serve holds per connection (RSS and descriptors, read from /proc).

usage: load_serve.py TLSCHAN [CONNECTIONS]"""

import asyncio
import os
import resource
import signal
import ssl
import subprocess
import sys
import time

import harness

tlschan = sys.argv[1]
N = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
PLAIN, TLS = N // 5, N // 20  # transactions per round; the rest stay idle
IDLE = 4.0                    # serve's --idle-timeout
checks = harness.Checks("load_serve")
scratch = harness.Scratch("load")
config = scratch.config("channels", harness.CHANNELS_IMTA)
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 2 * N + 256)), hard))
client_tls = ssl.create_default_context()
client_tls.check_hostname = False
client_tls.verify_mode = ssl.CERT_NONE


def fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


async def reply(reader):
    lines = []
    while True:
        line = await reader.readline()
        if not line:
            return b"".join(lines)
        lines.append(line)
        if len(line) < 4 or line[3:4] != b"-":
            return b"".join(lines)


async def command(reader, writer, line):
    writer.write(line)
    await writer.drain()
    r = await reply(reader)
    return int(r[:3]) if r[:3].isdigit() else None


async def transaction(reader, writer, i, tls):
    if await command(reader, writer, b"EHLO load.test\r\n") != 250:
        return "ehlo"
    if tls:
        if await command(reader, writer, b"STARTTLS\r\n") != 220:
            return "starttls"
        await writer.start_tls(client_tls, server_hostname="localhost")
        if await command(reader, writer, b"EHLO load.test\r\n") != 250:
            return "ehlo after tls"
    for line, want in ((b"MAIL FROM:<load%d@client.tlschan.test>\r\n" % i, 250),
                       (b"RCPT TO:<bob@serve.tlschan.test>\r\n", 250), (b"DATA\r\n", 354),
                       (b"Subject: load %d\r\n\r\nmessage %d\r\n.\r\n" % (i, i), 250), (b"QUIT\r\n", 221)):
        code = await command(reader, writer, line)
        if code != want:
            return f"{line[:4]!r} got {code}"
    return "ok"


async def one(port, i, role, held, start_all):
    opened = time.monotonic()  # before the connect: serve's idle clock for it starts later than this
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 16)
    greeting = await reply(reader)
    greeted = time.monotonic()
    held.append(i)
    await start_all.wait()  # every connection is open and greeted before anything else happens
    try:
        if role == "idle":
            data = await asyncio.wait_for(reader.read(), timeout=IDLE * 4 + 20)
            closed = time.monotonic()
            return ("idle", greeting.startswith(b"220"), data, (closed - opened, closed - greeted))
        result = await asyncio.wait_for(transaction(reader, writer, i, role == "tls"), timeout=60)
        return (role, greeting.startswith(b"220"), result, (0.0, 0.0))
    finally:
        writer.close()


async def round_of(port, pid, base_fds):
    held = []
    start_all = asyncio.Event()
    roles = ["plain"] * PLAIN + ["tls"] * TLS + ["idle"] * (N - PLAIN - TLS)
    tasks = [asyncio.create_task(one(port, i, roles[i], held, start_all)) for i in range(N)]
    end = time.monotonic() + 60
    while len(held) < N and time.monotonic() < end and not any(t.done() for t in tasks):
        await asyncio.sleep(0.05)
    held_fds = fds(pid)
    held_rss = rss_kb(pid)
    start_all.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    return len(held), held_fds, held_rss, results


def wait_fds(pid, want, timeout=15):
    end = time.monotonic() + timeout
    while time.monotonic() < end and fds(pid) != want:
        time.sleep(0.1)
    return fds(pid)


# Under AddressSanitizer freed memory sits in a quarantine, which would read as growth: turn it off
# (leaks are LeakSanitizer's business when serve exits). Set whether or not ASAN_OPTIONS is (a plain
# `ctest` without the asan preset's environment): an unsanitized serve ignores it.
env = dict(os.environ)
env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=0:thread_local_quarantine_size_kb=0").lstrip(":")

try:
    serve = harness.Serve(tlschan, config, scratch.path("spool"), tls=scratch, tls_listen=False, env=env,
                          args=["--channel", "s_may", "--idle-timeout", str(IDLE), "--max-connections", str(N + 200)])
    try:
        pid = serve.pid()
        base_fds = fds(pid)
        rss_after = []
        for r in (1, 2, 3):
            started = time.monotonic()
            pre_rss = rss_kb(pid)
            held, held_fds, held_rss, results = asyncio.run(round_of(serve.port, pid, base_fds))
            errors = [x for x in results if isinstance(x, BaseException)]
            checks.check(not errors, f"round {r}: no client error", repr(errors[:3]))
            results = [x for x in results if not isinstance(x, BaseException)]
            checks.equal(held, N, f"round {r}: {N} connections open and greeted at once")
            checks.equal(held_fds - base_fds, N, f"round {r}: serve holds one descriptor per connection")
            done = [x for x in results if x[0] != "idle" and x[2] == "ok"]
            checks.equal(len(done), PLAIN + TLS, f"round {r}: {PLAIN} plaintext and {TLS} STARTTLS transactions served")
            bad = [x for x in results if x[0] != "idle" and x[2] != "ok"]
            checks.check(not bad, f"round {r}: no transaction failed", repr(bad[:3]))
            idle = [x for x in results if x[0] == "idle"]
            timed_out = [x for x in idle if x[2].startswith(b"421 4.4.2")]
            checks.equal(len(timed_out), len(idle), f"round {r}: every idle connection got 421 4.4.2")
            # Early is measured from before the connect, which comes before serve starts the
            # connection's idle clock: a close under IDLE from there is a deadline that fired early,
            # however late this one-thread client got to read the greeting. Late is measured from
            # the greeting.
            early = [x[3][0] for x in idle if x[3][0] < IDLE - 0.01]
            late = [x[3][1] for x in idle if x[3][1] > IDLE + 6]
            spans = sorted(x[3][1] for x in idle)
            if spans:
                print(f"round {r}: idle connections closed {spans[0]:.2f} to {spans[-1]:.2f} s after their greeting "
                      f"as this client read it, {min(x[3][0] for x in idle):.2f} s or more after the connect began",
                      flush=True)
            checks.check(not early, f"round {r}: no idle connection closed before the {IDLE:.0f} s deadline",
                         f"{len(early)} closed under {IDLE} s after the connect began, e.g. {sorted(early)[:3]}")
            checks.check(not late, f"round {r}: idle connections closed by the {IDLE:.0f} s deadline (+6 s)",
                         f"{len(late)} closed more than {IDLE + 6} s after the greeting, e.g. {sorted(late)[-3:]}")
            after = wait_fds(pid, base_fds)
            checks.equal(after, base_fds, f"round {r}: descriptors back to {base_fds} after the close")
            time.sleep(0.5)
            rss_after.append(rss_kb(pid))
            # Round 1 measures what an idle, greeted connection costs; round 2 reuses memory that
            # round 1 freed, so its difference is about 0.
            print(f"round {r}: {N} held; serve fds {base_fds} -> {held_fds} -> {after}; RSS {pre_rss} kB before, "
                  f"{held_rss} kB held ({(held_rss - pre_rss) * 1024 // N} bytes per greeted idle connection), "
                  f"{rss_after[-1]} kB after; {time.monotonic() - started:.1f} s", flush=True)
        checks.equal(len(serve.spool_ids()), 3 * (PLAIN + TLS), "every served message is in the spool")
        # Round 1 warms the allocator up (and round 2 too under AddressSanitizer); after that, the
        # same load must not need more memory.
        print(f"RSS after round 2 / after round 1: {rss_after[1] / rss_after[0]:.3f}; "
              f"after round 3 / after round 2: {rss_after[2] / rss_after[1]:.3f}", flush=True)
        checks.check(rss_after[2] <= rss_after[1] * 1.05, "no memory growth: RSS after round 3 within 5% of after round 2",
                     f"{rss_after} kB")

        # A client killed mid-DATA: no spool entry.
        before = serve.spool_ids()
        killer = subprocess.Popen(
            ["/usr/bin/python3", "-c",
             "import socket,sys,time\n"
             f"s=socket.create_connection(('127.0.0.1',{serve.port}))\n"
             "s.recv(1000)\n"
             "for l in (b'EHLO k.test\\r\\n',b'MAIL FROM:<k@k.test>\\r\\n',b'RCPT TO:<b@s.test>\\r\\n',b'DATA\\r\\n'):\n"
             "  s.sendall(l); s.recv(1000)\n"
             "s.sendall(b'Subject: killed\\r\\n\\r\\nhalf of the bo')\n"
             "print('mid-data', flush=True)\n"
             "time.sleep(60)\n"], stdout=subprocess.PIPE)
        line = killer.stdout.readline()
        killer.send_signal(signal.SIGKILL)
        killer.wait(timeout=10)
        checks.equal(line.strip(), b"mid-data", "the client reached the middle of DATA before it was killed")
        time.sleep(1)
        checks.equal(serve.spool_ids(), before, "a client killed mid-DATA leaves no spool entry")
        checks.equal(wait_fds(pid, base_fds), base_fds, "and its descriptor is released")
        checks.check(serve.alive(), "serve is alive")
    finally:
        serve.clean_exit(checks)
finally:
    scratch.remove()
checks.finish()
