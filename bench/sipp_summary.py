#!/usr/bin/env python3
"""Sums up one sipp run from the files its -trace_stat, -trace_rtt and -trace_screen
options wrote into DIR: calls created, successful and failed (with sipp's reasons),
retransmissions, the peak of concurrent calls, the achieved call rate, and percentiles of
each response-time measure (rtd) of the scenario.

Usage: sipp_summary.py DIR [--json OUT.json]
"""

import argparse
import glob
import json
import re
import sys
from collections import defaultdict


def last_stat_row(path):
    with open(path) as f:
        lines = [l.rstrip("\n") for l in f if l.strip()]
    header = lines[0].split(";")
    row = lines[-1].split(";")
    return dict(zip(header, row))


def percentile(v, p):
    if not v:
        return None
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--json")
    args = ap.parse_args()
    stats = sorted(glob.glob(f"{args.dir}/*_[0-9]*_.csv"))
    screens = sorted(glob.glob(f"{args.dir}/*_screen.log"))
    rtts = sorted(glob.glob(f"{args.dir}/*_rtt.csv"))
    if not stats:
        sys.exit(f"no sipp statistics (-trace_stat) in {args.dir}")
    row = last_stat_row(stats[-1])
    num = lambda k: int(row.get(k, "0") or 0)
    failed_reasons = {
        k[len("Failed") : -3]: num(k)
        for k in row
        if k.startswith("Failed") and k.endswith("(C)") and k != "FailedCall(C)" and num(k)
    }
    out = {
        "calls_created": num("TotalCallCreated"),
        "successful": num("SuccessfulCall(C)"),
        "failed": num("FailedCall(C)"),
        "failed_reasons": failed_reasons,
        "retransmissions": num("Retransmissions(C)"),
        "dead_call_msgs": num("DeadCallMsgs(C)"),
        "out_of_call_msgs": num("OutOfCallMsgs(C)"),
    }
    created = out["calls_created"]
    out["failed_percent"] = round(100 * out["failed"] / created, 4) if created else None
    if screens:
        text = open(screens[-1], errors="replace").read()
        m = re.search(r"Peak was (\d+) calls", text)
        if m:
            out["peak_concurrent_calls"] = int(m.group(1))
        m = re.search(r"Call Rate\s*\|[^|]*\|\s*([\d.]+) cps", text)
        if m:
            out["call_rate_cps_overall"] = float(m.group(1))
        m = re.search(r"\s([\d.]+) s\s+\d+\s+\S+\(UDP\)", text)
        if m:
            out["total_time_s"] = float(m.group(1))
    if rtts:
        per = defaultdict(list)
        for path in rtts:
            with open(path) as f:
                next(f, None)
                for line in f:
                    parts = line.strip().split(";")
                    if len(parts) == 3:
                        per[parts[2]].append(float(parts[1]))
        out["rtd_ms"] = {}
        for k, v in sorted(per.items()):
            v.sort()
            out["rtd_ms"][k] = {
                "n": len(v),
                "p50": percentile(v, 50),
                "p90": percentile(v, 90),
                "p99": percentile(v, 99),
                "max": v[-1],
            }
    print(json.dumps(out, indent=2))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=2)


if __name__ == "__main__":
    main()
