#!/bin/sh
# Health check for `exabgp-healthcheck --cmd`: does the local web service answer?
# Exit status 0: healthy; anything else: unhealthy (what it prints is logged with the failure).
# Bounded: curl gives up after 2 s, inside the plugin's --timeout 3.
#
# Usage: check-web.sh [URL]      (default: http://127.0.0.1/)
set -u
PATH=/usr/sbin:/usr/bin:/sbin:/bin

url=${1:-http://127.0.0.1/}

if ! command -v curl >/dev/null 2>&1; then
    echo "check-web: curl is not installed" >&2
    exit 1
fi
# -f: an HTTP error status (4xx, 5xx) is a failure; -sS: quiet, but say why it failed.
exec curl -fsS --connect-timeout 1 --max-time 2 -o /dev/null "$url"
