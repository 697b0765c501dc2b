#!/usr/bin/env python3
"""INVITEs without credentials, as a scanner or a botnet sends them (bench/flood.sh).

    flood_invites.py PORT --total N --seconds S --sources K [--first 127.0.0.2] [--json FILE]
    flood_invites.py PORT --forever --per-second R --sources K --stop FILE

One process per source address (127.0.0.2, 127.0.0.3, ... by default), each sending
N/K INVITEs to 127.0.0.1:PORT over UDP from its own address, paced evenly over S
seconds, every INVITE with its own Call-ID, branch and From tag. The datagrams are
built before the start, so the send loop does nothing but `send` and keep time; every
process starts at the same moment. The answers (407s) are never read.

The JSON (stdout, and --json FILE) gives what was really sent: per source its count,
the failed sends, its first and last send (Unix time) and its achieved rate, and for
the whole flood the same. --forever sends at R a second per source until FILE exists,
then prints the same figures.
"""

import argparse
import json
import multiprocessing
import os
import socket
import sys
import time

TEMPLATE = (
    "INVITE sip:200@127.0.0.1:{port} SIP/2.0\r\n"
    "Via: SIP/2.0/UDP {src}:{sport};branch=z9hG4bK-flood-{i}\r\n"
    "From: <sip:101@{src}>;tag=f{i}\r\n"
    "To: <sip:200@127.0.0.1>\r\n"
    "Call-ID: flood-{i}@{src}\r\n"
    "CSeq: 1 INVITE\r\n"
    "Contact: <sip:101@{src}:{sport}>\r\n"
    "Max-Forwards: 70\r\n"
    "Content-Length: 0\r\n\r\n"
)


def datagram(port, src, sport, i):
    return TEMPLATE.format(port=port, src=src, sport=sport, i=i).encode()


def source_address(first, k):
    a, b, c, d = (int(x) for x in first.split("."))
    n = (a << 24 | b << 16 | c << 8 | d) + k
    return ".".join(str(n >> s & 255) for s in (24, 16, 8, 0))


def run_source(args, k, start_at, results):
    src = source_address(args.first, k)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((src, 0))
    sock.connect(("127.0.0.1", args.port))
    sport = sock.getsockname()[1]
    send = sock.send
    sent = failed = 0
    if args.forever:
        rate = args.per_second
        batch = max(1, int(rate / 1000))
        while time.time() < start_at:
            time.sleep(0.001)
        first = time.time()
        while True:
            if sent % batch == 0:
                if sent % (batch * 50) == 0 and os.path.exists(args.stop):
                    break
                delay = first + sent / rate - time.time()
                if delay > 0:
                    time.sleep(delay)
            try:
                send(datagram(args.port, src, sport, sent))
            except OSError:
                failed += 1
            sent += 1
        last = time.time()
    else:
        count = args.total // args.sources + (1 if k < args.total % args.sources else 0)
        rate = count / args.seconds
        # Every datagram built before the start: the loop only sends and keeps time.
        grams = [datagram(args.port, src, sport, i) for i in range(count)]
        # Sleep at most every millisecond's worth of datagrams.
        batch = max(1, int(rate / 1000))
        while time.time() < start_at:
            time.sleep(0.001)
        first = time.time()
        perf0 = time.perf_counter()
        for i, g in enumerate(grams):
            if i % batch == 0:
                delay = i / rate - (time.perf_counter() - perf0)
                if delay > 0:
                    time.sleep(delay)
            try:
                send(g)
            except OSError:
                failed += 1
        sent = count
        last = time.time()
    span = last - first
    results.put(
        {
            "source": src,
            "sent": sent,
            "failed_sends": failed,
            "first_unix": first,
            "last_unix": last,
            "seconds": span,
            "per_second": (sent - failed) / span if span > 0 else 0.0,
            "target_per_second": rate,
        }
    )


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("port", type=int)
    p.add_argument("--total", type=int, default=1_000_000)
    p.add_argument("--seconds", type=float, default=30.0)
    p.add_argument("--sources", type=int, default=3)
    p.add_argument("--first", default="127.0.0.2", help="the first source address")
    p.add_argument("--forever", action="store_true", help="until --stop FILE exists")
    p.add_argument("--per-second", type=float, default=11_000, help="per source, with --forever")
    p.add_argument("--stop", default="", help="with --forever: stop once this file exists")
    p.add_argument("--start-delay", type=float, default=None,
                   help="seconds from now to the common start (default: time to build the datagrams)")
    p.add_argument("--json", default="", help="also write the figures here")
    p.add_argument("--started", default="", help="write the common start time (Unix) here")
    args = p.parse_args()
    if args.forever and not args.stop:
        p.error("--forever needs --stop FILE")

    delay = args.start_delay
    if delay is None:
        # About 1.5 s per million datagrams to build, spread over the processes, which
        # share the machine's CPUs.
        per_process = 0 if args.forever else args.total / args.sources
        delay = 0.5 + 3e-6 * per_process * max(1, args.sources / max(1, os.cpu_count() or 1))
    start_at = time.time() + delay
    if args.started:
        with open(args.started, "w") as f:
            f.write(f"{start_at:.6f}\n")
    results = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=run_source, args=(args, k, start_at, results))
             for k in range(args.sources)]
    for proc in procs:
        proc.start()
    per_source = [results.get() for _ in procs]
    for proc in procs:
        proc.join()
    per_source.sort(key=lambda r: r["source"])
    first = min(r["first_unix"] for r in per_source)
    last = max(r["last_unix"] for r in per_source)
    sent = sum(r["sent"] for r in per_source)
    failed = sum(r["failed_sends"] for r in per_source)
    summary = {
        "port": args.port,
        "sources": args.sources,
        "sent": sent,
        "failed_sends": failed,
        "target_seconds": None if args.forever else args.seconds,
        "target_per_second": (args.per_second * args.sources) if args.forever else args.total / args.seconds,
        "scheduled_start_unix": start_at,
        "first_unix": first,
        "last_unix": last,
        "seconds": last - first,
        "per_second": (sent - failed) / (last - first) if last > first else 0.0,
        "per_source": per_source,
    }
    text = json.dumps(summary, indent=1)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text + "\n")
    print(text)


if __name__ == "__main__":
    sys.exit(main())
