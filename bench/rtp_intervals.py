#!/usr/bin/env python3
"""How evenly the server paces its RTP: read a tcpdump capture of the server's RTP (taken
on loopback, so the kernel's timestamp is the moment the server's send_to ran) and report,
over every stream (source port + SSRC):

- the send-interval error: |gap between consecutive packets - 20 ms|, over every pair of
  consecutive packets (consecutive sequence numbers) of every stream;
- the schedule lateness: how late each packet is against its stream's own 20 ms grid,
  anchored at the stream's earliest packet (t_k - 20 ms * k, minus its minimum); this one
  also shows drift, which interval errors can hide;
- lost or reordered sequence numbers, and streams skipped forward (the server skips
  packets after a stall of over 100 ms rather than bursting them).

Usage: rtp_intervals.py CAPTURE.pcap [--json OUT.json] [--series OUT.txt] [--from-ms MS] [--to-ms MS]
                        [--from-unix S] [--to-unix S]

--series writes the interval errors per 250 ms window of capture time (unix time, count,
p50, p99, max, how many over 5 ms), to see whether late packets are spread out or come in
stalls that hit every stream at once.

--from-ms/--to-ms keep only packets captured that long after the first packet of the
capture (to look at the steady state only); --from-unix/--to-unix keep only packets captured
between those wall-clock times (seconds since the epoch, as `date +%s.%N` prints them), to
look at what happened while something else ran. Standard library only.
"""

import argparse
import json
import struct
import sys
from collections import defaultdict

PTIME_NS = 20_000_000


def packets(path):
    """(capture_ns, src_port, ssrc, seq, rtp_timestamp) of every RTP packet in a pcap file."""
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack_from("<I", data, 0)[0]
    if magic == 0xA1B2C3D4:
        endian, frac_ns = "<", 1000
    elif magic == 0xA1B23C4D:
        endian, frac_ns = "<", 1
    elif magic == 0xD4C3B2A1:
        endian, frac_ns = ">", 1000
    elif magic == 0x4D3CB2A1:
        endian, frac_ns = ">", 1
    else:
        sys.exit(f"{path}: not a pcap file (magic {magic:#x})")
    linktype = struct.unpack_from(endian + "I", data, 20)[0]
    link_len = {1: 14, 0: 4, 113: 16, 276: 20}.get(linktype)
    if link_len is None:
        sys.exit(f"{path}: link type {linktype} is not handled")
    rec = struct.Struct(endian + "IIII")
    off = 24
    n = len(data)
    while off + 16 <= n:
        sec, frac, incl, _orig = rec.unpack_from(data, off)
        off += 16
        pkt = off
        off += incl
        ip = pkt + link_len
        if incl < link_len + 20 + 8 + 12 or data[ip] >> 4 != 4:
            continue
        ihl = (data[ip] & 0x0F) * 4
        if data[ip + 9] != 17:
            continue
        udp = ip + ihl
        src_port = (data[udp] << 8) | data[udp + 1]
        rtp = udp + 8
        if rtp + 12 > pkt + incl or data[rtp] >> 6 != 2:
            continue
        seq = (data[rtp + 2] << 8) | data[rtp + 3]
        rtp_ts, ssrc = struct.unpack_from(">II", data, rtp + 4)
        yield sec * 1_000_000_000 + frac * frac_ns, src_port, ssrc, seq, rtp_ts


