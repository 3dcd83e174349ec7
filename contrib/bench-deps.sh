#!/usr/bin/env bash
# What `cargo bench --bench compare` needs beyond what contrib/run-tests.sh installs, on
# Debian, as root, no stdin needed: the clients that workload 9 (`checks`, docs/performance.md
# "Native checks") runs as `--cmd` checks: curl, dig (bind9-dnsutils), nc (netcat-openbsd),
# ping (iputils-ping) and sntp; nft (nftables), with which workload 10 (`node-death`) freezes
# a load balancer's namespace.
# The test command does not need them, so it does not install them. Idempotent: installs only
# what is missing. Run contrib/run-tests.sh first for the rest (ip, nginx, unbound, the ExaBGP
# virtualenvs).
#
# Workload 12 (`peers`) also needs python3-venv and BIRD 2 (bird2; contrib/run-tests.sh
# installs it too), and the peers themselves, each in a virtualenv of its own under
# target/peers-venv/ from a pinned list (contrib/bench/exacheck-0.1.7.txt,
# contrib/bench/anycast-healthchecker-0.9.10.txt: every package and its version). The benchmark
# makes a missing one itself; this script makes them ahead (with --peers), so that the
# benchmark's run does not wait on pip.
set -euo pipefail

missing=()
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v dig >/dev/null 2>&1 || missing+=(bind9-dnsutils)
# netcat-openbsd's nc has -z (only scan): the traditional netcat's does not behave the same.
if ! command -v nc >/dev/null 2>&1 || ! nc -h 2>&1 | grep -q -- '-z'; then
    missing+=(netcat-openbsd)
fi
# icmp and ntp: iputils-ping's ping, and sntp (ntp's SNTP client) against chronyd, which
# contrib/run-tests.sh installs.
command -v ping >/dev/null 2>&1 || missing+=(iputils-ping)
command -v sntp >/dev/null 2>&1 || missing+=(sntp)
command -v nft >/dev/null 2>&1 || missing+=(nftables)
command -v bird >/dev/null 2>&1 || missing+=(bird2)
python3 -c 'import ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)
if [ "${#missing[@]}" -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q </dev/null
    apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
else
    echo "bench tools: all present (curl, dig, nc, ping, sntp, nft, bird, python3-venv)"
fi

if [ "${1:-}" = "--peers" ]; then
    cd "$(dirname "$0")/.."
    for pinned in contrib/bench/exacheck-0.1.7.txt contrib/bench/anycast-healthchecker-0.9.10.txt; do
        name=$(basename "$pinned" .txt)
        program=${name%-*}
        venv=target/peers-venv/$name
        if [ -x "$venv/bin/$program" ]; then
            echo "bench peers: $venv present"
            continue
        fi
        rm -rf "$venv"
        python3 -m venv "$venv"
        "$venv/bin/pip" install -q --disable-pip-version-check -r "$pinned" </dev/null
        test -x "$venv/bin/$program"
        echo "bench peers: $venv made from $pinned"
    done
fi
