#!/usr/bin/env bash
# Measures tlschan against the physical floor and against what users would pick instead, all in one
# run on this machine, and prints one table: each figure, its reference, the ratio and the target.
# Usage: bench/report.sh [--json] [--quick]
#   --json   print a JSON object (keys below) instead of the table
#   --quick  short runs (for ci/test.sh, which only checks that every key is printed)
set -euo pipefail
cd "$(dirname "$0")/.."
json=0
quick=0
for a in "$@"; do
  case "$a" in
    --json) json=1 ;;
    --quick) quick=1 ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "bench/report.sh: unknown argument $a" >&2; exit 64 ;;
  esac
done

cmake --preset default >/dev/null
cmake --build --preset default --target tlschan_bench tlschan_memory_probe tlschan tlschan_load_client >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ "$quick" = 1 ]; then min_time=0.05; conns=500; sessions=20; else min_time=1; conns=10000; sessions=300; fi

echo "bench: session and parser benchmarks" >&2
# Three whole runs of the benchmarks, and each ratio is the median of the three runs' own ratios:
# the two sides of a ratio run seconds apart within one run, but a machine can have slow spells of
# several seconds (both sides of a ratio 1.5 times slower at once), so one run's figure can land
# half in one; and a process runs on one CPU, which on the 2-CPU machine of docs/benchmarks.md
# decides the parsers' ratios (the reply parser ran 1.5 times as fast on one CPU as on the other,
# memchr alike on both). The median of three keeps one run's luck out without picking among runs.
for r in 1 2 3; do
  ./build/bin/tlschan_bench --benchmark_min_time="$min_time" --benchmark_format=json >"$work/bench$r.json" 2>/dev/null
done

echo "bench: smtplib against aiosmtpd ($sessions sessions each)" >&2
/usr/bin/python3 bench/aiosmtpd_bench.py corpus/certs/server.crt corpus/certs/server.key "$sessions" >"$work/aiosmtpd.json"

echo "bench: memory ($conns connections)" >&2
for kind in baseline held-plain held-tls ssl-pairs plain; do
  ./build/bin/tlschan_memory_probe "$kind" "$conns" | sed "s/^/$kind /" >>"$work/memory.txt"
done

asio="$work/asio.json"
if [ -x ./build/bin/tlschan_asio_bench ] || cmake --build --preset default --target tlschan_asio_bench >/dev/null 2>&1; then
  echo "bench: the net/ server and client over loopback" >&2
  ./build/bin/tlschan_asio_bench --benchmark_min_time="$min_time" --benchmark_format=json >"$asio" 2>/dev/null || echo '{}' >"$asio"
else
  echo '{}' >"$asio"
fi

# The load section (bench/load_bench.py): tlschan serve against Postfix, smtp-sink and aiosmtpd.
load_args=()
if [ "$quick" = 1 ]; then load_args=(--quick); fi
echo "bench: load: serve against Postfix's smtpd and smtp-sink (smtp-source), aiosmtpd (STARTTLS), idle connections" >&2
/usr/bin/python3 bench/load_bench.py ./build/bin/tlschan ./build/bin/tlschan_load_client \
  corpus/certs/server.crt corpus/certs/server.key "${load_args[@]}" >"$work/load.json"

# The table of the latest ci/fuzz.sh run: its own fuzz preset's (build-fuzz/) or the OSS-Fuzz
# build's (build-ossfuzz/, which ci/test.sh runs), whichever is newer.
fuzz_table=build-fuzz/fuzz-table.txt
if [ -f build-ossfuzz/fuzz-table.txt ] && { [ ! -f "$fuzz_table" ] || [ build-ossfuzz/fuzz-table.txt -nt "$fuzz_table" ]; }; then
  fuzz_table=build-ossfuzz/fuzz-table.txt
fi
/usr/bin/python3 - "$work" "$json" "$conns" "$fuzz_table" <<'PY'
import json, os, platform, sys, datetime
work, as_json, conns, fuzz_table = sys.argv[1], sys.argv[2] == "1", int(sys.argv[3]), sys.argv[4]
load = json.load(open(os.path.join(work, "load.json")))
# The three runs of tlschan_bench. A ratio of two benchmarks is the median of the runs' own ratios
# (paired: both sides measured seconds apart in one run); a figure alone is the median of its runs.
runs = [{b["name"]: b for b in json.load(open(os.path.join(work, "bench%d.json" % r)))["benchmarks"]}
        for r in (1, 2, 3)]
