#!/bin/sh
# Health check for `exabgp-healthcheck --cmd`: does the local web service answer?
# Exit status 0: healthy; anything else: unhealthy (what it prints is logged with the failure).
# Bounded: curl gives up after 2 s, inside the plugin's --timeout 3.
#
# Usage: check-web.sh [URL]      (default: http://[::1]/)
set -u
PATH=/usr/sbin:/usr/bin:/sbin:/bin

url=${1:-http://[::1]/}

if ! command -v curl >/dev/null 2>&1; then
    echo "check-web: curl is not installed" >&2
    exit 1
fi
# -g: brackets in the URL are an IPv6 address, not a glob; -f: an HTTP error status fails.
exec curl -gfsS --connect-timeout 1 --max-time 2 -o /dev/null "$url"
