#!/usr/bin/env bash
# Relayed media (issue 9): CALLS concurrent bridged calls, 101 -> 102, each relaying
# 20 ms G.711 both ways for SECONDS, with every packet counted and timed. See
# bench/README.md ("Relayed media") and docs/performance.md.
#
#   bench/relay.sh [CALLS] [SECONDS]        default 1000 calls, 60 s of RTP
#
# sipp sets the calls up: one sipp registers as 102 and answers (sipp/relay_callee.xml),
# another calls 102 as 101 at RATE calls/s (sipp/relay_caller.xml) and holds each call
# until the RTP is over. Both log each call's server media port. bench/relay-load then
# plays both phones of every call (one socket per side, the port each SDP named) and
# reports loss, latency, jitter and the server's CPU per relayed call.
#
# Environment: SWITCHBOARD (the server binary; default target/release/switchboard, built
# if missing), OUT (default /tmp/switchboard-bench/relay-<time>), RATE (call setup, 200),
# SERVER_CPUS (0) and LOAD_CPUS (1): taskset CPU lists for the server and for the load
# tool and sipps (empty: no pinning), SEND_BATCH (1: one sendto a packet, timed right
# before it; more: sendmmsg of that many), TICK_US (200: the load tool sends what is due
# every TICK_US and reads what came meanwhile), SIP_PORT (5060), HTTP_PORT (8090), RTP_PORTS
# (20000-29999), SIPP_PORT (15070), CALLER_PHONES (31000) and CALLEE_PHONES (31002): the
# load tool's two sockets, NICE=-10 to run the server at that nice level, CHRT=10 to run
# it under the real-time round-robin policy at that priority (chrt -r), LOAD_CHRT=10 the
# same for the load tool, PERF_STAT=1 to count the server's syscalls per packet, PERF=1
# to record `perf record -g` of the server during the RTP.
set -euo pipefail

CALLS=${1:-1000}
RTP_SECONDS=${2:-60}
BENCH=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$BENCH/.." && pwd)
BIN=${SWITCHBOARD:-$REPO/target/release/switchboard}
RATE=${RATE:-200}
SERVER_CPUS=${SERVER_CPUS-0}
LOAD_CPUS=${LOAD_CPUS-1}
SEND_BATCH=${SEND_BATCH:-1}
SIP_PORT=${SIP_PORT:-5060}
HTTP_PORT=${HTTP_PORT:-8090}
RTP_PORTS=${RTP_PORTS:-20000-29999}
SIPP_PORT=${SIPP_PORT:-15070}
CALLER_PHONES=${CALLER_PHONES:-31000}
CALLEE_PHONES=${CALLEE_PHONES:-31002}
OUT=${OUT:-/tmp/switchboard-bench/relay-$(date +%Y%m%d-%H%M%S)}
# 101's and 102's SIP password on the bench's own loopback server (a passphrase the
# password policy accepts).
PASSWORD=amber-kettle-harbour

for tool in sipp python3 curl cargo; do
    command -v $tool >/dev/null || { echo "needs $tool"; exit 2; }
done
if [ ! -x "$BIN" ]; then
    (cd "$REPO" && cargo build --release)
fi
# The load tool is a crate of its own (bench/relay-load), built into its own folder
# under target/ so it neither waits for nor invalidates the workspace's builds.
cargo build --release --quiet --manifest-path "$BENCH/relay-load/Cargo.toml" \
    --target-dir "$REPO/target/relay-load"
LOAD="$REPO/target/relay-load/release/relay-load"
# taskset prefixes (empty: run anywhere); taskset execs the command, so $! is its pid.
SERVER_PIN=(); LOAD_PIN=()
[ -n "$SERVER_CPUS" ] && SERVER_PIN=(taskset -c "$SERVER_CPUS")
[ -n "$LOAD_CPUS" ] && LOAD_PIN=(taskset -c "$LOAD_CPUS")
# LOAD_CHRT=10: the load tool under SCHED_RR too, so that other work on its CPU does not
# delay its sends (and the loopback delivery into the server that runs inside them).
LOAD_RT=()
[ -n "${LOAD_CHRT:-}" ] && LOAD_RT=(chrt -r "$LOAD_CHRT")
# Two sockets a call on the server, plus SIP, plus sipp's.
ulimit -n "$(ulimit -Hn)"

