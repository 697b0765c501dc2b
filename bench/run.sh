#!/usr/bin/env bash
# The server under load: `switchboard run` on loopback driven by sipp on the same machine.
# See bench/README.md. Each run starts its own server on a fresh data folder, prints a
# summary and leaves every file (sipp's statistics and errors, the server's log, the CPU
# samples, the RTP capture) in $OUT.
#
#   bench/run.sh calls  [RATE] [CALLS]        target 1: INVITE -> answer -> 1 s prompt -> BYE
#   bench/run.sh rtp    [CONCURRENT] [CALLS]  target 2: N concurrent prompts, one RFC 4733 key
#                                             each; RTP pacing from a tcpdump capture
#   bench/run.sh reload [RATE] [CALLS]        target 3: target 1's calls while a 10k-extension
#                                             plan is changed and reloaded every second
#   bench/run.sh bridge [RATE] [CALLS]       issue 9: 101 calls 102 (a registered sipp
#                                             answering), connected through the bridge,
#                                             1 s, BYE
#   bench/run.sh voicemail [RATE] [CONCURRENT] [SECONDS]
#                                             RATE messages a second for SECONDS while
#                                             CONCURRENT other calls play prompts; every
#                                             message counted after, their RTP pacing
#
# Environment: SWITCHBOARD (the binary; default target/release/switchboard, built if
# missing), OUT (default /tmp/switchboard-bench/<mode>-<time>), SIP_PORT (5060),
# HTTP_PORT (8090), RTP_PORTS (20000-29999), SIPP_PORT (15070), SIPP_MEDIA_PORT (16000),
# RUST_LOG (unset: the server's default, as an admin would run it), CAPTURE=1 to capture
# RTP in `calls` and `reload` too, MESSAGES_PER_SOURCE (default 1000000: the bench's one
# sipp address stands for a whole office, far over the server's 100 a second for one
# address), PERF=1 to record a perf profile of the server
# (perf record -g), NICE=-10 to run the server at that nice level, CHRT=10 to run it
# under the real-time round-robin policy at that priority (chrt -r).
set -euo pipefail

MODE=${1:?usage: bench/run.sh calls|rtp|reload|bridge|voicemail [RATE|CONCURRENT] [CALLS]}
BENCH=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$BENCH/.." && pwd)
BIN=${SWITCHBOARD:-$REPO/target/release/switchboard}
SIP_PORT=${SIP_PORT:-5060}
HTTP_PORT=${HTTP_PORT:-8090}
RTP_PORTS=${RTP_PORTS:-20000-29999}
SIPP_PORT=${SIPP_PORT:-15070}
SIPP_MEDIA_PORT=${SIPP_MEDIA_PORT:-16000}
OUT=${OUT:-/tmp/switchboard-bench/$MODE-$(date +%Y%m%d-%H%M%S)}
# Extension 101's SIP password on the bench's own loopback server; `set-password`
# refuses one its password policy would not accept, so it is a passphrase.
PASSWORD=amber-kettle-harbour

for tool in sipp python3 curl; do
    command -v $tool >/dev/null || { echo "needs $tool (apt-get install sip-tester python3 curl)"; exit 2; }
done
if [ ! -x "$BIN" ]; then
    (cd "$REPO" && cargo build --release)
fi
# Many calls: one RTP socket each, plus SIP, plus sipp's.
ulimit -n "$(ulimit -Hn)"

mkdir -p "$OUT/plan" "$OUT/sipp"
echo "results in $OUT"
cp "$BENCH/plan/bench.dial" "$OUT/plan/"
if [ "$MODE" = reload ]; then
    python3 "$BENCH/gen_office.py" 10000 "$OUT/plan/office.dial"
    # Its `email`s parse, but `run` refuses them until voicemail by email exists.
    sed -i 's/; email "[^"]*"//' "$OUT/plan/office.dial"
else
    cp "$BENCH/plan/office.dial" "$OUT/plan/"
fi
if [ "$MODE" = voicemail ]; then
    cp "$BENCH/plan/voicemail.dial" "$OUT/plan/"
fi
if [ "$MODE" = bridge ]; then
    cp "$BENCH/plan/bridge.dial" "$OUT/plan/"
