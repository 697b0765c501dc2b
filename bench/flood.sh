#!/usr/bin/env bash
# The server under attack (issue 12): `switchboard run` on loopback, flooded from a few
# loopback addresses, while a legitimate phone (sipp from 127.0.0.1) registers and calls.
# See bench/README.md. Each run starts its own server on a fresh data folder, prints a
# summary and leaves every file in $OUT.
#
#   bench/flood.sh invite [TOTAL] [SECONDS] [SOURCES]   (1000000 30 3)
#       TOTAL INVITEs without credentials over SECONDS from SOURCES addresses (127.0.0.2,
#       127.0.0.3, ...), paced evenly; the server's RSS and CPU; right after the flood's
#       end a REGISTER and a call from 127.0.0.1; then a second flood, SIGTERM during it,
#       and how long the server takes to exit.
#   bench/flood.sh linear [SOURCES]                     (3)
#       `invite` at 100,000/3 s, 300,000/9 s and 1,000,000/30 s (the same rate), and a
#       table of the server's CPU per INVITE: constant means the cost is linear.
#       SIZES="100000:3 300000:9 1000000:30" changes the sizes.
#   bench/flood.sh tcp [CONNECTIONS] [SOURCES]          (20000 10)
#       CONNECTIONS idle TCP connections to the SIP port from SOURCES addresses, held for
#       HOLD seconds (15); meanwhile a REGISTER and a call over UDP, /healthz and
#       /api/calls; what the server accepted and closed, its descriptors and RSS.
#
# Environment: SWITCHBOARD (the binary; default target/release/switchboard, built if
# missing), OUT (default /tmp/switchboard-bench/flood-<mode>-<time>), SIP_PORT (5080),
# HTTP_PORT (8092), RTP_PORTS (30000-30999), SIPP_PORT (15170), SIPP_MEDIA_PORT (16170),
# HOLD (15, tcp), CONNECT_RATE (2000 connects a second in all, tcp), TERM_AFTER (3: seconds into the second flood when SIGTERM is sent),
# MESSAGES_PER_SOURCE (unset: the server's default of 100/s; a large value turns the
# per-address limit off, so every INVITE reaches the stateless challenge), RUST_LOG
# (unset: the server's default).
set -euo pipefail

MODE=${1:?usage: bench/flood.sh invite [TOTAL] [SECONDS] [SOURCES] | linear [SOURCES] | tcp [CONNECTIONS] [SOURCES]}
BENCH=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$BENCH/.." && pwd)
BIN=${SWITCHBOARD:-$REPO/target/release/switchboard}
SIP_PORT=${SIP_PORT:-5080}
HTTP_PORT=${HTTP_PORT:-8092}
RTP_PORTS=${RTP_PORTS:-30000-30999}
SIPP_PORT=${SIPP_PORT:-15170}
SIPP_MEDIA_PORT=${SIPP_MEDIA_PORT:-16170}
OUT=${OUT:-/tmp/switchboard-bench/flood-$MODE-$(date +%Y%m%d-%H%M%S)}
# Extension 101's SIP password, as in bench/run.sh: it must pass the password policy.
PASSWORD=amber-kettle-harbour
HZ=$(getconf CLK_TCK)

for tool in sipp python3 curl; do
    command -v $tool >/dev/null || { echo "needs $tool (apt-get install sip-tester python3 curl)"; exit 2; }
done
if [ ! -x "$BIN" ]; then
    (cd "$REPO" && cargo build --release)
fi
# Idle connections take a descriptor each, in the server and in idle_tcp.py.
ulimit -n "$(ulimit -Hn)"