def median(values):
    return sorted(values)[len(values) // 2]
def run_cpu_s(run, name):
    b = run[name]
    scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[b["time_unit"]]
    return b["cpu_time"] * scale
def cpu_s(name):
    return median([run_cpu_s(run, name) for run in runs])
def rate(name):
    return median([run[name]["bytes_per_second"] for run in runs])
def paired(f):
    return median([f(run) for run in runs])
def cpu_ratio(num, den):
    return paired(lambda run: run_cpu_s(run, num) / run_cpu_s(run, den))
def rate_ratio(num, den):
    return paired(lambda run: run[num]["bytes_per_second"] / run[den]["bytes_per_second"])
py = json.load(open(os.path.join(work, "aiosmtpd.json")))
mem = {}
for line in open(os.path.join(work, "memory.txt")):
    kind, _, kib = line.split()
    mem[kind] = int(kib)
try:
    asio = {b["name"]: b for b in json.load(open(os.path.join(work, "asio.json"))).get("benchmarks", [])}
except Exception:
    asio = {}
def asio_cpu(starttls):
    for name, b in asio.items():
        if ("starttls:1" in name) == starttls and name.startswith("BM_AsioLoopbackSession"):
            scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[b["time_unit"]]
            return b["cpu_time"] * scale
    return None

HS = "BM_BareHandshake/process_time/real_time"
SIM_TLS, SIM_PLAIN = "BM_SimSession/starttls:1/process_time/real_time", "BM_SimSession/starttls:0/process_time/real_time"
handshake, sim_tls, sim_plain = cpu_s(HS), cpu_s(SIM_TLS), cpu_s(SIM_PLAIN)
asio_tls, asio_plain = asio_cpu(True), asio_cpu(False)
rows = [
    # key, figure, reference, ratio (higher is better unless noted), target, text
    ("sim_starttls_session_vs_raw_handshake", sim_tls, handshake, cpu_ratio(HS, SIM_TLS), ">= 0.8",
     "simulated STARTTLS session vs bare OpenSSL TLS 1.3 handshake (rate ratio)"),
    ("sim_plain_vs_starttls_session", sim_plain, sim_tls, cpu_ratio(SIM_TLS, SIM_PLAIN), ">= 50",
     "simulated plaintext session vs simulated STARTTLS session (speed-up)"),
    ("sim_vs_asio_loopback", sim_tls, asio_tls, (asio_tls / sim_tls) if asio_tls else None, ">= 1",
     "simulated STARTTLS session vs the same over Asio loopback sockets"),
    ("sim_plain_vs_asio_loopback_plain", sim_plain, asio_plain, (asio_plain / sim_plain) if asio_plain else None, ">= 10",
     "simulated plaintext session vs the same over Asio loopback sockets"),
    ("sim_vs_aiosmtpd", sim_tls, py["starttls_cpu_s_per_session"], py["starttls_cpu_s_per_session"] / sim_tls, ">= 4",
     "simulated STARTTLS session vs smtplib against aiosmtpd (require_starttls)"),
    ("sim_plain_vs_aiosmtpd_plain", sim_plain, py["plain_cpu_s_per_session"], py["plain_cpu_s_per_session"] / sim_plain, ">= 50",
     "simulated plaintext session vs smtplib against aiosmtpd"),
    ("command_parser_vs_memchr", rate("BM_CommandParser"), rate("BM_Memchr/input:0"),
     rate_ratio("BM_CommandParser", "BM_Memchr/input:0"), ">= 0.5", "command parser vs a bare memchr scan for LF (throughput)"),
    ("reply_parser_vs_memchr", rate("BM_ReplyParser"), rate("BM_Memchr/input:1"),
     rate_ratio("BM_ReplyParser", "BM_Memchr/input:1"), ">= 0.5", "reply parser vs memchr (throughput)"),
    ("data_reader_vs_memchr", rate("BM_DataReader"), rate("BM_Memchr/input:2"),
     rate_ratio("BM_DataReader", "BM_Memchr/input:2"), ">= 0.5", "DATA reader vs memchr (throughput)"),
    ("sim_conn_overhead_kib", (mem["held-tls"] - mem["ssl-pairs"]) / conns, None, (mem["held-tls"] - mem["ssl-pairs"]) / conns, "<= 8",
     "KiB per TLS connection (client and server sessions) beyond OpenSSL's own SSL pair"),
    ("sim_plain_conn_kib", (mem["held-plain"] - mem["baseline"]) / conns, None, (mem["held-plain"] - mem["baseline"]) / conns, "-",
     "KiB per plaintext connection (client and server sessions)"),
    ("sim_peak_rss_mib_plain", mem["plain"] / 1024, None, mem["plain"] / 1024, "-",
     "peak RSS (MiB) of one simulation of %d concurrent plaintext connections" % conns),
    # The load section: real processes on loopback, wall-clock rates (bench/load_bench.py).
    ("serve_vs_postfix_msgs", None, None, load.get("serve_vs_postfix_msgs"), ">= 1.0",
     "serve (durable spool) vs Postfix smtpd (default queue), messages/s under smtp-source, lower of %s sessions"
     % "/".join(str(c) for c in load.get("concurrency", []))),
    ("serve_vs_smtp_sink", None, None, load.get("serve_vs_smtp_sink"), ">= 0.5",
     "serve (durable spool) vs smtp-sink (stores nothing), messages/s under smtp-source"),
    ("serve_starttls_vs_aiosmtpd", None, None, load.get("serve_starttls_vs_aiosmtpd"), ">= 4",
     "serve vs aiosmtpd (require_starttls), STARTTLS messages/s, %s sessions of our client" % load.get("starttls_sessions", "?")),
    ("serve_starttls_cpu_vs_aiosmtpd", None, None, load.get("serve_starttls_cpu_vs_aiosmtpd"), "-",
     "the same, as the servers' own CPU time per message"),
    ("serve_conn_kib", None, None, load.get("serve_conn_kib"), "<= 16",
     "serve's peak RSS per idle plaintext connection (KiB), %s connections, %s answered NOOP"
     % (load.get("serve_idle_connections", "?"), load.get("serve_idle_answered", "?"))),
]
fuzz = open(fuzz_table).read() if os.path.exists(fuzz_table) else None
cpu = "?"
try:
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip(); break
except OSError:
    pass
machine = "%s, %d cores, %s" % (cpu, os.cpu_count() or 0, datetime.date.today().isoformat())
if as_json:
    out = {k: r for k, _, _, r, _, _ in rows}
    out["machine"] = machine
    out["fuzz_exec_per_s_table"] = fuzz
    out["load"] = load
    print(json.dumps(out, indent=2))
    sys.exit(0)
print("tlschan benchmarks, %s" % machine)
print("%-40s %10s  %-7s  %s" % ("figure", "ratio", "target", "what"))
for key, fig, ref, ratio, target, text in rows:
    shown = "n/a" if ratio is None else "%.2f" % ratio
    print("%-40s %10s  %-7s  %s" % (key, shown, target, text))
print()
print("absolute, for reference only (this machine, this run): bare handshake %.0f us, simulated STARTTLS session %.0f us, "
      "plaintext %.1f us CPU" % (handshake * 1e6, sim_tls * 1e6, sim_plain * 1e6))
print()
print("load, messages per second this run: " + ", ".join(
    "%s %.0f" % (k[len("msgs_per_s_"):], v) for k, v in load.items() if k.startswith("msgs_per_s_")))
if load.get("server_cpu_ms_per_starttls_msg_serve") is not None:
    print("  STARTTLS, CPU time per message: serve %.2f ms, aiosmtpd %.2f ms, the driving client %.2f ms "
          "(a STARTTLS message needs the client's and the server's CPU time; the machine has %d cores)" % (
              load["server_cpu_ms_per_starttls_msg_serve"], load["server_cpu_ms_per_starttls_msg_aiosmtpd"],
              load["client_cpu_ms_per_starttls_msg"], os.cpu_count() or 0))
if any(k.startswith("scratch_create_us_") for k in load):
    print("  the spool's file system before each serve run, CPU time to create and write a 10 KiB file: " + ", ".join(
        "%s %.0f us" % (k[len("scratch_create_us_"):], v) for k, v in load.items() if k.startswith("scratch_create_us_")))
print("  syncs: serve syncs each message's .eml and .json and then its folder before the 250 (group commit: "
      "the messages of a batch share the syncs; its default --spool-sync file-system syncs the files of a batch "
      "with one syncfs of the file system, then renames them and fsyncs the folder); Postfix's cleanup fsyncs "
      "the queue file before smtpd's 250, not the folder; smtp-sink and aiosmtpd store nothing")
print("  Postfix: a private instance (tests/interop/postfix_instance.py) with smtpd on a free loopback port, "
      "mynetworks = 127.0.0.0/8, default_transport = discard; everything else as shipped")
for note in load.get("load_notes", []):
    print("  note: " + note)
print()
print("fuzzing, from the latest ci/fuzz.sh run (not rerun):")
print(fuzz if fuzz else "  no ci/fuzz.sh run yet (%s missing)" % fuzz_table)
PY