fi
echo "$PASSWORD" | "$BIN" user set-password 101 --data-dir "$OUT/data" --dialplans "$OUT/plan" >/dev/null
if [ "$MODE" = bridge ]; then
    echo "$PASSWORD" | "$BIN" user set-password 102 --data-dir "$OUT/data" --dialplans "$OUT/plan" >/dev/null
fi

PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    if [ -n "${SERVER:-}" ]; then kill -TERM "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
}
trap cleanup EXIT

${NICE:+nice -n "$NICE"} ${CHRT:+chrt -r "$CHRT"} "$BIN" run --sip-addr "127.0.0.1:$SIP_PORT" --http-addr "127.0.0.1:$HTTP_PORT" \
    --rtp-ports "$RTP_PORTS" --data-dir "$OUT/data" --dialplans "$OUT/plan" \
    --prompts "$REPO/prompts" --sip-messages-per-source "${MESSAGES_PER_SOURCE:-1000000}" \
    >"$OUT/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 100); do
    [ "$(curl -s "http://127.0.0.1:$HTTP_PORT/healthz" || true)" = ok ] && break
    kill -0 $SERVER 2>/dev/null || { cat "$OUT/server.log"; exit 1; }
    sleep 0.1
done
curl -s "http://127.0.0.1:$HTTP_PORT/api/plan" >"$OUT/plan-before.json"

python3 "$BENCH/cpu_sample.py" $SERVER "$OUT/cpu.jsonl" --seconds 300 &
SAMPLER=$!
PIDS+=($SAMPLER)

capture=0
if [ "$MODE" = rtp ] || [ "$MODE" = voicemail ] || [ "${CAPTURE:-0}" = 1 ]; then
    command -v tcpdump >/dev/null || { echo "needs tcpdump (apt-get install tcpdump)"; exit 2; }
    capture=1
    lo=${RTP_PORTS%-*}; hi=${RTP_PORTS#*-}
    tcpdump -i lo -n -s 64 -B 65536 --time-stamp-precision=nano -w "$OUT/rtp.pcap" \
        "udp and src portrange $lo-$hi and dst port $SIPP_MEDIA_PORT" 2>"$OUT/tcpdump.log" &
    TCPDUMP=$!
    sleep 1
fi
if [ "${PERF:-0}" = 1 ]; then
    perf record -F 999 -g -p $SERVER -o "$OUT/perf.data" >"$OUT/perf.log" 2>&1 &
    PERF_PID=$!
fi

SIPP_BASE=(sipp "127.0.0.1:$SIP_PORT" -au 101 -ap "$PASSWORD" -i 127.0.0.1 -nostdin -trace_screen
    -trace_err -trace_stat -fd 1 -trace_rtt -rtt_freq 1000 -timeout 150s -timeout_error)
SIPP=("${SIPP_BASE[@]}" -p "$SIPP_PORT")
# The media port; the voicemail mode gives its messages another, which is not captured.
[ "$MODE" = voicemail ] || SIPP+=(-mp "$SIPP_MEDIA_PORT")
case "$MODE" in
    calls)
        RATE=${2:-300}; CALLS=${3:-$((RATE * 60))}
        SIPP+=(-sf "$BENCH/sipp/prompt_1s.xml" -s 7000 -r "$RATE" -m "$CALLS" -l $((RATE * 5)))
        ;;
    rtp)
        CONC=${2:-1000}; CALLS=${3:-$((CONC * 4))}
        # A call lasts about 9.2 s (8 s to the key, then a 1 s prompt): a rate a little
        # over CONC / 9.2 keeps sipp at its limit of CONC calls.
        RATE=$((CONC * 12 / 100))
        SIPP+=(-sf "$BENCH/sipp/key_check.xml" -inf "$BENCH/sipp/keys.csv" -r "$RATE" -l "$CONC" -m "$CALLS")
        ;;
    reload)
        RATE=${2:-200}; CALLS=${3:-$((RATE * 60))}
        SIPP+=(-sf "$BENCH/sipp/prompt_1s.xml" -s 7000 -r "$RATE" -m "$CALLS" -l $((RATE * 5)))
        # Every second, a real change to the plan: the prompt of route 7999 (part of the
        # 10k-extension plan's folder, so the whole plan is compiled again).
        (
            i=0
            while true; do
                sleep 1 &
                tick=$!
                printf '# Rewritten every second by bench/run.sh reload.\ndial "7999" -> play "digits/%d" then hangup\n' $((i % 10)) \
                    >"$OUT/plan/reload.dial.tmp"
                mv "$OUT/plan/reload.dial.tmp" "$OUT/plan/reload.dial"
                i=$((i + 1))
                v=$(curl -s "http://127.0.0.1:$HTTP_PORT/api/plan" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["version"], d["last_attempt"]["ok"])' 2>/dev/null || true)
                echo "$(date +%s.%N) wrote=$i version_ok=$v" >>"$OUT/reloads.log"
                wait $tick
            done
        ) &
        PIDS+=($!)
        ;;
    bridge)
        RATE=${2:-300}; CALLS=${3:-$((RATE * 30))}
        CALLEE_PORT=$((SIPP_PORT + 4))
        # 102 registers from the callee's port, then a sipp answering every call (its
        # built-in uas scenario: 180, 200 with an SDP, then the BYE) takes that port.
        mkdir -p "$OUT/callee"
        (cd "$OUT/callee" && sipp "127.0.0.1:$SIP_PORT" -sf "$BENCH/sipp/register_callee.xml" -s 102 \
            -au 102 -ap "$PASSWORD" -i 127.0.0.1 -p "$CALLEE_PORT" -m 1 -nostdin -timeout 10s \
            -timeout_error >register.log 2>&1) || { echo "102 did not register"; exit 1; }
        (cd "$OUT/callee" && sipp -sn uas -i 127.0.0.1 -p "$CALLEE_PORT" -mp "$((SIPP_MEDIA_PORT + 2000))" \
            -nostdin -trace_stat -fd 1 >uas.log 2>&1) &
        PIDS+=($!)
        sleep 0.5
        SIPP+=(-sf "$BENCH/sipp/bridged_call.xml" -s 102 -r "$RATE" -m "$CALLS" -l $((RATE * 5)))
        ;;
    voicemail)
        RATE=${2:-50}; CONC=${3:-500}; SECS=${4:-20}; CALLS=$((RATE * SECS))
        # The other calls: their own sipp, whose media port is the one captured. They
        # last 30.6 s; all CONC are up (at 100 calls/s) before the first message.
        mkdir -p "$OUT/sipp-prompts"
        PROMPTS=("${SIPP_BASE[@]}" -p "$((SIPP_PORT + 2))" -mp "$SIPP_MEDIA_PORT"
            -sf "$BENCH/sipp/prompt_long.xml" -s 7400 -r 100 -l "$CONC" -m "$CONC")
        echo "${PROMPTS[*]}" >"$OUT/sipp-prompts-command"
        echo "running: ${PROMPTS[*]}"
        (cd "$OUT/sipp-prompts" && "${PROMPTS[@]}" >stdout.log 2>&1; echo $? >rc) &
        PROMPTS_PID=$!
        live=0
        for _ in $(seq 240); do
            live=$(curl -s "http://127.0.0.1:$HTTP_PORT/api/calls" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["live"]))' 2>/dev/null || echo 0)
            [ "$live" -ge "$CONC" ] && break
            sleep 0.25
        done
        echo "$live calls playing prompts"
        SIPP+=(-mp "$((SIPP_MEDIA_PORT + 1000))" -sf "$BENCH/sipp/leave_message.xml" -s 7300
            -r "$RATE" -l $((RATE * 10)) -m "$CALLS")
        ;;
    *) echo "unknown mode $MODE"; exit 2 ;;
