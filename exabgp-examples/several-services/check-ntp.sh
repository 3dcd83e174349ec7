#!/bin/sh
# Health check for `exabgp-healthcheck --cmd`: is the local NTP server synchronised, so that
# what it serves is the right time? Asks the local daemon (chronyd through chronyc, else ntpd or
# ntpsec through ntpq) for its leap status and stratum, and fails unless it is synchronised
# (leap status not "unsynchronised") at stratum MAX_STRATUM or better. A daemon that does not
# answer fails too.
# Exit status 0: healthy; anything else: unhealthy (what it prints is logged with the failure).
# Bounded: the query is given 2 s (with timeout(1) when installed), inside the plugin's
# --timeout 3.
#
# Usage: check-ntp.sh [MAX_STRATUM]      (default: 3)
set -u
PATH=/usr/sbin:/usr/bin:/sbin:/bin

max=${1:-3}

# Run "$@" for at most 2 s where timeout(1) exists; chronyc and ntpq give up on their own too.
bounded() {
    if command -v timeout >/dev/null 2>&1; then
        timeout 2 "$@"
    else
        "$@"
    fi
}

if command -v chronyc >/dev/null 2>&1; then
    # -c: comma-separated; field 3 is the stratum, field 14 the leap status ("Normal",
    # "Insert second", "Delete second" or "Not synchronised").
    answer=$(bounded chronyc -n -c tracking 2>&1)
    status=$?
    stratum=$(printf '%s\n' "$answer" | cut -d, -f3)
    leap=$(printf '%s\n' "$answer" | cut -d, -f14)
    [ "$leap" = "Not synchronised" ] && leap=unsynchronised
elif command -v ntpq >/dev/null 2>&1; then
    # Prints `leap=00, stratum=2` (leap 11: unsynchronised; stratum 16: none).
    answer=$(bounded ntpq -n -c 'rv 0 leap,stratum' 2>&1)
    status=$?
    leap=$(printf '%s\n' "$answer" | tr ', ' '\n\n' | sed -n 's/^leap=//p')
    stratum=$(printf '%s\n' "$answer" | tr ', ' '\n\n' | sed -n 's/^stratum=//p')
    [ "$leap" = 11 ] && leap=unsynchronised
else
    echo "check-ntp: neither chronyc (chrony) nor ntpq (ntp, ntpsec) is installed" >&2
    exit 1
fi

if [ "$status" -ne 0 ]; then
    echo "check-ntp: the NTP daemon did not answer (exit $status): $answer"
    exit 1
fi
case $stratum in
    '' | *[!0-9]*)
        echo "check-ntp: no stratum in the answer: $answer"
        exit 1
        ;;
esac
if [ "$leap" = unsynchronised ] || [ -z "$leap" ]; then
    echo "check-ntp: not synchronised (stratum $stratum): $answer"
    exit 1
fi
if [ "$stratum" -lt 1 ] || [ "$stratum" -gt "$max" ]; then
    echo "check-ntp: stratum $stratum, worse than $max: $answer"
    exit 1
fi
exit 0
