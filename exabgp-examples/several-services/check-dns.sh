#!/bin/sh
# Health check for `exabgp-healthcheck --cmd`: does the local resolver answer a real query?
# Asks SERVER for NAME (type TYPE) once, with a 1-second limit, and fails unless the answer
# holds at least one record: a timeout, a refusal, SERVFAIL or NXDOMAIN all fail.
# Uses dig (bind9-dnsutils), else kdig (knot-dnsutils), else drill (ldnsutils).
# Exit status 0: healthy; anything else: unhealthy (what it prints is logged with the failure).
# Bounded: one try of 1 s (2 s for drill), inside the plugin's --timeout 3.
#
# Usage: check-dns.sh [SERVER [NAME [TYPE]]]   (default: 127.0.0.1 health.example. A)
set -u
PATH=/usr/sbin:/usr/bin:/sbin:/bin

server=${1:-127.0.0.1}
name=${2:-health.example.}
type=${3:-A}

if command -v dig >/dev/null 2>&1; then
    answer=$(dig +short +time=1 +tries=1 "@$server" "$name" "$type" 2>&1)
elif command -v kdig >/dev/null 2>&1; then
    answer=$(kdig +short +time=1 +retry=0 "@$server" "$name" "$type" 2>&1)
elif command -v drill >/dev/null 2>&1; then
    # drill has no time limit of its own; -Q prints the answer's records only.
    answer=$(timeout 2 drill -Q "$name" "@$server" "$type" 2>&1)
else
    echo "check-dns: none of dig, kdig or drill is installed" >&2
    exit 1
fi
status=$?

# Records are the lines that are not comments (dig and kdig write ";; ..." on errors).
records=$(printf '%s\n' "$answer" | grep -v -e '^;' -e '^[[:space:]]*$')
if [ "$status" -ne 0 ] || [ -z "$records" ]; then
    echo "check-dns: no answer from $server for $name $type (exit $status): $answer"
    exit 1
fi
exit 0
