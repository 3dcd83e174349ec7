#!/usr/bin/env bash
# Regenerate contrib/hot-symbols.txt: the functions the plugin runs once start-up is over, which
# contrib/build-release.sh asks the linker (lld, --symbol-ordering-file) to place side by side.
#
# Why: the kernel maps a program's code 64 kB around each page touched (fault-around), so code
# the loop uses, spread over the whole text, keeps nearly all of it resident; src/resident.rs
# unmaps the text once start-up is over, and with the loop's functions together only a few
# 64 kB windows come back (docs/performance.md, "Resident memory of one service").
#
# How: the shipped build, its symbols kept (`-C strip=none` for the binary only: the
# dependencies and every symbol name stay those of the shipped build), runs under valgrind's
# callgrind, which dumps its counts when src/resident.rs's `trim` returns; the functions with a
# cost in the final dump ran after it. Scenarios (15 s each, a check a second, on loopback only):
# an http check that passes (a python3 http.server on 127.0.0.1) and one refused, a `--cmd` that
# passes (curl) and one that fails, and three services from a --config file.
# Needs valgrind, curl, python3. A stale list only costs memory: symbols it names that are gone
# are ignored, and the build still links (contrib/build-release.sh warns when more than a fifth
# are gone, and tests/release.rs fails).
set -euo pipefail

cd "$(dirname "$0")/.."
host=$(rustc -vV | sed -n 's/^host: //p')
for tool in valgrind curl python3 nm; do
    command -v "$tool" >/dev/null || { echo "contrib/hot-symbols.sh: $tool is missing" >&2; exit 1; }
done
work=$(mktemp -d /tmp/ehc-hot-symbols.XXXXXX)
server=
cleanup() {
    if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

RUSTFLAGS="-C target-feature=+crt-static ${RUSTFLAGS:-}" \
    cargo rustc --release --locked --target "$host" --bin exabgp-healthcheck -- -C strip=none >&2
cp "${CARGO_TARGET_DIR:-target}/$host/release/exabgp-healthcheck" "$work/unstripped"

port=18931
python3 -m http.server --bind 127.0.0.1 --directory "$work" "$port" >/dev/null 2>&1 &
server=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/" >/dev/null && break; sleep 0.1; done

printf 'no-syslog\nno-ip-setup\nno-ack\ninterval = 1\nrise = 2\nfall = 2\ncheck = http://127.0.0.1:%s/\n' "$port" >"$work/three.conf"
for i in 1 2 3; do printf '[s%s]\nip = 192.0.2.%s/32\n' "$i" "$i" >>"$work/three.conf"; done

profile() {
    local name=$1
    shift
    # stdin stays open (ExaBGP's end of the pipe) for the run, then SIGTERM ends the plugin.
    sleep 30 | valgrind --tool=callgrind --demangle=no --dump-after='*8resident4trim*' \
        --callgrind-out-file="$work/cg.$name" "$work/unstripped" "$@" >/dev/null 2>"$work/$name.log" &
    local pid=$!
    sleep 15
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    echo "profiled $name" >&2
}
flags=(--no-syslog --no-ip-setup --no-ack --interval 1 --rise 2 --fall 2 --ip 192.0.2.1/32)
profile http-up "${flags[@]}" --check "http://127.0.0.1:$port/"
profile http-down "${flags[@]}" --check "http://127.0.0.1:9/"
profile cmd-up "${flags[@]}" --cmd "curl -sf http://127.0.0.1:$port/"
profile cmd-down "${flags[@]}" --cmd false
profile config --config "$work/three.conf"

# The last dump of each run (written at exit) holds what ran after `trim` returned.
for name in http-up http-down cmd-up cmd-down config; do
    test -s "$work/cg.$name" || { echo "no profile for $name: $(tail -3 "$work/$name.log")" >&2; exit 1; }
    grep -E '^c?fn=' "$work/cg.$name" | sed -E 's/^c?fn=\([0-9]+\) ?//'
done | sort -u >"$work/ran"
nm --defined-only "$work/unstripped" | awk '$2 ~ /^[tTwW]$/ {print $3}' | sort -u >"$work/text"
comm -12 "$work/ran" "$work/text" >contrib/hot-symbols.txt
echo "contrib/hot-symbols.txt: $(wc -l <contrib/hot-symbols.txt) functions" >&2
