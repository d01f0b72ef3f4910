#!/usr/bin/python3
"""The load section of bench/report.sh: `tlschan serve` under load on loopback, against what people
run instead, all in this one run on this machine. Every process it starts is bounded in time and
stopped before it returns.

1. Postfix's own load generator, smtp-source, sends the same MESSAGES messages of 10 KiB over S
   concurrent sessions (one message per session) to:
   - `tlschan serve` with its durable spool (both files and the folder synced before each 250; its
     default --spool-sync file-system: one syncfs per batch for the files, one fsync of the folder);
   - Postfix's smtpd with its default queue (cleanup syncs the queue file before smtpd's 250; the
     queue manager then hands each message to the `discard` transport, which deletes it);
   - Postfix's smtp-sink (stores nothing: the floor of the load generator itself).
   Figures: messages accepted per second (wall clock of smtp-source), as ratios. serve and
   smtp-sink run in turn PAIRS times, and their figure is the median of the pairs' ratios.
2. STARTTLS under load: bench/load_client.cpp (the net/ client of `tlschan send`, policy must) at
   100 concurrent sessions against serve (durable spool) and against aiosmtpd with
   require_starttls (bench/aiosmtpd_load_server.py; it keeps nothing), same certificate.
They run in the order 2, 1, 3: the Postfix rounds of 1 end with thousands of file deletions beside
serve's spool, which would slow the file creations of a serve run after them (see
run_smtp_source_section). Before every serve run, the CPU time of creating a 10 KiB file in the
scratch folder is measured and reported (scratch_create_us_*), so that a reader sees the state of
the file system the spool met.
3. Idle connections: N plaintext connections to `serve --max-connections N`, each reads its 220;
   serve's peak RSS (VmHWM) minus its RSS before them, per connection; then each sends NOOP and must
   get its 250.

usage: load_bench.py TLSCHAN LOAD_CLIENT CERT KEY [--quick]   -> one JSON object on stdout"""

import json
import os
import re
import resource
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "interop"))
import postfix_instance  # noqa: E402  (the private Postfix instance of the interop tests)

if len(sys.argv) < 5 or sys.argv[1] in ("-h", "--help"):
    print(__doc__)
    sys.exit(0 if len(sys.argv) > 1 and sys.argv[1] in ("-h", "--help") else 64)
tlschan, load_client, cert, key = sys.argv[1:5]
quick = "--quick" in sys.argv[5:]
if quick:
    MESSAGES, CONCURRENCY, TLS_MESSAGES, TLS_SESSIONS, IDLE = 200, (20,), 200, 20, 500
else:
    MESSAGES, CONCURRENCY, TLS_MESSAGES, TLS_SESSIONS, IDLE = 2000, (20, 200), 2000, 100, 10000
SIZE = 10240
PAIRS = 3  # serve and smtp-sink runs in turn at each concurrency
FROM, TO = "load@client.tlschan.test", "bob@mx.tlschan.test"
SMTP_SOURCE, SMTP_SINK = "/usr/sbin/smtp-source", "/usr/sbin/smtp-sink"
work = tempfile.mkdtemp(prefix="tlschan-load-")
os.chmod(work, 0o755)  # Postfix's daemons run as the postfix user
result = {"messages": MESSAGES, "message_bytes": SIZE, "concurrency": list(CONCURRENCY),
          "starttls_messages": TLS_MESSAGES, "starttls_sessions": TLS_SESSIONS}
notes = []
started = []  # processes to stop on the way out


