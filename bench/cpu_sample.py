#!/usr/bin/env python3
"""Samples where the CPU goes while a bench runs, every INTERVAL seconds, from /proc only:

- the whole machine: busy share of all CPUs;
- the server (PID): CPU used, and the run-queue delay of its threads (time runnable but
  not running, from /proc/PID/task/*/schedstat) - the delay the rest of the machine
  inflicts on it;
- the busiest other processes, by name.

Writes one JSON object per sample (JSON lines) to OUT until the server exits or
SECONDS pass. `--summary OUT` prints totals afterwards: the server's CPU, its run-queue
delay, and the other processes' CPU over the whole run.

Usage: cpu_sample.py PID OUT [--interval 0.1] [--seconds 150]
       cpu_sample.py --summary OUT
"""

import argparse
import json
import os
import sys
import time
from collections import defaultdict

TICK = os.sysconf("SC_CLK_TCK")


def machine():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v), idle


def proc_cpu(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
    except OSError:
        return None
    name = s[s.index("(") + 1 : s.rindex(")")]
    rest = s[s.rindex(")") + 2 :].split()
    return name, (int(rest[11]) + int(rest[12])) / TICK


def thread_delay(pid):
    """Sum over the threads of (cpu ns, run-queue wait ns)."""
    cpu = wait = 0
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return None
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                a, b, _ = f.read().split()
            cpu += int(a)
            wait += int(b)
        except (OSError, ValueError):
            pass
    return cpu, wait


def others(skip):
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == skip:
            continue
        p = proc_cpu(d)
        if p:
            out[int(d)] = p
    return out


def sample(args):
    pid = args.pid
    end = time.time() + args.seconds
    prev_m = machine()
    prev_t = thread_delay(pid)
    prev_o = others(pid)
    # Line-buffered: the summary may read the file while sampling goes on, and the
    # sampler is stopped with a signal.
    with open(args.out, "w", buffering=1) as out:
        while time.time() < end:
            time.sleep(args.interval)
            now = time.time()
            m = machine()
            t = thread_delay(pid)
            if t is None:
                print(f"cpu_sample: process {pid} is gone", file=sys.stderr)
                break
            o = others(pid)
            total, idle = m[0] - prev_m[0], m[1] - prev_m[1]
            busy = defaultdict(float)
            for p, (name, cpu) in o.items():
                if p in prev_o:
                    busy[name] += cpu - prev_o[p][1]
            top = sorted(((v, k) for k, v in busy.items() if v > 0), reverse=True)[:6]
            out.write(
                json.dumps(
                    {
                        "t": round(now, 3),
                        "machine_busy": round(1 - idle / total, 3) if total else 0,
                        "server_cpu_s": round((t[0] - prev_t[0]) / 1e9, 4),
                        "server_runq_wait_s": round((t[1] - prev_t[1]) / 1e9, 4),
                        "others_cpu_s": {k: round(v, 3) for v, k in top},
                    }
                )
                + "\n"
            )
            prev_m, prev_t, prev_o = m, t, o
    print(f"cpu_sample: stopped after {args.seconds} s", file=sys.stderr)


def summary(path):
    rows = [json.loads(l) for l in open(path)]
    if not rows:
        print("no samples")
        return
    span = rows[-1]["t"] - rows[0]["t"] + (rows[1]["t"] - rows[0]["t"] if len(rows) > 1 else 0)
    cpu = sum(r["server_cpu_s"] for r in rows)
    wait = sum(r["server_runq_wait_s"] for r in rows)
    other = defaultdict(float)
    for r in rows:
        for k, v in r["others_cpu_s"].items():
            other[k] += v
    busy = sum(r["machine_busy"] for r in rows) / len(rows)
    print(f"span {span:.1f} s; machine busy {busy * 100:.0f}% of 2 CPUs on average")
    print(f"server: {cpu:.2f} CPU-s ({cpu / span * 100:.0f}% of one CPU), "
          f"run-queue wait {wait:.2f} s")
    top = sorted(other.items(), key=lambda kv: -kv[1])[:8]
    print("others: " + ", ".join(f"{k} {v:.1f} CPU-s" for k, v in top))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("pid", nargs="?", type=int)
    ap.add_argument("out", nargs="?")
    ap.add_argument("--interval", type=float, default=0.1)
    ap.add_argument("--seconds", type=float, default=150)
    ap.add_argument("--summary")
    args = ap.parse_args()
    if args.summary:
        summary(args.summary)
    else:
        sample(args)


if __name__ == "__main__":
    main()