mkdir -p "$OUT/plan" "$OUT/caller" "$OUT/callee"
echo "results in $OUT"
cp "$BENCH/plan/office.dial" "$BENCH/plan/bench.dial" "$BENCH/plan/bridge.dial" "$OUT/plan/"
for ext in 101 102; do
    echo "$PASSWORD" | "$BIN" user set-password $ext --data-dir "$OUT/data" --dialplans "$OUT/plan" >/dev/null
done

PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    if [ -n "${SERVER:-}" ]; then kill -TERM "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
}
trap cleanup EXIT

# Another server left on these ports would answer in this one's place.
if [ -n "$(ss -Hlntu "( sport = :$SIP_PORT or sport = :$HTTP_PORT )")" ]; then
    echo "port $SIP_PORT or $HTTP_PORT is taken: set SIP_PORT and HTTP_PORT"; exit 2
fi
${NICE:+nice -n "$NICE"} ${CHRT:+chrt -r "$CHRT"} "${SERVER_PIN[@]}" "$BIN" run --sip-addr "127.0.0.1:$SIP_PORT" --http-addr "127.0.0.1:$HTTP_PORT" \
    --rtp-ports "$RTP_PORTS" --data-dir "$OUT/data" --dialplans "$OUT/plan" \
    --prompts "$REPO/prompts" --sip-messages-per-source "${MESSAGES_PER_SOURCE:-1000000}" \
    >"$OUT/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 100); do
    [ "$(curl -s "http://127.0.0.1:$HTTP_PORT/healthz" || true)" = ok ] && break
    kill -0 $SERVER 2>/dev/null || { cat "$OUT/server.log"; exit 1; }
    sleep 0.1
done

# The calls last from their setup through the RTP and a margin: RAMP + 15 + SECONDS.
RAMP=$(( (CALLS + RATE - 1) / RATE ))
HOLD_MS=$(( (RAMP + 15 + RTP_SECONDS) * 1000 ))
CALLEE_PORT=$((SIPP_PORT + 4))
(cd "$OUT/callee" && "${LOAD_PIN[@]}" sipp "127.0.0.1:$SIP_PORT" -sf "$BENCH/sipp/register_callee.xml" \
    -s 102 -au 102 -ap "$PASSWORD" -i 127.0.0.1 -p "$CALLEE_PORT" -m 1 -nostdin -timeout 10s \
    -timeout_error >register.log 2>&1) || { echo "102 did not register"; exit 1; }
CALLEE=(sipp -sf "$BENCH/sipp/relay_callee.xml" -i 127.0.0.1 -p "$CALLEE_PORT" -mp 18000
    -key phone_port "$CALLEE_PHONES" -trace_logs -log_file "$OUT/callee-legs.log"
    -trace_stat -trace_err -fd 1 -nostdin)
(cd "$OUT/callee" && exec "${LOAD_PIN[@]}" "${CALLEE[@]}" >stdout.log 2>&1) &
PIDS+=($!)
CALLER=(sipp "127.0.0.1:$SIP_PORT" -sf "$BENCH/sipp/relay_caller.xml" -s 102 -au 101 -ap "$PASSWORD"
    -i 127.0.0.1 -p "$SIPP_PORT" -mp 16000 -key phone_port "$CALLER_PHONES"
    -r "$RATE" -l "$CALLS" -m "$CALLS" -d "$HOLD_MS" -trace_logs -log_file "$OUT/caller-legs.log"
    -trace_screen -trace_err -trace_stat -fd 1 -trace_rtt -rtt_freq 1000 -nostdin)
echo "${CALLER[*]}" >"$OUT/sipp-command"
(cd "$OUT/caller" && exec "${LOAD_PIN[@]}" "${CALLER[@]}" >stdout.log 2>&1) &
CALLER_PID=$!
PIDS+=($CALLER_PID)

# Every call answered: each sipp has logged its line (after the ACK).
legs() { cat "$OUT/$1-legs.log" 2>/dev/null | grep -c "^$1 " || true; }
deadline=$(( $(date +%s) + RAMP + 30 ))
until [ "$(legs caller)" -ge "$CALLS" ] && [ "$(legs callee)" -ge "$CALLS" ]; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
        echo "only $(legs caller) callers and $(legs callee) callees up after $((RAMP + 30)) s"; exit 1
    fi
    sleep 0.2
done
live=$(curl -s "http://127.0.0.1:$HTTP_PORT/api/calls" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["live"]))')
echo "$CALLS calls up ($live live in /api/calls); relaying for $RTP_SECONDS s"
grep "^caller " "$OUT/caller-legs.log" >"$OUT/caller-ports.txt"
grep "^callee " "$OUT/callee-legs.log" >"$OUT/callee-ports.txt"

