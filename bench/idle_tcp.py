#!/usr/bin/env python3
"""Idle TCP connections to the SIP port, as a slowloris or a botnet holds them
(bench/flood.sh tcp).

    idle_tcp.py PORT --connections N --sources K --per-second R --hold SECONDS [--opened FILE] [--json FILE]

One process per source address (127.0.0.2, 127.0.0.3, ...), each opening N/K
non-blocking connections to 127.0.0.1:PORT, R a second in all (paced evenly; 0: as fast
as the kernel takes them), and sending nothing. A connection whose handshake completed
may still never reach the server: when the listening socket's accept queue is full the
kernel answers with a SYN cookie and drops the final ACK, so the client holds a
connection the server does not know (count the kernel's ListenOverflows beside this). Every connection is watched until the end: when its connect completed (or
failed), and when the server closed it (end of file or reset). All of them are held
until SECONDS after the last connect was started, then closed.

Writes FILE (if given) with the Unix time once every connect has been started and has
completed or failed. The JSON (stdout and --json) gives: connections tried,
established, failed to connect, closed by the server within 1 s of connecting ("at
once"), closed later (with their lifetimes), open at the end, and the number open
each half second, summed over the sources.
"""

import argparse
import errno
import json
import multiprocessing
import os
import selectors
import socket
import sys
import time

IP_BIND_ADDRESS_NO_PORT = 24  # Linux: pick the port at connect, per destination
SAMPLE = 0.5


def source_address(first, k):
    a, b, c, d = (int(x) for x in first.split("."))
    n = (a << 24 | b << 16 | c << 8 | d) + k
    return ".".join(str(n >> s & 255) for s in (24, 16, 8, 0))