if [ "$MODE" = linear ]; then
    SOURCES=${2:-3}
    mkdir -p "$OUT"
    echo "results in $OUT"
    for size in ${SIZES:-100000:3 300000:9 1000000:30}; do
        n=${size%:*}; s=${size#*:}
        OUT="$OUT/invite-$n" "$0" invite "$n" "$s" "$SOURCES"
    done
    echo
    echo "== linear: the server's CPU per INVITE at each size, the same rate"
    python3 - "$OUT" <<'EOF' | tee "$OUT/linear.txt"
import json, pathlib, sys
rows = sorted((json.load(open(p)) for p in pathlib.Path(sys.argv[1]).glob("invite-*/summary.json")),
              key=lambda r: r["flood"]["sent"])
print("| INVITEs sent | seconds | achieved /s | kernel drops | server CPU-s | µs / INVITE sent | µs / INVITE received | RSS peak MB | register after end | call answered after end | SIGTERM exit |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
for r in rows:
    f, c, m, p, t = r["flood"], r["cpu"], r["rss_mb"], r["phone"], r["sigterm"]
    print(f"| {f['sent']:,} | {f['seconds']:.2f} | {f['per_second']:,.0f} | {r['kernel_drops']:,} | {c['flood_cpu_s']:.2f} | "
          f"{c['us_per_invite_sent']:.2f} | {c['us_per_invite_received']:.2f} | {m['peak']:.1f} | "
          f"{p['register_s']} s | {p['call_answered_s']} s | {t['exit_s']} s, {t['status']} |")
EOF
    exit 0
fi

mkdir -p "$OUT/plan"
echo "results in $OUT"
cp "$BENCH/plan/bench.dial" "$BENCH/plan/office.dial" "$OUT/plan/"
echo "$PASSWORD" | "$BIN" user set-password 101 --data-dir "$OUT/data" >/dev/null

PIDS=()
cleanup() {
    touch "$OUT/stop-flood" 2>/dev/null || true
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    if [ -n "${SERVER:-}" ]; then kill -TERM "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
}
trap cleanup EXIT

EXTRA=()
[ -n "${MESSAGES_PER_SOURCE:-}" ] && EXTRA+=(--sip-messages-per-source "$MESSAGES_PER_SOURCE")
"$BIN" run --sip-addr "127.0.0.1:$SIP_PORT" --http-addr "127.0.0.1:$HTTP_PORT" \
    --rtp-ports "$RTP_PORTS" --data-dir "$OUT/data" --dialplans "$OUT/plan" \
    --prompts "$REPO/prompts" "${EXTRA[@]}" >"$OUT/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 100); do
    [ "$(curl -s "http://127.0.0.1:$HTTP_PORT/healthz" || true)" = ok ] && break
    kill -0 $SERVER 2>/dev/null || { cat "$OUT/server.log"; exit 1; }
    sleep 0.1
done
echo "$BIN run --sip-addr 127.0.0.1:$SIP_PORT ${EXTRA[*]} (pid $SERVER)" >"$OUT/server-command"

now() { date +%s.%N; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
fds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
# Datagrams the kernel dropped because the server's SIP socket's buffer was full.
udp_drops() {
    awk -v port="$(printf '%04X' "$SIP_PORT")" \
        'NR > 1 { split($2, a, ":"); if (a[2] == port) d += $NF } END { print d + 0 }' /proc/net/udp
}
# TCP connections to the SIP port the kernel holds on the server's side (accepted or
# waiting in the accept queue).
server_tcp() { ss -tn state established "( sport = :$SIP_PORT )" 2>/dev/null | tail -n +2 | wc -l; }
# The kernel's counters of connections the accept queue had no room for.
listen_overflows() { awk '/^TcpExt:/ { if (!h) { split($0, k); h = 1 } else { for (i = 2; i <= NF; i++) if (k[i] == "ListenOverflows" || k[i] == "SyncookiesSent") printf "%s=%s ", k[i], $i } }' /proc/net/netstat; }
# Every 0.5 s: time, RSS (kB), descriptors, CPU ticks, server-side TCP connections (tcp).
start_sampler() {
    (
        while kill -0 "$SERVER" 2>/dev/null; do
            echo "$(now) $(rss_kb "$SERVER") $(fds "$SERVER") $(cpu_ticks "$SERVER")${SAMPLE_TCP:+ $(server_tcp)}"
            sleep 0.5
        done
    ) >"$OUT/samples.txt" 2>/dev/null &
    SAMPLER=$!
    PIDS+=($SAMPLER)
}
sleep_until() { local d; d=$(python3 -c "import sys,time; print(max(0.0, float(sys.argv[1]) - time.time()))" "$1"); sleep "$d"; }

# The legitimate phone, from 127.0.0.1: REGISTER (register.xml), then a call to 7000
# (invite.xml: 407, the INVITE again with credentials, 200, ACK, BYE). Route 7000 of
# bench/plan answers at once. Writes "<registered unix> <answered unix> <register rc>
# <call rc>" to $OUT/phone-$1.txt; the times are the 200 OKs' arrival in sipp's
# message trace (-trace_msg).
phone() {
    local tag=$1 dir="$OUT/phone-$1" rc1 rc2
    mkdir -p "$dir"
    set +e
    (cd "$dir" && sipp "127.0.0.1:$SIP_PORT" -sf "$REPO/runtime/tests/sipp/register.xml" -s 101 \
        -au 101 -ap "$PASSWORD" -m 1 -i 127.0.0.1 -p "$SIPP_PORT" -nostdin -timeout 20s \
        -timeout_error -trace_err -trace_msg -message_file register-msg.log >register.out 2>&1)
    rc1=$?
    local t_reg; t_reg=$(now)
    (cd "$dir" && sipp "127.0.0.1:$SIP_PORT" -sf "$REPO/runtime/tests/sipp/invite.xml" -s 7000 \
        -au 101 -ap "$PASSWORD" -m 1 -i 127.0.0.1 -p "$SIPP_PORT" -mp "$SIPP_MEDIA_PORT" -nostdin \
        -timeout 20s -timeout_error -trace_err -trace_msg -message_file invite-msg.log >invite.out 2>&1)
    rc2=$?
    local t_call; t_call=$(now)
    set -e
    python3 - "$dir" "$t_reg" "$t_call" "$rc1" "$rc2" >"$OUT/phone-$tag.txt" <<'EOF'
import datetime, re, sys
d, t_reg, t_call, rc1, rc2 = sys.argv[1:]
def ok_time(file, cseq):
    # sipp's trace: "----- <local date> <time>", then "UDP message received ...", the message.
    try:
        text = open(f"{d}/{file}", errors="replace").read()
    except OSError:
        return None
    first = None
    for block in text.split("----------------------------------------------- ")[1:]:
        head, _, body = block.partition("\n")
        t = datetime.datetime.strptime(head.strip(), "%Y-%m-%d %H:%M:%S.%f").timestamp()
        first = first or t
        if "message received" in body.split("\n", 1)[0] and re.search(r"^SIP/2.0 200", body, re.M) \
                and re.search(rf"^CSeq:\s*\d+ {cseq}", body, re.M | re.I):
            return t, t - first
    return None, None
reg, reg_in_sipp = ok_time("register-msg.log", "REGISTER")
ans, ans_in_sipp = ok_time("invite-msg.log", "INVITE")
# Registered and answered (Unix), sipp's rc for each, when each sipp exited, and each
# 200 OK's time from sipp's first message of its scenario (sipp's start excluded).
print(reg or t_reg, ans or t_call, rc1, rc2, t_reg, t_call, reg_in_sipp or -1, ans_in_sipp or -1)
EOF
}

case "$MODE" in
invite)
    TOTAL=${2:-1000000}; SECONDS_=${3:-30}; SOURCES=${4:-3}
    PER_SOURCE_RATE=$(python3 -c "print($TOTAL / $SECONDS_ / $SOURCES)")
    rss0=$(rss_kb $SERVER); log0=$(wc -l <"$OUT/server.log")
    # The idle server's own CPU, to compare with the flood's.
    i0=$(cpu_ticks $SERVER); sleep 2; i1=$(cpu_ticks $SERVER)
    drops0=$(udp_drops)
    start_sampler
    FLOOD=(python3 "$BENCH/flood_invites.py" "$SIP_PORT" --total "$TOTAL" --seconds "$SECONDS_"
        --sources "$SOURCES" --json "$OUT/flood.json" --started "$OUT/flood-start")
    echo "${FLOOD[*]}" >"$OUT/flood-command"
    echo "running: ${FLOOD[*]}"
    "${FLOOD[@]}" >/dev/null &
    FLOODER=$!
    PIDS+=($FLOODER)
    while [ ! -s "$OUT/flood-start" ]; do sleep 0.01; done
    sleep_until "$(cat "$OUT/flood-start")"
    c0=$(cpu_ticks $SERVER); t0=$(now)
    wait $FLOODER
    c1=$(cpu_ticks $SERVER); t1=$(now)
    # The legitimate phone, at once.
    phone after-flood
    drops1=$(udp_drops)
    flood_end=$(python3 -c "import json; print(json.load(open('$OUT/flood.json'))['last_unix'])")
    sleep_until "$(python3 -c "print($flood_end + 5)")"
    rss5=$(rss_kb $SERVER); c5=$(cpu_ticks $SERVER)
    log1=$(wc -l <"$OUT/server.log")
    cp "$OUT/server.log" "$OUT/server-after-flood.log"
    kill $SAMPLER 2>/dev/null || true

    # A second flood at the same rate, and SIGTERM during it.
    rm -f "$OUT/stop-flood"
    python3 "$BENCH/flood_invites.py" "$SIP_PORT" --forever --per-second "$PER_SOURCE_RATE" \
        --sources "$SOURCES" --stop "$OUT/stop-flood" --start-delay 0.3 \
        --json "$OUT/flood2.json" --started "$OUT/flood2-start" >/dev/null &
    FLOODER=$!
    PIDS+=($FLOODER)
    while [ ! -s "$OUT/flood2-start" ]; do sleep 0.01; done
    sleep_until "$(python3 -c "print($(cat "$OUT/flood2-start") + ${TERM_AFTER:-3})")"
    kill -TERM $SERVER; t_term=$(now)
    t_exit=
    for _ in $(seq 3000); do   # 30 s
        state=$(awk '{print $3}' "/proc/$SERVER/stat" 2>/dev/null || echo gone)
        if [ "$state" = Z ] || [ "$state" = gone ]; then t_exit=$(now); break; fi
        sleep 0.01
    done
    if [ -z "$t_exit" ]; then
        echo "the server did not exit within 30 s of SIGTERM: killing it"
        kill -KILL $SERVER
    fi
    set +e; wait $SERVER; status=$?; set -e
    SERVER=
    touch "$OUT/stop-flood"
    wait $FLOODER || true

    python3 - "$OUT" "$HZ" "$rss0" "$rss5" "$i0" "$i1" "$c0" "$c1" "$c5" "$t0" "$t1" "$drops0" "$drops1" \
        "$log0" "$log1" "$t_term" "${t_exit:-}" "$status" <<'EOF'
import json, sys
out = sys.argv[1]
hz = float(sys.argv[2])
rss0, rss5, i0, i1, c0, c1, c5 = map(float, sys.argv[3:10])
t0, t1 = map(float, sys.argv[10:12])
drops0, drops1, log0, log1 = map(int, sys.argv[12:16])
t_term = float(sys.argv[16]); t_exit = float(sys.argv[17]) if sys.argv[17] else None; status = int(sys.argv[18])
flood = json.load(open(f"{out}/flood.json"))
flood2 = json.load(open(f"{out}/flood2.json"))
samples = [l.split() for l in open(f"{out}/samples.txt") if len(l.split()) == 4]
during = [float(s[1]) for s in samples if flood["first_unix"] - 0.5 <= float(s[0]) <= flood["last_unix"] + 0.5]
peak = max(during + [rss0])
reg, ans, rc_reg, rc_call, t_reg_exit, t_call_exit, reg_in, ans_in = open(f"{out}/phone-after-flood.txt").read().split()
end = flood["last_unix"]
sent = flood["sent"] - flood["failed_sends"]
drops = drops1 - drops0
cpu = (c1 - c0) / hz
log = open(f"{out}/server-after-flood.log", errors="replace").read()
s = {
    "flood": {k: flood[k] for k in ("sources", "sent", "failed_sends", "seconds", "per_second", "target_per_second")},
    "kernel_drops": drops,
    "cpu": {
        "idle_cpu_percent": (i1 - i0) / hz / 2 * 100,
        "flood_cpu_s": cpu,
        "flood_wall_s": t1 - t0,
        "flood_cpu_percent": cpu / (t1 - t0) * 100,
        "us_per_invite_sent": cpu / sent * 1e6,
        "us_per_invite_received": cpu / max(1, sent - drops) * 1e6,
        "end_to_5s_after_cpu_s": (c5 - c1) / hz,
    },
    "rss_mb": {"before": rss0 / 1024, "peak": peak / 1024, "five_s_after": rss5 / 1024, "samples": len(during)},
    "phone": {
        "register_rc": int(rc_reg), "call_rc": int(rc_call),
        "register_s": round(float(reg) - end, 3), "call_answered_s": round(float(ans) - end, 3),
        "register_sipp_exit_s": round(float(t_reg_exit) - end, 3), "call_sipp_exit_s": round(float(t_call_exit) - end, 3),
        "register_in_sipp_ms": round(float(reg_in) * 1000, 1), "call_answered_in_sipp_ms": round(float(ans_in) * 1000, 1),
    },
    "log": {"lines_before": log0, "lines_after": log1, "sip_flood_lines": log.count("SIP flood"),
            "at_bound_lines": log.count("bound of transactions")},
    "sigterm": {
        "second_flood_sent": flood2["sent"], "second_flood_per_second": flood2["per_second"],
        "exit_s": round(t_exit - t_term, 3) if t_exit else None, "status": status,
    },
}
json.dump(s, open(f"{out}/summary.json", "w"), indent=1)
f, c, m, p, l, t = s["flood"], s["cpu"], s["rss_mb"], s["phone"], s["log"], s["sigterm"]
print(f"== flood: {f['sent']:,} INVITEs from {f['sources']} addresses in {f['seconds']:.2f} s = {f['per_second']:,.0f}/s "
      f"(target {f['target_per_second']:,.0f}/s), {f['failed_sends']} failed sends; "
      f"{drops:,} dropped by the kernel (server socket buffer full)")
print(f"== server CPU: {c['flood_cpu_s']:.2f} CPU-s in {c['flood_wall_s']:.1f} s ({c['flood_cpu_percent']:.0f}% of one CPU; idle {c['idle_cpu_percent']:.1f}%) "
      f"= {c['us_per_invite_sent']:.2f} µs per INVITE sent, {c['us_per_invite_received']:.2f} µs per INVITE received")
print(f"== RSS: {m['before']:.1f} MB before, {m['peak']:.1f} MB peak ({m['samples']} samples), {m['five_s_after']:.1f} MB 5 s after the end")
print(f"== phone from 127.0.0.1 after the flood's last datagram: registered (200 OK) at +{p['register_s']} s (sipp rc {p['register_rc']}), "
      f"call answered at +{p['call_answered_s']} s (sipp rc {p['call_rc']}, done at +{p['call_sipp_exit_s']} s); "
      f"within sipp's scenarios: 200 to REGISTER {p['register_in_sipp_ms']} ms, to INVITE {p['call_answered_in_sipp_ms']} ms after each's first message")
print(f"== log: {l['lines_before']} lines before, {l['lines_after']} after; {l['sip_flood_lines']} 'SIP flood' lines, {l['at_bound_lines']} 'bound of transactions' lines")
print(f"== SIGTERM during a second flood ({t['second_flood_sent']:,} sent at {t['second_flood_per_second']:,.0f}/s): "
      f"exited after {t['exit_s']} s with status {t['status']}")
EOF
    ;;
tcp)
    CONNECTIONS=${2:-20000}; SOURCES=${3:-10}; HOLD=${HOLD:-15}
    echo "ulimit -n: $(ulimit -n) (hard $(ulimit -Hn))" | tee "$OUT/ulimit"
    rss0=$(rss_kb $SERVER); fds0=$(fds $SERVER); log0=$(wc -l <"$OUT/server.log")
    overflows0=$(listen_overflows)
    SAMPLE_TCP=1 start_sampler
    IDLE=(python3 "$BENCH/idle_tcp.py" "$SIP_PORT" --connections "$CONNECTIONS" --sources "$SOURCES"
        --per-second "${CONNECT_RATE:-2000}" --hold "$HOLD" --opened "$OUT/tcp-opened" --json "$OUT/tcp.json")
    echo "${IDLE[*]}" >"$OUT/idle-command"
    echo "running: ${IDLE[*]}"
    "${IDLE[@]}" >"$OUT/idle.out" 2>&1 &
    IDLER=$!
    PIDS+=($IDLER)
    t_start=$(now)
    while [ ! -s "$OUT/tcp-opened" ]; do sleep 0.05; kill -0 $IDLER 2>/dev/null || break; done
    fds_open=$(fds $SERVER)
    # Meanwhile: HTTP and a phone over UDP, twice — right after every connection was
    # made, and after the server's 10 s deadline for silent connections.
    for round in 1 2; do
        [ $round = 2 ] && sleep_until "$(python3 -c "print($(cat "$OUT/tcp-opened") + 11)")"
        echo "round $round at $(now)" >>"$OUT/checks.txt"
        curl -s -o "$OUT/healthz-$round.txt" -w "healthz http=%{http_code} %{time_total}s\n" \
            "http://127.0.0.1:$HTTP_PORT/healthz" >>"$OUT/checks.txt" || echo "healthz failed" >>"$OUT/checks.txt"
        curl -s -o "$OUT/calls-$round.json" -w "api/calls http=%{http_code} %{time_total}s\n" \
            "http://127.0.0.1:$HTTP_PORT/api/calls" >>"$OUT/checks.txt" || echo "api/calls failed" >>"$OUT/checks.txt"
        t_phone=$(now)
        phone "tcp-$round"
        echo "$t_phone $(cat "$OUT/phone-tcp-$round.txt")" >"$OUT/phone-tcp-$round.start"
    done
    wait $IDLER || true
    sleep 1
    rss1=$(rss_kb $SERVER); fds1=$(fds $SERVER); log1=$(wc -l <"$OUT/server.log")
    overflows1=$(listen_overflows)
    echo "before: $overflows0" >"$OUT/listen-overflows.txt"; echo "after:  $overflows1" >>"$OUT/listen-overflows.txt"
    kill $SAMPLER 2>/dev/null || true
    kill -TERM $SERVER; t_term=$(now)
    for _ in $(seq 3000); do
        state=$(awk '{print $3}' "/proc/$SERVER/stat" 2>/dev/null || echo gone)
        if [ "$state" = Z ] || [ "$state" = gone ]; then break; fi
        sleep 0.01
    done
    t_exit=$(now)
    set +e; wait $SERVER; status=$?; set -e
    SERVER=
    python3 - "$OUT" "$rss0" "$rss1" "$fds0" "$fds_open" "$fds1" "$log0" "$log1" "$t_term" "$t_exit" "$status" <<'EOF'
import json, sys
out = sys.argv[1]
rss0, rss1, fds0, fds_open, fds1, log0, log1 = map(int, sys.argv[2:9])
t_term, t_exit, status = float(sys.argv[9]), float(sys.argv[10]), int(sys.argv[11])
tcp = json.load(open(f"{out}/tcp.json"))
samples = [l.split() for l in open(f"{out}/samples.txt") if len(l.split()) == 5]
rss_peak = max([int(s[1]) for s in samples] + [rss0])
fds_peak = max([int(s[2]) for s in samples] + [fds_open])
tcp_peak = max([int(s[4]) for s in samples] + [0])
ov = {}
for line in open(f"{out}/listen-overflows.txt"):
    when, _, rest = line.partition(":")
    for kv in rest.split():
        k, v = kv.split("=")
        ov[k] = ov.get(k, 0) + (int(v) if when == "after" else -int(v))
checks = open(f"{out}/checks.txt").read()
phones = []
for r in (1, 2):
    t, reg, ans, rc1, rc2, _, _, reg_in, ans_in = open(f"{out}/phone-tcp-{r}.start").read().split()
    phones.append({"round": r, "register_rc": int(rc1), "call_rc": int(rc2),
                   "register_s": round(float(reg) - float(t), 3), "call_answered_s": round(float(ans) - float(t), 3),
                   "register_in_sipp_ms": round(float(reg_in) * 1000, 1), "call_answered_in_sipp_ms": round(float(ans_in) * 1000, 1)})
log = open(f"{out}/server.log", errors="replace").read()
s = {
    "connections": {k: tcp[k] for k in ("tried", "established", "connect_failed", "connect_errors", "still_connecting",
                                        "closed_at_once", "closed_later", "closed_later_lifetime_min_s",
                                        "closed_later_lifetime_max_s", "open_at_end", "max_open")},
    "server": {"rss_mb_before": rss0 / 1024, "rss_mb_peak": rss_peak / 1024, "rss_mb_after": rss1 / 1024,
               "fds_before": fds0, "fds_when_all_connected": fds_open, "fds_peak": fds_peak, "fds_after": fds1,
               "kernel_server_side_connections_peak": tcp_peak, "kernel_listen_overflows": ov.get("ListenOverflows"),
               "kernel_syncookies_sent": ov.get("SyncookiesSent")},
    "checks": checks, "phones": phones,
    "log": {"lines_before": log0, "lines_after": log1, "closed_new_connection_lines": log.count("closed a new connection"),
            "cannot_accept_lines": log.count("cannot accept")},
    "sigterm": {"exit_s": round(t_exit - t_term, 3), "status": status},
}
json.dump(s, open(f"{out}/summary.json", "w"), indent=1)
c, v = s["connections"], s["server"]
print(f"== connections: {c['tried']:,} tried, {c['established']:,} established, {c['connect_failed']:,} failed to connect {c['connect_errors']}, "
      f"{c['still_connecting']} still connecting")
print(f"   closed by the server at once (<1 s): {c['closed_at_once']:,}; closed later: {c['closed_later']:,} "
      f"(after {c['closed_later_lifetime_min_s'] and round(c['closed_later_lifetime_min_s'], 2)}–{c['closed_later_lifetime_max_s'] and round(c['closed_later_lifetime_max_s'], 2)} s); "
      f"open at the end: {c['open_at_end']:,}; most open at once (client side): {c['max_open']:,}")
print(f"== server: RSS {v['rss_mb_before']:.1f} MB before, {v['rss_mb_peak']:.1f} MB peak, {v['rss_mb_after']:.1f} MB after; "
      f"descriptors {v['fds_before']} before, {v['fds_when_all_connected']} when all were connected, {v['fds_peak']} peak, {v['fds_after']} after")
print(f"== kernel: at most {v['kernel_server_side_connections_peak']:,} connections established on the server's side at once (accepted or queued); "
      f"accept queue overflowed {v['kernel_listen_overflows']:,} times, {v['kernel_syncookies_sent']:,} SYN cookies sent "
      f"(a client connection that overflowed is open only on the client's side)")
print("== checks during the connections:")
print("   " + checks.strip().replace("\n", "\n   "))
for p in phones:
    print(f"   phone round {p['round']}: registered in {p['register_s']} s (rc {p['register_rc']}; {p['register_in_sipp_ms']} ms in sipp's scenario), "
          f"call answered in {p['call_answered_s']} s (rc {p['call_rc']}; {p['call_answered_in_sipp_ms']} ms in sipp's scenario)")
l = s["log"]
print(f"== log: {l['lines_before']} lines before, {l['lines_after']} after; {l['closed_new_connection_lines']} 'closed a new connection' lines, "
      f"{l['cannot_accept_lines']} 'cannot accept' lines")
print(f"== SIGTERM after: exited in {s['sigterm']['exit_s']} s with status {s['sigterm']['status']}")
EOF
    ;;
*) echo "unknown mode $MODE"; exit 2 ;;
esac
exit 0