esac

cat /proc/loadavg >"$OUT/loadavg-before"
echo "${SIPP[*]}" >"$OUT/sipp-command"
echo "running: ${SIPP[*]}"
set +e
cpu_ticks() { awk '{print $14 + $15}' /proc/$SERVER/stat; }
cpu0=$(cpu_ticks); t0=$(date +%s.%N)
(cd "$OUT/sipp" && "${SIPP[@]}" >"$OUT/sipp/stdout.log" 2>&1)
SIPP_RC=$?
cpu1=$(cpu_ticks); t1=$(date +%s.%N)
if [ "$MODE" = voicemail ]; then
    wait "$PROMPTS_PID"
fi
set -e
kill $SAMPLER 2>/dev/null || true
cat /proc/loadavg >"$OUT/loadavg-after"

if [ "$MODE" = reload ]; then
    kill "${PIDS[-1]}" 2>/dev/null || true
    sleep 1.5
fi
curl -s "http://127.0.0.1:$HTTP_PORT/api/plan" >"$OUT/plan-after.json"
curl -s "http://127.0.0.1:$HTTP_PORT/api/calls" >"$OUT/calls-after.json"
[ -n "${PERF_PID:-}" ] && { kill -INT $PERF_PID; wait $PERF_PID || true; }
if [ $capture = 1 ]; then kill -INT $TCPDUMP; wait $TCPDUMP || true; fi
if [ "$MODE" = voicemail ]; then
    # Stop the server first, so every message it acknowledged is counted from the file.
    kill -TERM "$SERVER"; wait "$SERVER" || true; SERVER=