def run_source(args, k, start_at, results, ready):
    src = source_address(args.first, k)
    count = args.connections // args.sources + (1 if k < args.connections % args.sources else 0)
    sel = selectors.DefaultSelector()
    state = {}  # fd -> [socket, connected_at, closed_at]
    tried = failed = 0
    errors = {}
    while time.time() < start_at:
        time.sleep(0.001)
    t0 = time.time()
    timeline = []
    next_sample = t0

    def sample(now):
        nonlocal next_sample
        while now >= next_sample:
            timeline.append(sum(1 for s in state.values() if s[1] is not None and s[2] is None))
            next_sample += SAMPLE

    def poll(timeout):
        nonlocal failed
        for key, mask in sel.select(timeout):
            s = key.fileobj
            st = state[s.fileno()]
            now = time.time()
            if st[1] is None:  # connecting
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    failed += 1
                    errors[errno.errorcode.get(err, str(err))] = errors.get(errno.errorcode.get(err, str(err)), 0) + 1
                    st[1] = st[2] = -1.0
                    sel.unregister(s)
                    continue
                st[1] = now
                sel.modify(s, selectors.EVENT_READ)
            else:  # readable: the server closed it (we never send, so it sends nothing)
                try:
                    data = s.recv(4096)
                except OSError:
                    data = b""
                if not data:
                    st[2] = now
                    sel.unregister(s)

    rate = args.per_second / args.sources if args.per_second > 0 else 0
    for n in range(count):
        if rate and n % 10 == 0:
            due = t0 + n / rate
            while time.time() < due:  # select returns early when a socket has news
                poll(due - time.time())
                sample(time.time())
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.setsockopt(socket.SOL_IP, IP_BIND_ADDRESS_NO_PORT, 1)
        except OSError:
            pass
        s.bind((src, 0))
        tried += 1
        rc = s.connect_ex(("127.0.0.1", args.port))
        if rc not in (0, errno.EINPROGRESS):
            failed += 1
            name = errno.errorcode.get(rc, str(rc))
            errors[name] = errors.get(name, 0) + 1
            s.close()
            continue
        state[s.fileno()] = [s, None, None]
        sel.register(s, selectors.EVENT_WRITE)
        if tried % 100 == 0:
            poll(0)
            sample(time.time())
    opened_at = time.time()
    # Until every connect has completed or failed (SYN retries take seconds).
    while any(st[1] is None for st in state.values()) and time.time() < opened_at + 10:
        poll(0.05)
        sample(time.time())
    ready.put(time.time())
    hold_until = opened_at + args.hold
    while time.time() < hold_until:
        poll(min(0.05, max(0, hold_until - time.time())))
        sample(time.time())
    end = time.time()
    established = [st for st in state.values() if st[1] is not None and st[1] >= 0]
    pending = sum(1 for st in state.values() if st[1] is None)
    at_once = [st for st in established if st[2] is not None and st[2] - st[1] < 1.0]
    later = sorted(st[2] - st[1] for st in established if st[2] is not None and st[2] - st[1] >= 1.0)
    still_open = sum(1 for st in established if st[2] is None)
    for st in state.values():
        st[0].close()
    results.put({
        "source": src,
        "tried": tried,
        "established": len(established),
        "connect_failed": failed,
        "connect_errors": errors,
        "still_connecting": pending,
        "closed_at_once": len(at_once),
        "closed_later": len(later),
        "closed_later_lifetimes": later,
        "open_at_end": still_open,
        "open_seconds": end - t0,
        "all_started_after": opened_at - t0,
        "timeline": timeline,
    })


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("port", type=int)
    p.add_argument("--connections", type=int, default=20_000)
    p.add_argument("--sources", type=int, default=10)
    p.add_argument("--first", default="127.0.0.2")
    p.add_argument("--hold", type=float, default=15.0)
    p.add_argument("--per-second", type=float, default=2000.0, help="connects a second, in all (0: unpaced)")
    p.add_argument("--opened", default="")
    p.add_argument("--json", default="")
    args = p.parse_args()

    start_at = time.time() + 0.3
    results, ready = multiprocessing.Queue(), multiprocessing.Queue()
    procs = [multiprocessing.Process(target=run_source, args=(args, k, start_at, results, ready))
             for k in range(args.sources)]
    for proc in procs:
        proc.start()
    opened = max(ready.get() for _ in procs)
    if args.opened:
        with open(args.opened + ".tmp", "w") as f:
            f.write(f"{opened:.6f}\n")
        os.rename(args.opened + ".tmp", args.opened)
    per_source = [results.get() for _ in procs]
    for proc in procs:
        proc.join()
    per_source.sort(key=lambda r: tuple(int(x) for x in r["source"].split(".")))
    lifetimes = sorted(x for r in per_source for x in r["closed_later_lifetimes"])
    width = max(len(r["timeline"]) for r in per_source)
    timeline = [sum(r["timeline"][i] for r in per_source if i < len(r["timeline"])) for i in range(width)]
    errors = {}
    for r in per_source:
        for k, v in r["connect_errors"].items():
            errors[k] = errors.get(k, 0) + v
    summary = {
        "port": args.port,
        "sources": args.sources,
        "start_unix": start_at,
        "all_connected_unix": opened,
        "tried": sum(r["tried"] for r in per_source),
        "established": sum(r["established"] for r in per_source),
        "connect_failed": sum(r["connect_failed"] for r in per_source),
        "connect_errors": errors,
        "still_connecting": sum(r["still_connecting"] for r in per_source),
        "closed_at_once": sum(r["closed_at_once"] for r in per_source),
        "closed_later": len(lifetimes),
        "closed_later_lifetime_min_s": lifetimes[0] if lifetimes else None,
        "closed_later_lifetime_max_s": lifetimes[-1] if lifetimes else None,
        "open_at_end": sum(r["open_at_end"] for r in per_source),
        "max_open": max(timeline) if timeline else 0,
        "open_every_half_second": timeline,
        "per_source": [{k: v for k, v in r.items() if k not in ("closed_later_lifetimes", "timeline")}
                       for r in per_source],
    }
    text = json.dumps(summary, indent=1)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text + "\n")
    print(json.dumps({k: v for k, v in summary.items() if k not in ("per_source", "open_every_half_second")}, indent=1))


if __name__ == "__main__":
    sys.exit(main())
