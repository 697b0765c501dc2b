#!/usr/bin/env bash
# How long `switchboard run` takes to listen when N phones' registrations were kept from
# the last run, against the same office and store with none kept (docs/performance.md,
# "Registrations kept across a restart").
#
# Usage: bench/kept-registrations/run.sh [EXTENSIONS] [STARTS]
#   EXTENSIONS  a multiple of 1000 (default 10000): the office's size, each extension
#               with a password and one phone registered over UDP for another hour
#   STARTS      starts timed each way (default 5); the median and the spread are printed
#
# Needs python3 (standard library only) and a release build (built when missing;
# SWITCHBOARD=path runs another binary). Everything stays in a temporary folder on
# loopback; nothing here is part of `cargo test`.
set -euo pipefail
EXTENSIONS="${1:-10000}"
STARTS="${2:-5}"
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${SWITCHBOARD:-$root/target/release/switchboard}"
if [ ! -x "$bin" ]; then
    (cd "$root" && cargo build --release --locked)
fi
work="$(mktemp -d /tmp/kept-registrations-XXXXXX)"
[ -n "${KEEP:-}" ] || trap 'rm -rf "$work"' EXIT
mkdir -p "$work/dialplans"
python3 "$root/bench/gen_office.py" "$EXTENSIONS" "$work/dialplans/office.dial"
# The compile benchmark's plan gives some extensions an `email`, which the language
# parses but `run` refuses until voicemail by email exists.
sed -i 's/; email "[^"]*"//' "$work/dialplans/office.dial"
cp -r "$root/prompts" "$work/prompts"
cd "$work"
# The store and its schema come from the binary itself; the rest of the office's
# passwords and their phones are written straight into it.
echo 'bench-only-passphrase-amber-kettle' | "$bin" user set-password 100000 > /dev/null
python3 "$here/fill_store.py" var/switchboard.db "$EXTENSIONS"

# One start: seconds from exec to the "listening" line, then SIGTERM and wait.
start_once() {
    local log="$work/server.log" t0 t1 pid
    : > "$log"
    t0=$(date +%s.%N)
    "$bin" run --sip-addr 127.0.0.1:0 --http-addr 127.0.0.1:0 --rtp-ports 40000-40999 \
        > "$log" 2>&1 &
    pid=$!
    until grep -q "Switchboard is listening" "$log"; do
        if ! kill -0 "$pid" 2>/dev/null; then cat "$log" >&2; exit 1; fi
        sleep 0.005
    done
    t1=$(date +%s.%N)
    kill -TERM "$pid"
    wait "$pid" || true
    restored=$(sed "s/\x1b\[[0-9;]*m//g" "$log" | grep -o "count=[0-9]*" | head -1 | cut -d= -f2)
    echo "$(echo "$t1 - $t0" | bc) ${restored:-0}"
}

measure() {
    local label="$1" runs=()
    for _ in $(seq "$STARTS"); do runs+=("$(start_once)"); done
    printf '%s\n' "${runs[@]}" | python3 -c '
import sys, statistics
rows = [line.split() for line in sys.stdin if line.strip()]
secs = sorted(float(r[0]) for r in rows)
restored = {r[1] for r in rows}
print(f"'"$label"': median {statistics.median(secs)*1000:.0f} ms, min {secs[0]*1000:.0f}, max {secs[-1]*1000:.0f} ms over {len(secs)} starts; registrations put back: {sorted(restored)}")
'
}

# Each start keeps what it read (the phones are "still registered" for an hour), so the
# kept rows are the same for every start of the first run.
measure "with $EXTENSIONS kept"
python3 - var/switchboard.db <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("DELETE FROM sip_registrations")
db.commit()
PY
measure "with none kept"

# A storm: every phone registers again at RATE a second (the store has none kept now),
# and each REGISTER that changed a user's contacts is copied to the store in the
# background (`register_storm.py` prints the times from the first REGISTER to the 200);
# after the stop the store must hold every phone.
RATE="${RATE:-500}"
log="$work/server.log"
"$bin" run --sip-addr 127.0.0.1:5070 --http-addr 127.0.0.1:0 --rtp-ports 40000-40999 \
    --sip-messages-per-source 1000000 > "$log" 2>&1 &
pid=$!
until grep -q "Switchboard is listening" "$log"; do sleep 0.01; done
python3 "$here/register_storm.py" 127.0.0.1:5070 "$EXTENSIONS" "$RATE" \
    bench-only-passphrase-amber-kettle
kill -TERM "$pid"
wait "$pid" || true
python3 - var/switchboard.db <<'PY'
import sqlite3, sys
kept = sqlite3.connect(sys.argv[1]).execute("SELECT COUNT(*) FROM sip_registrations")
print(f"kept in the store after the stop: {kept.fetchone()[0]}")
PY