"${LOAD_PIN[@]}" python3 "$BENCH/cpu_sample.py" $SERVER "$OUT/cpu.jsonl" --interval 0.5 \
    --seconds $((RTP_SECONDS + 5)) &
SAMPLER=$!
PIDS+=($SAMPLER)
if [ "${PERF:-0}" = 1 ]; then
    "${LOAD_PIN[@]}" perf record -F 999 -g -p $SERVER -o "$OUT/perf.data" >"$OUT/perf.log" 2>&1 &
    PERF_PID=$!
fi
if [ "${PERF_STAT:-0}" = 1 ]; then
    # The server's syscalls and context switches while it relays (tracepoints; cheap).
    events=context-switches,cpu-migrations
    for sc in recvfrom recvmsg recvmmsg sendto sendmsg sendmmsg epoll_wait; do
        events+=",syscalls:sys_enter_$sc"
    done
    "${LOAD_PIN[@]}" perf stat -e "$events" -p $SERVER -o "$OUT/perf-stat.txt" -- sleep "$RTP_SECONDS" &
    PERF_STAT_PID=$!
fi
cat /proc/loadavg >"$OUT/loadavg-before"
"${LOAD_RT[@]}" "${LOAD_PIN[@]}" "$LOAD" --caller-ports "$OUT/caller-ports.txt" --callee-ports "$OUT/callee-ports.txt" \
    --caller-bind "127.0.0.1:$CALLER_PHONES" --callee-bind "127.0.0.1:$CALLEE_PHONES" \
    --seconds "$RTP_SECONDS" --server-pid $SERVER --send-batch "$SEND_BATCH" --tick-us "${TICK_US:-200}" \
    --json "$OUT/relay.json" | tee "$OUT/relay.txt"
cat /proc/loadavg >"$OUT/loadavg-after"
[ -n "${PERF_PID:-}" ] && { kill -INT $PERF_PID; wait $PERF_PID || true; }
if [ -n "${PERF_STAT_PID:-}" ]; then
    wait $PERF_STAT_PID || true
    echo "== the server's syscalls per relayed packet (perf stat, $RTP_SECONDS s)"
    python3 - "$OUT/perf-stat.txt" "$OUT/relay.json" "$RTP_SECONDS" <<'PY'
import json, re, sys
relay = json.load(open(sys.argv[2]))
seconds = float(sys.argv[3])
# Packets relayed while perf counted: the steady rate times its span.
packets = (relay["caller_to_callee"]["received"] + relay["callee_to_caller"]["received"]) / relay["seconds"] * seconds
for line in open(sys.argv[1]):
    m = re.match(r"\s*([\d,]+)\s+(\S+)", line)
    if m and not line.strip().startswith("#"):
        n = int(m.group(1).replace(",", ""))
        print(f"{m.group(2):40} {n:>12,}  {n / packets:.3f} per packet")
PY
fi
kill $SAMPLER 2>/dev/null || true

echo "== the calls' end (sipp's BYE after the hold)"
CALLER_RC=0; wait $CALLER_PID || CALLER_RC=$?
echo "sipp (caller) exit $CALLER_RC"
python3 "$BENCH/sipp_summary.py" "$OUT/caller" --json "$OUT/sipp-summary.json" >"$OUT/sipp-summary.txt"
python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print("sipp: %d calls, %d successful, %d failed %s" % (s["calls_created"], s["successful"], s["failed"], s["failed_reasons"]))' "$OUT/sipp-summary.json"
left=""
for _ in $(seq 50); do
    left=$(curl -s "http://127.0.0.1:$HTTP_PORT/api/calls" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["live"]))')
    [ "$left" = 0 ] && break
    sleep 0.2
done
echo "live calls on the server after the BYEs: $left"
echo "== CPU (cpu_sample.py, the RTP's whole span)"
python3 "$BENCH/cpu_sample.py" --summary "$OUT/cpu.jsonl"
echo "load average before: $(cat "$OUT/loadavg-before"); after: $(cat "$OUT/loadavg-after")"
