#!/usr/bin/env bash
# What `cargo bench --bench compare` needs beyond what contrib/run-tests.sh installs, on
# Debian, as root, no stdin needed: the clients that workload 9 (`checks`, docs/performance.md
# "Native checks") runs as `--cmd` checks: curl, dig (bind9-dnsutils), nc (netcat-openbsd),
# ping (iputils-ping) and sntp; nft (nftables), with which workload 10 (`node-death`) freezes
# a load balancer's namespace.
# The test command does not need them, so it does not install them. Idempotent: installs only
# what is missing. Run contrib/run-tests.sh first for the rest (ip, nginx, unbound, the ExaBGP
# virtualenvs).
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
if [ "${#missing[@]}" -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q </dev/null
    apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
else
    echo "bench tools: all present (curl, dig, nc, ping, sntp, nft)"
fi
