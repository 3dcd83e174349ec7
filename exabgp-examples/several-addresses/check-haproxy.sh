#!/bin/sh
# Health check for `exabgp-healthcheck --cmd`: is HAProxy up, with at least one backend server
# able to take traffic? Asks HAProxy's monitor-uri (see README.md), which answers 200 while it
# is, and 503 once `monitor fail` says otherwise.
# Exit status 0: healthy; anything else: unhealthy (what it prints is logged with the failure).
# Bounded: curl gives up after 2 s, inside the plugin's --timeout 3.
#
# Usage: check-haproxy.sh [URL]  (default: http://127.0.0.1:8404/healthz)
set -u
PATH=/usr/sbin:/usr/bin:/sbin:/bin

url=${1:-http://127.0.0.1:8404/healthz}

if ! command -v curl >/dev/null 2>&1; then
    echo "check-haproxy: curl is not installed" >&2
    exit 1
fi
exec curl -fsS --connect-timeout 1 --max-time 2 -o /dev/null "$url"