def median(values):
    return sorted(values)[len(values) // 2]


def log(text):
    print("load: " + text, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def greets(port, timeout=15):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=3) as s:
                if s.recv(512).startswith(b"220"):
                    return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


def proc_status(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def proc_cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def scratch_create_us(name, files=200):
    """Microseconds of CPU time to create and write one file of SIZE octets in the scratch folder
    (the mean of `files`, kept until the end: deleting them would slow the creations after)."""
    d = os.path.join(work, "create-probe-" + name)
    os.makedirs(d)
    data = b"x" * SIZE
    t0 = time.process_time()
    for i in range(files):
        fd = os.open(os.path.join(d, str(i)), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
    us = 1e6 * (time.process_time() - t0) / files
    result["scratch_create_us_" + name] = us
    return us


class Serve:
    """`tlschan serve` with its built-in configuration on one --listen 127.0.0.1:0 port."""

    def __init__(self, name, max_connections):
        self.spool = os.path.join(work, name + "-spool")
        self.out_path = os.path.join(work, name + ".out")
        self.out = open(self.out_path, "w+")
        self.proc = subprocess.Popen(
            [tlschan, "serve", "--listen", "127.0.0.1:0", "--spool", self.spool, "--cert", cert, "--key", key,
             "--hostname", "mx.tlschan.test", "--max-connections", str(max_connections)],
            stdout=self.out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        started.append(self.proc)
        end = time.monotonic() + 15
        while time.monotonic() < end:
            text = open(self.out_path).read()
            if "ready:" in text:
                self.port = int(re.search(r"^listening regular \S+:(\d+)", text, re.M).group(1))
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        raise RuntimeError("serve did not start:\n" + open(self.out_path).read())

    def stored(self):
        return sum(1 for n in os.listdir(self.spool) if n.endswith(".json") and not n.startswith("."))

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.out.close()
        return self.proc.returncode


def smtp_source(port, sessions, messages):
    """Wall seconds for smtp-source to send `messages` messages over `sessions` sessions."""
    cmd = [SMTP_SOURCE, "-s", str(sessions), "-m", str(messages), "-l", str(SIZE), "-f", FROM, "-t", TO,
           "-M", "load.tlschan.test", "127.0.0.1:%d" % port]
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    seconds = time.monotonic() - t0
    if p.returncode != 0 or p.stderr.strip():
        raise RuntimeError("smtp-source failed (%d): %s" % (p.returncode, p.stderr[-2000:]))
    return seconds


# ---- 1. smtp-source against serve, Postfix and smtp-sink ----

class Scratch:
    """What postfix_instance.Postfix needs of the interop tests' scratch folder."""

    def __init__(self):
        self.dir = os.path.join(work, "postfix-scratch")
        os.makedirs(self.dir)
        self.cert, self.key = os.path.join(self.dir, "cert.pem"), os.path.join(self.dir, "key.pem")
        shutil.copy(cert, self.cert)
        shutil.copy(key, self.key)

    def path(self, *parts):
        return os.path.join(self.dir, *parts)


# What this benchmark changes in the private instance's main.cf (postfix_instance.py sets the rest:
# its own folders, loopback only, mynetworks = 127.0.0.0/8, mydestination empty): every message goes
# to the discard transport once queued. The queue and its fsync stay as Postfix ships them.
POSTFIX_MAIN = "default_transport = discard\n"


def postfix_queue_empty(pf):
    for sub in ("maildrop", "incoming", "active", "deferred", "hold"):
        d = os.path.join(pf.dir, "queue", sub)
        for _, _, files in os.walk(d):
            if files:
                return False
    return True


def run_smtp_source_section():
    if not (os.path.exists(SMTP_SOURCE) and os.path.exists(SMTP_SINK) and postfix_instance.available()):
        notes.append("smtp-source section skipped: needs Postfix (smtp-source, smtp-sink) and root")
        return
    rates = {}
    serve = Serve("source", max(CONCURRENCY) + 100)
    pf_port = free_port()
    pf = postfix_instance.Postfix(Scratch(), POSTFIX_MAIN, ["127.0.0.1:%d inet n - n - - smtpd" % pf_port])
    sink_port = free_port()
    sink = subprocess.Popen([SMTP_SINK, "-u", "postfix", "127.0.0.1:%d" % sink_port, "1024"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    started.append(sink)
    try:
        rc, out = pf.start()
        if rc != 0 or not postfix_instance.greets(pf_port):
            raise RuntimeError("Postfix did not start: " + out + pf.log_text()[-2000:])
        if not greets(sink_port):
            raise RuntimeError("smtp-sink did not start")
        # Every serve round first, then smtp-sink's, then Postfix's. Postfix deletes each queue file
        # once the discard agent has it, and on ext4 without a journal (this machine's root file
        # system) a new file's inode is searched for past every inode of its group freed in the last
        # minute or so (the kernel's recently_deleted check): right after Postfix's 2,000 deletions,
        # creating a 10 KiB file beside them cost about ten times its CPU time on a quiet group.
        # Measured after Postfix, serve would pay for Postfix's deletions (its spool is in the same
        # folder); Postfix still pays for its own. serve deletes nothing.
        # serve and smtp-sink take turns, PAIRS times at each concurrency: a run of either lasts a
        # second or two, as long as this machine's slow spells, so each pair's ratio is taken and the
        # figure is the median of the pairs' ratios (the rates shown: the medians of the runs).
        sink_ratios = {sessions: [] for sessions in CONCURRENCY}
        times = {sessions: {"serve": [], "smtp_sink": []} for sessions in CONCURRENCY}
        for sessions in CONCURRENCY:
            log("smtp-source: %d messages of %d bytes over %d sessions, to serve and smtp-sink in turn, %d times"
                % (MESSAGES, SIZE, sessions, PAIRS))
            scratch_create_us("source_%d" % sessions)
            for _ in range(PAIRS):
                before = serve.stored()
                t_serve = smtp_source(serve.port, sessions, MESSAGES)
                if serve.stored() - before != MESSAGES:
                    raise RuntimeError("serve stored %d of %d messages" % (serve.stored() - before, MESSAGES))
                t_sink = smtp_source(sink_port, sessions, MESSAGES)
                times[sessions]["serve"].append(t_serve)
                times[sessions]["smtp_sink"].append(t_sink)
                sink_ratios[sessions].append(t_sink / t_serve)
        removed_before = 0
        for sessions in CONCURRENCY:
            log("smtp-source: %d messages of %d bytes over %d sessions, to Postfix" % (MESSAGES, SIZE, sessions))
            times[sessions]["postfix"] = [smtp_source(pf_port, sessions, MESSAGES)]
            # Postfix delivers (discards) what it queued; the next round starts with an empty queue.
            end = time.monotonic() + 120
            while time.monotonic() < end and not postfix_queue_empty(pf):
                time.sleep(0.2)
            removed = len(re.findall(r": removed$", pf.log_text(), re.M))
            if removed - removed_before != MESSAGES:
                raise RuntimeError("Postfix queued and removed %d of %d messages" % (removed - removed_before,
                                                                                    MESSAGES))
            removed_before = removed
        for sessions, t in times.items():
            rates[sessions] = {k: median([MESSAGES / x for x in v]) for k, v in t.items()}
    finally:
        serve.stop()
        pf.stop()
        sink.terminate()
        sink.wait(timeout=10)
    for sessions, r in rates.items():
        result["serve_vs_postfix_msgs_%d" % sessions] = r["serve"] / r["postfix"]
        result["serve_vs_smtp_sink_%d" % sessions] = median(sink_ratios[sessions])
        for k, v in r.items():
            result["msgs_per_s_%s_%d" % (k, sessions)] = v
    # The headline figures: the lower ratio over the concurrencies measured.
    result["serve_vs_postfix_msgs"] = min(r["serve"] / r["postfix"] for r in rates.values())
    result["serve_vs_smtp_sink"] = min(median(sink_ratios[sessions]) for sessions in rates)


# ---- 2. STARTTLS sessions: serve against aiosmtpd, the same driver ----

def drive(port):
    p = subprocess.run([load_client, "127.0.0.1", str(port), str(TLS_SESSIONS), str(TLS_MESSAGES), "must"],
                       capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        raise RuntimeError("tlschan_load_client failed: " + p.stderr[-2000:])
    r = json.loads(p.stdout)
    if r["tls"] != TLS_MESSAGES:
        raise RuntimeError("only %d of %d messages went over TLS" % (r["tls"], TLS_MESSAGES))
    return r


def run_starttls_section():
    log("STARTTLS: %d messages over %d concurrent sessions, to serve and to aiosmtpd" % (TLS_MESSAGES, TLS_SESSIONS))
    serve = Serve("starttls", TLS_SESSIONS + 100)
    scratch_create_us("starttls")
    try:
        cpu0 = proc_cpu_s(serve.proc.pid)
        r_serve = drive(serve.port)
        serve_cpu = proc_cpu_s(serve.proc.pid) - cpu0
        if serve.stored() != TLS_MESSAGES:
            raise RuntimeError("serve stored %d of %d" % (serve.stored(), TLS_MESSAGES))
    finally:
        serve.stop()
    port = free_port()
    aio = subprocess.Popen(["/usr/bin/python3", os.path.join(HERE, "aiosmtpd_load_server.py"), str(port), cert, key],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    started.append(aio)
    try:
        ready, _, _ = select.select([aio.stdout], [], [], 20)
        if not ready or aio.stdout.readline().strip() != "ready":
            raise RuntimeError("aiosmtpd did not start")
        cpu0 = proc_cpu_s(aio.pid)
        r_aio = drive(port)
        aio_cpu = proc_cpu_s(aio.pid) - cpu0
    finally:
        aio.stdin.close()
        try:
            aio.wait(timeout=20)
        except subprocess.TimeoutExpired:
            aio.kill()
            aio.wait()
    serve_rate, aio_rate = TLS_MESSAGES / r_serve["seconds"], TLS_MESSAGES / r_aio["seconds"]
    result["serve_starttls_vs_aiosmtpd"] = serve_rate / aio_rate
    result["msgs_per_s_starttls_serve"] = serve_rate
    result["msgs_per_s_starttls_aiosmtpd"] = aio_rate
    # The same comparison in the servers' own CPU time per message (the driver shares the machine's
    # cores with the server, so the wall-clock ratio cannot exceed aiosmtpd's cost over the driver's).
    result["serve_starttls_cpu_vs_aiosmtpd"] = aio_cpu / serve_cpu if serve_cpu > 0 else None
    result["server_cpu_ms_per_starttls_msg_serve"] = 1000 * serve_cpu / TLS_MESSAGES
    result["server_cpu_ms_per_starttls_msg_aiosmtpd"] = 1000 * aio_cpu / TLS_MESSAGES
    result["client_cpu_ms_per_starttls_msg"] = 1000 * (r_serve["client_cpu_s"] + r_aio["client_cpu_s"]) / (2 * TLS_MESSAGES)


# ---- 3. idle connections: serve's memory per connection ----

def read_reply(s, deadline):
    buf = b""
    while time.monotonic() < deadline:
        try:
            chunk = s.recv(4096)
        except socket.timeout:
            continue
        if not chunk:
            return buf
        buf += chunk
        lines = buf.split(b"\r\n")
        if len(lines) >= 2 and len(lines[-2]) >= 4 and lines[-2][3:4] == b" ":
            return buf
    return buf


def run_idle_section():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    count = IDLE
    # serve needs its spare descriptors (listeners, the spool's batches) besides one per connection.
    if hard != resource.RLIM_INFINITY and hard < count + 300:
        count = max(1, hard - 300)
        notes.append("open-file hard limit %d: %d idle connections instead of %d" % (hard, count, IDLE))
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, count + 100) if hard != resource.RLIM_INFINITY
                                                else count + 100, hard))
    log("idle: %d plaintext connections held open to serve --max-connections %d" % (count, count))
    serve = Serve("idle", count)
    socks = []
    try:
        # One whole session first, so that what any connection touches once is in the baseline.
        with socket.create_connection(("127.0.0.1", serve.port), timeout=10) as s:
            s.settimeout(10)
            read_reply(s, time.monotonic() + 10)
            s.sendall(b"EHLO load.tlschan.test\r\n")
            read_reply(s, time.monotonic() + 10)
            s.sendall(b"QUIT\r\n")
            read_reply(s, time.monotonic() + 10)
        time.sleep(0.2)
        before = proc_status(serve.proc.pid, "VmRSS")
        greeted = 0
        for _ in range(count):
            s = socket.create_connection(("127.0.0.1", serve.port), timeout=10)
            s.settimeout(10)
            socks.append(s)
            if read_reply(s, time.monotonic() + 10).startswith(b"220 "):
                greeted += 1
        time.sleep(0.2)
        peak = proc_status(serve.proc.pid, "VmHWM")
        answered = 0
        for s in socks:
            s.sendall(b"NOOP\r\n")
        deadline = time.monotonic() + 60
        for s in socks:
            if read_reply(s, deadline).startswith(b"250 "):
                answered += 1
    finally:
        for s in socks:
            s.close()
        serve.stop()
    result["serve_conn_kib"] = (peak - before) / count
    result["serve_idle_connections"] = count
    result["serve_idle_greeted"] = greeted
    result["serve_idle_answered"] = answered
    result["serve_idle_all_answered"] = greeted == count and answered == count


try:
    # The STARTTLS section before the smtp-source section, whose Postfix rounds end with thousands of
    # deletions beside serve's spool (see run_smtp_source_section).
    for section in (run_starttls_section, run_smtp_source_section, run_idle_section):
        try:
            section()
        except Exception as e:  # noqa: BLE001 -- one section failing still reports the others
            notes.append("%s: %s" % (section.__name__, e))
            log("FAILED %s: %s" % (section.__name__, e))
finally:
    for p in started:
        if p.poll() is None:
            p.kill()
            p.wait()
    shutil.rmtree(work, ignore_errors=True)
result["load_notes"] = notes
print(json.dumps(result))