fi

echo "== sipp (exit $SIPP_RC)"
python3 "$BENCH/sipp_summary.py" "$OUT/sipp" --json "$OUT/sipp-summary.json"
echo "== CPU"
python3 -c '
import sys
c0, c1, t0, t1, hz = map(float, sys.argv[1:])
cpu, span = (c1 - c0) / hz, t1 - t0
print(f"server while sipp ran: {cpu:.2f} CPU-s in {span:.1f} s = {cpu / span * 100:.0f}% of one CPU")
' "$cpu0" "$cpu1" "$t0" "$t1" "$(getconf CLK_TCK)" | tee "$OUT/cpu-summary.txt"
python3 "$BENCH/cpu_sample.py" --summary "$OUT/cpu.jsonl" | tee -a "$OUT/cpu-summary.txt"
echo "load average before: $(cat "$OUT/loadavg-before"); after: $(cat "$OUT/loadavg-after")"
if [ $capture = 1 ]; then
    echo "== RTP ($(grep -h 'dropped by kernel' "$OUT/tcpdump.log"))"
    python3 "$BENCH/rtp_intervals.py" "$OUT/rtp.pcap" --json "$OUT/rtp.json" --series "$OUT/rtp-series.txt"
fi
if [ "$MODE" = voicemail ]; then
    echo "== the calls playing prompts (exit $(cat "$OUT/sipp-prompts/rc"))"
    python3 "$BENCH/sipp_summary.py" "$OUT/sipp-prompts" --json "$OUT/sipp-prompts-summary.json"
    echo "== RTP of the calls playing prompts while the messages were left ($t0 to $t1)"
    python3 "$BENCH/rtp_intervals.py" "$OUT/rtp.pcap" --from-unix "$t0" --to-unix "$t1" \
        --json "$OUT/rtp-during-messages.json"
    echo "== messages stored"
    python3 - "$OUT/data" "$CALLS" <<'EOF'
import pathlib, sqlite3, sys
data, sent = pathlib.Path(sys.argv[1]), int(sys.argv[2])
db = sqlite3.connect(data / "switchboard.db")
rows = [r for (r,) in db.execute("SELECT recording FROM messages WHERE mailbox = '102'")]
recordings = data / "recordings"
wavs = {p.stem for p in recordings.glob("*.wav")}
temporary = list(recordings.glob(".*.tmp"))
without_wav = [r for r in rows if r not in wavs]
without_row = sorted(wavs - set(rows))
print(f"{sent} messages left, {len(rows)} rows in messages, {len(wavs)} WAVs, "
      f"{len(without_wav)} rows without a WAV, {len(without_row)} WAVs without a row, "
      f"{len(temporary)} temporary files left")
EOF
fi
if [ "$MODE" = rtp ]; then
    echo "== keys in the last finished calls (GET /api/calls keeps 200)"
    python3 - "$OUT/calls-after.json" <<'EOF'
import json, sys
calls = json.load(open(sys.argv[1]))["recent"]
right = sum(1 for c in calls if c["digits"] == c["dialled"][-1])
print(f"{right} of {len(calls)} finished calls heard exactly the key they dialled for")
EOF
fi
if [ "$MODE" = reload ]; then
    echo "== reloads"
    python3 - "$OUT/plan-before.json" "$OUT/plan-after.json" "$OUT/server.log" <<'EOF'
import json, re, sys
before, after = (json.load(open(p)) for p in sys.argv[1:3])
log = open(sys.argv[3], errors="replace").read()
reloaded = len(re.findall(r"reloaded the plan", log))
refused = len(re.findall(r"refused|reload failed", log))
print(f"plan version {before['version']} -> {after['version']}; {reloaded} reloads logged, {refused} refused or failed; "
      f"last attempt ok={after['last_attempt']['ok']}; extensions={after['counts']['extensions']}")
EOF
fi
exit 0
