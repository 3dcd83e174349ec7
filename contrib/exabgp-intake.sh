#!/usr/bin/env bash
# How fast ExaBGP itself takes routes in from a process, with no plugin and no peer: the floor
# under workload 6 of the benchmarks (docs/performance.md). A small feeder, run by ExaBGP from
# a `process` stanza, writes N routes as `announce route` lines (one route per line), then as
# `announce attributes ... nlri` lines (BATCH routes per line), keeping at most 16 lines
# unanswered, and times each until ExaBGP has acknowledged every line. Not part of the tests.
#
# Usage: contrib/exabgp-intake.sh [ROUTES] [BATCH]   (default 65536 and 512)
# Uses target/exabgp-venv/5.0.15 (or $EXABGP_VENV_5), which `contrib/run-tests.sh` or the
# benchmark harness creates. The neighbor is 127.0.0.2 on loopback; nothing answers there, so
# no session comes up and the routes stay in ExaBGP.
set -euo pipefail

cd "$(dirname "$0")/.."
routes=${1:-65536}
batch=${2:-512}
for value in "$routes" "$batch"; do
    case "$value" in
        '' | *[!0-9]* | 0) echo "contrib/exabgp-intake.sh: ROUTES and BATCH are whole numbers above 0, not '$value'" >&2; exit 2 ;;
    esac
done
if [ "$routes" -gt 16777216 ]; then
    echo "contrib/exabgp-intake.sh: at most 16777216 routes (10.0.0.0/8)" >&2
    exit 2
fi
venv=${EXABGP_VENV_5:-target/exabgp-venv/5.0.15}
if ! "$venv/bin/python" -c 'import exabgp' 2>/dev/null; then
    echo "contrib/exabgp-intake.sh: no ExaBGP in $venv (run contrib/run-tests.sh, or set EXABGP_VENV_5)" >&2
    exit 2
fi
venv=$(cd "$venv" && pwd)  # ExaBGP wants an absolute path in `run`

work=$(mktemp -d)
exabgp_pid=
cleanup() {
    if [ -n "$exabgp_pid" ]; then
        kill "$exabgp_pid" 2>/dev/null || true
        wait "$exabgp_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

cat > "$work/feed.py" <<'EOF'
import os, sys, time

routes, batch, mode, result = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]


def prefix(i):
    return f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}/32"


if mode == "route":
    lines = [f"announce route {prefix(i)} next-hop self med 100" for i in range(routes)]
else:
    lines = [
        "announce attributes next-hop self med 100 nlri "
        + " ".join(prefix(i) for i in range(start, min(routes, start + batch)))
        for start in range(0, routes, batch)
    ]
time.sleep(1)  # let ExaBGP finish starting
started = time.monotonic()
sent = answered = errors = 0
while answered < len(lines):
    while sent < len(lines) and sent - answered < 16:
        sys.stdout.write(lines[sent] + "\n")
        sent += 1
    sys.stdout.flush()
    reply = sys.stdin.readline()
    if not reply:
        break
    if reply.strip() in ("done", "error"):
        answered += 1
        errors += reply.strip() == "error"
took = time.monotonic() - started
with open(result, "w") as out:
    out.write(f"{routes} routes in {len(lines)} lines: {took:.1f} s ({routes / took:.0f} routes/s), {errors} errors\n")
time.sleep(3600)  # ExaBGP stops us
EOF

for mode in route attributes; do
    cat > "$work/exabgp.conf" <<EOF
process feed {
    run $venv/bin/python $work/feed.py $routes $batch $mode $work/result;
    encoder text;
}
neighbor 127.0.0.2 {
    router-id 127.0.0.1;
    local-address 127.0.0.1;
    local-as 65001;
    peer-as 65002;
    api { processes [ feed ]; }
}
EOF
    rm -f "$work/result"
    exabgp_daemon_user=root exabgp_api_cli=false exabgp_api_ack=true exabgp_log_level=WARNING \
        "$venv/bin/exabgp" "$work/exabgp.conf" > "$work/exabgp.log" 2>&1 &
    exabgp_pid=$!
    # Bounded: at most an hour, then give up on this mode.
    for _ in $(seq 3600); do
        [ -s "$work/result" ] && break
        kill -0 "$exabgp_pid" 2>/dev/null || break
        sleep 1
    done
    kill "$exabgp_pid" 2>/dev/null || true
    wait "$exabgp_pid" 2>/dev/null || true
    exabgp_pid=
    if [ -s "$work/result" ]; then
        printf '%-11s %s' "$mode:" "$(cat "$work/result")"
        echo
    else
        echo "$mode: no result; ExaBGP said:" >&2
        tail -n 20 "$work/exabgp.log" >&2
        exit 1
    fi
done
