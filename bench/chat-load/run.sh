#!/usr/bin/env bash
# Inbound chat load (issue 11): RATE signed WhatsApp Cloud API webhooks a second for
# SECONDS against a real `switchboard run` (release build, loopback), each from a new
# customer, routed by the plan to queue 800 and offered to its AGENTS agents, whose
# `/api/chat/events` streams are open. Prints the rate sustained, the webhooks' response
# times and p50/p99 from each webhook being sent to its event on the agents' streams.
#
#   bench/chat-load/run.sh [RATE] [SECONDS]        default 2000 webhooks/s for 10 s
#
# Environment: SWITCHBOARD (the server binary; default target/release/switchboard, built
# if missing), OUT (default /tmp/switchboard-bench/chat-<time>), AGENTS (4),
# CONNECTIONS (24 keep-alive connections for the webhooks; the server takes 32 per
# address), HTTP_PORT (8090), SIP_PORT (5060), RTP_PORTS (20000-29999), PERF=1 to record
# `perf record -g` of the server during the load into $OUT/perf.data.
set -euo pipefail

RATE=${1:-2000}
SECONDS_=${2:-10}
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BIN=${SWITCHBOARD:-$REPO/target/release/switchboard}
AGENTS=${AGENTS:-4}
CONNECTIONS=${CONNECTIONS:-24}
HTTP_PORT=${HTTP_PORT:-8090}
SIP_PORT=${SIP_PORT:-5060}
RTP_PORTS=${RTP_PORTS:-20000-29999}
OUT=${OUT:-/tmp/switchboard-bench/chat-$(date +%Y%m%d-%H%M%S)}
PASSWORD=copper-lantern-meadow
SECRET=bench-app-secret

if [[ ! -x $BIN ]]; then
    (cd "$REPO" && cargo build --release -p switchboard)
fi
# The load tool is a crate of its own, built into its own folder of the target.
cargo build --release --quiet --manifest-path "$HERE/Cargo.toml" --target-dir "$REPO/target/chat-load"
LOAD="$REPO/target/chat-load/release/chat-load"

mkdir -p "$OUT/plan" "$OUT/data" "$OUT/prompts/en"
agents=$(seq -s, 101 $((100 + AGENTS)))
{
    for ext in $(seq 101 $((100 + AGENTS))); do echo "extension $ext \"Agent $ext\""; done
    echo "queue 800 \"Sales\" {"
    echo "    agents ${agents//,/, }"
    echo "}"
    echo "chat whatsapp -> queue 800 poll all"
} >"$OUT/plan/office.dial"
cat >"$OUT/config.yaml" <<YAML
http-addr: 127.0.0.1:$HTTP_PORT
sip-addr: 127.0.0.1:$SIP_PORT
rtp-ports: $RTP_PORTS
data-dir: data
dialplans: plan
prompts: prompts
chat:
  whatsapp:
    verify-token: bench-verify-token
    app-secret: $SECRET
    access-token: bench-access-token
    phone-number-id: "106540352242922"
    api-url: http://127.0.0.1:9/v21.0
YAML
for ext in $(seq 101 $((100 + AGENTS))); do
    echo "$PASSWORD" | "$BIN" user set-password --web "$ext" --config "$OUT/config.yaml" >/dev/null
done

"$BIN" run --config "$OUT/config.yaml" >"$OUT/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$HTTP_PORT/healthz" >/dev/null && break
    sleep 0.1
done
if [[ ${PERF:-0} == 1 ]]; then
    perf record -g -o "$OUT/perf.data" -p "$SERVER" -- sleep $((SECONDS_ + 3)) 2>"$OUT/perf.log" &
    PERF_PID=$!
fi
cpu() { # the server's CPU seconds (user + system), and its store thread's
    local tick; tick=$(getconf CLK_TCK)
    awk -v t="$tick" '{printf "%.2f", ($14 + $15) / t}' "/proc/$SERVER/stat"
    for task in /proc/$SERVER/task/*; do
        if [[ $(cat "$task/comm") == switchboard-sto* ]]; then
            awk -v t="$tick" '{printf " %.2f", ($14 + $15) / t}' "$task/stat"
        fi
    done
}
read -r CPU_BEFORE STORE_BEFORE <<<"$(cpu)"
START_NS=$(date +%s%N)
echo "command: $LOAD --server 127.0.0.1:$HTTP_PORT --rate $RATE --seconds $SECONDS_ --connections $CONNECTIONS --agents $agents --password … --secret …"
"$LOAD" --server "127.0.0.1:$HTTP_PORT" --rate "$RATE" --seconds "$SECONDS_" \
    --connections "$CONNECTIONS" --agents "$agents" --password "$PASSWORD" --secret "$SECRET" \
    | tee "$OUT/summary.txt"
read -r CPU_AFTER STORE_AFTER <<<"$(cpu)"
WALL=$(python3 -c "print(($(date +%s%N) - $START_NS) / 1e9)")
python3 - "$CPU_BEFORE" "$CPU_AFTER" "${STORE_BEFORE:-0}" "${STORE_AFTER:-0}" "$WALL" <<'PY' | tee -a "$OUT/summary.txt"
import sys
cb, ca, sb, sa, wall = map(float, sys.argv[1:])
print(f"server CPU:        {ca - cb:.2f} s in {wall:.1f} s ({(ca - cb) / wall * 100:.0f}% of one core); "
      f"store thread {sa - sb:.2f} s ({(sa - sb) / wall * 100:.0f}%)")
PY
echo "load average:      $(cut -d' ' -f1-3 /proc/loadavg) (2 cores; other work on the machine shows here)" | tee -a "$OUT/summary.txt"
if [[ -n ${PERF_PID:-} ]]; then wait "$PERF_PID" || true; fi
stored=$(python3 - "$OUT/data/switchboard.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print(db.execute("SELECT COUNT(*) FROM chat_messages WHERE direction = 'in'").fetchone()[0])
PY
)
echo "messages in SQLite: $stored" | tee -a "$OUT/summary.txt"
echo "server log, data and summary in $OUT"