def percentile(sorted_values, p):
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, int(round(p / 100 * (len(sorted_values) - 1)))))
    return sorted_values[k]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("capture")
    ap.add_argument("--json")
    ap.add_argument("--from-ms", type=float, default=None)
    ap.add_argument("--to-ms", type=float, default=None)
    ap.add_argument("--from-unix", type=float, default=None)
    ap.add_argument("--to-unix", type=float, default=None)
    ap.add_argument("--series")
    args = ap.parse_args()

    streams = defaultdict(list)
    first = None
    total = 0
    for ts, port, ssrc, seq, rtp_ts in packets(args.capture):
        if first is None:
            first = ts
        rel_ms = (ts - first) / 1e6
        if args.from_ms is not None and rel_ms < args.from_ms:
            continue
        if args.to_ms is not None and rel_ms > args.to_ms:
            continue
        if args.from_unix is not None and ts < args.from_unix * 1e9:
            continue
        if args.to_unix is not None and ts > args.to_unix * 1e9:
            continue
        streams[(port, ssrc)].append((ts, seq, rtp_ts))
        total += 1

    errors = []  # |interval - 20 ms| in ns
    windows = defaultdict(list)  # 250 ms window -> errors of the intervals ending in it
    lateness = []  # ns behind the stream's own grid
    lost = reordered = skipped_streams = 0
    for pkts in streams.values():
        prev_ts, prev_seq, rtp0 = pkts[0]
        # Each packet's place on the stream's 20 ms grid, from its RTP timestamp (160
        # samples a packet), so packets the server skipped after a stall keep their place.
        grid = [(prev_ts, 0)]
        for ts, seq, rtp_ts in pkts[1:]:
            step = (seq - prev_seq) & 0xFFFF
            if step == 1:
                errors.append(abs(ts - prev_ts - PTIME_NS))
                windows[ts // 250_000_000].append(errors[-1])
            elif step == 0 or step > 0x8000:
                reordered += 1
                continue
            else:
                lost += step - 1
            k = ((rtp_ts - rtp0) & 0xFFFFFFFF) // 160
            if k > 0 and grid[-1][1] + step != k:
                skipped_streams += 1 if grid[-1][1] + step < k else 0
            grid.append((ts, k))
            prev_ts, prev_seq = ts, seq
        base = min(t - i * PTIME_NS for t, i in grid)
        lateness.extend(t - i * PTIME_NS - base for t, i in grid)
    errors.sort()
    lateness.sort()
    ms = lambda ns: round(ns / 1e6, 3)
    result = {
        "packets": total,
        "streams": len(streams),
        "intervals": len(errors),
        "interval_error_ms": {
            "p50": ms(percentile(errors, 50)),
            "p90": ms(percentile(errors, 90)),
            "p99": ms(percentile(errors, 99)),
            "p99.9": ms(percentile(errors, 99.9)),
            "max": ms(errors[-1]) if errors else None,
            "over_5ms": sum(1 for e in errors if e > 5_000_000),
        },
        "schedule_lateness_ms": {
            "p50": ms(percentile(lateness, 50)),
            "p99": ms(percentile(lateness, 99)),
            "p99.9": ms(percentile(lateness, 99.9)),
            "max": ms(lateness[-1]) if lateness else None,
        },
        "missing_seq": lost,
        "reordered_or_repeated": reordered,
        "timestamp_skips": skipped_streams,
    }
    if streams:
        span = max(p[-1][0] for p in streams.values()) - min(p[0][0] for p in streams.values())
        result["capture_seconds"] = round(span / 1e9, 1)
        # Streams alive at once, sampled every 100 ms.
        live = defaultdict(int)
        for pkts in streams.values():
            for b in range((pkts[0][0] - first) // 100_000_000, (pkts[-1][0] - first) // 100_000_000 + 1):
                live[b] += 1
        result["max_concurrent_streams"] = max(live.values())
    print(json.dumps(result, indent=2))
    if args.series:
        with open(args.series, "w") as f:
            f.write("unix_time n p50_ms p99_ms max_ms over_5ms\n")
            for w in sorted(windows):
                v = sorted(windows[w])
                f.write(
                    f"{w / 4:.2f} {len(v)} {ms(percentile(v, 50))} {ms(percentile(v, 99))} "
                    f"{ms(v[-1])} {sum(1 for e in v if e > 5_000_000)}\n"
                )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
